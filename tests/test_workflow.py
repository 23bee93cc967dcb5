"""The workflow as a whole: lint, bad configs rejected before any job, every shipped config
builds its DAG. The tiny end-to-end study is in test_reliability.py, which shares its run."""

import subprocess

import pytest
from conftest import ROOT, SNAKEMAKE, run_snakemake


def test_lint_clean(tmp_path):
    r = subprocess.run([*SNAKEMAKE, "--lint"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("cfg, needle", [
    ({"scoring": {"batch_size": "big"}}, "batch_size"),
    ({"scoring": {"metricz": ["naswot"]}}, "metricz"),
    ({"data": {"dataset": "mnist"}}, "mnist"),
])
def test_bad_config_is_rejected_with_key_named(tmp_path, cfg, needle):
    r = run_snakemake(tmp_path, cfg, "-n", "--cores", "1", timeout=900)
    assert r.returncode != 0
    assert needle in r.stdout + r.stderr


@pytest.mark.parametrize("name", ["config.yaml", "digits.yaml", "nb201.yaml", "paper.yaml", "suitezero.yaml", "search.yaml",
                                  "search_paper.yaml", "nb101.yaml", "darts.yaml", "suitezero_nb101.yaml",
                                  "suitezero_darts.yaml", "nds.yaml", "search_darts.yaml", "search_darts_mini.yaml"])
def test_shipped_configs_validate_and_build_their_dag(tmp_path, name):
    r = run_snakemake(tmp_path, ROOT / "config" / name, "-n", "--cores", "1", timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "rule all" in r.stdout or "localrule all" in r.stdout
