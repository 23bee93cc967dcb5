"""Real benchmark numbers and CIFAR-10 images that travel with the package.

``manifest.json`` lists every file: rows, source repository + commit + path, licence,
the SHA-256 of the stored file and of the source bytes (CSV files are stored xz-compressed,
which pandas reads directly; the image npz holds LZMA-compressed members, which
``numpy.load`` reads directly). Every reader of these files goes through :func:`path`.

``$TRAINFREE_BENCHDATA`` points the package at another folder of the same layout (e.g. a
fuller mirror); the manifest then describes only the bundled copy.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path

from trainfree.errors import TrainfreeError

#: environment variable that replaces the bundled folder by another of the same layout
ENV = "TRAINFREE_BENCHDATA"
BUNDLED = Path(__file__).resolve().parent


def root() -> Path:
    """The benchmark data folder: ``$TRAINFREE_BENCHDATA`` when set, else the bundled copy."""
    env = os.environ.get(ENV)
    return Path(env) if env else BUNDLED


def path(rel: str) -> Path:
    """``root() / rel``; a missing file is one line naming it and what to do."""
    p = root() / rel
    if not p.exists():
        where = f"${ENV} = {os.environ[ENV]!r}" if os.environ.get(ENV) else "the bundled benchmark data"
        raise TrainfreeError(f"benchmark data file {rel!r} is not in {where}; unset {ENV} or reinstall "
                             f"the package (`pip install -e .` in the repository)")
    return p


@cache
def manifest() -> dict:
    """The bundled files' manifest (``{"about", "files": [{file, rows, bytes, sha256, ...}]}``)."""
    return json.loads((BUNDLED / "manifest.json").read_text())


def verify() -> list[str]:
    """Problems of the bundled copy against its manifest (empty when every file matches)."""
    bad = []
    for e in manifest()["files"]:
        f = BUNDLED / e["file"]
        if not f.is_file():
            bad.append(f"{e['file']}: missing")
        elif hashlib.sha256(f.read_bytes()).hexdigest() != e["sha256"]:
            bad.append(f"{e['file']}: SHA-256 differs from the manifest")
    return bad
