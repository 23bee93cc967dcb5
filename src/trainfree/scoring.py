"""Score any ``nn.Module`` with registered metrics: :func:`score_model` (also ``trainfree.score_model``).

The model is never touched: every metric runs on a deep copy, so its mode, weights,
buffers (BN running statistics), hooks, gradients and ``requires_grad`` flags are as they
came, and the global random state is restored afterwards. On the copy:

- the output goes through an *output selector* (``output=``: an index, a key or a
  function), so a model returning a tuple or a dict is scored on its logits;
- ReLUs are made visible to the activation metrics (naswot, activation_units,
  distinguishing_ability, swap, swap_reg, tenas_linear_regions), which hook ``nn.ReLU``
  modules: ``nn.ReLU(inplace=True)`` modules are switched to out-of-place (so a hook sees
  the pre-activation, not the rectified tensor), and every functional call —
  ``F.relu``, ``torch.relu``, ``Tensor.relu`` and their in-place forms — is routed, under
  a ``TorchFunctionMode``, through an ``nn.ReLU`` module of its own (one per call site, in
  call order, created on a first probe forward). An in-place functional call still writes
  its result into its operand, so the network computes what it did;
- all parameters require gradients (frozen layers are scored like the others).

Scores follow the project's protocol (train-mode BatchNorm on the batch, as every metric
defines it), whatever mode the model was in. A metric that cannot score the model raises
one line naming the metric and the reason.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from trainfree.errors import TrainfreeError

#: metrics that read ReLU modules (they fail on a model without ReLU)
RELU_METRICS = frozenset({"naswot", "activation_units", "distinguishing_ability", "swap", "swap_reg",
                          "tenas_linear_regions"})

_RELU_FUNCS = {F.relu, torch.relu, torch.Tensor.relu}
_RELU_INPLACE_FUNCS = {F.relu_, torch.relu_, torch.Tensor.relu_}

OutputSelector = int | str | Callable[[Any], torch.Tensor] | None


def _select(out: Any, output: OutputSelector) -> torch.Tensor:
    if output is None:
        sel = out
    elif callable(output):
        sel = output(out)
    else:
        try:
            sel = out[output]
        except (KeyError, IndexError, TypeError) as e:
            raise TrainfreeError(f"score_model: output={output!r} does not select from the model's "
                                 f"{type(out).__name__} output ({type(e).__name__}: {e})") from None
    if not isinstance(sel, torch.Tensor):
        hint = "; pass output=<index, key or function> to pick the logits" if output is None else ""
        raise TrainfreeError(f"score_model: the model's output is a {type(out).__name__}, not a tensor{hint}")
    return sel


class _ReluRouter(TorchFunctionMode):
    """Routes functional ReLU calls made outside ReLU modules through ``owner.relus``."""

    def __init__(self, owner: _ScoredModel):
        super().__init__()
        self.owner = owner

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        owner = self.owner
        if owner.module_depth == 0 and (func in _RELU_FUNCS or func in _RELU_INPLACE_FUNCS):
            inplace = func in _RELU_INPLACE_FUNCS or bool(kwargs.get("inplace", False)) \
                or (len(args) > 1 and args[1] is True)
            x = args[0] if args else kwargs["input"]
            y = owner.relu_call(x)
            if inplace:
                x.copy_(y)
                return x
            return y
        return func(*args, **kwargs)


class _ScoredModel(nn.Module):
    """The scoring copy: ``inner`` (the user's network), ``relus`` (one ReLU module per
    functional call site) and the output selector."""

    def __init__(self, inner: nn.Module, output: OutputSelector):
        super().__init__()
        self.inner = inner
        self.relus = nn.ModuleList()
        self.output = output
        self.module_depth = 0
        self._calls = 0
        self._growing = True
        for m in inner.modules():
            if isinstance(m, nn.ReLU):
                m.inplace = False
                m.register_forward_pre_hook(self._enter)
                m.register_forward_hook(self._leave)

    def _enter(self, *_a) -> None:
        self.module_depth += 1

    def _leave(self, *_a) -> None:
        self.module_depth -= 1

    def relu_call(self, x: torch.Tensor) -> torch.Tensor:
        k = self._calls
        self._calls += 1
        if k >= len(self.relus):
            if not self._growing:  # a call site the probe did not see: plain ReLU, unhooked
                return torch.relu(x)
            self.relus.append(nn.ReLU().to(x.device))
        self.module_depth += 1
        try:
            return self.relus[k](x)
        finally:
            self.module_depth -= 1

    def feature_blocks(self) -> list[nn.Module]:
        from trainfree.metrics.az_nas import feature_blocks

        return feature_blocks(self.inner)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._calls, self.module_depth = 0, 0
        with _ReluRouter(self):
            out = self.inner(x)
        return _select(out, self.output)


def _strip_hooks(model: nn.Module) -> None:
    """Remove every module hook of ``model`` (a copy: the user's hooks must not fire)."""
    for m in model.modules():
        for name in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks",
                     "_forward_hooks_with_kwargs", "_forward_pre_hooks_with_kwargs", "_forward_hooks_always_called"):
            d = getattr(m, name, None)
            if d is not None:
                d.clear()


