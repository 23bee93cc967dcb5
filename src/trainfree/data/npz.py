"""Reading ``.npz`` files without running code and without unbounded allocations.

An ``.npz`` may hold pickled Python objects (``dtype=object`` arrays); those are never
loaded (``allow_pickle=False``), and the file is refused with one line naming it. Each
array's header is checked against the size of its stored member before numpy allocates
the array, so a header that claims a huge shape cannot exhaust memory.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from trainfree.errors import TrainfreeError


def _header(zf: zipfile.ZipFile, member: str) -> tuple[tuple[int, ...], np.dtype]:
    with zf.open(member) as f:
        version = np.lib.format.read_magic(f)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read(f)
    return shape, dtype


def load_npz(path: str | os.PathLike, keys: Sequence[str], *, what: str = "npz file",
             fix: str = "replace the file") -> dict[str, np.ndarray]:
    """The arrays ``keys`` of the ``.npz`` at ``path``; every failure is one :class:`TrainfreeError`.

    Args:
        path: the ``.npz`` file.
        keys: the arrays to read (all must be present).
        what: what the file is, for the message (e.g. ``"scoring batch"``).
        fix: the end of the message, what the user should do.
    """
    path = Path(path)
    if not path.is_file():
        raise TrainfreeError(f"{what} {str(path)!r} is not a file; {fix}")
    try:
        with zipfile.ZipFile(path) as zf:
            sizes = {i.filename: i.file_size for i in zf.infolist()}
            out = {}
            for k in keys:
                member = f"{k}.npy"
                if member not in sizes:
                    raise TrainfreeError(f"{what} {str(path)!r} lacks array {k!r} (it needs {', '.join(keys)}); "
                                         f"{fix}")
                shape, dtype = _header(zf, member)
                if dtype.hasobject:
                    raise TrainfreeError(f"{what} {str(path)!r}: array {k!r} holds pickled Python objects, which "
                                         f"are never loaded (only numeric arrays are read); {fix}")
                if int(np.prod(shape, dtype=object)) * dtype.itemsize > sizes[member]:
                    raise TrainfreeError(f"{what} {str(path)!r}: array {k!r} claims shape {shape} of {dtype}, "
                                         f"more than its {sizes[member]} stored bytes; {fix}")
            with np.load(path, allow_pickle=False) as z:
                for k in keys:
                    out[k] = z[k]
            return out
    except TrainfreeError:
        raise
    except Exception as e:  # not a zip, corrupt member, bad header: one line, no traceback
        msg = str(e).splitlines()[0][:200] if str(e) else ""
        raise TrainfreeError(f"cannot read {what} {str(path)!r} ({e.__class__.__name__}: {msg}); {fix}") from None


def load_batch(path: str | os.PathLike, fix: str = "delete it and rerun the rule that writes it"
               ) -> tuple[np.ndarray, np.ndarray]:
    """A stored scoring batch: (x float32 (B, C, H, W), y integer labels (B,)), shapes checked."""
    z = load_npz(path, ("x", "y"), what="scoring batch", fix=fix)
    x, y = z["x"], z["y"]
    if x.ndim != 4 or x.dtype != np.float32 or y.ndim != 1 or y.dtype.kind not in "iu" or len(x) != len(y) \
            or len(y) == 0:
        raise TrainfreeError(f"scoring batch {str(path)!r} must hold x float32 (B, C, H, W) and y integer (B,) "
                             f"with B >= 1, got x {x.dtype} {x.shape} and y {y.dtype} {y.shape}; {fix}")
    return x, y.astype(np.int64, copy=False)


__all__ = ["load_batch", "load_npz"]
