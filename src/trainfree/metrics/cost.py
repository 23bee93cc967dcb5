"""Cost metrics that need no data: parameter count and multiply-adds."""

from __future__ import annotations

import torch
from torch import nn

from trainfree.metrics.registry import register_metric


def count_macs(model: nn.Module, input_shape: tuple[int, int, int] = (3, 32, 32)) -> int:
    """Multiply-adds of one forward of one sample through every Conv2d and Linear.

    Conv: out_elements * (C_in / groups) * kh * kw; Linear: in * out. BN, pooling and
    additions are not counted.
    """
    total = 0

    def conv(m: nn.Conv2d, _i, o: torch.Tensor) -> None:
        nonlocal total
        kh, kw = m.kernel_size
        total += o[0].numel() * (m.in_channels // m.groups) * kh * kw

    def lin(m: nn.Linear, _i, o: torch.Tensor) -> None:
        nonlocal total
        total += m.in_features * m.out_features

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(lin))
    was_training = model.training
    p = next(model.parameters())
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_shape, device=p.device, dtype=p.dtype))
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    return total


@register_metric("params", higher_is_better=True, needs_data=False, passes=("cost",))
def params(ctx) -> float:
    """Number of parameters in millions (BN affine included, as NB201 counts)."""
    return sum(p.numel() for p in ctx.model.parameters()) / 1e6


@register_metric("flops", higher_is_better=True, needs_data=False, passes=("cost",))
def flops(ctx) -> float:
    """Multiply-adds of one 3x32x32 forward, in millions (Conv2d and Linear layers)."""
    shape = tuple(ctx.x.shape[1:]) if ctx.x is not None else (3, 32, 32)
    return count_macs(ctx.model, shape) / 1e6
