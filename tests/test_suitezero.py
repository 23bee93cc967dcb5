"""Validation against NAS-Bench-Suite-Zero and the HNAS unification analysis (small runs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from trainfree.analysis import suitezero, unify
from trainfree.io import benchdata_root
from trainfree.render.heatmap import correlation_heatmap

BENCH = benchdata_root()


def test_published_loads_with_our_names():
    pub = suitezero.load_published(BENCH, "nb201")
    assert len(pub) == 9445
    assert set(suitezero.COLUMN_MAP.values()) | {"spec", "acc"} == set(pub.columns)
    assert (pub.spec == pub.index).all()  # an NB201 id is its own spec
    # the README's published correlation of nwot with CIFAR-10 test accuracy
    rho = pub[["naswot", "acc"]].corr(method="spearman").iloc[0, 1]
    assert rho == pytest.approx(0.811, abs=2e-3)
    a = suitezero.sample_archs(pub, 5, 0)
    assert a == suitezero.sample_archs(pub, 5, 0) and len(set(a)) == 5


def test_validation_table_on_a_few_archs(tmp_path):
    pub = suitezero.load_published(BENCH, "nb201")
    archs = suitezero.sample_archs(pub, 4, 0)
    scores = suitezero.score_sample(archs, seed=0, images=BENCH / suitezero.IMAGES_FILE, batch_size=16,
                                    metrics=("params", "synflow", "l2_norm"), progress=False, space="nb201")
    table = suitezero.validation_table(suitezero.wide_scores(scores), pub)
    assert list(table.metric) == ["l2_norm", "params", "synflow"]
    assert (table.n == 4).all()
    # params are architecture facts: our count must rank exactly as theirs
    assert table.set_index("metric").loc["params", "spearman_ours_published"] == pytest.approx(1.0)
    md = suitezero.to_markdown(table)
    assert md.startswith("| metric |") and md.count("\n") == 5
    assert "n_repeat" not in table.columns  # no NB201 arch is published twice


@pytest.mark.parametrize("space", sorted(suitezero.PUBLISHED))
def test_published_batch_size_bounds_published_jacov(space):
    """jacov = -sum(log(l + k) + 1/(l + k)) over the n eigenvalues of an n x n correlation
    matrix, and log(x) + 1/x >= 1, so every value is <= -n; nearly uncorrelated Jacobians
    come within a few units of it. The registered batch must be that n."""
    src = suitezero.PUBLISHED[space]
    j = suitezero.load_published(BENCH, space)["jacob_cov"]
    j = j[j > -1e7]  # Suite-Zero writes -1e8 for a failed computation
    n = src.batch_size
    assert -n - 2 < j.max() <= -n


def test_published_repeat_by_hand():
    pub = pd.DataFrame({"x": [1.0, 2.0, 5.0, 4.0, 3.0, 9.0, 7.0, np.nan, 8.0, 0.0]},
                       index=["a", "a", "b", "b", "c", "c", "d", "e", "e", "f"])
    rho, n = suitezero.published_repeat(pub, "x")
    # pairs (first, second key): a (1, 2), b (5, 4), c (3, 9); e has a NaN, d and f appear once
    assert n == 3
    assert rho == pytest.approx(stats.spearmanr([1, 5, 3], [2, 4, 9]).statistic)
    assert np.isnan(suitezero.published_repeat(pub.iloc[[0, 2, 4]], "x")[0])


def test_nb101_published_values_of_one_cell_disagree():
    """Keys of the NB101 file that prune to one cell were scored on different random
    batches: their published epe_nas barely reproduce, params and flops do exactly."""
    pub = suitezero.load_published(BENCH, "nb101")
    rho = {c: suitezero.published_repeat(pub, c) for c in ("params", "flops", "epe_nas", "jacob_cov", "snip")}
    assert {n for _, n in rho.values()} == {24}
    assert rho["params"][0] == pytest.approx(1.0) and rho["flops"][0] == pytest.approx(1.0)
    assert rho["epe_nas"][0] == pytest.approx(0.107, abs=1e-3)
    assert rho["jacob_cov"][0] == pytest.approx(0.657, abs=1e-3)
    assert rho["snip"][0] > 0.98


def _population(n: int = 40) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    acc = pd.Series(rng.normal(90, 2, n), index=[f"a{i}" for i in range(n)])
    m = acc.to_numpy() / 10 + rng.normal(0, 0.1, n)
    wide = pd.DataFrame({"ntk_trace": m, "grad_norm": 2 * m + rng.normal(0, 0.05, n),
                         "snip": m ** 2, "grasp": rng.normal(0, 1, n),
                         "ntk_condnum": np.exp(-m) * 100, "zen": np.nan}, index=acc.index)
    wide.loc["a0", "grad_norm"] = np.nan
    return wide, acc


def test_unification_matrix_and_accuracy_table():
    wide, acc = _population()
    matrix, table = unify.unification_analysis(wide, acc, mu=0.01, nu=20.0)  # nu^2 > M^2
    assert list(matrix.index)[:4] == ["ntk_trace", "grad_norm", "snip", "grasp"]
    assert matrix.loc["ntk_trace", "snip"] == pytest.approx(1.0)
    assert matrix.loc["ntk_trace", "grad_norm"] > 0.9
    t = table.set_index("metric")
    assert t.loc["grad_norm", "n_nan"] == 1 and t.loc["zen", "n"] == 0 and np.isnan(t.loc["zen", "spearman"])
    assert t.loc["ntk_condnum", "spearman"] < 0  # signed: lower-is-better metric shows negative
    assert not t.loc["ntk_condnum", "higher_is_better"] and not t.loc["hnas_criterion", "higher_is_better"]
    assert "hnas_criterion" in t.index and t.loc["hnas_criterion", "spearman"] < 0
    both = pd.concat([wide["ntk_trace"], acc], axis=1, join="inner").dropna()
    want = stats.kendalltau(both.iloc[:, 0], both.iloc[:, 1]).statistic
    assert t.loc["ntk_trace", "kendall"] == pytest.approx(want)


def test_heatmap_writes_pdf_and_png(tmp_path):
    wide, _ = _population()
    paths = correlation_heatmap(unify.metric_matrix(wide), tmp_path / "fig" / "matrix.pdf", title="t")
    assert [p.suffix for p in paths] == [".pdf", ".png"]
    assert all(p.is_file() and p.stat().st_size > 1000 for p in paths)


def test_self_repeat_tool_on_nb201():
    """tools/suitezero_self_repeat.py: params is an architecture fact, so its two seeds agree
    exactly and both rank as the published values; an init-dependent proxy gets its own row."""
    import subprocess
    import sys
    from pathlib import Path

    tool = Path(__file__).resolve().parents[1] / "tools" / "suitezero_self_repeat.py"
    r = subprocess.run([sys.executable, str(tool), "--space", "nb201", "--archs", "5",
                        "--metrics", "params,l2_norm"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = {ln.split("|")[1].strip(" `"): [float(c) for c in ln.split("|")[2:5]]
            for ln in r.stdout.splitlines() if ln.startswith("| `")}
    assert "nb201: 5 archs, batch 64, seeds 0 and 1" in r.stdout
    assert rows["params"] == [1.0, 1.0, 1.0]
    assert set(rows) == {"params", "l2_norm"} and all(-1 <= v <= 1 for v in rows["l2_norm"])
