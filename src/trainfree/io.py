"""Atomic file output and the project's fixed paths.

Every file the package writes goes through :func:`atomic_path`: the content is written
to a temporary name beside the target (``.<name>.tmp<pid><suffix>``) and renamed over
the target only once complete, so an interrupted job never leaves a truncated output
under the real name. A failed write removes its temporary file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd


def benchdata_root() -> Path:
    """The benchmark data folder (see :mod:`trainfree.benchdata`): bundled with the package."""
    from trainfree.benchdata import root

    return root()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write ``path``'s content to; rename it over ``path`` on success.

    The temporary name keeps the target's suffix (writers that pick a format from it,
    e.g. ``np.savez`` or ``savefig``, behave the same) and starts with a dot. Temporaries
    of the same target left by a killed writer are removed first (one job writes a
    given target at a time).
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    for stale in final.parent.glob(f".{final.stem}.tmp*{final.suffix}"):  # left by a killed writer
        stale.unlink(missing_ok=True)
    tmp = final.with_name(f".{final.stem}.tmp{os.getpid()}{final.suffix}")
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically; returns the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def write_json(path: str | os.PathLike, obj: object) -> Path:
    """Write ``obj`` as indented JSON (non-JSON values via ``str``) atomically."""
    return write_text(path, json.dumps(obj, indent=2, default=str) + "\n")


def write_parquet(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write ``df`` (without its index) as Parquet atomically."""
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)
    return Path(path)


def write_csv(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write ``df`` (without its index) as CSV atomically."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)
    return Path(path)


def read_parquet(path: str | os.PathLike) -> pd.DataFrame:
    """Read a Parquet table; a truncated or corrupt file raises one line naming it and the fix."""
    from trainfree.errors import TrainfreeError

    try:
        return pd.read_parquet(path)
    except FileNotFoundError:
        raise TrainfreeError(f"table {str(path)!r} is missing; rebuild it with "
                             f"`snakemake --cores all {path}`") from None
    except Exception as e:  # pyarrow raises several types for truncated/corrupt files
        raise TrainfreeError(
            f"table {str(path)!r} is truncated or corrupt ({type(e).__name__}); delete it and rebuild it "
            f"with `snakemake --cores all --rerun-incomplete {path}`") from None


def package_hash(*parts: str) -> str:
    """12-hex SHA-256 of the package's source files under ``parts`` (paths relative to the
    package; a folder means every ``.py`` below it; ``""`` the whole package).

    The workflow passes it to each rule as a param so that a job reruns when the code it
    runs changes; caches store it so that results of older code are not reused.
    """
    pkg = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for part in ("io.py", "errors.py", *parts):
        p = pkg / part
        for f in sorted(p.rglob("*.py")) if p.is_dir() else [p]:
            h.update(str(f.relative_to(pkg)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:12]


def clean_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Remove leftover ``.*.tmp<pid>*`` files of killed writers under ``folder``; returns them."""
    root = Path(folder)
    if not root.is_dir():
        return []
    gone = [p for p in root.rglob(".*.tmp*") if p.is_file()]
    for p in gone:
        p.unlink(missing_ok=True)
    return gone