def prepare(model: nn.Module, inputs: torch.Tensor, output: OutputSelector = None) -> _ScoredModel:
    """The scoring copy of ``model`` (see the module docstring); ``model`` is not modified."""
    try:
        inner = copy.deepcopy(model)
    except Exception as e:  # noqa: BLE001 - any failure of deepcopy is reported the same way
        raise TrainfreeError(f"score_model: cannot copy {type(model).__name__} "
                             f"({type(e).__name__}: {e}); the model is scored on a copy") from None
    _strip_hooks(inner)
    for p in inner.parameters():
        p.grad = None
        p.requires_grad_(True)
    scored = _ScoredModel(inner, output)
    buffers = {k: v.clone() for k, v in scored.named_buffers()}
    scored.train()
    try:
        with torch.no_grad():  # probe: creates the functional call sites' ReLU modules
            scored(inputs)
    except TrainfreeError:
        raise
    except Exception as e:  # noqa: BLE001
        raise TrainfreeError(f"score_model: the model's forward fails on the inputs ({type(e).__name__}: "
                             f"{_first_line(e)})") from None
    scored._growing = False
    with torch.no_grad():  # the probe's BN statistics are not kept
        for k, v in scored.named_buffers():
            v.copy_(buffers[k])
    return scored


def _first_line(e: BaseException) -> str:
    s = str(e).strip()
    return s.splitlines()[0] if s else type(e).__name__


def _device_of(model: nn.Module, inputs: torch.Tensor) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else inputs.device


def score_model(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor | None = None,
                metrics: str | Sequence[str] = ("naswot", "snip"), *, output: OutputSelector = None,
                ) -> dict[str, float]:
    """Score ``model`` on the batch ``inputs`` (n, ...) with labels ``targets`` (n,) -> {metric: value}.

    ``metrics``: names of registered metrics (a list or a comma-separated string; see
    ``trainfree metrics``). ``output`` selects the logits from a tuple/dict output (an
    index, a key or a function of the output). The model is left exactly as it came (see
    the module docstring). NaN is returned where a metric's value is undefined (e.g. a
    singular kernel); a metric that cannot score the model raises a one-line
    :class:`TrainfreeError` naming it and the reason.
    """
    from trainfree.metrics.engine import ScoringContext, score_network
    from trainfree.metrics.registry import resolve

    ms = resolve(list(metrics) if not isinstance(metrics, str) else metrics)
    if not isinstance(model, nn.Module):
        raise TrainfreeError(f"score_model: model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(inputs, torch.Tensor):
        raise TrainfreeError(f"score_model: inputs must be a tensor (n, ...), got {type(inputs).__name__}")
    for m in ms:
        if m.needs_labels and targets is None:
            raise TrainfreeError(f"metric {m.name!r} cannot score {type(model).__name__}: it needs targets "
                                 "(class labels, shape (n,))")
    device = _device_of(model, inputs)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        scored = prepare(model, inputs.to(device), output)
        ctx = ScoringContext(scored, inputs, targets, device)
        ctx.requested = frozenset(m.name for m in ms)
        n_relus = sum(1 for mod in scored.modules() if isinstance(mod, nn.ReLU))
        out: dict[str, float] = {}
        for m in ms:
            if m.name in RELU_METRICS and n_relus == 0:
                raise TrainfreeError(f"metric {m.name!r} cannot score {type(model).__name__}: no ReLU "
                                     "(module or functional call) in its forward")
            try:
                value, _sec = score_network(ctx, [m])[m.name]
            except TrainfreeError as e:
                raise TrainfreeError(f"metric {m.name!r} cannot score {type(model).__name__}: "
                                     f"{_first_line(e)}") from None
            except Exception as e:  # noqa: BLE001 - reported in one line, naming the metric
                raise TrainfreeError(f"metric {m.name!r} cannot score {type(model).__name__}: "
                                     f"{type(e).__name__}: {_first_line(e)}") from None
            out[m.name] = value
    return out
