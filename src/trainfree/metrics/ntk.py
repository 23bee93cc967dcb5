"""The empirical NTK of NASI/HNAS: trace norm M and condition number κ.

``ntk_trace`` / ``ntk_condnum`` follow the official HNAS code (Shu et al., NeurIPS 2022,
``compute_metrics``): one train-mode forward of the batch, ONE backward of Σ_i z_i
(z_i = true-class logit of sample i), and per Conv2d/Linear layer the "per-sample
gradient" G_l[i] = δ_i ⊗ unfold(a_i) built from sample i's layer input a_i and the
gradient δ_i of Σ_j z_j at sample i's layer output (the autograd-hacks construction).
In train-mode BatchNorm δ_i carries the coupling of the samples through the batch
mean/variance, so G[i] is not ∂z_i/∂θ (that would need n backwards) but it sums to
∂(Σ z)/∂θ. Θ = G Gᵀ over every Conv2d/Linear weight and bias (BN affine parameters are
not included, as in the reference).

``ntk_trace_bnfixed`` / ``ntk_condnum_bnfixed`` are a variant: BN normalises with the
batch statistics held constant, so no gradient flows through them and G[i] = ∂z_i/∂θ
of that frozen-statistics network. It is not what HNAS computes (M differs by a few to
~15 %, which moves HNAS's criterion) and costs a forward and a backward of its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from trainfree.metrics.passes import ForwardPass, _clear_grads, _forward, layers
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
        """κ = λ_max / λ_min of Θ (eigvalsh, float64).

        An all-zero Θ (dead network) gives NaN (0/0, as in the reference); λ_min ≤ 0
        otherwise (a rank-deficient Θ) gives inf. The engine stores both as NaN, and
        ``hnas_criterion`` gives a non-finite κ the reference's value 1e5.
        """
        if not np.isfinite(self.gram).all():  # a network whose output is NaN (e.g. NB101, unreachable output)
            return float("nan")
        lam = np.linalg.eigvalsh(self.gram)
        if lam[-1] <= 0:
            return float("nan")
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


def ntk_gram_bnfixed(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                     bn_stats: dict[nn.Module, tuple[torch.Tensor, torch.Tensor]]) -> NTK:
    """Variant NTK (``*_bnfixed``): true-class logits z_i = f(x_i)[y_i] w.r.t. Conv/Linear params.

    BatchNorm normalises with the batch statistics of the train-mode forward
    (``bn_stats``) held constant: the forward values equal train-mode BN exactly, but no
    gradient flows through the batch mean/variance, so sample i's gradient depends on
    sample i only and all n per-sample gradients come from one batched forward/backward:
    per layer, G_l[i] = δ_i ⊗ unfold(a_i) (one batched matmul), Θ = Σ_l G_l G_lᵀ in
    float64. This is not the HNAS definition (see the module docstring and ``ntk_gram``).
    Parameters = weights and biases of every Conv2d/Linear.
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
    recs = [(m, a, torch.zeros_like(o) if d is None else d.detach())
            for (m, a, o), d in zip(records, deltas)]
    _clear_grads(model)
    return per_sample_gram(recs, n, x.device)


def per_sample_gram(records: list[tuple[nn.Module, torch.Tensor, torch.Tensor]], n: int,
                    device: torch.device) -> NTK:
    """Θ = Σ_l G_l G_lᵀ (float64) from (layer, input a, output gradient δ) per layer call.

    G_l[i] = δ_i ⊗ unfold(a_i) (weights; Σ_positions δ_i for biases); a layer called more
    than once has its calls' per-sample gradients added before the product.
    """
    per_module: dict[nn.Module, list[torch.Tensor]] = {}
    for m, a, d in records:
        gs = _per_sample_layer_grads(m, a, d)
        if m in per_module:
            per_module[m] = [s + t for s, t in zip(per_module[m], gs)]
        else:
            per_module[m] = gs
    gram = torch.zeros(n, n, dtype=torch.float64, device=device)
    for gs in per_module.values():
        for g in gs:
            g2 = g.reshape(n, -1).double()
            gram += g2 @ g2.T
    return NTK(gram.cpu().numpy())


def ntk_gram(model: nn.Module, fwd: ForwardPass, y: torch.Tensor) -> NTK:
    """HNAS's empirical NTK from the shared train-mode forward ``fwd`` and labels ``y`` (n,).

    One backward of Σ_i z_i, z_i = logits[i, y_i], to every Conv2d/Linear call's output
    gives δ (train-mode BN: samples coupled); G_l[i] = δ_i ⊗ unfold(a_i) with a_i the
    call's input; Θ = G Gᵀ in float64 (see the module docstring).
    """
    n = fwd.logits.shape[0]
    outs = [o for _, o in fwd.calls]
    with torch.enable_grad():
        z = fwd.logits.gather(1, y.view(-1, 1)).sum()
        deltas = torch.autograd.grad(z, outs, allow_unused=True, retain_graph=True)
    records = [(m, a, torch.zeros_like(o) if d is None else d.detach())
               for (m, o), a, d in zip(fwd.calls, fwd.inputs, deltas)]
    _clear_grads(model)
    return per_sample_gram(records, n, fwd.logits.device)


def _ntk(ctx) -> NTK:
    return ctx.shared("ntk", lambda c: ntk_gram(c.model, _forward(c), c.y))


def _ntk_bnfixed(ctx) -> NTK:
    return ctx.shared("ntk_bnfixed", lambda c: ntk_gram_bnfixed(c.model, c.x, c.y, _forward(c).bn_stats))


@register_metric("ntk_trace", higher_is_better=True, needs_labels=True, passes=("forward", "ntk"))
def ntk_trace(ctx) -> float:
    """M = sqrt(tr Θ / n) = sqrt(Σ_i ‖G[i]‖² / n), the NTK trace norm of HNAS (its code's definition).

    G[i] = per-sample gradient of the true-class logit from one train-mode backward of
    Σ_i z_i (see ``ntk_gram``); θ = Conv2d/Linear weights and biases.
    """
    return _ntk(ctx).trace_norm


@register_metric("ntk_condnum", higher_is_better=False, needs_labels=True, passes=("forward", "ntk"))
def ntk_condnum(ctx) -> float:
    """κ = λ_max(Θ) / λ_min(Θ) of HNAS's NTK Θ = G Gᵀ (float64 eigvalsh; lower is better)."""
    return _ntk(ctx).condition_number


@register_metric("ntk_trace_bnfixed", higher_is_better=True, needs_labels=True,
                 passes=("forward", "ntk_bnfixed"))
def ntk_trace_bnfixed(ctx) -> float:
    """M of the variant NTK with BN statistics held constant (``ntk_gram_bnfixed``); not HNAS's."""
    return _ntk_bnfixed(ctx).trace_norm


@register_metric("ntk_condnum_bnfixed", higher_is_better=False, needs_labels=True,
                 passes=("forward", "ntk_bnfixed"))
def ntk_condnum_bnfixed(ctx) -> float:
    """κ of the variant NTK with BN statistics held constant (``ntk_gram_bnfixed``); not HNAS's."""
    return _ntk_bnfixed(ctx).condition_number
