"""Zen-score (Lin et al., ICCV 2021) on a Gaussian re-initialised copy."""

from __future__ import annotations

import torch
from torch import nn

from trainfree.metrics.passes import LAYERS
from trainfree.metrics.registry import register_metric

#: seed of the fixed Gaussian inputs and weights of ``zen``
ZEN_SEED = 0
#: input perturbation scale of ``zen`` (ZenNAS default)
ZEN_GAMMA = 1e-2


def zen_score(model: nn.Module, input_shape: tuple[int, ...], seed: int = ZEN_SEED,
              gamma: float = ZEN_GAMMA) -> float:
    """Zen-score of ``model`` (mutated: Gaussian re-init, BN statistics reset).

    Conv/Linear weights ~ N(0, 1), biases 0, BN affine (1, 0), running stats reset;
    x, ε ~ N(0, 1) of ``input_shape`` = (n, 3, H, W) from a generator seeded ``seed``.
    Φ = features entering the last global average pool (the logits if the model has none).
    Score = log( mean_i Σ_chw |Φ(x) − Φ(x + γε)| ) + Σ_BN log sqrt(mean running_var),
    both forwards in train mode (so running_var holds the two batches' momentum average).
    """
    dev = next(model.parameters()).device
    gen = torch.Generator(device="cpu").manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, LAYERS):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen))
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.reset_running_stats()
                if m.affine:
                    m.weight.fill_(1.0)
                    m.bias.zero_()
        x1 = torch.randn(input_shape, generator=gen).to(dev)
        x2 = torch.randn(input_shape, generator=gen).to(dev)
    pools = [m for m in model.modules() if isinstance(m, nn.AdaptiveAvgPool2d)]
    feats: list[torch.Tensor] = []
    hook = pools[-1].register_forward_pre_hook(lambda _m, i: feats.append(i[0])) if pools else None
    model.train()
    try:
        with torch.no_grad():
            o1 = model(x1)
            o2 = model(x2 * gamma + x1)
    finally:
        if hook is not None:
            hook.remove()
    f1, f2 = (feats[0], feats[1]) if pools else (o1, o2)
    diff = (f1.double() - f2.double()).abs()
    score = torch.log(diff.reshape(diff.shape[0], -1).sum(1).mean())
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.running_var is not None:
            score = score + torch.log(torch.sqrt(m.running_var.double().mean()))
    return float(score)


@register_metric("zen", higher_is_better=True, needs_data=False, passes=("copy",), uses_weights=False)
def zen(ctx) -> float:
    """Zen-score (Lin et al., ICCV 2021), NAS-Bench-Suite-Zero procedure (see ``zen_score``).

    Uses Gaussian inputs of the scoring batch's shape (n × 3×32×32; 64 without a batch),
    not the images; a fixed generator (seed ``ZEN_SEED``) makes it deterministic and the
    same for every arch.
    """
    shape = tuple(ctx.x.shape) if ctx.x is not None else (64, 3, 32, 32)
    return zen_score(ctx.copy_model(), shape)
