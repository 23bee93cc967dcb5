"""Best-of-N search by a score (NASWOT's search protocol), vectorised over repeats.

One repeat draws N archs uniformly without replacement from the pool (archs with a
score row and a ground-truth value on every dataset), picks the best-scored one by the
score's direction and reports its ground truth. A NaN score is never picked (a draw of
N NaN scores gives NaN, counted in ``n_all_nan``); ties are broken by one seeded random
order of the pool. The random-choice baseline is the first drawn arch of the same
draws; the pool optimum is the pool's best ground truth.

Cost: R repeats × P pool archs of random keys (an ``argpartition`` per repeat), so
500 × N=1000 over 15,625 archs is a few hundred MB-seconds of numpy, not a loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from trainfree.errors import TrainfreeError

# the papers' search tables: 200-epoch test accuracy, seed mean, on the three datasets
DEFAULT_TARGETS: tuple[dict, ...] = (
    {"dataset": "cifar10", "split": "test", "epochs": 200, "seed": "mean", "field": "acc"},
    {"dataset": "cifar100", "split": "test", "epochs": 200, "seed": "mean", "field": "acc"},
    {"dataset": "ImageNet16-120", "split": "test", "epochs": 200, "seed": "mean", "field": "acc"},
)

#: the most random keys (repeats x pool archs, float64) one best-of-N simulation draws at once
MAX_DRAW_CELLS = 2**28

RESULT_COLUMNS = ["n", "dataset", "mean", "std", "n_pool", "metric", "n_drawn", "repeats",
                  "random_mean", "random_std", "optimum", "n_all_nan", "ground_truth"]


def direction(metric: str, higher_is_better: bool | None = None) -> bool:
    """``higher_is_better`` of ``metric``: the explicit flag, else the metric registry's.

    External score tables (e.g. Suite-Zero's ``nwot``) are not in the registry: pass the
    flag explicitly; an unknown name without a flag is a ``TrainfreeError``.
    """
    if higher_is_better is not None:
        return bool(higher_is_better)
    from trainfree.metrics import get_metric

    try:
        return get_metric(metric).higher_is_better
    except TrainfreeError:
        raise TrainfreeError(
            f"metric {metric!r} is not registered, so its direction is unknown; pass "
            f"--higher-is-better or --lower-is-better (e.g. Suite-Zero's nwot is higher-is-better)") from None


def truth_table(gt: pd.DataFrame, targets: Sequence[Mapping] = DEFAULT_TARGETS) -> tuple[pd.DataFrame, dict[str, str]]:
    """Tidy ground truth -> (wide table arch_id × dataset, {dataset: field label})."""
    from trainfree.benchmarks import describe, select

    cols, labels = {}, {}
    for t in targets:
        t = dict(t)
        cols[t["dataset"]] = select(gt, **t)
        labels[t["dataset"]] = describe(**t)
        if t.get("source") is None:
            m = gt[(gt.dataset == t["dataset"]) & (gt.split == t["split"]) & (gt.epochs == t["epochs"])
                   & (gt.seed.astype(str) == str(t.get("seed", "mean"))) & (gt.field == t.get("field", "acc"))]
            labels[t["dataset"]] += f" [{m.source.iloc[0]}]"
    return pd.DataFrame(cols), labels


def _order(values: np.ndarray, higher_is_better: bool, rng: np.random.Generator) -> np.ndarray:
    """Position of every pool arch in the pick order (0 = best); NaN last, ties by a seeded shuffle."""
    tie = rng.permutation(len(values))
    key = -values if higher_is_better else values.copy()
    key = np.where(np.isnan(key), np.inf, key)
    order = np.lexsort((tie, key))  # primary: key, secondary: the seeded tie key
    pos = np.empty(len(values), dtype=np.int64)
    pos[order] = np.arange(len(values))
    return pos


def draws(n_pool: int, n: int, repeats: int, rng: np.random.Generator) -> np.ndarray:
    """(repeats, n) pool indices, each row a uniform draw without replacement, in draw order."""
    keys = rng.random((repeats, n_pool))
    if n < n_pool:
        idx = np.argpartition(keys, n - 1, axis=1)[:, :n]
    else:
        idx = np.broadcast_to(np.arange(n_pool), (repeats, n_pool)).copy()
    # draw order = increasing key, so column 0 is a uniformly random member of the draw
    k = np.take_along_axis(keys, idx, axis=1)
    return np.take_along_axis(idx, np.argsort(k, axis=1), axis=1)


def best_of_n(score: pd.Series, truth: pd.DataFrame, n_values: Sequence[int], *, higher_is_better: bool,
              repeats: int = 500, seed: int = 0, metric: str | None = None,
              labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Best-of-N simulation of one score over the pool ``score.index ∩ truth.index``.

    ``score``: arch_id -> value (NaN allowed); ``truth``: arch_id × dataset accuracies.
    N larger than the pool is capped (``n_drawn``). Returns one row per (N, dataset) with
    ``RESULT_COLUMNS``: mean and std (ddof 0, as NASWOT's tables) over the repeats.
    """
    if repeats < 1:
        raise TrainfreeError(f"repeats must be >= 1, got {repeats}")
    if score.index.duplicated().any():
        raise TrainfreeError(f"score {metric or score.name!r}: arch {score.index[score.index.duplicated()][0]} has "
                             f"several scores; give one score per arch")
    truth = truth.dropna()
    pool = score.index.intersection(truth.index)
    if len(pool) == 0:
        raise TrainfreeError("no arch has both a score and a ground-truth value; check that the arch ids match "
                             "(canonical NB201 strings)")
    if repeats * len(pool) > MAX_DRAW_CELLS:
        raise TrainfreeError(f"{repeats} repeats over a pool of {len(pool)} archs need {repeats * len(pool):,} random "
                             f"keys, more than {MAX_DRAW_CELLS:,} (2 GiB); lower repeats to at most "
                             f"{MAX_DRAW_CELLS // len(pool)}")
    s = score.loc[pool].to_numpy(dtype=float)
    acc = truth.loc[pool].to_numpy(dtype=float)  # (P, D)
    rng = np.random.default_rng(seed)
    pos = _order(s, higher_is_better, rng)
    finite = ~np.isnan(s)
    rows = []
    for n in n_values:
        if n < 1:
            raise TrainfreeError(f"N must be >= 1, got {n}")
        m = min(int(n), len(pool))
        d = draws(len(pool), m, repeats, rng)             # (R, m)
        pick = np.take_along_axis(d, np.argmin(pos[d], axis=1)[:, None], axis=1)[:, 0]
        all_nan = ~finite[d].any(axis=1)
        chosen = acc[pick].copy()
        chosen[all_nan] = np.nan
        rand = acc[d[:, 0]]
        for j, ds in enumerate(truth.columns):
            rows.append({"n": int(n), "dataset": ds, "mean": float(np.nanmean(chosen[:, j])) if (~all_nan).any()
                         else float("nan"), "std": float(np.nanstd(chosen[:, j])) if (~all_nan).any() else float("nan"),
                         "n_pool": len(pool), "metric": metric or str(score.name), "n_drawn": m,
                         "repeats": repeats, "random_mean": float(rand[:, j].mean()),
                         "random_std": float(rand[:, j].std()), "optimum": float(acc[:, j].max()),
                         "n_all_nan": int(all_nan.sum()), "ground_truth": (labels or {}).get(ds, ds)})
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def _one_row_per_arch(rows: pd.DataFrame, name: str, source: str) -> pd.Series:
    """The metric's score per arch. Rows that repeat an arch with the same value collapse to one;
    several fast-training steps k, or different values, are refused (never the first row kept)."""
    dup = rows.arch_id.duplicated(keep=False)
    if dup.any():
        if "fast_steps" in rows.columns and rows.fast_steps.nunique() > 1:
            ks = ", ".join(str(k) for k in sorted(rows.fast_steps.dropna().unique()))
            raise TrainfreeError(f"{source}: metric {name!r} has rows after fast_steps k = {ks} (several rows per "
                                 f"arch); pick one k with --fast-steps K")
        spread = rows[dup].groupby("arch_id", sort=False)["value"].nunique(dropna=False)
        if (spread > 1).any():
            arch = spread.index[spread > 1][0]
            n = int((rows.arch_id == arch).sum())
            raise TrainfreeError(f"{source}: arch {arch} has {n} rows with different {name!r} scores "
                                 f"({int((spread > 1).sum())} such arch(s)); keep one row per arch and metric")
    return rows.drop_duplicates("arch_id").set_index("arch_id")["value"].astype(float)


def one_score_per_arch(scores: pd.DataFrame, metrics: Sequence[str], source: str = "score table") -> pd.DataFrame:
    """Wide table (arch_id x metric) of a tidy score table, one score per arch and metric; several
    fast-training steps or conflicting rows of an arch are refused (never the first row kept)."""
    cols = [_one_row_per_arch(scores[scores.metric == m], m, source).rename(m) for m in metrics]
    return pd.concat(cols, axis=1)


def best_of_n_table(scores: pd.DataFrame, gt: pd.DataFrame, metrics: Sequence[str], n_values: Sequence[int], *,
                    repeats: int = 500, seed: int = 0, directions: Mapping[str, bool] | None = None,
                    targets: Sequence[Mapping] = DEFAULT_TARGETS, fast_steps: int | None = None,
                    source: str = "score table") -> pd.DataFrame:
    """Best-of-N for every metric of a tidy score table (``arch_id, metric, value``).

    ``directions``: explicit ``higher_is_better`` per metric (else the registry's).
    ``fast_steps``: keep the rows after that many fast-training steps (a table with several
    ``fast_steps`` per arch needs it). ``source`` names the table in error messages.
    """
    if fast_steps is not None:
        if "fast_steps" not in scores.columns:
            raise TrainfreeError(f"{source} has no fast_steps column; drop --fast-steps")
        have_k = sorted(scores.fast_steps.dropna().unique())
        scores = scores[scores.fast_steps == fast_steps]
        if scores.empty:
            raise TrainfreeError(f"{source} has no rows after fast_steps k = {fast_steps}; it has k = "
                                 f"{', '.join(str(k) for k in have_k)}")
    truth, labels = truth_table(gt, targets)
    have = set(scores.metric.unique())
    out = []
    for name in metrics:
        if name not in have:
            raise TrainfreeError(f"metric {name!r} not in the score table; it has: {', '.join(sorted(have))}")
        s = _one_row_per_arch(scores[scores.metric == name], name, source)
        hib = direction(name, (directions or {}).get(name))
        out.append(best_of_n(s, truth, n_values, higher_is_better=hib, repeats=repeats, seed=seed,
                             metric=name, labels=labels))
    return pd.concat(out, ignore_index=True)


__all__ = ["DEFAULT_TARGETS", "RESULT_COLUMNS", "best_of_n", "best_of_n_table", "direction", "draws", "one_score_per_arch",
           "truth_table"]
