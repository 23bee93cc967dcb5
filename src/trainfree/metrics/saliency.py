"""Saliency metrics of the shared cross-entropy pass: grad_norm, snip, plain, fisher, grasp.

Protocol and shared passes: see :mod:`trainfree.metrics.passes`.
"""

from __future__ import annotations

import torch
from torch import nn

from trainfree.metrics.passes import _ce, _clear_grads, _forward, ce_grad_pass
from trainfree.metrics.registry import register_metric


@register_metric("grad_norm", higher_is_better=True, needs_labels=True, passes=("forward", "ce_grad"))
def grad_norm(ctx) -> float:
    """Σ_l ‖∂L/∂W_l‖₂: sum of per-layer Frobenius norms (not one global norm).

    L = cross-entropy (batch mean), W_l every Conv2d/Linear weight.
    """
    return float(sum(g.double().norm() for g in _ce(ctx).grads))


@register_metric("snip", higher_is_better=True, needs_labels=True, passes=("forward", "ce_grad"))
def snip(ctx) -> float:
    """Σ_l Σ |W_l ⊙ ∂L/∂W_l| (SNIP connection sensitivity, Lee et al. 2019)."""
    ce = _ce(ctx)
    return float(sum((w.detach().double() * g.double()).abs().sum() for w, g in zip(ce.weights, ce.grads)))


@register_metric("plain", higher_is_better=True, needs_labels=True, passes=("forward", "ce_grad"))
def plain(ctx) -> float:
    """Σ_l Σ W_l ⊙ ∂L/∂W_l, signed (the "plain" proxy of Abdelfattah et al. 2021).

    Direction follows the proxy convention (higher = better); on NB201 it ranks
    archs inversely to accuracy, which the signed correlation shows.
    """
    ce = _ce(ctx)
    return float(sum((w.detach().double() * g.double()).sum() for w, g in zip(ce.weights, ce.grads)))


def _channel_fisher(ctx) -> list[tuple[nn.Module, float]]:
    """Per Conv/Linear call: (layer, Σ_k F_k) with F_k = ½ · mean_i (Σ_hw a_ikhw · ∂L/∂a_ikhw)².

    a = output of the call (n, K, H, W) or (n, K); channel k; i the sample; the
    activations and their gradients come from the shared cross-entropy pass.
    """
    ce = _ce(ctx)
    out = []
    for (m, _o), a, g in zip(_forward(ctx).calls, ce.acts, ce.act_grads):
        prod = a.double().mul_(g)  # = a.double() * g.double(): g is widened exactly
        per = prod.sum(dim=tuple(range(2, prod.dim()))) if prod.dim() > 2 else prod
        out.append((m, float((0.5 * per.pow(2).mean(0)).sum())))
    return out


def _fan_in(m: nn.Module) -> int:
    """Weight elements per output channel: C_in/groups·kh·kw (Conv2d) or in_features (Linear)."""
    return int(m.weight[0].numel())


@register_metric("fisher", higher_is_better=True, needs_labels=True, passes=("forward", "ce_grad"))
def fisher(ctx) -> float:
    """Fisher (Theis et al. 2018) as zero-cost-nas and NAS-Bench-Suite-Zero compute it.

    Σ_l fan_in_l · Σ_k F_lk, F_lk = ½ · mean_i (Σ_hw a·∂L/∂a)² per output channel k of
    each Conv2d/Linear call l (see ``fisher_channel``). The reference code gives each
    channel's value to every one of the fan_in_l = C_in/groups·kh·kw (Linear: in_features)
    weights of that channel and sums them, so layers count in proportion to their fan-in;
    every published fisher number is on this definition.
    """
    return float(sum(_fan_in(m) * f for m, f in _channel_fisher(ctx)))


@register_metric("fisher_channel", higher_is_better=True, needs_labels=True, passes=("forward", "ce_grad"))
def fisher_channel(ctx) -> float:
    """Σ_l Σ_k F_lk: the per-channel Fisher sum without the fan-in weighting of ``fisher``.

    A variant (not what the published fisher numbers compute): each channel counted once.
    """
    return float(sum(f for _m, f in _channel_fisher(ctx)))


@register_metric("grasp", higher_is_better=True, needs_labels=True, passes=("forward", "ce_grad"))
def grasp(ctx) -> float:
    """Σ_l Σ (−W_l ⊙ (H g)_l), g = ∂L/∂W, H g = ∂(gᵀ·sg(g))/∂W by double backward (GraSP).

    Both gradients come from the one shared forward (train-mode BN on the same batch
    gives the same graph as the reference code's two forwards).
    """
    ce = _ce(ctx)
    if ce.graph_grads is None:  # the shared pass ran without grasp requested: redo it with graph
        ce = ce_grad_pass(ctx.model, _forward(ctx), ctx.y, keep_graph=True)
    with torch.enable_grad():
        z = sum((g.detach() * g).sum() for g in ce.graph_grads if g.requires_grad)
        if isinstance(z, torch.Tensor) and z.requires_grad:
            hg = torch.autograd.grad(z, ce.weights, allow_unused=True, retain_graph=True)
        else:  # no second-order path at all (dead network)
            hg = (None,) * len(ce.weights)
    ce.graph_grads = None  # free the double-backward graph
    _clear_grads(ctx.model)
    total = 0.0
    for w, h in zip(ce.weights, hg):
        if h is not None:
            total += float((-w.detach().double() * h.double()).sum())
    return total
