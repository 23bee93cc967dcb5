"""Signed rank correlations between scores and ground truth, with bootstrap 95% CIs.

Correlations are never made absolute: a metric whose lower values are better shows a
negative correlation, and every table carries its ``higher_is_better`` flag. NaN
(or infinite) values are dropped pair-wise by :func:`finite_pairs` — the one rule every
correlation, table and figure of the package uses — and counted (``n_nan``);
``kendall_nan_last`` is Kendall's tau with those archs kept and ranked worst instead (NASWOT's
code scores a singular kernel log|K| = −inf, so its published tau ranks such archs last rather
than dropping them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from trainfree.contracts import finite_pairs


def rank_correlation(kind: str, a: np.ndarray, b: np.ndarray) -> float:
    """Kendall tau-b (``kind="kendall"``) or Spearman rho; NaN for < 3 pairs or a constant side."""
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    if kind == "kendall":
        return float(stats.kendalltau(a, b).statistic)  # tau-b
    return float(stats.spearmanr(a, b).statistic)


def nan_last(score: np.ndarray, higher_is_better: bool = True) -> np.ndarray:
    """``score`` with NaN replaced by a value worse than every finite one (ranked last)."""
    s = np.asarray(score, dtype=float).copy()
    bad = ~np.isfinite(s)
    if bad.any():
        fin = s[~bad]
        lo, hi = (fin.min(), fin.max()) if len(fin) else (0.0, 0.0)
        s[bad] = lo - 1.0 if higher_is_better else hi + 1.0
    return s


def correlate(score: pd.Series, truth: pd.Series, n_boot: int = 1000, seed: int = 0,
              ci: float = 0.95, higher_is_better: bool = True) -> dict[str, float]:
    """Kendall tau-b and Spearman rho of ``score`` vs ``truth`` (aligned on their index).

    Returns n, n_nan, kendall, kendall_lo, kendall_hi, spearman, spearman_lo, spearman_hi
    (NaN scores dropped) and kendall_nan_last (NaN scores kept, ranked worst by
    ``higher_is_better``); CIs are percentile bootstrap over archs (``n_boot`` resamples,
    seeded).
    """
    both = pd.concat([score.astype(float).rename("s"), truth.astype(float).rename("t")], axis=1, join="inner")
    kept = both[np.isfinite(both.t.to_numpy(float))]
    tau_last = rank_correlation("kendall", nan_last(kept.s.to_numpy(float), higher_is_better),
                                kept.t.to_numpy(float))
    pairs, n_nan = finite_pairs(score, truth)
    a, b = pairs.c0.to_numpy(float), pairs.c1.to_numpy(float)
    out: dict[str, float] = {"n": len(a), "n_nan": n_nan}
    rng = np.random.default_rng(seed)
    boots = [rng.integers(0, len(a), len(a)) for _ in range(n_boot)] if len(a) >= 3 else []
    q = ((1 - ci) / 2 * 100, (1 + ci) / 2 * 100)
    for kind in ("kendall", "spearman"):
        out[kind] = rank_correlation(kind, a, b)
        vals = np.array([rank_correlation(kind, a[i], b[i]) for i in boots]) if boots else np.array([np.nan])
        vals = vals[np.isfinite(vals)]
        lo, hi = np.percentile(vals, q) if len(vals) else (np.nan, np.nan)
        out[f"{kind}_lo"], out[f"{kind}_hi"] = float(lo), float(hi)
    out["kendall_nan_last"] = tau_last
    return out


def correlation_table(wide: pd.DataFrame, truth: pd.Series, truth_label: str,
                      directions: dict[str, bool], n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """One row per metric column of ``wide`` (index arch_id) against ``truth``."""
    rows = []
    for metric in wide.columns:
        hib = directions.get(metric, True)
        r = correlate(wide[metric], truth, n_boot=n_boot, seed=seed, higher_is_better=hib)
        rows.append({"metric": metric, "higher_is_better": hib,
                     "ground_truth": truth_label, **r})
    return pd.DataFrame(rows)
