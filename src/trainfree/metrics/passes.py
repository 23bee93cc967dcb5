"""Shared passes of the gradient metrics (zero-cost proxies) and the NTK quantities of NASI/HNAS.

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

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

LAYERS = (nn.Conv2d, nn.Linear)


@contextlib.contextmanager
def hooked(modules: Iterable[nn.Module], hook: Callable) -> Iterator[None]:
    """``hook`` registered as a forward hook on every module of ``modules`` for the block; removed after."""
    handles = [m.register_forward_hook(hook) for m in modules]
    try:
        yield
    finally:
        for h in handles:
            h.remove()


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
    (layer, output) pair per Conv/Linear call; ``inputs``: the input of each of those
    calls, detached (same order); ``bn_inputs``: per BatchNorm module its input,
    detached; ``bn_stats`` (computed on first use): per BatchNorm module its batch mean
    and biased variance, each (C,).
    """

    x: torch.Tensor
    logits: torch.Tensor
    calls: list[tuple[nn.Module, torch.Tensor]]
    bn_inputs: dict[nn.Module, torch.Tensor]
    inputs: list[torch.Tensor] = field(default_factory=list)
    _bn_stats: dict[nn.Module, tuple[torch.Tensor, torch.Tensor]] | None = None

    @property
    def bn_stats(self) -> dict[nn.Module, tuple[torch.Tensor, torch.Tensor]]:
        if self._bn_stats is None:  # only the BN-fixed NTK reads them
            self._bn_stats = {}
            for m, a in self.bn_inputs.items():
                dims = [d for d in range(a.dim()) if d != 1]
                self._bn_stats[m] = (a.mean(dims), a.var(dims, unbiased=False))
        return self._bn_stats


def forward_pass(model: nn.Module, x: torch.Tensor) -> ForwardPass:
    """One train-mode forward with hooks on every layer and BatchNorm (see ``ForwardPass``)."""
    calls: list[tuple[nn.Module, torch.Tensor]] = []
    inputs: list[torch.Tensor] = []
    bn_inputs: dict[nn.Module, torch.Tensor] = {}

    def on_layer(m: nn.Module, i: tuple, o: torch.Tensor) -> None:
        calls.append((m, o))
        inputs.append(i[0].detach())

    def on_bn(m: nn.Module, i: tuple, _o: torch.Tensor) -> None:
        bn_inputs[m] = i[0].detach()

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
    return ForwardPass(xg, logits, calls, bn_inputs, inputs)


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
