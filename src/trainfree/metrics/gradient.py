"""Gradient metrics (zero-cost proxies) and the NTK quantities of NASI/HNAS.

Protocol (HNAS and zero-cost proxy papers): one fixed batch ``ctx.x`` (n, 3, H, W) with labels
``ctx.y`` (n,), train-mode BN, default init, cross-entropy averaged over the batch.
"Layers" are every ``nn.Conv2d`` and ``nn.Linear``; sums over ``W_l`` run over their
weights.

Shared passes (each computed once per network through ``ctx.shared``):

- ``forward``: one train-mode forward of the whole batch with the input requiring
  grad; records the output of every Conv/Linear call and the batch mean/variance
  seen by every BatchNorm. Its graph is kept for the two passes below.
- ``ce_grad``: one cross-entropy backward (``create_graph=True``) giving dL/dW for
  every layer weight *and* dL/d(output) of every layer call. ``grad_norm``, ``snip``,
  ``plain`` and ``fisher`` read it; ``grasp`` differentiates it once more (H g), so
  GraSP costs one extra backward instead of two forwards and two backwards.
- ``input_jacobian``: dΣ(logits)/dx from the same forward, shared by ``jacob_cov``
  and ``epe_nas``.
- ``ntk``: per-sample gradients of the true-class logit for the whole batch in one
  batched computation (see :func:`ntk_gram`).
- ``zico_grad``: the two half-batch cross-entropy backwards of ZiCo.

``synflow`` and ``zen`` change weights (|W|, Gaussian re-init) and work on
``ctx.copy_model()``; nothing else copies the network. Every pass uses
``torch.autograd.grad``, so ``.grad`` of ``ctx.model`` stays ``None``; passes leave
the weights untouched (train-mode forwards do update the BN running statistics,
which no metric here reads: ``zen`` resets them on its copy).

Dead networks (e.g. an all-``none`` cell) give zero gradients and singular
correlation matrices; the resulting NaN/inf is stored as NaN by the engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from trainfree.metrics.registry import register_metric

LAYERS = (nn.Conv2d, nn.Linear)
#: epsilon of jacob_cov and epe_nas (as in the reference codes)
EPS_CORR = 1e-5
#: seed of the fixed Gaussian inputs and weights of ``zen``
ZEN_SEED = 0
#: input perturbation scale of ``zen`` (ZenNAS default)
ZEN_GAMMA = 1e-2


def layers(model: nn.Module) -> list[nn.Module]:
    """Every Conv2d / Linear module of ``model``, in ``modules()`` order."""
    return [m for m in model.modules() if isinstance(m, LAYERS)]


def _clear_grads(model: nn.Module) -> None:
    for p in model.parameters():
        p.grad = None


# --------------------------------------------------------------------------- passes


@dataclass
class ForwardPass:
    """Train-mode forward of the scoring batch, graph kept.

    ``x``: (n,3,H,W) leaf requiring grad; ``logits``: (n, classes); ``calls``: one
    (layer, output) pair per Conv/Linear call; ``bn_stats``: per BatchNorm module its
    batch mean and biased variance, each (C,), detached.
    """

    x: torch.Tensor
    logits: torch.Tensor
    calls: list[tuple[nn.Module, torch.Tensor]]
    bn_stats: dict[nn.Module, tuple[torch.Tensor, torch.Tensor]]


def forward_pass(model: nn.Module, x: torch.Tensor) -> ForwardPass:
    """One train-mode forward with hooks on every layer and BatchNorm (see ``ForwardPass``)."""
    calls: list[tuple[nn.Module, torch.Tensor]] = []
    bn_stats: dict[nn.Module, tuple[torch.Tensor, torch.Tensor]] = {}

    def on_layer(m: nn.Module, _i: tuple, o: torch.Tensor) -> None:
        calls.append((m, o))

    def on_bn(m: nn.Module, i: tuple, _o: torch.Tensor) -> None:
        a = i[0].detach()
        dims = [d for d in range(a.dim()) if d != 1]
        bn_stats[m] = (a.mean(dims), a.var(dims, unbiased=False))

    hooks = [m.register_forward_hook(on_layer) for m in layers(model)]
    hooks += [m.register_forward_hook(on_bn) for m in model.modules()
              if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    try:
        with torch.enable_grad():
            xg = x.detach().clone().requires_grad_(True)
            logits = model(xg)
    finally:
        for h in hooks:
            h.remove()
    return ForwardPass(xg, logits, calls, bn_stats)


def _forward(ctx) -> ForwardPass:
    return ctx.shared("forward", lambda c: forward_pass(c.model, c.x))


@dataclass
class CEGrad:
    """Cross-entropy gradients of the shared forward.

    ``weights``: layer weights (the ``layers`` order); ``grads``: dL/dW_l detached,
    same shapes; ``graph_grads``: the same with their graph (for H g), dropped after use;
    ``acts`` / ``act_grads``: per layer call its output and dL/d(output), detached.
    """

    weights: list[torch.Tensor]
    grads: list[torch.Tensor]
    graph_grads: list[torch.Tensor] | None
    acts: list[torch.Tensor]
    act_grads: list[torch.Tensor]


def ce_grad_pass(model: nn.Module, fwd: ForwardPass, y: torch.Tensor, keep_graph: bool = True) -> CEGrad:
    """dL/dW and dL/d(layer outputs) of L = CE(logits, y) (mean over the batch).

    ``keep_graph`` keeps the gradients' own graph for GraSP's Hessian-gradient product;
    without it ``graph_grads`` is None and the pass is cheaper.
    """
    weights = [m.weight for m in layers(model)]
    outs = [o for _, o in fwd.calls]
    with torch.enable_grad():
        loss = F.cross_entropy(fwd.logits, y)
        g = torch.autograd.grad(loss, weights + outs, create_graph=keep_graph, retain_graph=True,
                                allow_unused=True)
    gw = [torch.zeros_like(w) if gi is None else gi for w, gi in zip(weights, g[:len(weights)])]
    go = [torch.zeros_like(o) if gi is None else gi.detach() for o, gi in zip(outs, g[len(weights):])]
    _clear_grads(model)
    return CEGrad(weights, [t.detach() for t in gw], gw if keep_graph else None,
                  [o.detach() for o in outs], go)


def _ce(ctx) -> CEGrad:
    return ctx.shared("ce_grad", lambda c: ce_grad_pass(c.model, _forward(c), c.y, c.wants("grasp")))


def input_jacobian(fwd: ForwardPass) -> torch.Tensor:
    """J = d Σ(logits) / dx of the shared forward, flattened per sample: (n, 3·H·W)."""
    with torch.enable_grad():
        (j,) = torch.autograd.grad(fwd.logits.sum(), fwd.x, retain_graph=True)
    return j.detach().reshape(j.shape[0], -1)


def _jac(ctx) -> np.ndarray:
    def compute(c) -> np.ndarray:
        j = input_jacobian(_forward(c)).double().cpu().numpy()
        _clear_grads(c.model)
        return j
    return ctx.shared("input_jacobian", compute)


# --------------------------------------------------------------------------- CE metrics


@register_metric("grad_norm", higher_is_better=True, needs_labels=True, passes=("forward", "ce_grad"))
def grad_norm(ctx) -> float:
    """Σ_l ‖∂L/∂W_l‖₂: sum of per-layer Frobenius norms (not one global norm).

    L = cross-entropy (batch mean), W_l every Conv2d/Linear weight.
    """
    return float(sum(g.double().norm() for g in _ce(ctx).grads))


@register_metric("snip", higher_is_better=True, needs_labels=True, passes=("forward", "ce_grad"))
def snip(ctx) -> float:
    """Σ_l Σ |W_l ⊙ ∂L/∂W_l| (SNIP connection sensitivity, Lee et al. 2019)."""
    ce = _ce(ctx)
    return float(sum((w.detach().double() * g.double()).abs().sum() for w, g in zip(ce.weights, ce.grads)))


@register_metric("plain", higher_is_better=True, needs_labels=True, passes=("forward", "ce_grad"))
def plain(ctx) -> float:
    """Σ_l Σ W_l ⊙ ∂L/∂W_l, signed (the "plain" proxy of Abdelfattah et al. 2021).

    Direction follows the proxy convention (higher = better); on NB201 it ranks
    archs inversely to accuracy, which the signed correlation shows.
    """
    ce = _ce(ctx)
    return float(sum((w.detach().double() * g.double()).sum() for w, g in zip(ce.weights, ce.grads)))


@register_metric("fisher", higher_is_better=True, needs_labels=True, passes=("forward", "ce_grad"))
def fisher(ctx) -> float:
    """Σ_layer-calls Σ_k ½ · mean_i (Σ_hw a_ikhw · ∂L/∂a_ikhw)² (Theis et al. 2018).

    a = output of each Conv2d/Linear call (n, K, H, W) or (n, K); channel k; i the sample.
    Activations and their gradients come from the shared cross-entropy pass.
    """
    ce = _ce(ctx)
    total = 0.0  # accumulated on the device: one host sync per metric, not per layer
    for a, g in zip(ce.acts, ce.act_grads):
        prod = (a.double() * g.double())
        per = prod.sum(dim=tuple(range(2, prod.dim()))) if prod.dim() > 2 else prod
        total = total + (0.5 * per.pow(2).mean(0)).sum()
    return float(total)


def _fan_in(m: nn.Module) -> int:
    """Weight elements per output channel: C_in/groups·kh·kw (Conv2d) or in_features (Linear)."""
    return int(m.weight[0].numel())


@register_metric("fisher_zc", higher_is_better=True, needs_labels=True, passes=("forward", "ce_grad"))
def fisher_zc(ctx) -> float:
    """``fisher`` aggregated as zero-cost-nas / NAS-Bench-Suite-Zero do: Σ_l fan_in_l · Σ_k F_lk.

    F_lk = ½ · mean_i (Σ_hw a·∂L/∂a)² per output channel k as in ``fisher``; the reference
    code broadcasts each channel's value to all fan_in_l = C_in·kh·kw weights of that
    channel before summing, which weights layers by their fan-in. A named variant, so
    that ``fisher`` keeps the plain per-channel definition.
    """
    ce = _ce(ctx)
    fwd = _forward(ctx)
    total = 0.0  # accumulated on the device: one host sync per metric, not per layer
    for (m, _o), a, g in zip(fwd.calls, ce.acts, ce.act_grads):
        prod = (a.double() * g.double())
        per = prod.sum(dim=tuple(range(2, prod.dim()))) if prod.dim() > 2 else prod
        total = total + _fan_in(m) * (0.5 * per.pow(2).mean(0)).sum()
    return float(total)


@register_metric("grasp", higher_is_better=True, needs_labels=True, passes=("forward", "ce_grad"))
def grasp(ctx) -> float:
    """Σ_l Σ (−W_l ⊙ (H g)_l), g = ∂L/∂W, H g = ∂(gᵀ·sg(g))/∂W by double backward (GraSP).

    Both gradients come from the one shared forward (train-mode BN on the same batch
    gives the same graph as the reference code's two forwards).
    """
    ce = _ce(ctx)
    if ce.graph_grads is None:  # the shared pass ran without grasp requested: redo it with graph
        ce = ce_grad_pass(ctx.model, _forward(ctx), ctx.y, keep_graph=True)
    with torch.enable_grad():
        z = sum((g.detach() * g).sum() for g in ce.graph_grads if g.requires_grad)
        if isinstance(z, torch.Tensor) and z.requires_grad:
            hg = torch.autograd.grad(z, ce.weights, allow_unused=True, retain_graph=True)
        else:  # no second-order path at all (dead network)
            hg = (None,) * len(ce.weights)
    ce.graph_grads = None  # free the double-backward graph
    _clear_grads(ctx.model)
    total = 0.0  # accumulated on the device: one host sync per metric, not per layer
    for w, h in zip(ce.weights, hg):
        if h is not None:
            total = total + (-w.detach().double() * h.double()).sum()
    return float(total)


# --------------------------------------------------------------------------- Jacobian metrics


def _corrcoef(j: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.corrcoef(j)


@register_metric("jacob_cov", higher_is_better=True, passes=("forward", "input_jacobian"))
def jacob_cov(ctx) -> float:
    """−Σ_k [log(λ_k + ε) + 1/(λ_k + ε)], λ = eigvalsh(corrcoef(J)), ε = 1e-5.

    J (n, 3·H·W) = input Jacobian of Σ logits (train-mode BN, batch-coupled), rows
    correlated across samples (Mellor et al., NASWOT v1). NaN if a row is constant.
    """
    c = _corrcoef(_jac(ctx))
    if not np.all(np.isfinite(c)):
        return float("nan")
    lam = np.linalg.eigvalsh(c)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(-np.sum(np.log(lam + EPS_CORR) + 1.0 / (lam + EPS_CORR)))


@register_metric("epe_nas", higher_is_better=True, needs_labels=True, passes=("forward", "input_jacobian"))
def epe_nas(ctx) -> float:
    """EPE-NAS (Lopes et al. 2021): per-class Jacobian correlation score.

    With J as in ``jacob_cov`` and J_c its rows of class c (classes present in the
    batch): s_c = Σ_ij log(|corrcoef(J_c)|_ij + ε), ε = 1e-5 (a class with one sample
    gives s_c = log(1 + ε)). Score = Σ_c |s_c| for ≤ 100 classes; above 100 classes
    s_c is divided by the class size and the score is Σ_c Σ_c' |s_c − s_c'| / #classes.
    """
    j = _jac(ctx)
    y = ctx.y.cpu().numpy()
    n_classes = int(_forward(ctx).logits.shape[1])
    per: dict[int, float] = {}
    for c in np.unique(y):
        rows = j[y == c]
        if len(rows) == 1:
            s = math.log(1.0 + EPS_CORR)
        else:
            s = float(np.sum(np.log(np.abs(_corrcoef(rows)) + EPS_CORR)))
            if n_classes > 100:
                s /= len(rows)
        per[int(c)] = s
    vals = np.array(list(per.values()))
    if n_classes <= 100:
        return float(np.abs(vals).sum())
    return float(np.abs(vals[:, None] - vals[None, :]).sum() / len(vals))


# --------------------------------------------------------------------------- NTK


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


# --------------------------------------------------------------------------- ZiCo


def zico_grads(model: nn.Module, x: torch.Tensor, y: torch.Tensor, splits: int = 2) -> list[np.ndarray]:
    """Per layer the stacked weight gradients (splits, P_l) of the CE loss of each
    contiguous part of the batch (train-mode BN over that part), float64."""
    weights = [m.weight for m in layers(model)]
    n = x.shape[0]
    per: list[list[np.ndarray]] = [[] for _ in weights]
    for s in range(splits):
        lo, hi = s * n // splits, (s + 1) * n // splits
        with torch.enable_grad():
            loss = F.cross_entropy(model(x[lo:hi]), y[lo:hi])
            g = torch.autograd.grad(loss, weights, allow_unused=True)
        for k, (w, gk) in enumerate(zip(weights, g)):
            t = torch.zeros_like(w) if gk is None else gk
            per[k].append(t.detach().double().reshape(-1).cpu().numpy())
    _clear_grads(model)
    return [np.stack(p) for p in per]


@register_metric("zico", higher_is_better=True, needs_labels=True, passes=("zico_grad",))
def zico(ctx) -> float:
    """ZiCo (Li et al., ICLR 2023): Σ_l log Σ_{θ∈W_l, σ_θ>0} mean_b|g_bθ| / σ_θ.

    g_b = ∂L_b/∂W_l for each of 2 halves b of the scoring batch (CE, train-mode BN on
    the half); σ = population std over b. Layers whose sum is 0 are skipped (so a dead
    network scores 0). Protocol difference: ZiCo's paper uses two separate batches of
    64; here (as in NAS-Bench-Suite-Zero) the one scoring batch is split in two.
    """
    grads = ctx.shared("zico_grad", lambda c: zico_grads(c.model, c.x, c.y))
    total = 0.0
    for g in grads:
        sd = g.std(0)
        nz = sd != 0
        s = float(np.sum(np.abs(g).mean(0)[nz] / sd[nz]))
        if s != 0.0:
            total += math.log(s)
    return total


# --------------------------------------------------------------------------- copies


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


@register_metric("zen", higher_is_better=True, needs_data=False, passes=("copy",))
def zen(ctx) -> float:
    """Zen-score (Lin et al., ICCV 2021), NAS-Bench-Suite-Zero procedure (see ``zen_score``).

    Uses Gaussian inputs of the scoring batch's shape (n × 3×32×32; 64 without a batch),
    not the images; a fixed generator (seed ``ZEN_SEED``) makes it deterministic and the
    same for every arch.
    """
    shape = tuple(ctx.x.shape) if ctx.x is not None else (64, 3, 32, 32)
    return zen_score(ctx.copy_model(), shape)


ALL: tuple[str, ...] = (
    "grad_norm", "snip", "grasp", "fisher", "synflow", "jacob_cov", "plain", "l2_norm",
    "epe_nas", "zen", "zico", "ntk_trace", "ntk_condnum", "fisher_zc",
)

__all__ = [
    "ALL", "CEGrad", "ForwardPass", "NTK", "ce_grad_pass", "forward_pass", "input_jacobian",
    "layers", "ntk_gram", "synflow_score", "zen_score", "zico_grads",
]
