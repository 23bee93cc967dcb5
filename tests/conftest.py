import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from trainfree.io import benchdata_root

ROOT = Path(__file__).resolve().parents[1]
BENCHDATA = benchdata_root()
SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile")]


def snakemake_cmd(workdir: Path, cfg: dict | Path, *extra: str, targets=()) -> list[str]:
    """The Snakemake command line of a study run in ``workdir``. ``cfg`` is a config dict (written
    to ``workdir/study.yaml``) or a config file. Targets come first: ``--configfile`` and ``-q``
    take several values and would swallow them."""
    if isinstance(cfg, dict):
        path = Path(workdir) / "study.yaml"
        path.write_text(yaml.safe_dump(cfg))
        cfg = path
    return [*SNAKEMAKE, *targets, "-d", str(workdir), "--configfile", str(cfg), *extra]


def run_snakemake(workdir: Path, cfg: dict | Path, *extra: str, targets=(), env: dict | None = None,
                  timeout: int = 1800) -> subprocess.CompletedProcess:
    """Run :func:`snakemake_cmd` from the repository root, output captured as text."""
    return subprocess.run(snakemake_cmd(workdir, cfg, *extra, targets=targets), capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT)


def benchdata(rel: str) -> Path:
    """Path of a file under ../shared/benchdata, or skip the test with the reason."""
    p = BENCHDATA / rel
    if not p.exists():
        pytest.skip(f"benchmark mirror file {p} is missing (../shared/benchdata beside the repo)")
    return p


def pytest_configure(config):
    """One torch thread per xdist worker: the suite runs two workers on two cores, and
    in-process scoring with two threads each would oversubscribe them."""
    import os

    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        torch.set_num_threads(1)


def pytest_collection_modifyitems(config, items):
    """Tests marked ``cluster`` run only when asked for (``-m cluster`` or TRAINFREE_CLUSTER_TESTS=1)."""
    import os

    if "cluster" in (config.getoption("-m") or "") or os.environ.get("TRAINFREE_CLUSTER_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="needs a Slurm cluster: run with -m cluster (see tools/slurm_local.sh)")
    for item in items:
        if "cluster" in item.keywords:
            item.add_marker(skip)
