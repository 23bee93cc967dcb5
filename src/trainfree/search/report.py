"""The search stage's tables and figure, with the published numbers beside ours.

- best-of-N table: every metric × N × dataset (mean ± std over repeats, random choice,
  pool optimum, pool size, ground-truth field), NASWOT's published search beside
  ``naswot``-like rows;
- HNAS table: mean ± std over seeds per dataset, observation, cost, with HNAS's
  published numbers;
- error-vs-budget figure: test error vs search cost (best-of-N per metric at N × the
  pool's median scoring seconds per arch, HNAS per seed, random choice, pool optimum).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from trainfree.errors import TrainfreeError

# NASWOT (Mellor et al., ICML 2021), 500 runs, NB201 test accuracy at N archs (PAPERS.md §7)
NASWOT_SEARCH = {10: (92.44, 68.62, 41.31), 100: (92.81, 69.48, 43.10), 1000: (92.96, 69.98, 44.44)}
# HNAS (Shu et al., NeurIPS 2022), NB201, 10 seeds: mean ± std test accuracy, search cost (s)
HNAS_PUBLISHED = {"cifar10": (94.04, 0.21), "cifar100": (71.75, 1.04), "ImageNet16-120": (45.91, 0.88)}
HNAS_PUBLISHED_COST_S = 3010.0
DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
# score names that are NASWOT (ours, or a published table's column)
NASWOT_NAMES = ("naswot", "nwot")


def best_of_n_report(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """Best-of-N rows -> the rendered table (``source`` names the score table and its pool)."""
    out = df.copy()
    out.insert(0, "scores", source)
    out["ours"] = [f"{m:.2f} ± {s:.2f}" for m, s in zip(out["mean"], out["std"])]
    out["random"] = [f"{m:.2f} ± {s:.2f}" for m, s in zip(out.random_mean, out.random_std)]
    paper = []
    for r in out.itertuples():
        # published numbers only where N archs were really drawn from a larger pool (N capped by
        # a small pool, or N = the pool, picks the pool's top arch every time: no search)
        ok = (r.metric in NASWOT_NAMES and r.dataset in DATASETS and int(r.n_drawn) == int(r.n)
              and int(r.n) < int(r.n_pool))
        p = NASWOT_SEARCH.get(int(r.n)) if ok else None
        paper.append(f"{p[DATASETS.index(r.dataset)]:.2f}" if p else "")
    out["naswot_published"] = paper
    return out[["scores", "metric", "n", "n_drawn", "dataset", "ours", "naswot_published", "random", "optimum",
                "n_pool", "n_all_nan", "repeats", "ground_truth", "mean", "std", "random_mean", "random_std"]]


def hnas_report(runs: pd.DataFrame, datasets: Sequence[str] = DATASETS) -> pd.DataFrame:
    """Per-seed HNAS runs -> one row per dataset: ours (mean ± std), published, pool, cost."""
    if runs.empty:
        raise TrainfreeError("no HNAS run to summarise")
    cost = runs.score_seconds.fillna(0) + runs.train_seconds.fillna(0)
    rows = []
    for ds in datasets:
        p = HNAS_PUBLISHED.get(ds)
        rows.append({
            "dataset": ds, "seeds": len(runs),
            "ours": f"{runs[ds].mean():.2f} ± {runs[ds].std(ddof=0):.2f}",
            "published": f"{p[0]:.2f} ± {p[1]:.2f}" if p else "",
            "n_pool": int(runs.n_pool.iloc[0]),
            "observed_valid": f"{runs.observed.mean():.2f} ± {runs.observed.std(ddof=0):.2f}",
            "score_seconds": float(runs.score_seconds.mean()),
            "train_seconds": float(runs.train_seconds.mean()),
            "cost_s": float(cost.mean()), "published_cost_s": HNAS_PUBLISHED_COST_S,
            "observation": runs.observation.iloc[0], "cost": runs.cost.iloc[0],
            "mean": float(runs[ds].mean()), "std": float(runs[ds].std(ddof=0)),
        })
    return pd.DataFrame(rows)


def budget_figure(best: pd.DataFrame, runs: pd.DataFrame | None, sec_per_arch: Mapping[str, float],
                  pdf_path: str | os.PathLike, dataset: str = "cifar10") -> list[Path]:
    """Test error (100 − acc) vs search cost in seconds on ``dataset``.

    Best-of-N of metric m costs N × ``sec_per_arch[m]`` (median scoring seconds per arch);
    HNAS points are per seed (scoring + training seconds); random choice and the pool
    optimum are horizontal lines.
    """
    from trainfree.render.figures import plt, save

    b = best[best.dataset == dataset]
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    for metric, g in b.groupby("metric"):
        sec = sec_per_arch.get(metric, np.nan)
        if not np.isfinite(sec):
            continue
        g = g.sort_values("n")
        ax.errorbar(g.n_drawn * sec, 100 - g["mean"], yerr=g["std"], marker="o", capsize=3,
                    label=f"best-of-N by {metric}")
    if runs is not None and len(runs):
        cost = runs.score_seconds.fillna(0) + runs.train_seconds.fillna(0)
        ax.scatter(cost, 100 - runs[dataset], marker="*", s=60, color="black", zorder=3,
                   label=f"HNAS ({len(runs)} seeds)")
    if len(b):
        ax.axhline(100 - b.random_mean.mean(), color="grey", ls="--", lw=1, label="random choice")
        ax.axhline(100 - b.optimum.iloc[0], color="grey", ls=":", lw=1, label="pool optimum")
    ax.set_xscale("log")
    ax.set_xlabel("search cost (s; scoring measured under load, + training where known)")
    ax.set_ylabel(f"{dataset} test error (%)")
    n_pool = int(b.n_pool.iloc[0]) if len(b) else 0
    ax.set_title(f"error vs budget (pool of {n_pool} archs)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return save(fig, pdf_path)


__all__ = ["HNAS_PUBLISHED", "HNAS_PUBLISHED_COST_S", "NASWOT_SEARCH", "best_of_n_report", "budget_figure",
           "hnas_report"]
