"""Pack the workflow into one tarball that reruns it on another machine (the appendix artefact).

    python tools/archive.py trainfree-artefact.tar.gz

Holds every file git tracks (code, configs, the bundled benchmark data, tests, docs), as they
are in the working tree, under one folder ``trainfree/``. On the other machine:
``tar xzf trainfree-artefact.tar.gz && cd trainfree`` and the README's two commands.
(``snakemake --archive`` does the same and adds the conda environments, where conda is
installed.)
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def tracked_files(root: Path = ROOT) -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    return [f for f in out.decode().split("\0") if f and (root / f).is_file()]


def archive(out: Path, root: Path = ROOT, prefix: str = "trainfree") -> int:
    """Write the tarball; returns the number of files."""
    files = tracked_files(root)
    with tarfile.open(out, "w:gz") as tar:
        for f in files:
            tar.add(root / f, arcname=f"{prefix}/{f}", recursive=False)
    return len(files)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tools/archive.py OUT.tar.gz")
    n = archive(Path(sys.argv[1]))
    print(f"wrote {sys.argv[1]}: {n} files, {Path(sys.argv[1]).stat().st_size / 1e6:.1f} MB")
