"""SWAP (Peng et al., ICLR 2024): sample-wise activation patterns, and its size-regularised form.

For a batch of n inputs take the *output* of every ReLU module whose input is a 4-D
feature map, binarise it (``> 0``, i.e. the sign of the rectified value) and concatenate
per sample: A (n × N). SWAP counts the distinct *columns* of A: neurons are grouped by the
pattern {0,1}^n they show over the n samples, and the score is the number of groups.

The official code (``src/metrics/swap.py`` and ``correlation.py`` of pym1024/SWAP)
re-initialises the network before every one of 32 repeats (Conv2d/Linear weights
N(0, 1), biases 0, BatchNorm2d/GroupNorm affine (1, 0)), forwards 16 training images in
train mode without gradients and averages the 32 counts. Here the same, on a copy of the
network, with the Gaussian draws taken from a generator seeded ``SWAP_SEED`` (the
official code draws from the global generator, so its value changes from run to run).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from trainfree.metrics.passes import hooked
from trainfree.metrics.registry import register_metric

#: number of images of the scoring batch SWAP uses (the first ones; the official default)
SWAP_SAMPLES = 16
#: number of Gaussian re-initialisations averaged (the official default)
SWAP_REPEATS = 32
#: seed of the generator of the re-initialisations
SWAP_SEED = 0
#: centre μ of the size regulariser, in thousands of parameters [choice]
SWAP_MU = 1000.0
#: width σ of the size regulariser, in (thousands of parameters)² [choice]
SWAP_SIGMA = 1.0e6


def gaussian_init_(model: nn.Module, gen: torch.Generator) -> None:
    """SWAP's re-initialisation, in ``modules()`` order: Conv2d/Linear weight ~ N(0, 1),
    bias 0; BatchNorm2d/GroupNorm weight 1, bias 0 (other modules untouched)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen, dtype=m.weight.dtype))
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) and m.weight is not None:
                m.weight.fill_(1.0)
                m.bias.zero_()


def relu_output_codes(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """(n, N) bool: ``output > 0`` of every call of an ``nn.ReLU`` module whose input is
    4-D, flattened per sample and concatenated in call order (no-grad forward, the
    model's current mode). N = 0 when no such call happens."""
    n = x.shape[0]
    feats: list[torch.Tensor] = []

    def hook(_m: nn.Module, inp: tuple, out: torch.Tensor) -> None:
        if isinstance(inp, tuple) and inp and inp[0].dim() == 4:
            feats.append((out.detach() > 0).reshape(n, -1))

    with hooked((m for m in model.modules() if isinstance(m, nn.ReLU)), hook), torch.no_grad():
        model(x)
    if not feats:
        return torch.zeros(n, 0, dtype=torch.bool, device=x.device)
    return torch.cat(feats, 1)


def _count_unique_packed(packed: np.ndarray) -> int:
    """Number of distinct rows of a (rows, bytes) uint8 array."""
    if packed.shape[1] <= 2:  # ≤ 16 bits: count the occupied bins of the 16-bit codes
        ints = packed[:, 0].astype(np.int64) << 8
        if packed.shape[1] == 2:
            ints |= packed[:, 1]
        return int(np.count_nonzero(np.bincount(ints, minlength=1)))
    rows = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).ravel()
    return int(np.unique(rows).shape[0])


def count_unique_rows(codes: np.ndarray) -> int:
    """Number of distinct rows of a 2-D bool array (exact, by bit-packing each row)."""
    if codes.shape[0] == 0:
        return 0
    if codes.shape[1] == 0:
        return 1
    return _count_unique_packed(np.packbits(codes, axis=1))


def swap_count(codes: torch.Tensor) -> int:
    """SWAP of one code matrix A (n × N): the number of distinct columns of A (exact: each
    column's n bits are packed into bytes and the distinct byte strings counted)."""
    if codes.shape[1] == 0:
        return 0
    return _count_unique_packed(np.packbits(codes.cpu().numpy(), axis=0).T)


def swap_score(model: nn.Module, x: torch.Tensor, repeats: int | None = None, seed: int = SWAP_SEED) -> float:
    """Mean SWAP over ``repeats`` (default ``SWAP_REPEATS``) Gaussian re-initialisations of
    ``model`` (mutated) on ``x``."""
    repeats = SWAP_REPEATS if repeats is None else repeats
    gen = torch.Generator(device="cpu").manual_seed(seed)
    model.train()
    counts = []
    for _ in range(repeats):
        gaussian_init_(model, gen)
        counts.append(swap_count(relu_output_codes(model, x)))
    return float(np.mean(counts))


def size_regulariser(n_params: float, mu: float = SWAP_MU, sigma: float = SWAP_SIGMA) -> float:
    """exp(−(P − μ)² / σ) with P the parameter count in thousands (SWAP's ``cal_regular_factor``)."""
    return math.exp(-((n_params / 1e3 - mu) ** 2) / sigma)


def _swap(ctx) -> float:
    return ctx.shared("swap", lambda c: swap_score(c.copy_model(), c.x[:SWAP_SAMPLES]))


@register_metric("swap", higher_is_better=True, passes=("copy", "swap"), uses_weights=False)
def swap(ctx) -> float:
    """SWAP (Peng et al., ICLR 2024): distinct neuron activation patterns over the samples.

    Mean over 32 Gaussian re-initialisations (seeded) of the number of distinct columns
    of A = [ReLU output > 0] (16 samples × every unit of every ReLU on a 4-D map), on
    the first 16 images of the scoring batch, train-mode BN (see the module docstring).
    """
    return _swap(ctx)


@register_metric("swap_reg", higher_is_better=True, passes=("copy", "swap"), uses_weights=False)
def swap_reg(ctx) -> float:
    """Regularised SWAP: swap · exp(−(P − μ)² / σ), P = parameters in thousands.

    μ = ``SWAP_MU``, σ = ``SWAP_SIGMA`` (the official code takes both as arguments and
    publishes no values; ours are a choice). P counts every parameter, as the official
    ``count_parameters`` does (BN affine included).
    """
    n_params = sum(p.numel() for p in ctx.model.parameters())
    return _swap(ctx) * size_regulariser(n_params)
