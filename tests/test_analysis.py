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
    assert tab.set_index("rule").loc["naswot (WOT)", "ratio_vs_wot"] == pytest.approx(1.0)
    assert set(tab.ground_truth) == {"planted"} and tab.n.iloc[0] == 60
