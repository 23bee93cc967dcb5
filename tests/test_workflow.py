"""Tiny end-to-end runs of the Snakemake workflow (seconds per job, ~1-2 minutes)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT
from scipy import stats

SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile")]
TINY = {
    "study": "tiny",
    "model": {"C": 4, "N": 1},
    "sample": {"n": 8, "seed": 0},
    "scoring": {"batch_size": 16, "fast_steps": [2]},
    "training": {"epochs": 1, "max_train": 128, "max_test": 64},
    "analysis": {"n_boot": 20},
}


def _run(workdir: Path, cfg: dict, *extra: str) -> subprocess.CompletedProcess:
    cfg_path = workdir / "study.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg))
    return subprocess.run([*SNAKEMAKE, "-d", str(workdir), "--configfile", str(cfg_path), *extra],
                          capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_tiny_study_end_to_end_and_report(tmp_path):
    r = _run(tmp_path, TINY, "--cores", "2", "-q")
    assert r.returncode == 0, r.stderr[-3000:]
    out = tmp_path / "results" / "tiny"
    scores = pd.read_parquet(out / "scores.parquet")
    assert set(scores.fast_steps) == {0, 2} and scores.arch_id.nunique() == 8
    assert len(scores) == 2 * 8 * 5 and (scores[scores.fast_steps == 2].fast_train_seconds > 0).all()
    corr = pd.read_csv(out / "tables" / "correlations.csv")
    assert set(corr.ground_truth) == {"digits test acc @1ep (seed 1)"}
    # every tau re-derived from the study's own scores and ground truth
    gt = pd.read_parquet(out / "ground_truth.parquet")
    truth = gt[(gt.split == "test") & (gt.field == "acc") & (gt.epochs == 1)].set_index("arch_id").value
    wide = scores[scores.fast_steps == 0].pivot_table(index="arch_id", columns="metric", values="value",
                                                       dropna=False)
    for row in corr.itertuples():
        both = pd.concat([wide[row.metric], truth], axis=1, join="inner").dropna()
        want = stats.kendalltau(both.iloc[:, 0], both.iloc[:, 1]).statistic if len(both) >= 3 else np.nan
        if np.isnan(want) or np.ptp(both.iloc[:, 0]) == 0 or np.ptp(both.iloc[:, 1]) == 0:
            assert np.isnan(row.kendall), row.metric
        else:
            assert row.kendall == pytest.approx(want), row.metric
    abl = pd.read_csv(out / "tables" / "das_ablation.csv")
    assert abl.rule.iloc[0] == "naswot (WOT)" and len(abl) == 5
    # fast training: tau(k) - tau(0) is the difference of the table's own taus (same archs: no NaN here)
    fast = pd.read_csv(out / "tables" / "fast_training.csv").set_index(["fast_steps", "metric"])
    for m in ("naswot", "params"):
        k0, k2 = fast.loc[(0, m)], fast.loc[(2, m)]
        assert k0.delta_vs_k0 == 0 and not k0.beats_k0
        if k0.n == k2.n == 8 and np.isfinite(k2.kendall):
            assert k2.delta_vs_k0 == pytest.approx(k2.kendall - k0.kendall)
            assert k2.delta_lo <= k2.delta_vs_k0 <= k2.delta_hi
    assert fast.loc[(2, "params")].delta_vs_k0 == 0  # params do not move with training
    for f in ("atoms", "correlation_bars", "fast_training", "learning_curves", "scatter_naswot"):
        assert (out / "figures" / f"{f}.pdf").stat().st_size > 1000
        assert (out / "figures" / f"{f}.png").stat().st_size > 1000
    assert (out / "tables" / "das_ablation.tex").read_text().startswith("\\begin{table}")
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["ground_truth_fields"] == ["digits test acc @1ep (seed 1)"]
    # rerun after deleting one figure rebuilds only that figure
    (out / "figures" / "atoms.pdf").unlink()
    r = _run(tmp_path, TINY, "--cores", "1", "-n")
    assert "figure" in r.stdout and "score_shard" not in r.stdout
    r = _run(tmp_path, TINY, "--cores", "1", "-q")
    assert r.returncode == 0 and (out / "figures" / "atoms.pdf").is_file()
    # the report bundles figures and tables
    r = _run(tmp_path, TINY, "--report", str(tmp_path / "report.zip"))
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / "report.zip").stat().st_size > 10000


def test_lint_clean(tmp_path):
    r = subprocess.run([*SNAKEMAKE, "--lint"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("cfg, needle", [
    ({"scoring": {"batch_size": "big"}}, "batch_size"),
    ({"scoring": {"metricz": ["naswot"]}}, "metricz"),
    ({"data": {"dataset": "mnist"}}, "mnist"),
])
def test_bad_config_is_rejected_with_key_named(tmp_path, cfg, needle):
    r = _run(tmp_path, cfg, "-n", "--cores", "1")
    assert r.returncode != 0
    assert needle in r.stdout + r.stderr


@pytest.mark.parametrize("name", ["config.yaml", "nb201.yaml", "paper.yaml", "suitezero.yaml", "search.yaml",
                                  "search_paper.yaml", "nb101.yaml", "darts.yaml", "suitezero_nb101.yaml",
                                  "suitezero_darts.yaml", "nds.yaml", "search_darts.yaml", "search_darts_mini.yaml"])
def test_shipped_configs_validate_and_build_their_dag(tmp_path, name):
    r = subprocess.run([*SNAKEMAKE, "-n", "--cores", "1", "--configfile", str(ROOT / "config" / name),
                        "-d", str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "rule all" in r.stdout or "localrule all" in r.stdout
