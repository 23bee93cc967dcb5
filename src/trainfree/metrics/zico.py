"""ZiCo (Li et al., ICLR 2023): gradient mean over standard deviation across batch parts."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from trainfree.metrics.passes import _clear_grads, layers
from trainfree.metrics.registry import register_metric


def zico_grads(model: nn.Module, x: torch.Tensor, y: torch.Tensor, splits: int = 2) -> list[np.ndarray]:
    """Per layer the stacked weight gradients (splits, P_l) of the CE loss of each
    contiguous part of the batch (train-mode BN over that part), float64."""
    weights = [m.weight for m in layers(model)]
    n = x.shape[0]
    per: list[list[np.ndarray]] = [[] for _ in weights]
    for s in range(splits):
        lo, hi = s * n // splits, (s + 1) * n // splits
        with torch.enable_grad():
            loss = F.cross_entropy(model(x[lo:hi]), y[lo:hi])
            g = torch.autograd.grad(loss, weights, allow_unused=True)
        for k, (w, gk) in enumerate(zip(weights, g)):
            t = torch.zeros_like(w) if gk is None else gk
            per[k].append(t.detach().double().reshape(-1).cpu().numpy())
    _clear_grads(model)
    return [np.stack(p) for p in per]


@register_metric("zico", higher_is_better=True, needs_labels=True, passes=("zico_grad",))
def zico(ctx) -> float:
    """ZiCo (Li et al., ICLR 2023): Σ_l log Σ_{θ∈W_l, σ_θ>0} mean_b|g_bθ| / σ_θ.

    g_b = ∂L_b/∂W_l for each of 2 halves b of the scoring batch (CE, train-mode BN on
    the half); σ = population std over b. Layers whose sum is 0 are skipped (so a dead
    network scores 0). Protocol difference: ZiCo's paper uses two separate batches of
    64; here (as in NAS-Bench-Suite-Zero) the one scoring batch is split in two.
    """
    grads = ctx.shared("zico_grad", lambda c: zico_grads(c.model, c.x, c.y))
    total = 0.0
    for g in grads:
        sd = g.std(0)
        nz = sd != 0
        s = float(np.sum(np.abs(g).mean(0)[nz] / sd[nz]))
        if s != 0.0:
            total += math.log(s)
    return total
