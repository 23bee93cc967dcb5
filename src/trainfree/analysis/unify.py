"""HNAS unification analysis: how gradient metrics relate to the NTK trace norm, and how
each metric and the HNAS criterion correlate with accuracy.

HNAS argues that grad_norm, snip, grasp (and other gradient metrics) all track the NTK
trace norm M. The analysis here is the empirical check on a scored population:

- ``metric_matrix``: Spearman (or Kendall) matrix among metrics, signed;
- ``accuracy_table``: each metric's and the criterion's signed Spearman and Kendall
  correlation with accuracy, with its direction flag and NaN count.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from trainfree.analysis.combine import combine
from trainfree.analysis.correlation import finite_pairs, rank_correlation

#: metrics listed first in the matrix (the ones HNAS unifies), then the rest
UNIFIED: tuple[str, ...] = ("ntk_trace", "grad_norm", "snip", "grasp")
CRITERION = "hnas_criterion"


def order_metrics(columns: Sequence[str]) -> list[str]:
    """HNAS's unified metrics first (those present), then the others sorted."""
    head = [m for m in UNIFIED if m in columns]
    return head + sorted(c for c in columns if c not in head)


def metric_matrix(wide: pd.DataFrame, metrics: Sequence[str] | None = None,
                  method: str = "spearman") -> pd.DataFrame:
    """Signed rank-correlation matrix (metrics × metrics) over archs, pairwise NaN-dropped.

    ``wide``: one row per arch, one column per metric. ``method``: spearman or kendall.
    """
    cols = list(metrics) if metrics is not None else order_metrics(list(wide.columns))
    if method not in ("spearman", "kendall"):
        raise ValueError(f"method must be spearman or kendall, got {method!r}")
    return wide[cols].astype(float).corr(method=method, min_periods=3)


def accuracy_table(wide: pd.DataFrame, accuracy: pd.Series,
                   directions: dict[str, bool] | None = None) -> pd.DataFrame:
    """Per column of ``wide``: signed Spearman and Kendall (tau-b) with ``accuracy``.

    ``accuracy`` is aligned on the index (arch_id). ``directions`` maps metric -> higher is
    better (looked up in the registry when absent; the criterion is lower-is-better).
    Columns: metric, higher_is_better, spearman, kendall, n, n_nan.
    """
    from trainfree.errors import TrainfreeError
    from trainfree.metrics import get_metric

    rows = []
    for metric in wide.columns:
        ok, n_dropped = finite_pairs(wide[metric], accuracy)
        if directions and metric in directions:
            hib = directions[metric]
        elif metric == CRITERION:
            hib = False
        else:
            try:
                hib = get_metric(metric).higher_is_better
            except TrainfreeError:
                hib = True
        a, b = ok.c0.to_numpy(), ok.c1.to_numpy()
        rows.append({"metric": metric, "higher_is_better": hib, "spearman": rank_correlation("spearman", a, b),
                     "kendall": rank_correlation("kendall", a, b), "n": len(ok), "n_nan": n_dropped})
    return pd.DataFrame(rows)


def unification_analysis(wide: pd.DataFrame, accuracy: pd.Series, mu: float, nu: float,
                         trace_metric: str = "ntk_trace",
                         metrics: Sequence[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(Spearman matrix among metrics, accuracy table incl. the HNAS criterion).

    The criterion μ·|M² − ν²| + κ/M is computed per arch from ``wide``'s ``trace_metric``
    and ``ntk_condnum`` columns (lower is better, so a good criterion correlates
    negatively with accuracy).
    """
    cols = list(metrics) if metrics is not None else order_metrics(list(wide.columns))
    matrix = metric_matrix(wide, cols)
    with_crit = wide[cols].copy()
    if trace_metric in wide.columns and "ntk_condnum" in wide.columns:
        # the registered ``hnas`` combination is the criterion negated (higher is better)
        with_crit[CRITERION] = -combine("hnas", wide, mu=mu, nu=nu, trace_metric=trace_metric)
    return matrix, accuracy_table(with_crit, accuracy)


__all__ = ["CRITERION", "UNIFIED", "accuracy_table", "metric_matrix", "order_metrics",
           "unification_analysis"]
