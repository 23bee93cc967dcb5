"""Best-of-N against a brute-force loop and the benchmark; HNAS's BO loop: determinism, the
criterion's pick at every step, the DARTS settings; the CLI."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from conftest import benchdata

from trainfree.benchmarks import GT_COLUMNS
from trainfree.cli import main
from trainfree.errors import TrainfreeError
from trainfree.search.best_of_n import best_of_n, best_of_n_table, direction, draws
from trainfree.search.hnas import (
    DARTS_SETTINGS,
    NB201_SETTINGS,
    hnas_criterion,
    hnas_nb201,
    hnas_search,
    hnas_weights,
)
from trainfree.search.pool import wide_to_tidy
from trainfree.spaces.nb201 import sample

BENCH = benchdata("nb201")


def _brute(score: np.ndarray, acc: np.ndarray, n: int, repeats: int, seed: int, hib: bool) -> np.ndarray:
    """The same random stream, one python loop per repeat and per arch."""
    rng = np.random.default_rng(seed)
    tie = rng.permutation(len(score))
    keys = rng.random((repeats, len(score)))
    out = []
    for r in range(repeats):
        drawn = sorted(range(len(score)), key=lambda i: keys[r, i])[:n]
        best = None
        for i in drawn:
            if np.isnan(score[i]):
                continue
            if best is None:
                best = i
                continue
            better = score[i] > score[best] if hib else score[i] < score[best]
            if better or (score[i] == score[best] and tie[i] < tie[best]):
                best = i
        out.append(np.nan if best is None else acc[best])
    return np.array(out)


@pytest.mark.parametrize("hib", [True, False])
def test_best_of_n_matches_brute_force(hib):
    rng = np.random.default_rng(3)
    p = 40
    score = rng.integers(0, 8, p).astype(float)  # many ties
    score[[1, 5, 9]] = np.nan
    acc = rng.uniform(50, 95, p)
    ids = [f"a{i}" for i in range(p)]
    res = best_of_n(pd.Series(score, index=ids), pd.DataFrame({"c10": acc}, index=ids), [5], higher_is_better=hib,
                    repeats=50, seed=7)
    ref = _brute(score, acc, 5, 50, 7, hib)
    assert res["mean"].iloc[0] == pytest.approx(np.nanmean(ref), abs=1e-12)
    assert res["std"].iloc[0] == pytest.approx(np.nanstd(ref), abs=1e-12)
    assert res["n_pool"].iloc[0] == p


def test_best_of_n_hand_values_nan_never_picked():
    ids = ["a", "b", "c"]
    truth = pd.DataFrame({"c10": [90.0, 50.0, 70.0]}, index=ids)
    # b has the best truth but a NaN score: never picked; N=3 -> always the top score (c)
    res = best_of_n(pd.Series([1.0, np.nan, 2.0], index=ids), truth, [3, 1], higher_is_better=True, repeats=200)
    assert res["mean"].tolist()[0] == 70.0 and res["std"].tolist()[0] == 0.0
    assert res["optimum"].iloc[0] == 90.0 and res["random_mean"].iloc[0] == pytest.approx(70.0, abs=6.0)
    # N=1: the single drawn arch; a draw of b alone is all-NaN and counted
    assert 0 < res["n_all_nan"].iloc[1] < 200
    assert res["mean"].iloc[1] == pytest.approx(80.0, abs=5.0)  # only a (90) and c (70) count
    # lower is better picks a
    res = best_of_n(pd.Series([1.0, np.nan, 2.0], index=ids), truth, [3], higher_is_better=False, repeats=10)
    assert res["mean"].iloc[0] == 90.0


def test_draws_are_uniform_without_replacement():
    d = draws(50, 10, 400, np.random.default_rng(0))
    assert d.shape == (400, 10) and all(len(set(r)) == 10 for r in d)
    counts = np.bincount(d[:, 0], minlength=50)  # first drawn = uniform over the pool
    assert counts.min() > 0 and counts.max() < 25


def test_direction_from_registry_or_flag():
    assert direction("ntk_condnum") is False and direction("naswot") is True
    assert direction("nwot", True) is True
    with pytest.raises(TrainfreeError, match="higher-is-better"):
        direction("nwot")


def test_suitezero_nwot_search_near_naswot_published(tmp_path):
    from trainfree.benchmarks import load_ground_truth

    gt = load_ground_truth("nb201", BENCH)
    wide = pd.read_csv(BENCH / "nb201_zc_proxies_cifar10_suitezero.csv.xz")
    scores = wide_to_tidy(wide, "net_str", ["nwot"], space="nb201")
    df = best_of_n_table(scores, gt, ["nwot"], [100], repeats=500, seed=0, directions={"nwot": True})
    c10 = df[df.dataset == "cifar10"].iloc[0]
    assert c10.n_pool == 9445
    # NASWOT's published N=100 search: 92.81 +- 0.99 (its own scores; same protocol)
    assert abs(c10["mean"] - 92.81) < 0.5 and c10["mean"] > c10.random_mean + 2
    assert c10.optimum == pytest.approx(94.37, abs=0.01)


# --------------------------------------------------------------------------- HNAS


def _pool(p: int = 120, seed: int = 0):
    rng = np.random.default_rng(seed)
    m = rng.uniform(100, 6000, p)
    k = rng.uniform(1, 500, p)
    k[3] = np.nan
    y = -np.abs(m - 2500) / 100 + rng.normal(0, 1, p)
    return m, k, y


SMALL = dataclasses.replace(NB201_SETTINGS, n_probes=3, n_steps=3, pool_step=40)


def test_hnas_deterministic_for_a_seed():
    m, k, y = _pool()
    a = hnas_search(m, k, lambda i: y[i], SMALL, seed=4)
    b = hnas_search(m, k, lambda i: y[i], SMALL, seed=4)
    assert a.chosen == b.chosen and a.params == b.params and a.observed == b.observed
    assert len(set(a.chosen)) == SMALL.n_evals
    assert [p[1] for p in a.params[:3]] == [-2.0, -2.0, -2.0] and [p[0] for p in a.params[:3]] == [0.0, 0.5, 1.0]
    assert a.best == a.chosen[int(np.argmax(a.observed))]
    assert a.pool_size == sorted(a.pool_size) and a.pool_size[-1] == int(a.in_pool.sum())


def test_hnas_picks_the_criterion_minimum_each_step():
    m, k, y = _pool(60)
    st = dataclasses.replace(DARTS_SETTINGS, n_steps=2)  # whole pool from the start, UCB
    run = hnas_search(m, k, lambda i: y[i], st, seed=1)
    assert run.params[0][1] == -1.5 and len(run.params) == 8  # 6 probes at the middle of c in (-4, 1)
    done: list[int] = []
    for i, (t, c) in zip(run.chosen, run.params):
        mu, nu = hnas_weights(t, c, st.scale)
        crit = np.asarray(hnas_criterion((m, k), mu, nu), dtype=float)
        crit[done] = np.inf
        crit[~np.isfinite(crit)] = np.inf
        assert i == int(np.argmin(crit))
        done.append(i)
    for t, c in run.params[6:]:
        assert 0 <= t <= 1 and -4 <= c <= 1


def _gt(archs: list[str], with12: bool) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    specs = [("cifar10-valid", "valid", 200, "acc"), ("cifar10", "test", 200, "acc"),
             ("cifar100", "test", 200, "acc"), ("ImageNet16-120", "test", 200, "acc")]
    if with12:
        specs += [("cifar10-valid", "valid", 12, "acc"), ("cifar10-valid", "cost", 12, "train_time_s")]
    for i, a in enumerate(archs):
        for ds, split, ep, fld in specs:
            v = 100.0 + i if fld == "train_time_s" else float(rng.uniform(10, 95))
            rows.append(("nb201", a, i, ds, split, ep, "mean", fld, v, "test"))
    return pd.DataFrame(rows, columns=GT_COLUMNS)


@pytest.mark.parametrize("with12", [False, True])
def test_hnas_nb201_observation_and_cost(with12):
    archs = sample(40, 0)
    rng = np.random.default_rng(2)
    sc = pd.concat([pd.DataFrame({"arch_id": archs, "metric": "ntk_trace", "value": rng.uniform(100, 6000, 40),
                                  "seconds": 1.0}),
                    pd.DataFrame({"arch_id": archs, "metric": "ntk_condnum", "value": rng.uniform(1, 500, 40),
                                  "seconds": 0.5})])
    gt = _gt(archs, with12)
    st = dataclasses.replace(NB201_SETTINGS, n_probes=2, n_steps=1, pool_step=10)
    runs = hnas_nb201(sc, gt, [0, 1], settings=st)
    assert len(runs) == 2 and runs.n_pool.iloc[0] == 40
    assert ("substitute" in runs.observation.iloc[0]) is (not with12)
    assert runs.score_seconds.iloc[0] == pytest.approx(1.5 * runs.n_candidates.iloc[0])
    r = runs.iloc[0]
    ep = 12 if with12 else 200
    obs = gt[(gt.arch_id == r.arch_id) & (gt.split == "valid") & (gt.epochs == ep)].value.iloc[0]
    assert r.observed == obs
    assert r.cifar10 == gt[(gt.arch_id == r.arch_id) & (gt.dataset == "cifar10")].value.iloc[0]
    if with12:
        assert r.train_seconds >= 3 * 100.0
    else:
        assert np.isnan(r.train_seconds)


def test_cli_best_of_n_and_errors(tmp_path, capsys):
    archs = sample(30, 1)
    gt = _gt(archs, False)
    gt.to_parquet(tmp_path / "gt.parquet")
    rng = np.random.default_rng(0)
    pd.DataFrame({"arch_id": archs, "metric": "naswot", "value": rng.normal(size=30)}).to_csv(
        tmp_path / "s.csv", index=False)
    assert main(["search", "best-of-n", "--scores", str(tmp_path / "s.csv"), "--metric", "naswot",
                 "--ground-truth", str(tmp_path / "gt.parquet"), "--n", "5,10", "--repeats", "20"]) == 0
    out = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert list(out.columns[:5]) == ["n", "dataset", "mean", "std", "n_pool"]
    assert len(out) == 6 and set(out.n) == {5, 10} and (out.n_pool == 30).all()
    assert main(["search", "best-of-n", "--scores", str(tmp_path / "s.csv"), "--metric", "snip",
                 "--ground-truth", str(tmp_path / "gt.parquet")]) == 2
    assert "not in the score table" in capsys.readouterr().err


@pytest.mark.slow
def test_search_workflow_tiny_end_to_end(tmp_path):
    from conftest import run_snakemake

    npz = benchdata("images/cifar10_partial_5506.npz")
    nb201 = benchdata("nb201")
    cfg = {
        "study": "tiny_search", "outputs": ["search"], "model": {"C": 4, "N": 1},
        "data": {"dataset": "cifar10", "root": str(npz)},
        "ground_truth": {"kind": "benchmark", "source": str(nb201)},
        "search": {
            "pool": {"n": 24, "shard_size": 12, "batch_size": 16},
            "external": {"path": str(nb201 / "nb201_zc_proxies_cifar10_suitezero.csv.xz")},
            "best_of_n": {"n": [5, 10], "repeats": 40},
            "hnas": {"seeds": 2, "n_probes": 2, "n_steps": 1, "pool_step": 8},
        },
    }
    r = run_snakemake(tmp_path, cfg, "--cores", "2", "-q", timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    out = tmp_path / "results" / "tiny_search"
    best = pd.read_csv(out / "tables" / "search_best_of_n_raw.csv")
    assert set(best.metric) == {"naswot", "ntk_trace", "ntk_condnum", "nwot"}
    assert (best[best.metric == "nwot"].n_pool == 9445).all() and (best[best.metric == "naswot"].n_pool <= 24).all()
    assert set(best[best.metric == "nwot"].naswot_published.dropna()) == {92.44, 68.62, 41.31}  # N=10 only
    runs = pd.read_csv(out / "search" / "hnas_runs.csv")
    assert list(runs.seed) == [0, 1] and runs.observation.str.contains("substitute").all()
    assert (out / "tables" / "search_hnas.md").is_file() and (out / "figures" / "search_budget.png").is_file()
    summary = (out / "summary.md").read_text()  # the headline numbers, as the tables state them
    hnas = pd.read_csv(out / "tables" / "search_hnas.csv").set_index("dataset")
    assert f"- cifar10: {hnas.loc['cifar10', 'ours']} (published 94.04 ± 0.21)" in summary
    row = best[(best.metric == "nwot") & (best.n == 10) & (best.dataset == "cifar10")].iloc[0]
    assert f"nwot, N = 10 of 9445, cifar10: {row.ours} (NASWOT paper 92.44)" in summary
    # the pool's shards depend on search.pool only: more best-of-N repeats rerun the tables, not the scoring
    cfg["search"]["best_of_n"]["repeats"] = 41
    r = run_snakemake(tmp_path, cfg, "--cores", "1", "-n", timeout=600)
    assert r.returncode == 0 and "search_best_of_n" in r.stdout, r.stderr[-3000:]
    assert "search_pool_shard" not in r.stdout and "search_scores" not in r.stdout


def test_report_gives_published_numbers_only_to_real_searches():
    """NASWOT's published N = 10 / 100 stand beside rows that drew N of a larger pool; N capped by a
    small pool, or N equal to the pool, picks the pool's top arch every time and gets none."""
    from trainfree.search.report import best_of_n_report

    rows = [{"metric": "naswot", "n": n, "n_drawn": d, "dataset": "cifar10", "mean": 92.0, "std": 1.0,
             "random_mean": 90.0, "random_std": 2.0, "optimum": 94.0, "n_pool": p, "n_all_nan": 0,
             "repeats": 10, "ground_truth": "g"} for n, d, p in ((10, 10, 100), (100, 100, 100), (100, 60, 60))]
    out = best_of_n_report(pd.DataFrame(rows), "ours")
    assert list(out.naswot_published) == ["92.44", "", ""]
