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
    """Path of a bundled benchmark data file (``trainfree.benchdata``; a missing one fails the test)."""
    from trainfree.benchdata import path

    return path(rel)


def resolved_config(path: Path) -> dict:
    """The config file ``path`` as a study sees it: the schema's defaults filled in
    (workflow/study.smk validates with them) and ``benchdata:`` paths made absolute."""
    from snakemake.utils import validate

    from trainfree.workflow_config import resolve_bundled_paths

    cfg = yaml.safe_load(Path(path).read_text()) or {}
    validate(cfg, str(ROOT / "workflow" / "schemas" / "config.schema.yaml"), set_default=True)
    return resolve_bundled_paths(cfg)


@pytest.fixture
def one_thread():
    """One torch intra-op thread for the test: tiny networks on a busy CPU mostly wait on each
    other's threads."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


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


def write_swap_format_csv(path: Path, n: int, seed: int = 0) -> Path:
    """A synthetic CSV in the SWAP DARTS format (``"Genotype(...)",accuracy``, no header; normal =
    reduce cell, ``none`` among the ops), with made-up accuracies: a stand-in for the fetched SWAP
    CSV (``trainfree fetch swap-darts``), which the project does not bundle."""
    import numpy as np

    from trainfree.spaces.darts import OPS

    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(n):
        edges = [(OPS[int(rng.integers(len(OPS)))], int(rng.integers(node + 2))) for node in range(4) for _ in range(2)]
        cell = "[" + ", ".join(f"('{op}', {i})" for op, i in edges) + "]"
        geno = f"Genotype(normal={cell}, normal_concat=[2, 3, 4, 5], reduce={cell}, reduce_concat=[2, 3, 4, 5])"
        lines.append(f'"{geno}",{rng.uniform(80, 87):.2f}')
    path.write_text("\r\n".join(lines) + "\r\n")
    return path
