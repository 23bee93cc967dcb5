"""The empirical NTK of NASI/HNAS: trace norm M and condition number κ."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from trainfree.metrics.passes import _clear_grads, _forward, layers
from trainfree.metrics.registry import register_metric


@dataclass(frozen=True)
class NTK:
    """Θ = G Gᵀ (n × n, float64) of per-sample true-class-logit gradients G (n × P)."""

    gram: np.ndarray

    @property
    def trace_norm(self) -> float:
        """M = sqrt(tr Θ / n) = sqrt(Σ_i ‖g_i‖² / n)."""
        return math.sqrt(float(np.trace(self.gram)) / self.gram.shape[0])

    @property
    def condition_number(self) -> float:
        """κ = λ_max / λ_min of Θ (eigvalsh); inf when λ_min ≤ 0 (singular)."""
        lam = np.linalg.eigvalsh(self.gram)
        return float(lam[-1] / lam[0]) if lam[0] > 0 else float("inf")


def _per_sample_layer_grads(m: nn.Module, a: torch.Tensor, d: torch.Tensor) -> list[torch.Tensor]:
    """Per-sample gradients (n, ...) of one layer call's weight (and bias) from its
    input ``a`` and the gradient ``d`` of its output, samples being independent."""
    n = a.shape[0]
    if isinstance(m, nn.Linear):
        a2, d2 = a.reshape(n, -1, a.shape[-1]), d.reshape(n, -1, d.shape[-1])
        out = [torch.einsum("nto,nti->noi", d2, a2)]
        if m.bias is not None:
            out.append(d2.sum(1))
        return out
    # Conv2d: unfold the input, one batched matmul per group
    if m.padding_mode != "zeros" or isinstance(m.padding, str):
        raise NotImplementedError(f"ntk: conv padding {m.padding!r}/{m.padding_mode} not supported")
    u = F.unfold(a, m.kernel_size, dilation=m.dilation, padding=m.padding, stride=m.stride)
    g = m.groups
    u = u.reshape(n, g, -1, u.shape[-1])                    # (n, g, Cin/g·k², L)
    dd = d.reshape(n, g, -1, u.shape[-1])                   # (n, g, Cout/g, L)
    w = torch.einsum("ngol,ngkl->ngok", dd, u).reshape(n, *m.weight.shape)
    out = [w]
    if m.bias is not None:
        out.append(d.sum((2, 3)))
    return out


def ntk_gram(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
             bn_stats: dict[nn.Module, tuple[torch.Tensor, torch.Tensor]]) -> NTK:
    """Empirical NTK of the true-class logits z_i = f(x_i)[y_i] w.r.t. Conv/Linear params.

    BatchNorm normalises with the batch statistics of the train-mode forward
    (``bn_stats``) held constant: the forward values equal train-mode BN exactly, but no
    gradient flows through the batch mean/variance, so sample i's gradient depends on
    sample i only and all n per-sample gradients come from one batched forward/backward:
    per layer, G_l[i] = δ_i ⊗ unfold(a_i) (one batched matmul), Θ = Σ_l G_l G_lᵀ in
    float64. (The batch-coupled Jacobian, with gradient also through the batch
    statistics, needs n backward passes: about 36 s per NB201 net at n = 64 on 2 CPU
    cores.) Parameters = weights and biases of every Conv2d/Linear.
    """
    bufs: dict[str, torch.Tensor] = {}
    for name, mod in model.named_modules():
        if mod in bn_stats:
            if mod.running_mean is None:
                raise NotImplementedError("ntk: BatchNorm without running statistics")
            mean, var = bn_stats[mod]
            bufs[f"{name}.running_mean"] = mean
            bufs[f"{name}.running_var"] = var
    records: list[tuple[nn.Module, torch.Tensor, torch.Tensor]] = []

    def hook(m: nn.Module, i: tuple, o: torch.Tensor) -> None:
        records.append((m, i[0].detach(), o))

    n = x.shape[0]
    hooks = [m.register_forward_hook(hook) for m in layers(model)]
    was_training = model.training
    try:
        model.eval()
        with torch.enable_grad():
            logits = functional_call(model, bufs, (x,), strict=False)
            z = logits.gather(1, y.view(-1, 1)).sum()
            outs = [o for _, _, o in records]
            deltas = torch.autograd.grad(z, outs, allow_unused=True)
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    per_module: dict[nn.Module, list[torch.Tensor]] = {}
    for (m, a, o), d in zip(records, deltas):
        if d is None:
            d = torch.zeros_like(o)
        gs = _per_sample_layer_grads(m, a, d.detach())
        if m in per_module:  # a layer called more than once: gradients add up
            per_module[m] = [s + t for s, t in zip(per_module[m], gs)]
        else:
            per_module[m] = gs
    gram = torch.zeros(n, n, dtype=torch.float64, device=x.device)
    for gs in per_module.values():
        for g in gs:
            g2 = g.reshape(n, -1).double()
            gram += g2 @ g2.T
    _clear_grads(model)
    return NTK(gram.cpu().numpy())


def _ntk(ctx) -> NTK:
    return ctx.shared("ntk", lambda c: ntk_gram(c.model, c.x, c.y, _forward(c).bn_stats))


@register_metric("ntk_trace", higher_is_better=True, needs_labels=True, passes=("forward", "ntk"))
def ntk_trace(ctx) -> float:
    """M = sqrt(tr Θ / n) = sqrt(Σ_i ‖∂z_i/∂θ‖² / n), the NTK trace norm of NASI/HNAS.

    z_i = true-class logit of sample i, θ = Conv2d/Linear weights and biases; BN uses the
    batch statistics as constants (see ``ntk_gram``).
    """
    return _ntk(ctx).trace_norm


@register_metric("ntk_condnum", higher_is_better=False, needs_labels=True, passes=("forward", "ntk"))
def ntk_condnum(ctx) -> float:
    """κ = λ_max(Θ) / λ_min(Θ) by eigvalsh of the float64 NTK Θ = G Gᵀ (lower is better)."""
    return _ntk(ctx).condition_number
