"""Metric registry: a decorator registers a metric under a unique name in :data:`METRICS`
(a :class:`trainfree.registry.Registry`, the style every plug-in kind shares).

A metric is a function ``fn(ctx) -> float`` of a :class:`~trainfree.metrics.engine.ScoringContext`.
It declares its direction (``higher_is_better``) and what it needs: ``data`` (real
images), ``labels`` and the shared ``passes`` it draws from the context, so the engine
can compute each pass once for all metrics that use it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

from trainfree.errors import TrainfreeError
from trainfree.registry import Registry

PASSES = ("relu_kernel", "ce_grad", "ntk", "ntk_bnfixed", "cost", "copy", "forward", "input_jacobian", "zico_grad",
          "swap", "az_nas")


@dataclass(frozen=True)
class Metric:
    name: str
    fn: Callable[..., float]
    higher_is_better: bool
    needs_data: bool
    needs_labels: bool
    passes: tuple[str, ...] = field(default=())
    doc: str = ""
    #: False for a metric that re-initialises the weights (it ignores any training)
    uses_weights: bool = True


def register_metric(
    name: str,
    *,
    higher_is_better: bool = True,
    needs_data: bool = True,
    needs_labels: bool = False,
    passes: tuple[str, ...] = (),
    uses_weights: bool = True,
) -> Callable[[Callable[..., float]], Callable[..., float]]:
    """Decorator: register ``fn(ctx) -> float`` as metric ``name`` (names are unique).

    ``uses_weights=False`` marks a metric that re-initialises the network's weights, so
    its value does not change with fast training.
    """
    bad = [p for p in passes if p not in PASSES]
    if bad:
        raise TrainfreeError(f"metric {name!r}: unknown passes {bad}; known: {PASSES}")

    def deco(fn: Callable[..., float]) -> Callable[..., float]:
        doc = (fn.__doc__ or "").strip()
        METRICS.register(name, Metric(name, fn, higher_is_better, needs_data, needs_labels, tuple(passes), doc,
                                      uses_weights))
        return fn

    return deco


# metric family modules; importing one registers its metrics
FAMILIES: tuple[str, ...] = ("activation", "cost", "saliency", "jacobian", "ntk", "zico", "synflow", "zen",
                             "swap", "meco", "az_nas", "gradsign", "tenas")


def _load_builtin() -> None:
    for family in FAMILIES:
        importlib.import_module(f"trainfree.metrics.{family}")


#: every metric by name; the built-in families load on first use
METRICS: Registry[Metric] = Registry("metric", load=_load_builtin, hint=" (see `trainfree metrics`)")


def list_metrics() -> list[str]:
    """Sorted names of every registered metric."""
    return METRICS.names()


def get_metric(name: str) -> Metric:
    """The registered metric ``name``; an unknown name lists the valid ones."""
    return METRICS.get(name)


def resolve(names: str | list[str] | tuple[str, ...]) -> list[Metric]:
    """Comma-separated string or list of names -> metrics, in the given order, deduplicated."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    if not names:
        raise TrainfreeError("no metric given; pass e.g. --metrics naswot,activation_units")
    seen: dict[str, Metric] = {}
    for n in names:
        seen.setdefault(n, get_metric(n))
    return list(seen.values())
