"""Restricted unpickling for the data files this package reads.

The CIFAR / ImageNet16 batches and the NATS-Bench ``.pickle.pbz2`` files are Python
pickles. They hold only containers, strings, numbers and numpy arrays, so they are read
with an unpickler that resolves nothing else: a file that names any other global (a
function, a class with side effects) is refused before anything from it runs.
"""

from __future__ import annotations

import bz2
import io
import pickle
from pathlib import Path
from typing import Any

from trainfree.errors import TrainfreeError

_ALLOWED: dict[str, set[str]] = {
    "builtins": {"dict", "list", "tuple", "set", "frozenset", "bytearray", "complex", "slice", "range"},
    "collections": {"OrderedDict", "defaultdict"},
    "copyreg": {"_reconstructor"},
    "numpy": {"ndarray", "dtype", "float64", "float32", "int64", "int32", "uint8", "bool_"},
    "numpy.core.multiarray": {"_reconstruct", "scalar"},
    "numpy._core.multiarray": {"_reconstruct", "scalar"},
    "numpy.dtypes": {"Float64DType", "Float32DType", "Int64DType", "Int32DType", "UInt8DType",
                     "BoolDType", "BytesDType", "StrDType", "ObjectDType"},
    "_codecs": {"encode"},
}


class _Restricted(pickle.Unpickler):
    def __init__(self, f: io.BufferedIOBase, source: str, encoding: str) -> None:
        super().__init__(f, encoding=encoding)
        self._source = source

    def find_class(self, module: str, name: str) -> Any:
        if name in _ALLOWED.get(module, ()):
            return super().find_class(module, name)
        raise TrainfreeError(
            f"{self._source}: refusing to unpickle {module}.{name} (only containers, numbers, strings "
            f"and numpy arrays are read); the file is not in the expected official format"
        )


def load_pickle(path: str | Path, *, encoding: str = "bytes", compressed: bool | None = None) -> Any:
    """Unpickle ``path`` with the restricted unpickler.

    Args:
        path: a pickle file, or a bz2-compressed pickle (``.pbz2``).
        encoding: how Python-2 ``str`` objects are decoded (``"bytes"`` keeps them as bytes,
            as the CIFAR batches need; ``"latin1"`` for ImageNet16).
        compressed: force bz2 decompression on/off; None = decide from the ``.pbz2`` suffix.
    """
    path = Path(path)
    if compressed is None:
        compressed = path.name.endswith(".pbz2")
    opener = bz2.open if compressed else open
    try:
        with opener(path, "rb") as f:
            return _Restricted(f, str(path), encoding).load()
    except TrainfreeError:
        raise
    except Exception as e:  # any failure of a corrupt or hostile pickle: one clear error
        msg = str(e).splitlines()[0] if str(e) else ""
        raise TrainfreeError(f"cannot read {str(path)!r} ({e.__class__.__name__}: {msg}); replace the file") from None
