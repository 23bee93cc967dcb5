from pathlib import Path

import pytest

from trainfree.io import benchdata_root

ROOT = Path(__file__).resolve().parents[1]
BENCHDATA = benchdata_root()


def benchdata(rel: str) -> Path:
    """Path of a file under ../shared/benchdata, or skip the test with the reason."""
    p = BENCHDATA / rel
    if not p.exists():
        pytest.skip(f"benchmark mirror file {p} is missing (../shared/benchdata beside the repo)")
    return p
