"""AZ-NAS (Lee & Ham, CVPR 2024): expressivity, progressivity, trainability, complexity.

Per network (``NB201/ZeroShotProxy/compute_az_nas_score.py`` of cvlab-yonsei/AZ-NAS):
re-initialise (Conv2d/Linear weights Kaiming-normal, fan_in, ReLU gain; biases 0;
BatchNorm2d/GroupNorm affine (1, 0)), forward a Gaussian input of the batch's shape in
train mode and keep the feature maps F_0 … F_L of the stem and of every block (NB201: the
stem and its 17 cells/residual blocks). Then

- **expressivity** = Σ_l H(F_l): H = entropy of the normalised eigenvalues p = s/Σs of
  the channel covariance of F_l (rows = the b·h·w positions, centred), −Σ p log(p + 1e-8);
- **progressivity** = min_l (H(F_l) − H(F_{l−1}));
- **trainability** = mean over blocks l (from the last) of 2 − σ − 1/(σ + 1e-6),
  σ = largest singular value of M = mean over positions of g_in g_outᵀ, where g_out is a
  Rademacher (±1) tensor of F_l's shape and g_in = (∂F_l/∂F_{l−1})ᵀ g_out (pixel-unshuffled
  to F_l's resolution when the block downsamples); a block whose g_in equals g_out (an
  identity block) scores −inf;
- **complexity** = FLOPs (the NB201 API's count: Conv2d and Linear multiply-adds
  including their biases, per image, in millions).

A NaN component is −inf in the official code; here it is NaN (the engine's policy), and
:func:`az_nas_aggregate` ranks NaN lowest, as −inf ranks there. The aggregate is a rank
combination over the scored population, not a per-network value:
score = Σ_k log(rank_k / N) over the four components (ranks ascending, ties averaged).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from trainfree.metrics.passes import hooked
from trainfree.metrics.registry import register_metric

#: seed of the generator of the re-initialisation, the Gaussian input and the Rademacher vectors
AZ_SEED = 0
#: the four components, in the official aggregation's order (complexity first)
AZ_COMPONENTS = ("az_complexity", "az_expressivity", "az_progressivity", "az_trainability")


def feature_blocks(model: nn.Module) -> list[nn.Module]:
    """The modules whose outputs are AZ-NAS's feature maps F_0 … F_L.

    ``model.feature_blocks()`` if the model defines it; else ``model.stem`` followed by the
    children of ``model.cells`` (the NB201 network); else the children of an
    ``nn.Sequential`` model. Raises ``NotImplementedError`` otherwise.
    """
    if hasattr(model, "feature_blocks") and callable(model.feature_blocks):
        return list(model.feature_blocks())
    stem, cells = getattr(model, "stem", None), getattr(model, "cells", None)
    if isinstance(stem, nn.Module) and isinstance(cells, (nn.Sequential, nn.ModuleList)):
        return [stem, *cells]
    if isinstance(model, nn.Sequential):
        return list(model)
    raise NotImplementedError("no feature blocks: the model has no feature_blocks() method, "
                              "no stem + cells, and is not an nn.Sequential")


def kaiming_init_(model: nn.Module, gen: torch.Generator) -> None:
    """AZ-NAS's ``kaiming_norm_fanin`` init, in module order, drawing from ``gen``."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu", generator=gen)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) and m.affine:
                m.weight.fill_(1.0)
                m.bias.zero_()


def feature_entropy(feat: torch.Tensor) -> float:
    """Entropy of the normalised covariance spectrum of a (b, c, h, w) feature map (float64)."""
    b, c, h, w = feat.shape
    f = feat.detach().double().permute(0, 2, 3, 1).reshape(b * h * w, c)
    f = f - f.mean(0, keepdim=True)
    s = torch.linalg.eigvalsh(f.T @ f / f.shape[0])
    p = s / s.sum()
    return float((-p * torch.log(p + 1e-8)).sum())


