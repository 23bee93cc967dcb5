"""Reliability of the workflow on one tiny study shared by every test of this module:

- reruns track config and code (``snakemake -n`` lists exactly the dependent jobs);
- a run killed with SIGKILL mid-scoring finishes, after ``--unlock`` and
  ``--rerun-incomplete``, with tables equal to the uninterrupted run's;
- the reproducibility check: the study's scores, ground truth and correlations equal the
  expected table committed in ``tests/expected/`` (tolerances below).

The package is copied to a temporary folder (``PYTHONPATH``) so that a code change can
be simulated without touching the source tree.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT

SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile")]
EXPECTED = Path(__file__).parent / "expected"
#: the reproducibility study: 6 NB201 archs, C=4, digits batch 16, k in {0, 2}, 1 training epoch
TINY = {
    "study": "tiny",
    "model": {"C": 4, "N": 1},
    "sample": {"n": 6, "seed": 0},
    "scoring": {"batch_size": 16, "fast_steps": [2], "shards": 2},
    "training": {"epochs": 1, "max_train": 128, "max_test": 64},
    "analysis": {"n_boot": 20},
}
#: tolerances of the reproducibility check (relative for scores; correlations and
#: accuracies are rank statistics / fractions of 64 test images, compared to 1e-6)
SCORE_RTOL, SCORE_ATOL, STAT_ATOL = 1e-4, 1e-6, 1e-6


def _env(pkg: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(pkg)}


def _cmd(workdir: Path, cfg: dict, *extra: str) -> list[str]:
    cfg_path = workdir / "study.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg))
    return [*SNAKEMAKE, "-d", str(workdir), "--configfile", str(cfg_path), *extra]


def _run(workdir: Path, pkg: Path, cfg: dict, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(_cmd(workdir, cfg, *extra), capture_output=True, text=True, timeout=900, env=_env(pkg))


def _planned(workdir: Path, pkg: Path, cfg: dict) -> dict[str, int]:
    """Jobs a dry run would execute: {rule: count} from Snakemake's job-stats table."""
    r = _run(workdir, pkg, cfg, "-n", "--cores", "1")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    if "Nothing to be done" in r.stdout + r.stderr:
        return {}
    stats = (r.stdout + r.stderr).split("Job stats:", 1)[1]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", stats, re.M) if m[1] != "total"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(workdir, package copy) of a completed tiny study."""
    root = tmp_path_factory.mktemp("reliability")
    pkg = root / "pkg"
    shutil.copytree(ROOT / "src" / "trainfree", pkg / "trainfree", ignore=shutil.ignore_patterns("__pycache__"))
    work = root / "run"
    work.mkdir()
    r = _run(work, pkg, TINY, "--cores", "2", "-q")
    assert r.returncode == 0, r.stderr[-3000:]
    return work, pkg


def _tables(work: Path) -> dict[str, pd.DataFrame]:
    out = work / "results" / "tiny"
    scores = pd.read_parquet(out / "scores.parquet").drop(columns=["seconds", "fast_train_seconds"])
    return {
        "scores": scores.sort_values(["fast_steps", "arch_id", "metric"]).reset_index(drop=True),
        "correlations": pd.read_csv(out / "tables" / "correlations.csv"),
        "das_ablation": pd.read_csv(out / "tables" / "das_ablation.csv"),
        "ground_truth": pd.read_parquet(out / "ground_truth.parquet"),
    }


STUDY_JOBS = {"correlations", "das_ablation", "fast_training_table", "provenance", "all"}


@pytest.mark.slow
def test_rerun_tracks_config_changes(tiny):
    work, pkg = tiny
    assert _planned(work, pkg, TINY) == {}
    # an analysis setting: the three analysis tables, the two figures drawn from them, provenance
    cfg = {**TINY, "analysis": {"n_boot": 30}}
    assert _planned(work, pkg, cfg) == {**dict.fromkeys(STUDY_JOBS, 1), "figure": 2}
    # the fast-training protocol: only the k > 0 score shards and what reads the scores
    cfg = {**TINY, "fast_training": {"lr": 0.05}}
    assert _planned(work, pkg, cfg) == {**dict.fromkeys(STUDY_JOBS, 1), "score_shard": 2, "gather_scores": 1,
                                        "figure": 8}
    # the network width: everything that builds a network (sample and ground truth stay... not
    # the ground truth: it comes from training runs of the wider network)
    cfg = {**TINY, "model": {"C": 6, "N": 1}}
    planned = _planned(work, pkg, cfg)
    assert "sample" not in planned and "scoring_batch" not in planned
    assert planned["score_shard"] == 4 and planned["train_shard"] == 2 and planned["figure"] == 9


@pytest.mark.slow
def test_rerun_tracks_metric_code(tiny):
    work, pkg = tiny
    act = pkg / "trainfree" / "metrics" / "activation.py"
    original = act.read_text()
    try:
        act.write_text(original + "\n# changed\n")
        planned = _planned(work, pkg, TINY)
    finally:
        act.write_text(original)
    # every score shard, and what reads the scores; not sample, batch, training or ground truth
    assert planned == {**dict.fromkeys(STUDY_JOBS, 1), "score_shard": 4, "gather_scores": 1, "figure": 8}
    assert _planned(work, pkg, TINY) == {}
