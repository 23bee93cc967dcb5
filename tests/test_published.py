import math

import pandas as pd
import pytest

from trainfree.analysis.published import published_beside


def _corr(rows):
    cols = ["metric", "ground_truth", "n", "n_nan", "kendall", "kendall_lo", "kendall_hi",
            "spearman", "spearman_lo", "spearman_hi"]
    return pd.DataFrame([dict(zip(cols, r)) for r in rows])


def test_published_figure_beside_the_same_metric_and_field_only():
    corr = _corr([
        ("naswot", "cifar10-valid test acc @200ep (seed mean)", 990, 10, 0.55, 0.53, 0.57, 0.74, 0.72, 0.76),
        ("naswot", "cifar10 test acc @200ep (seed mean) [v1_1]", 990, 10, 0.56, 0.54, 0.58, 0.75, 0.73, 0.77),
        ("synflow", "cifar100 test acc @200ep (seed mean) [scored on cifar10 images]", 1000, 0,
         0.55, 0.52, 0.58, 0.76, 0.73, 0.79),
        ("plain", "cifar10-valid test acc @200ep (seed mean)", 1000, 0, -0.25, -0.3, -0.2, -0.36, -0.4, -0.3),
        ("az_nas", "cifar10 test acc @200ep (seed mean) [v1_1]", 1000, 0, 0.70, 0.68, 0.72, 0.88, 0.86, 0.9),
        ("swap_reg", "cifar100 test acc @200ep (seed mean)", 1000, 0, 0.6, 0.58, 0.62, 0.8, 0.78, 0.82),
        ("meco", "ImageNet16-120 test acc @200ep (seed mean)", 1000, 0, 0.6, 0.58, 0.62, 0.8, 0.78, 0.82),
    ])
    t = published_beside(corr, "nb201").set_index(["metric", "ground_truth"])
    assert len(t) == 7
    wot = t.loc[("naswot", "cifar10-valid test acc @200ep (seed mean)")]
    assert (wot.published_statistic, wot.published_value, wot.ours_same_statistic) == ("kendall", 0.574, 0.55)
    # NASWOT's CIFAR-10 tau is against cifar10-valid: nothing beside the cifar10 (v1_1) row
    assert pd.isna(t.loc[("naswot", "cifar10 test acc @200ep (seed mean) [v1_1]")].published_value)
    syn = t.loc[("synflow", "cifar100 test acc @200ep (seed mean) [scored on cifar10 images]")]
    assert (syn.published_statistic, syn.published_value) == ("|spearman|", 0.763)
    # a magnitude is compared with our magnitude; our signed value stays in its column
    assert t.loc[("plain", "cifar10-valid test acc @200ep (seed mean)")].spearman == -0.36
    az = t.loc[("az_nas", "cifar10 test acc @200ep (seed mean) [v1_1]")]
    assert (az.published_statistic, az.published_value, az.ours_same_statistic) == ("kendall", 0.741, 0.70)
    assert "15,625" in az.publication_sample
    swap = t.loc[("swap_reg", "cifar100 test acc @200ep (seed mean)")]
    assert (swap.published_statistic, swap.published_value, swap.ours_same_statistic) == ("spearman", 0.90, 0.8)
    assert pd.isna(t.loc[("meco", "ImageNet16-120 test acc @200ep (seed mean)")].published_value)


def test_signed_magnitude_and_other_spaces():
    corr = _corr([("grasp", "cifar10-valid test acc @200ep (seed mean)", 50, 0, -0.3, -0.4, -0.2, -0.45, -0.5, -0.4)])
    row = published_beside(corr, "nb201").iloc[0]
    assert row.ours_same_statistic == pytest.approx(0.45) and row.spearman == -0.45
    assert math.isnan(published_beside(corr, "nb101").iloc[0].ours_same_statistic or math.nan)


def test_which_studies_get_the_table():
    from trainfree.analysis.published import has_published_beside

    assert not has_published_beside("nb201", ["naswot", "distinguishing_ability", "activation_units"], [])
    assert has_published_beside("nb201", ["naswot", "synflow"], [])
    assert has_published_beside("nb201", ["az_expressivity"], ["az_nas"])
    assert not has_published_beside("nb101", ["synflow"], [])


def test_stage_writes_the_table(tmp_path):
    from trainfree.pipeline.analysis import published_beside as stage

    corr = _corr([("snip", "ImageNet16-120 test acc @200ep (seed mean)", 20, 0, 0.4, 0.2, 0.6, 0.55, 0.3, 0.7)])
    corr.to_csv(tmp_path / "correlations.csv", index=False)
    t = stage({"study": "s", "space": "nb201"}, str(tmp_path / "correlations.csv"), str(tmp_path / "pb.csv"))
    back = pd.read_csv(tmp_path / "pb.csv")
    assert back.published_value.tolist() == [0.578] and t.ours_same_statistic.tolist() == [0.55]
    assert (tmp_path / "pb.md").read_text().count("snip") >= 1


def test_the_proxies_study_plans_the_table(tmp_path):
    from conftest import ROOT, run_snakemake

    r = run_snakemake(tmp_path, ROOT / "config" / "nb201_proxies.yaml", "-n", "--cores", "1", timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "rule published_beside:" in r.stdout + r.stderr
