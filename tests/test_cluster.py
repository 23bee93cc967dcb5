"""A tiny study through Snakemake's SLURM executor on a real Slurm: same tables as a local run.

Opt-in (``python -m pytest -m cluster tests/test_cluster.py -s``); needs a running Slurm with
accounting (``sudo tools/slurm_local.sh up`` brings one up on this machine) and
snakemake-executor-plugin-slurm. The Slurm job ids and their ``sacct`` states are printed.
"""

import re
import shutil
import subprocess

import pandas as pd
import pytest
import yaml
from conftest import ROOT, SNAKEMAKE

TINY = {
    "study": "tiny",
    "model": {"C": 4, "N": 1},
    "sample": {"n": 6, "seed": 0},
    "scoring": {"batch_size": 16, "fast_steps": [2],
                "metrics": ["naswot", "distinguishing_ability", "activation_units", "params"]},
    "training": {"epochs": 1, "max_train": 128, "max_test": 64},
    "analysis": {"n_boot": 20},
}
TABLES = ["scores.parquet", "training_states.parquet", "tables/correlations.csv", "tables/das_ablation.csv"]
TARGETS = [f"results/tiny/{t}" for t in TABLES]


def _read(path) -> pd.DataFrame:
    df = pd.read_csv(path) if str(path).endswith(".csv") else pd.read_parquet(path)
    return df.drop(columns=[c for c in df.columns if "seconds" in c])  # wall-clock columns


def _slurm_ready() -> str | None:
    """Why this machine cannot run the test, or None."""
    if not shutil.which("sbatch") or not shutil.which("sacct"):
        return "no Slurm client commands (sudo tools/slurm_local.sh up)"
    if subprocess.run(["sinfo", "-h"], capture_output=True).returncode != 0:
        return "Slurm controller not reachable (sudo tools/slurm_local.sh up)"
    if subprocess.run(["sacct", "-n", "-X", "-j", "1"], capture_output=True).returncode != 0:
        return "Slurm accounting (sacct) not working (sudo tools/slurm_local.sh up)"
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        return "pip install snakemake-executor-plugin-slurm"
    return None


@pytest.mark.cluster
def test_tiny_study_on_slurm_equals_local_run(tmp_path):
    why = _slurm_ready()
    if why:
        pytest.fail(f"cluster test asked for but {why}")
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(TINY))
    local, cluster = tmp_path / "local", tmp_path / "cluster"
    common = ["--configfile", str(tmp_path / "study.yaml")]

    r = subprocess.run([*SNAKEMAKE, *TARGETS, "-d", str(local), *common, "--cores", "2",
                        "--set-scatter", "score=1", "train=1"], capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]

    r = subprocess.run([*SNAKEMAKE, *TARGETS, "-d", str(cluster), *common,
                        "--executor", "slurm", "--profile", str(ROOT / "workflow" / "profiles" / "slurm"),
                        "--set-scatter", "score=2", "train=2", "--jobs", "4", "--latency-wait", "10",
                        "--default-resources", "mem_mb=1000", "runtime=30",
                        "--slurm-init-seconds-before-status-checks", "5"],
                       capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stderr[-5000:]
    job_ids = re.findall(r"submitted with SLURM jobid (\d+)", r.stdout + r.stderr)
    # sample, scoring batch, 2 x 2 scoring shards, 2 training shards, 2 gathers,
    # ground truth, correlations, DAS ablation: every one a Slurm job
    assert len(job_ids) == 13, r.stderr[-5000:]
    acct = subprocess.run(["sacct", "-X", "--parsable2", "-j", ",".join(job_ids),
                           "--format=JobID,Partition,AllocCPUS,State,ExitCode,Elapsed,Comment%60"],
                          capture_output=True, text=True, check=True).stdout
    print("\nSlurm jobs of the cluster run (sacct):\n" + acct)
    rows = [line.split("|") for line in acct.strip().splitlines()[1:]]
    assert sorted(row[0] for row in rows) == sorted(job_ids)
    assert all(row[3] == "COMPLETED" and row[4] == "0:0" for row in rows), acct

    for t in TABLES:
        pd.testing.assert_frame_equal(_read(local / "results" / "tiny" / t),
                                      _read(cluster / "results" / "tiny" / t), obj=t)
