import numpy as np
import pandas as pd
import pytest
from scipy import stats

from trainfree.analysis.correlation import correlate, correlation_table
from trainfree.analysis.das import ablation_table, das_linear, das_rank, split_halves


def test_signed_correlations_and_nan_count():
    idx = [f"a{i}" for i in range(6)]
    truth = pd.Series([1.0, 2, 3, 4, 5, 6], index=idx)
    up = correlate(pd.Series([10.0, 20, 30, 40, 50, 60], index=idx), truth, n_boot=0)
    down = correlate(pd.Series([6.0, 5, 4, 3, 2, np.nan], index=idx), truth, n_boot=0)
    assert up["kendall"] == pytest.approx(1.0) and up["spearman"] == pytest.approx(1.0)
    assert down["kendall"] == pytest.approx(-1.0) and down["n"] == 5 and down["n_nan"] == 1


def test_matches_scipy_and_ci_brackets():
    rng = np.random.default_rng(0)
    t = rng.normal(size=200)
    s = t + rng.normal(size=200)
    idx = [str(i) for i in range(200)]
    r = correlate(pd.Series(s, idx), pd.Series(t, idx), n_boot=300, seed=1)
    assert r["kendall"] == pytest.approx(stats.kendalltau(s, t).statistic)
    assert r["spearman"] == pytest.approx(stats.spearmanr(s, t).statistic)
    assert r["kendall_lo"] < r["kendall"] < r["kendall_hi"]
    assert r == correlate(pd.Series(s, idx), pd.Series(t, idx), n_boot=300, seed=1)


def test_table_labels_ground_truth_and_direction():
    idx = ["a", "b", "c", "d"]
    wide = pd.DataFrame({"m": [1.0, 2, 3, 4]}, index=idx)
    tab = correlation_table(wide, pd.Series([4.0, 3, 2, 1], idx), "cifar10 test acc @200ep (seed mean)",
                            {"m": False}, n_boot=10)
    assert tab.loc[0, "kendall"] == pytest.approx(-1.0)
    assert not tab.loc[0, "higher_is_better"]
    assert tab.loc[0, "ground_truth"] == "cifar10 test acc @200ep (seed mean)"


def test_das_rules():
    D = pd.Series([-3.0, -1.0, -2.0])
    NA = pd.Series([100.0, 10.0, 1000.0])
    np.testing.assert_allclose(das_linear(D, NA, 8, 1.0), D + 8 * np.log(NA))
    np.testing.assert_allclose(das_linear(D, NA, 8, 0.0), D)
    np.testing.assert_allclose(das_rank(D, NA, 0.5), [1 + 1.0, 3 + 0.5, 2 + 1.5])
    a, b = split_halves([str(i) for i in range(11)], 3)
    assert len(a) == 5 and len(b) == 6 and not set(a) & set(b)


def test_ablation_recovers_planted_rule():
    """Ground truth = D exactly: das_linear must pick alpha = 0 and beat WOT."""
    rng = np.random.default_rng(0)
    n_arch, n = 120, 16
    idx = [f"x{i}" for i in range(n_arch)]
    D = pd.Series(-rng.uniform(0, 5, n_arch), idx)
    NA = pd.Series(rng.uniform(1e3, 1e5, n_arch), idx)
    wide = pd.DataFrame({"distinguishing_ability": D, "activation_units": NA,
                         "naswot": D + n * np.log(NA)})
    tab = ablation_table(wide, D.copy(), "planted", n, [0.0, 0.5, 1.0], [0.0, 1.0], seed=0, n_boot=20)
    row = tab.set_index("rule").loc["das_linear"]
    assert row.param == 0.0 and row.kendall == pytest.approx(1.0)
    assert row.ratio_vs_wot > 1.0
    assert 0 < row.delta_lo <= row.delta_vs_wot <= row.delta_hi  # beats WOT with an interval
    assert row.delta_vs_wot == pytest.approx(row.kendall - tab.set_index("rule").loc["naswot (WOT)", "kendall"])
    assert tab.set_index("rule").loc["naswot (WOT)", "ratio_vs_wot"] == pytest.approx(1.0)
    assert set(tab.ground_truth) == {"planted"} and tab.n.iloc[0] == 60


def test_nan_ranked_last_against_dropped():
    """NASWOT ranks a singular arch last (log|K| = −inf); kendall_nan_last does that, kendall drops it."""
    idx = list("abcde")
    truth = pd.Series([1.0, 2, 3, 4, 5], idx)
    score = pd.Series([1.0, 2, 3, 4, np.nan], idx)  # the best arch is singular
    r = correlate(score, truth, n_boot=0)
    assert r["kendall"] == pytest.approx(1.0) and r["n_nan"] == 1
    want = stats.kendalltau([1.0, 2, 3, 4, -np.inf], [1, 2, 3, 4, 5]).statistic  # 6 concordant, 4 discordant
    assert r["kendall_nan_last"] == pytest.approx(want) and want == pytest.approx(0.2)
    low = correlate(-score, truth, n_boot=0, higher_is_better=False)  # lower is better: NaN -> +inf side
    assert low["kendall_nan_last"] == pytest.approx(-0.2)


def test_paper_vs_ours_reads_naswots_field():
    from trainfree.analysis.published import paper_vs_ours

    corr = pd.DataFrame({
        "metric": ["naswot", "naswot", "naswot", "activation_units"],
        "ground_truth": ["cifar10 test acc @200ep (seed mean) [v1_1]", "cifar10-valid test acc @200ep (seed mean)",
                         "cifar100 test acc @200ep (seed mean)", "cifar10-valid test acc @200ep (seed mean)"],
        "n": [10] * 4, "n_nan": [1] * 4, "kendall": [0.6, 0.58, 0.6, 0.5], "kendall_lo": [0.5] * 4,
        "kendall_hi": [0.7] * 4, "kendall_nan_last": [0.59, 0.57, 0.61, 0.49]})
    t = paper_vs_ours(corr, "nb201")
    assert pd.isna(t.paper_kendall[0]) and "cifar10-valid ori-test" in t.paper_source[0]
    assert t.paper_kendall[1] == 0.574 and t.difference[1] == pytest.approx(0.57 - 0.574)
    assert t.paper_kendall[2] == 0.611 and pd.isna(t.paper_kendall[3])
    assert t.ours_kendall_nan_last[1] == 0.57


def test_paired_delta_ci():
    from trainfree.analysis.das import paired_delta

    rng = np.random.default_rng(0)
    t = rng.normal(size=300)
    idx = [str(i) for i in range(300)]
    good = pd.Series(t + 0.3 * rng.normal(size=300), idx)
    bad = pd.Series(t + 3.0 * rng.normal(size=300), idx)
    truth = pd.Series(t, idx)
    d, lo, hi = paired_delta(good, bad, truth, n_boot=200, seed=0)
    want = stats.kendalltau(good, t).statistic - stats.kendalltau(bad, t).statistic
    assert d == pytest.approx(want) and 0 < lo < d < hi
    d0, lo0, hi0 = paired_delta(good, good, truth, n_boot=50)
    assert d0 == 0 and lo0 == 0 and hi0 == 0  # same score: the paired difference is exactly 0
