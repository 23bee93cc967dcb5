"""The NDS study through the Snakemake workflow: a tiny fixture release end to end
(2 spaces, 6 records each, tiny networks), and the shipped config offline."""

import json

import pandas as pd
import pytest
from conftest import ROOT, run_snakemake
from nds_release import write_release
from scipy.stats import kendalltau

METRICS = ["naswot", "distinguishing_ability", "activation_units", "grad_norm", "snip", "params"]


def _study(space: str) -> dict:
    return {
        "study": f"tiny_{space}", "space": space, "model": {},
        "sample": {"n": 5, "seed": 0, "pool": "ground_truth"},
        "data": {"dataset": "digits", "root": None},
        "scoring": {"metrics": METRICS, "batch_size": 16, "fast_steps": []},
        "ground_truth": {"kind": "benchmark", "source": "data/data.zip", "cross_dataset": True,
                         "targets": [{"dataset": "cifar10", "split": "test", "epochs": 3, "seed": "mean",
                                      "field": "acc"}]},
        "analysis": {"n_boot": 20},
        "downloads": {"assets": ["nds"], "root": "data"},
    }


@pytest.mark.slow
def test_tiny_nds_study_end_to_end(tmp_path):
    write_release(tmp_path / "data", {"DARTS": 6, "ResNet": 6})
    label = "cifar10 test acc @3ep (seed mean) [scored on digits images]"
    for space, paper in (("nds_DARTS", 0.467), ("nds_ResNet", None)):
        cfg = _study(space)
        out = tmp_path / "results" / cfg["study"]
        wanted = ("correlations", "das_ablation", "paper_vs_ours") if paper else ("correlations",)
        tables = [f"results/{cfg['study']}/tables/{t}.csv" for t in wanted]
        r = run_snakemake(tmp_path, cfg, "--cores", "2", "-q", targets=tables, timeout=900)
        assert r.returncode == 0, r.stderr[-3000:]
        assert json.loads((out / "data" / "fetched.json").read_text())["nds"].endswith("data.zip")
        sample = pd.read_parquet(out / "sample.parquet")
        assert len(sample) == 5 and sample.bench_index.notna().all()
        scores = pd.read_parquet(out / "scores.parquet")
        assert set(scores.metric) == set(METRICS) and scores.arch_id.nunique() == 5
        assert set(scores.space) == {space}
        gt = pd.read_parquet(out / "ground_truth.parquet")
        corr = pd.read_csv(out / "tables" / "correlations.csv")
        assert set(corr.ground_truth) == {label} and set(corr.metric) == set(METRICS)
        # the table's tau is the tau of the scores against 100 - final test error of the records
        acc = gt[(gt.field == "acc") & (gt.split == "test") & (gt.seed == "mean")].set_index("arch_id").value
        wot = scores[scores.metric == "naswot"].set_index("arch_id").value
        tau = kendalltau(wot, acc[wot.index]).statistic
        assert corr.set_index("metric").kendall["naswot"] == pytest.approx(tau)
        if paper is None:  # the second space: correlations only (the tables below are space-generic)
            continue
        abl = pd.read_csv(out / "tables" / "das_ablation.csv")
        assert abl.rule.iloc[0] == "naswot (WOT)" and "ratio_vs_wot" in abl.columns
        pvo = pd.read_csv(out / "tables" / "paper_vs_ours.csv").set_index("metric")
        assert pvo.paper_kendall["naswot"] == paper
        assert pvo.difference["naswot"] == pytest.approx(tau - paper)


def test_shipped_nds_config_offline_stops_with_the_release_fetch_message(tmp_path):
    r = run_snakemake(tmp_path, ROOT / "config" / "nds.yaml", "--cores", "1", timeout=600)
    assert r.returncode != 0
    logs = "".join(p.read_text() for p in (tmp_path / "results" / "nds_DARTS" / "logs").glob("*.log"))
    assert "cannot provide nds" in logs and "https://dl.fbaipublicfiles.com/nds/data.zip" in logs
    assert not (tmp_path / "results" / "nds_DARTS" / "scores").exists()
    assert not (tmp_path / "results" / "nds_DARTS" / "logs" / "sample.log").exists()  # the fetch job failed first
