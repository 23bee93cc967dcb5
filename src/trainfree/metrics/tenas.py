"""TE-NAS (Chen, Gong & Wang, ICLR 2021): number of linear regions and NTK condition number.

TE-NAS scores single networks with two quantities (``lib/procedures`` of VITA-Group/TENAS;
the per-network form that NB201 comparisons use is the port in AZ-NAS's
``NB201/ZeroShotProxy/compute_te_nas_score.py``):

- **linear regions** (``Linear_Region_Collector``): forward n Gaussian inputs of the batch's
  shape (no gradients, the network as it is, train mode), take the output of every ReLU
  module whose input is 4-D, binarise it (sign of the rectified value) and concatenate
  per sample; the count is Σ_i 1 / #{j: pattern_j = pattern_i}, i.e. the number of
  distinct sample patterns (rows). It is SWAP's transpose (SWAP counts distinct columns).
- **NTK condition number** (``get_ntk_n``): one train-mode forward of a batch of 16 real
  images (TE-NAS's ``--batch_size`` default for the NTK); for each
  sample i a backward of Σ_c f_c(x_i) (all logits of that sample, through the batch's BN
  statistics) gives g_i over every parameter whose name contains ``weight`` (Conv, Linear
  *and* BN γ; no biases); Θ = G Gᵀ; κ = λ_max / λ_min, NaN → 1e5.

κ differs from HNAS's ``ntk_condnum`` (true-class logit only, Conv/Linear weights and
biases, one backward of Σ_i z_i split per sample), so it is its own metric.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from trainfree.metrics.passes import _clear_grads
from trainfree.metrics.registry import register_metric
from trainfree.metrics.swap import count_unique_rows, relu_output_codes

#: seed of the Gaussian inputs of ``tenas_linear_regions``
TENAS_SEED = 0
#: images of the scoring batch the NTK uses (the first ones; TE-NAS's default NTK batch size)
TENAS_NTK_SAMPLES = 16
#: the official code's value for a NaN condition number (0/0: a dead network)
TENAS_NAN_COND = 1e5


def linear_regions(model: nn.Module, x: torch.Tensor) -> float:
    """Number of distinct activation patterns of the samples of ``x`` (see the module docstring)."""
    codes = relu_output_codes(model, x)
    return float(count_unique_rows(codes.cpu().numpy()))


def tenas_ntk(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    """Θ = G Gᵀ (n × n, float64), G[i] = ∂Σ_c f_c(x_i)/∂θ over parameters named ``*weight*``,
    one train-mode forward of the whole batch and one backward per sample."""
    named = [(n, p) for n, p in model.named_parameters() if "weight" in n]
    params = [p for _, p in named]
    rows = []
    with torch.enable_grad():
        logits = model(x)
        for i in range(x.shape[0]):
            g = torch.autograd.grad(logits[i].sum(), params, retain_graph=True, allow_unused=True)
            rows.append(torch.cat([gi.reshape(-1) for gi in g if gi is not None]).double())
    _clear_grads(model)
    G = torch.stack(rows)
    return (G @ G.T).cpu().numpy()


def condition_number(gram: np.ndarray) -> float:
    """λ_max / λ_min of ``gram`` (eigvalsh, ascending), NaN → ``TENAS_NAN_COND`` as the official code."""
    lam = np.linalg.eigvalsh(gram)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = float(lam[-1] / lam[0])
    return TENAS_NAN_COND if math.isnan(k) else k


@register_metric("tenas_linear_regions", higher_is_better=True, needs_data=False, passes=())
def tenas_linear_regions(ctx) -> float:
    """TE-NAS's number of linear regions: distinct ReLU sign patterns over n Gaussian inputs.

    Inputs ~ N(0, 1) of the scoring batch's shape (64 × 3×32×32 without a batch) from a
    generator seeded ``TENAS_SEED``; the network as it is, train mode, no gradients; every
    ReLU module with a 4-D input. At most n (the number of samples).
    """
    shape = tuple(ctx.x.shape) if ctx.x is not None else (64, 3, 32, 32)
    gen = torch.Generator(device="cpu").manual_seed(TENAS_SEED)
    x = torch.randn(shape, generator=gen).to(ctx.device)
    return linear_regions(ctx.model, x)


@register_metric("tenas_ntk_condnum", higher_is_better=False, passes=())
def tenas_ntk_condnum(ctx) -> float:
    """TE-NAS's NTK condition number κ = λ_max/λ_min of Θ = G Gᵀ (lower is better).

    G[i] = ∂(Σ_c logits[i, c])/∂θ for every parameter named ``*weight*`` (Conv, Linear, BN
    γ), from one train-mode forward of the first 16 images of the scoring batch (TE-NAS's
    NTK batch size) and one backward per sample (BN couples the samples); float64
    eigenvalues; NaN → 1e5 as in the official code.
    """
    return condition_number(tenas_ntk(ctx.model, ctx.x[:TENAS_NTK_SAMPLES]))
