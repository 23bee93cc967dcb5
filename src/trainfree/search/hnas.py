"""The HNAS selection criterion (Shu et al., NeurIPS 2022), over a scored population.

    criterion(A) = μ · |M(A)² − ν²| + κ(A) / M(A)        (lower is better)

with M the NTK trace norm (``ntk_trace``, or any gradient metric standing in for it),
κ the NTK condition number (``ntk_condnum``), μ = 10^c and ν = s·t. The Bayesian
optimisation over (t, c) that uses it lives elsewhere; this module is the criterion only.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd


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
    """μ·|M² − ν²| + κ/M for every arch of a scored population (lower is better).

    ``scores``: a wide DataFrame (one row per arch, metric columns) -> Series with its
    index; a mapping of metric name -> array (n,) or a tuple (M, κ) -> array (n,).
    NaN in M or κ (dead or singular networks) gives NaN; M = 0 gives inf.
    """
    if isinstance(scores, tuple):
        m, k = (np.asarray(a, dtype=float) for a in scores)
    else:
        m = np.asarray(scores[trace_metric], dtype=float)
        k = np.asarray(scores[cond_metric], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        crit = mu * np.abs(m ** 2 - nu ** 2) + k / m
    if isinstance(scores, pd.DataFrame):
        return pd.Series(crit, index=scores.index, name="hnas_criterion")
    return crit


__all__ = ["hnas_criterion", "hnas_weights"]
