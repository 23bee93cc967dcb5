"""DAS: combinations of the two atoms of the NASWOT score, and their ablation.

With D = distinguishing_ability, N_A = activation_units and batch size n:

- ``das_linear(alpha)`` = D + alpha * n * log N_A  (alpha = 1 is NASWOT, alpha = 0 is D)
- ``das_rank(lam)``     = rank(D) + lam * rank(N_A) over the scored population

(the combinations of the same names, ``trainfree.analysis.combine``).

The paper's exact rule is not public; each rule's parameter is chosen on a seeded
calibration half of the archs (max Kendall tau with the ground truth) and the rule is
reported on the other half, next to NASWOT on the same half.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trainfree.analysis.combine import combine
from trainfree.analysis.correlation import correlate, rank_correlation

ATOMS = ("naswot", "distinguishing_ability", "activation_units")
#: each rule's parameter (the rules are the registered combinations of the same names)
RULE_PARAM = {"das_linear": "alpha", "das_rank": "lam"}


def _atoms(D: pd.Series, units: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({"distinguishing_ability": D, "activation_units": units})


def das_linear(D: pd.Series, units: pd.Series, n: int, alpha: float) -> pd.Series:
    """D + alpha * n * log(N_A), element-wise (the ``das_linear`` combination)."""
    return combine("das_linear", _atoms(D, units), batch_size=n, alpha=alpha)


def das_rank(D: pd.Series, units: pd.Series, lam: float) -> pd.Series:
    """rank(D) + lam * rank(N_A) within the given population (average ranks for ties; the
    ``das_rank`` combination)."""
    return combine("das_rank", _atoms(D, units), lam=lam)


def split_halves(archs: list[str], seed: int) -> tuple[list[str], list[str]]:
    """Seeded split into (calibration, held-out) halves."""
    perm = np.random.default_rng(seed).permutation(len(archs))
    half = len(archs) // 2
    return [archs[i] for i in perm[:half]], [archs[i] for i in perm[half:]]


def _rule(name: str, param: float, wide: pd.DataFrame, n: int) -> pd.Series:
    """The registered combination ``name`` with its parameter ``param`` over ``wide``."""
    return combine(name, wide, batch_size=n, **{RULE_PARAM[name]: param})


def _tau(s: pd.Series, truth: pd.Series) -> float:
    return correlate(s, truth, n_boot=0)["kendall"]


def paired_delta(s: pd.Series, ref: pd.Series, truth: pd.Series, n_boot: int = 1000, seed: int = 0,
                 ci: float = 0.95) -> tuple[float, float, float]:
    """Kendall τ(s) − τ(ref) vs ``truth`` and its paired percentile-bootstrap CI.

    On the archs where ``s``, ``ref`` and ``truth`` are all finite; each resample draws
    archs with replacement and evaluates both taus on the same draw, so the interval is
    of the difference itself. Returns (delta, lo, hi); NaN when < 3 archs remain.
    """
    both = pd.concat([s.rename("s"), ref.rename("r"), truth.rename("t")], axis=1, join="inner").dropna()
    a, r, t = (both[c].to_numpy(float) for c in ("s", "r", "t"))
    if len(t) < 3:
        return float("nan"), float("nan"), float("nan")
    delta = rank_correlation("kendall", a, t) - rank_correlation("kendall", r, t)
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(n_boot):
        i = rng.integers(0, len(t), len(t))
        vals.append(rank_correlation("kendall", a[i], t[i]) - rank_correlation("kendall", r[i], t[i]))
    vals = np.array(vals)
    vals = vals[np.isfinite(vals)]
    if not len(vals):
        return float(delta), float("nan"), float("nan")
    lo, hi = np.percentile(vals, ((1 - ci) / 2 * 100, (1 + ci) / 2 * 100))
    return float(delta), float(lo), float(hi)


def ablation_table(wide: pd.DataFrame, truth: pd.Series, truth_label: str, n: int,
                   alphas: list[float], lambdas: list[float], seed: int = 0,
                   n_boot: int = 1000) -> pd.DataFrame:
    """WOT, each atom and each rule on the held-out half, with improvement over WOT.

    ``wide``: index arch_id, columns including ``ATOMS``; ``n``: scoring batch size.
    Rows: rule, param (chosen on calibration; empty for fixed scores), calib_kendall,
    n, kendall (+CI), spearman (+CI), ratio_vs_wot (kendall / WOT's kendall on the same
    half; NaN when WOT's tau is not positive, where a ratio says nothing) and
    delta_vs_wot = τ(rule) − τ(WOT) on the archs both score, with its paired bootstrap
    95 % CI (delta_lo, delta_hi; ``n_boot`` resamples): "beats WOT" means delta_lo > 0.
    """
    archs = [a for a in wide.index if a in truth.index]
    calib, held = split_halves(sorted(archs), seed)
    wc, wh = wide.loc[calib], wide.loc[held]
    rows = []

    def add(rule: str, param: float | None, s_cal: pd.Series, s_held: pd.Series) -> None:
        r = correlate(s_held, truth, n_boot=n_boot, seed=seed)
        d, lo, hi = paired_delta(s_held, wh["naswot"], truth, n_boot=n_boot, seed=seed)
        rows.append({"rule": rule, "param": param, "calib_kendall": _tau(s_cal, truth), **r,
                     "delta_vs_wot": d, "delta_lo": lo, "delta_hi": hi})

    add("naswot (WOT)", None, wc["naswot"], wh["naswot"])
    add("distinguishing_ability (D)", None, wc["distinguishing_ability"], wh["distinguishing_ability"])
    add("activation_units (N_A)", None, wc["activation_units"], wh["activation_units"])
    for name, grid in zip(RULE_PARAM, (alphas, lambdas), strict=True):
        taus = [(_tau(_rule(name, p, wc, n), truth), p) for p in grid]
        taus = [(t, p) for t, p in taus if np.isfinite(t)]
        if not taus:
            continue
        best = max(taus, key=lambda tp: (tp[0], -abs(tp[1] - 1)))[1]
        add(name, best, _rule(name, best, wc, n), _rule(name, best, wh, n))
    out = pd.DataFrame(rows)
    wot = out.loc[0, "kendall"]
    # a ratio is meaningful only against a positive WOT tau (else NaN)
    out["ratio_vs_wot"] = out["kendall"] / wot if np.isfinite(wot) and wot > 0 else np.nan
    out.insert(0, "ground_truth", truth_label)
    out["n_calibration"] = len(calib)
    return out
