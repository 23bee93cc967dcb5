"""Data-free weight metrics: SynFlow (on a |W| copy without BatchNorm) and the weight l2 norm."""

from __future__ import annotations

import torch
from torch import nn

from trainfree.metrics.passes import layers
from trainfree.metrics.registry import register_metric


def _without_bn(model: nn.Module) -> nn.Module:
    """Replace every BatchNorm module of ``model`` (in place) by Identity."""
    for name, child in list(model.named_children()):
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(model, name, nn.Identity())
        else:
            _without_bn(child)
    return model


def synflow_score(model: nn.Module, input_shape: tuple[int, ...]) -> float:
    """Σ_l Σ |W_l ⊙ ∂R/∂W_l| with R = Σ f(1) on a BN-free, |W|, float64 copy (mutates ``model``)."""
    p0 = next(model.parameters())
    net = _without_bn(model).double().train()
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    ws = [m.weight for m in layers(net)]
    with torch.enable_grad():
        r = net(torch.ones((1, *input_shape), dtype=torch.float64, device=p0.device)).sum()
        g = torch.autograd.grad(r, ws, allow_unused=True)
    return float(sum((w.detach() * gi).abs().sum() for w, gi in zip(ws, g) if gi is not None))


@register_metric("synflow", higher_is_better=True, needs_data=False, passes=("copy",))
def synflow(ctx) -> float:
    """SynFlow (Tanaka et al. 2020): Σ_l Σ |W_l ⊙ ∂R/∂W_l|, R = Σ_outputs f_{|θ|}(1).

    On a copy with every BatchNorm removed, all parameters replaced by |θ|, float64,
    input one all-ones sample of the batch's shape (3×32×32 without a batch). Raw sum,
    no log (NAS-Bench-Suite-Zero's values are on another scale; ranks agree).
    """
    shape = tuple(ctx.x.shape[1:]) if ctx.x is not None else (3, 32, 32)
    return synflow_score(ctx.copy_model(), shape)


@register_metric("l2_norm", higher_is_better=True, needs_data=False, passes=())
def l2_norm(ctx) -> float:
    """Σ_l ‖W_l‖₂ over Conv2d/Linear weights at initialisation (Frobenius norm per layer)."""
    with torch.no_grad():
        return float(sum(m.weight.double().norm() for m in layers(ctx.model)))
