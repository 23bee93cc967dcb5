"""MeCo (Jiang et al., NeurIPS 2023): minimum eigenvalue of the channel correlation of feature maps.

The official correlation script (``correlation/NAS_Bench_201.py``, ``get_score``, of
HamsterMimi/MeCo) puts a forward hook on *every* module of the network
(``named_modules()``: the network itself, containers and leaves alike), forwards one
training image (its default batch size is 1) in train mode, and for each hook call takes
``output[0]`` — the first sample's feature map (C, H, W) — reshaped to C rows, computes
the C × C correlation matrix of the rows (NaN/inf entries set to 0, e.g. for constant
channels) and its smallest eigenvalue; the score is the sum over hook calls, NaN/inf
terms dropped. Here the same, on the first image of the scoring batch, in float64
(the official code works in float32 and takes the real part of ``torch.linalg.eig``;
the matrix is symmetric, so ``eigvalsh`` gives the same eigenvalues).
"""

from __future__ import annotations

import math
import warnings

import torch
from torch import nn

from trainfree.metrics.passes import hooked
from trainfree.metrics.registry import register_metric

#: images of the scoring batch MeCo forwards (the first ones; the official default is 1)
MECO_SAMPLES = 1


def min_corr_eig(fea: torch.Tensor) -> float:
    """λ_min of the row correlation matrix of ``fea`` reshaped to (rows, −1), NaN/inf
    entries set to 0 (MeCo's per-module term; float64)."""
    f = fea.detach().double().reshape(fea.shape[0], -1)
    k = f.shape[0]
    with warnings.catch_warnings():  # one column: zero degrees of freedom, NaN (set to 0 below)
        warnings.simplefilter("ignore", UserWarning)
        corr = torch.corrcoef(f).reshape(k, k)
    corr = torch.where(torch.isfinite(corr), corr, torch.zeros_like(corr))
    return float(torch.linalg.eigvalsh(corr)[0])


def meco_score(model: nn.Module, x: torch.Tensor) -> float:
    """Σ over every module call of λ_min(corrcoef(output[0])) (see the module docstring)."""
    terms: list[float] = []

    def hook(_m: nn.Module, _inp: tuple, out) -> None:
        # ``output[0]``: the first sample of a tensor output, the first element of a tuple
        if isinstance(out, torch.Tensor):
            if out.dim() == 0 or out.shape[0] == 0:
                return
        elif not (isinstance(out, (tuple, list)) and out):
            return
        fea = out[0]
        if not isinstance(fea, torch.Tensor) or fea.dim() == 0 or not fea.is_floating_point() \
                or fea.shape[0] == 0:
            return
        terms.append(min_corr_eig(fea))

    with hooked(model.modules(), hook), torch.no_grad():
        model(x)
    return float(sum(t for t in terms if math.isfinite(t)))


@register_metric("meco", higher_is_better=True, passes=())
def meco(ctx) -> float:
    """MeCo (Jiang et al., NeurIPS 2023): Σ_modules λ_min(corr of the channels of output[0]).

    One train-mode forward of the first image of the scoring batch; every module's
    output (the network and its containers included, as the official code hooks
    ``named_modules()``) contributes the smallest eigenvalue of the correlation matrix
    of its channels (NaN entries → 0). Float64.
    """
    return meco_score(ctx.model, ctx.x[:MECO_SAMPLES])
