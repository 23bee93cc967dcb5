"""Input-Jacobian metrics: jacob_cov (NASWOT v1) and epe_nas, sharing one input Jacobian."""

from __future__ import annotations

import math

import numpy as np
import torch

from trainfree.metrics.passes import ForwardPass, _clear_grads, _forward
from trainfree.metrics.registry import register_metric

#: epsilon of jacob_cov and epe_nas (as in the reference codes)
EPS_CORR = 1e-5


def input_jacobian(fwd: ForwardPass) -> torch.Tensor:
    """J = d Σ(logits) / dx of the shared forward, flattened per sample: (n, 3·H·W)."""
    with torch.enable_grad():
        (j,) = torch.autograd.grad(fwd.logits.sum(), fwd.x, retain_graph=True)
    return j.detach().reshape(j.shape[0], -1)


def _jac(ctx) -> np.ndarray:
    def compute(c) -> np.ndarray:
        j = input_jacobian(_forward(c)).double().cpu().numpy()
        _clear_grads(c.model)
        return j
    return ctx.shared("input_jacobian", compute)


def _corrcoef(j: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.corrcoef(j)


@register_metric("jacob_cov", higher_is_better=True, passes=("forward", "input_jacobian"))
def jacob_cov(ctx) -> float:
    """−Σ_k [log(λ_k + ε) + 1/(λ_k + ε)], λ = eigvalsh(corrcoef(J)), ε = 1e-5.

    J (n, 3·H·W) = input Jacobian of Σ logits (train-mode BN, batch-coupled), rows
    correlated across samples (Mellor et al., NASWOT v1). NaN if a row is constant.
    """
    c = _corrcoef(_jac(ctx))
    if not np.all(np.isfinite(c)):
        return float("nan")
    lam = np.linalg.eigvalsh(c)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(-np.sum(np.log(lam + EPS_CORR) + 1.0 / (lam + EPS_CORR)))


def epe_nas_score(j: np.ndarray, y: np.ndarray, n_classes: int) -> float:
    """EPE-NAS score of input Jacobian rows ``j`` (n, D) with labels ``y`` (n,).

    Per class c present in ``y``: s_c = Σ_ij log(|corrcoef(J_c)|_ij + ε), ε = 1e-5.
    ``n_classes`` ≤ 100: score = Σ_c |s_c|, a class with one sample counting
    s_c = log(1 + ε). ``n_classes`` > 100: s_c is divided by the class size, classes with
    a single sample are skipped (the reference code's ``len()`` of a 0-d correlation
    fails and it ``continue``s), and score = Σ_c Σ_c' |s_c − s_c'| / #classes kept.
    """
    per: dict[int, float] = {}
    for c in np.unique(y):
        rows = j[y == c]
        if len(rows) == 1:
            if n_classes > 100:
                continue
            per[int(c)] = math.log(1.0 + EPS_CORR)
            continue
        s = float(np.sum(np.log(np.abs(_corrcoef(rows)) + EPS_CORR)))
        per[int(c)] = s / len(rows) if n_classes > 100 else s
    vals = np.array(list(per.values()))
    if n_classes <= 100:
        return float(np.abs(vals).sum())
    if not len(vals):
        return 0.0
    return float(np.abs(vals[:, None] - vals[None, :]).sum() / len(vals))


@register_metric("epe_nas", higher_is_better=True, needs_labels=True, passes=("forward", "input_jacobian"))
def epe_nas(ctx) -> float:
    """EPE-NAS (Lopes et al. 2021): per-class Jacobian correlation score (``epe_nas_score``).

    J = the input Jacobian of Σ logits as in ``jacob_cov``; the number of classes is the
    width of the network's output.
    """
    return epe_nas_score(_jac(ctx), ctx.y.cpu().numpy(), int(_forward(ctx).logits.shape[1]))
