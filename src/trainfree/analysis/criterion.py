"""The HNAS selection criterion (Shu et al., NeurIPS 2022), over a scored population.

    criterion(A) = μ · |M(A)² − ν²| + κ(A) / (M(A) + 1e-6)        (lower is better)

with M the NTK trace norm (``ntk_trace``, or any gradient metric standing in for it),
κ the NTK condition number (``ntk_condnum``), μ = 10^c and ν = s·t. The unification
analysis (``trainfree.analysis.unify``) correlates it with accuracy; the search
(``trainfree.search.hnas``) minimises it over a pool.

The criterion's guards are the official code's: 1e-6 added to M, and a non-finite κ (its 0/0
case) replaced by ``KAPPA_NONFINITE`` = 1e5.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

#: the official HNAS code's value for a non-finite condition number (``nan_to_num(nan=1e5)``)
KAPPA_NONFINITE = 1e5
#: added to M in κ / (M + ε) by the official HNAS code
M_EPS = 1e-6


def hnas_weights(t: float, c: float, s: float) -> tuple[float, float]:
    """(μ, ν) = (10^c, s·t) from the BO coordinates (t, c) and the scale ``s``."""
    return float(10.0 ** c), float(s * t)


def hnas_criterion(
    scores: pd.DataFrame | Mapping[str, np.ndarray] | tuple[np.ndarray, np.ndarray],
    mu: float,
    nu: float,
    trace_metric: str = "ntk_trace",
    cond_metric: str = "ntk_condnum",
) -> pd.Series | np.ndarray:
    """μ·|M² − ν²| + κ/(M + 1e-6) for every arch of a scored population (lower is better).

    ``scores``: a wide DataFrame (one row per arch, metric columns) -> Series with its
    index; a mapping of metric name -> array (n,) or a tuple (M, κ) -> array (n,).
    A non-finite κ (dead or singular network; stored as NaN) counts as 1e5 and M = 0 gives
    κ·1e6, both as in the official code; NaN in M gives NaN.
    """
    if isinstance(scores, tuple):
        m, k = (np.asarray(a, dtype=float) for a in scores)
    else:
        m = np.asarray(scores[trace_metric], dtype=float)
        k = np.asarray(scores[cond_metric], dtype=float)
    k = np.where(np.isfinite(k), k, KAPPA_NONFINITE)
    with np.errstate(divide="ignore", invalid="ignore"):
        crit = mu * np.abs(m ** 2 - nu ** 2) + k / (m + M_EPS)
    if isinstance(scores, pd.DataFrame):
        return pd.Series(crit, index=scores.index, name="hnas_criterion")
    return crit


__all__ = ["KAPPA_NONFINITE", "M_EPS", "hnas_criterion", "hnas_weights"]