def block_trainability(f_in: torch.Tensor, f_out: torch.Tensor, gen: torch.Generator) -> float:
    """2 − σ − 1/(σ + 1e-6) of one block, σ the spectral norm of its sampled Jacobian
    correlation (−inf for an identity block); frees the block's graph."""
    g_out = (torch.bernoulli(torch.full(f_out.shape, 0.5, dtype=f_out.dtype), generator=gen) - 0.5) * 2
    g_out = g_out.to(f_out.device)
    g_in = torch.autograd.grad(f_out, f_in, grad_outputs=g_out, retain_graph=False)[0]
    if g_out.shape == g_in.shape and torch.equal(g_in, g_out):
        return -math.inf
    if g_out.shape[2] != g_in.shape[2] or g_out.shape[3] != g_in.shape[3]:
        g_in = F.pixel_unshuffle(g_in, g_in.shape[2] // g_out.shape[2])
    bo, co, ho, wo = g_out.shape
    go = g_out.double().permute(0, 2, 3, 1).reshape(bo * ho * wo, co)
    gi = g_in.double().permute(0, 2, 3, 1).reshape(-1, g_in.shape[1])
    mat = gi.T @ go / (bo * ho * wo)
    s = float(torch.linalg.matrix_norm(mat, ord=2))
    return 2.0 - s - 1.0 / (s + 1e-6)


@dataclass(frozen=True)
class AZScores:
    expressivity: float
    progressivity: float
    trainability: float


def az_nas_scores(model: nn.Module, input_shape: Sequence[int], seed: int = AZ_SEED) -> AZScores:
    """AZ-NAS's expressivity, progressivity and trainability of ``model`` (mutated: re-initialised).

    One generator seeded ``seed`` draws, in the official order, the weights, the Gaussian
    input (``input_shape`` = (b, 3, H, W)) and, block by block from the last, the
    Rademacher vectors of the trainability term.
    """
    gen = torch.Generator(device="cpu").manual_seed(seed)
    dev = next(model.parameters()).device
    kaiming_init_(model, gen)
    x = torch.randn(tuple(input_shape), generator=gen).to(dev)
    blocks = feature_blocks(model)
    feats: list[torch.Tensor] = []
    model.train()
    with hooked(blocks, lambda _m, _i, o: feats.append(o)), torch.enable_grad():
        model(x)
    feats = [f for f in feats if isinstance(f, torch.Tensor) and f.dim() == 4]
    if len(feats) < 2:
        raise NotImplementedError("AZ-NAS needs at least two 4-D block outputs (b, c, h, w)")
    ent = np.array([feature_entropy(f) for f in feats])
    expressivity = float(np.sum(ent))
    progressivity = float(np.min(ent[1:] - ent[:-1]))
    train = [block_trainability(feats[i - 1], feats[i], gen) for i in reversed(range(1, len(feats)))]
    trainability = float(np.mean(train))
    return AZScores(expressivity, progressivity, trainability)


def _az(ctx) -> AZScores:
    shape = tuple(ctx.x.shape) if ctx.x is not None else (64, 3, 32, 32)
    return ctx.shared("az_nas", lambda c: az_nas_scores(c.copy_model(), shape))


@register_metric("az_expressivity", higher_is_better=True, needs_data=False, passes=("copy", "az_nas"),
                 uses_weights=False)
def az_expressivity(ctx) -> float:
    """AZ-NAS expressivity: Σ_l entropy of the normalised channel-covariance spectrum of F_l.

    On a Kaiming re-initialised copy (seeded), Gaussian input of the batch's shape,
    train-mode BN; F_l = the stem's and every block's output (see ``feature_blocks``).
    """
    return _az(ctx).expressivity


@register_metric("az_progressivity", higher_is_better=True, needs_data=False, passes=("copy", "az_nas"),
                 uses_weights=False)
def az_progressivity(ctx) -> float:
    """AZ-NAS progressivity: min_l (H(F_l) − H(F_{l−1})) of the per-block entropies of expressivity."""
    return _az(ctx).progressivity


@register_metric("az_trainability", higher_is_better=True, needs_data=False, passes=("copy", "az_nas"),
                 uses_weights=False)
def az_trainability(ctx) -> float:
    """AZ-NAS trainability: mean_l 2 − σ_l − 1/σ_l, σ_l the spectral norm of block l's sampled Jacobian.

    −inf (stored NaN) when a block is the identity, as in the official code.
    """
    return _az(ctx).trainability


def api_flops(model: nn.Module, input_shape: Sequence[int]) -> float:
    """FLOPs per image in millions as the NB201 API counts them: Conv2d and Linear
    multiply-adds, biases included (one no-grad eval-mode forward; the mode is restored)."""
    total = 0

    def conv(m: nn.Conv2d, _i, o: torch.Tensor) -> None:
        nonlocal total
        kh, kw = m.kernel_size
        pos = o.shape[2] * o.shape[3]
        total += pos * kh * kw * m.in_channels * m.out_channels // m.groups
        if m.bias is not None:
            total += pos * m.out_channels

    def lin(m: nn.Linear, i, o: torch.Tensor) -> None:
        nonlocal total
        rows = o.numel() // o.shape[-1] // max(o.shape[0], 1)
        total += rows * m.in_features * m.out_features + (rows * m.out_features if m.bias is not None else 0)

    hooks = [m.register_forward_hook(conv) for m in model.modules() if isinstance(m, nn.Conv2d)]
    hooks += [m.register_forward_hook(lin) for m in model.modules() if isinstance(m, nn.Linear)]
    p = next(model.parameters())
    modes = {m: m.training for m in model.modules()}
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_shape[1:], device=p.device, dtype=p.dtype))
    finally:
        for m, t in modes.items():
            m.training = t
        for h in hooks:
            h.remove()
    return total / 1e6


@register_metric("az_complexity", higher_is_better=True, needs_data=False, passes=("cost",))
def az_complexity(ctx) -> float:
    """AZ-NAS complexity: FLOPs per image in millions as the NB201 API counts them
    (Conv2d/Linear multiply-adds with biases; pooling and BN not counted)."""
    shape = tuple(ctx.x.shape) if ctx.x is not None else (1, 3, 32, 32)
    return api_flops(ctx.model, shape)


def az_nas_aggregate(scores: pd.DataFrame, components: Sequence[str] = AZ_COMPONENTS) -> pd.Series:
    """AZ-NAS's non-linear rank aggregation over a population of archs.

    ``scores``: one row per arch, one column per component (a wide score table). Returns
    Σ_k log(rank_k / N) per row (higher is better), ranks ascending with ties averaged
    (``scipy.stats.rankdata``), N = number of rows. A NaN component ranks below every
    finite value (the official code's −inf), NaNs tied among themselves.
    """
    missing = [c for c in components if c not in scores.columns]
    if missing:
        raise KeyError(f"az_nas_aggregate: the score table lacks {missing}")
    n = len(scores)
    total = pd.Series(0.0, index=scores.index)
    for c in components:
        v = scores[c].astype(float).replace(-np.inf, np.nan)
        ranks = v.rank(method="average", na_option="top")  # ascending; NaN lowest, tied
        total = total + np.log(ranks / n)
    return total
