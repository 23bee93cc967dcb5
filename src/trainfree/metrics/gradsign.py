"""GradSign (Zhang & Jia, ICLR 2022): agreement of the signs of per-sample gradients.

The official measure (``grad_conflict`` in ``zero-cost-nas-code/foresight/pruners/measures``
of cmu-catalyst/GradSign, the one behind its Spearman figures) forwards each sample of the
batch *alone* in train mode (BN statistics of that one sample), back-propagates its
cross-entropy, and stacks the weight gradients of every Conv2d/Linear (biases and BN
parameters not included) into g_i (n × P). The score is Σ_θ |Σ_i sign(g_iθ)| (``nansum``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from trainfree.metrics.passes import _clear_grads, layers
from trainfree.metrics.registry import register_metric


def gradsign_score(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Σ_θ |Σ_i sign(∂L(x_i, y_i)/∂θ)| over Conv2d/Linear weights, each sample forwarded alone."""
    weights = [m.weight for m in layers(model)]
    if not weights:
        return float("nan")
    total = [torch.zeros(w.shape, dtype=torch.float64, device=w.device) for w in weights]
    for i in range(x.shape[0]):
        with torch.enable_grad():
            loss = F.cross_entropy(model(x[i:i + 1]), y[i:i + 1])
            g = torch.autograd.grad(loss, weights, allow_unused=True)
        for t, gi in zip(total, g):
            if gi is not None:
                t += torch.sign(gi.detach().double())  # NaN stays NaN
    _clear_grads(model)
    return float(sum(float(torch.nansum(t.abs())) for t in total))  # NaN terms dropped, as nansum


@register_metric("gradsign", higher_is_better=True, needs_labels=True, passes=())
def gradsign(ctx) -> float:
    """GradSign (Zhang & Jia, ICLR 2022): Σ_θ |Σ_i sign(g_iθ)|, g_i = ∂CE(x_i, y_i)/∂θ.

    θ = every Conv2d/Linear weight; each sample i of the scoring batch is forwarded alone
    (train-mode BN on that sample), as the official code does: n forwards and backwards.
    """
    return gradsign_score(ctx.model, ctx.x, ctx.y)
