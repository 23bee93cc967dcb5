"""Combinations: named scores computed from several registered metrics over a scored population.

AZ-NAS's rank aggregation, the DAS rules and the HNAS criterion are all of one kind: a
function of a population's wide score table (one row per arch, one column per metric) that
gives one value per arch. Each is registered here under a name, with the metrics it reads
and its parameters; a study names the ones it wants in ``analysis.combinations``, and the
correlation stage appends their values to the tidy score table as extra ``metric`` rows, so
that every correlation table, figure and summary reads them like any metric.

**Sign convention: every combination is higher-is-better.** The HNAS criterion, which is
minimised, is registered as its negation (``hnas`` = −criterion).

A combination is a function ``fn(wide, **params) -> pd.Series`` (index: the rows of ``wide``).
Its parameters are its keyword arguments: a default makes one optional, the annotation
(``float``, ``int``, ``str``, ``bool``, ``list[str]``) is the type the config check enforces.
A keyword named ``batch_size`` is not a parameter: it receives the scoring batch size of the
scores it combines. Defining one::

    @register_combination("snip_synflow", metrics=("snip", "synflow"))
    def snip_synflow(wide: pd.DataFrame, w: float = 1.0) -> pd.Series:
        return wide["snip"].rank() + w * wide["synflow"].rank()

and in the config ``analysis: {combinations: [{name: snip_synflow, w: 2}]}`` adds rows named
``snip_synflow(w=2)``. The population of a rank-based combination is the rows it is given: in
the study, the archs scored at one setting (dataset, batch, seed, fast-training steps).
"""

from __future__ import annotations

import inspect
import math
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trainfree.analysis.criterion import hnas_criterion
from trainfree.contracts import wide_scores
from trainfree.errors import TrainfreeError

#: keyword arguments filled from the scores, never from the config
SETTINGS: tuple[str, ...] = ("batch_size",)
#: the config entry's key that names the combination (so no parameter may take it)
NAME_KEY = "name"
_NAME = re.compile(r"[a-z][a-z0-9_]*")
#: parameter kinds, from the annotation: the check and the word the error message uses
_KINDS: dict[str, tuple[Callable[[object], bool], str]] = {
    "number": (lambda v: isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v),
               "a finite number"),
    "integer": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "string": (lambda v: isinstance(v, str), "a string"),
    "boolean": (lambda v: isinstance(v, bool), "true or false"),
    "strings": (lambda v: isinstance(v, list | tuple) and len(v) > 0 and all(isinstance(s, str) for s in v),
                "a non-empty list of names"),
    "any": (lambda v: True, "any value"),
}


def _kind(annotation: object) -> str:
    args = typing.get_args(annotation)
    if type(None) in args:  # an optional parameter: the kind of what it holds when given
        rest = [a for a in args if a is not type(None)]
        return _kind(rest[0]) if len(rest) == 1 else "any"
    if annotation is float:
        return "number"
    if annotation is int:
        return "integer"
    if annotation is str:
        return "string"
    if annotation is bool:
        return "boolean"
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, Sequence) and str in typing.get_args(annotation):
        return "strings"
    return "any"


@dataclass(frozen=True)
class Param:
    """One parameter of a combination: its kind (see ``_KINDS``) and default (``REQUIRED``: none)."""

    name: str
    kind: str
    default: object

    REQUIRED: typing.ClassVar[object] = inspect.Parameter.empty

    @property
    def required(self) -> bool:
        return self.default is self.REQUIRED


@dataclass(frozen=True)
class Combination:
    """A registered combination: ``fn(wide, **params)`` -> Series, higher is better."""

    name: str
    fn: Callable[..., pd.Series]
    metrics: tuple[str, ...] | Callable[[dict], Sequence[str]]
    params: tuple[Param, ...]
    settings: tuple[str, ...]
    check: Callable[[dict], str | None] | None
    doc: str

    def required_metrics(self, params: Mapping[str, object]) -> tuple[str, ...]:
        """The metric columns it reads, given its (complete) parameters."""
        return tuple(self.metrics(dict(params)) if callable(self.metrics) else self.metrics)


_REGISTRY: dict[str, Combination] = {}


def register_combination(name: str, metrics: Sequence[str] | Callable[[dict], Sequence[str]],
                         check: Callable[[dict], str | None] | None = None):
    """Decorator: register ``fn(wide, **params) -> pd.Series`` (higher is better) as ``name``.

    ``metrics``: the metric columns it reads, or a function of its parameters giving them.
    ``check``: optional, parameters -> a problem in words (or None), for what the types
    cannot say. Duplicate or malformed names are errors.
    """
    if not _NAME.fullmatch(name):
        raise ValueError(f"combination name {name!r}: use lower-case letters, digits and '_', e.g. my_rule")
    if name in _REGISTRY:
        raise ValueError(f"combination {name!r} is already registered (by {_REGISTRY[name].fn.__module__})")

    def deco(fn: Callable[..., pd.Series]) -> Callable[..., pd.Series]:
        sig = inspect.signature(fn)
        hints = typing.get_type_hints(fn)
        args = list(sig.parameters.values())[1:]  # the first is the wide table
        if NAME_KEY in (a.name for a in args):
            raise ValueError(f"combination {name!r}: a parameter may not be called {NAME_KEY!r}")
        params = tuple(Param(a.name, _kind(hints.get(a.name)), a.default) for a in args if a.name not in SETTINGS)
        settings = tuple(a.name for a in args if a.name in SETTINGS)
        doc = (inspect.getdoc(fn) or "").split("\n\n")[0].replace("\n", " ")
        _REGISTRY[name] = Combination(name, fn, metrics if callable(metrics) else tuple(metrics), params,
                                      settings, check, doc)
        return fn

    return deco


def list_combinations() -> list[str]:
    """Registered names, sorted."""
    return sorted(_REGISTRY)


def get_combination(name: str) -> Combination:
    if name not in _REGISTRY:
        raise TrainfreeError(f"unknown combination {name!r}; choose one of: {', '.join(list_combinations())}")
    return _REGISTRY[name]


def resolve(spec: Mapping[str, object], where: str = "combination") -> tuple[Combination, dict]:
    """A config entry ``{name: ..., <param>: value, ...}`` -> (combination, complete parameters).

    Raises :class:`TrainfreeError`, one line starting with ``where``, for an unknown name, an
    unknown, missing or mistyped parameter, or a value its ``check`` refuses.
    """
    if not isinstance(spec, Mapping) or NAME_KEY not in spec:
        raise TrainfreeError(f"{where}: give a mapping with a name, e.g. {{name: az_nas}}; got {spec!r}")
    name = spec[NAME_KEY]
    if name not in _REGISTRY:
        raise TrainfreeError(f"{where}.name: unknown combination {name!r}; choose one of: "
                             f"{', '.join(list_combinations())} (or register one: docs/metrics.md, Combinations)")
    comb = _REGISTRY[name]
    known = {p.name: p for p in comb.params}
    given = {k: v for k, v in spec.items() if k != NAME_KEY}
    for key, value in given.items():
        if key not in known:
            names = ", ".join(known) or "none"
            raise TrainfreeError(f"{where}.{key}: not a parameter of {name}; its parameters are: {names}")
        ok, words = _KINDS[known[key].kind]
        if not ok(value) and not (value is None and known[key].default is None):
            raise TrainfreeError(f"{where}.{key}: {name}'s {key} must be {words}, got {value!r}")
    missing = [p.name for p in comb.params if p.required and p.name not in given]
    if missing:
        need = ", ".join(f"{m} ({_KINDS[known[m].kind][1]})" for m in missing)
        raise TrainfreeError(f"{where}: {name} needs {need}; add e.g. {{name: {name}, {missing[0]}: ...}}")
    params = {p.name: given.get(p.name, p.default) for p in comb.params}
    problem = comb.check(params) if comb.check else None
    if problem:
        raise TrainfreeError(f"{where}: {name}: {problem}")
    return comb, params


def _fmt(value: object) -> str:
    if isinstance(value, list | tuple):
        return "+".join(str(v) for v in value)
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def label(spec: Mapping[str, object]) -> str:
    """The metric name of a config entry's rows: ``name``, or ``name(k=v, ...)`` with the
    parameters the entry gives, in the function's order (e.g. ``das_rank(lam=1)``)."""
    comb = _REGISTRY[spec[NAME_KEY]] if spec.get(NAME_KEY) in _REGISTRY else None
    order = [p.name for p in comb.params] if comb else sorted(k for k in spec if k != NAME_KEY)
    given = [f"{k}={_fmt(spec[k])}" for k in order if k in spec]
    return f"{spec[NAME_KEY]}({','.join(given)})" if given else str(spec[NAME_KEY])


def combine(name: str, wide: pd.DataFrame, batch_size: int | None = None, **params: object) -> pd.Series:
    """Combination ``name`` over the population ``wide`` (one row per arch, metric columns).

    ``params``: its parameters (checked as in the config); ``batch_size``: the scoring batch
    size, for combinations that read it. Returns one value per row, higher is better.
    """
    comb, full = resolve({NAME_KEY: name, **params}, where=f"combination {name}")
    missing = [m for m in comb.required_metrics(full) if m not in wide.columns]
    if missing:
        raise TrainfreeError(f"combination {name}: the scores lack {', '.join(missing)}; "
                             f"add {missing[0]} to scoring.metrics")
    if "batch_size" in comb.settings:
        if batch_size is None:
            raise TrainfreeError(f"combination {name}: needs the scoring batch size (batch_size=...)")
        full["batch_size"] = int(batch_size)
    out = comb.fn(wide, **full)
    if isinstance(out, pd.Series):
        out = out.reindex(wide.index)
    return pd.Series(np.asarray(out, dtype=float), index=wide.index)


def check_combinations(specs: Sequence[Mapping[str, object]], scored: Sequence[str],
                       key: str = "analysis.combinations") -> list[str]:
    """Config check of ``specs`` against the scored metrics ``scored``; returns their labels.

    One :class:`TrainfreeError` line for the first problem: unknown name, bad parameter, a
    metric it reads that is not scored, a label that is a metric's name or listed twice.
    """
    labels: list[str] = []
    for i, spec in enumerate(specs):
        where = f"config {key}[{i}]"
        comb, params = resolve(spec, where)
        lacking = [m for m in comb.required_metrics(params) if m not in scored]
        if lacking:
            raise TrainfreeError(f"{where}: {comb.name} reads {', '.join(lacking)}, not in scoring.metrics; "
                                 f"add {', '.join(lacking)} to scoring.metrics or drop the combination")
        lab = label(spec)
        if lab in scored:
            raise TrainfreeError(f"{where}: {lab} is also a scored metric's name; rename the combination")
        if lab in labels:
            raise TrainfreeError(f"{where}: {lab} listed twice; list each combination once")
        labels.append(lab)
    return labels


#: columns of the tidy scores that define one scored population (a setting)
_SETTING_COLUMNS = ("space", "dataset", "batch_size", "seed", "fast_steps", "device")


def add_combinations(scores: pd.DataFrame, specs: Sequence[Mapping[str, object]]) -> pd.DataFrame:
    """Append the rows of each combination in ``specs`` (config entries) to tidy ``scores``.

    Per setting (the archs scored with one dataset, batch size, seed, fast-training steps,
    device) each combination is computed over that population and added as rows with
    ``metric`` = :func:`label`, ``seconds`` = the sum of the seconds of the metrics it reads,
    the other columns as the arch's rows. ``scores`` comes back unchanged when ``specs`` is empty.
    """
    if not specs:
        return scores
    resolved = [(label(s), *resolve(s, f"combination {s.get(NAME_KEY)!r}")) for s in specs]
    taken = set(scores.metric.unique())
    for lab, _, _ in resolved:
        if lab in taken:
            raise TrainfreeError(f"combination {lab}: the scores already have a metric of that name; rename it")
    by = [c for c in _SETTING_COLUMNS if c in scores.columns]
    groups = scores.groupby(by, dropna=False, sort=False) if by else [((), scores)]
    frames = [scores]
    for key, rows in groups:
        setting = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        wide = wide_scores(rows)
        per_arch = rows.groupby("arch_id", sort=False)
        for lab, comb, params in resolved:
            values = combine(comb.name, wide, batch_size=setting.get("batch_size"), **params)
            out = pd.DataFrame({"arch_id": wide.index, "metric": lab, "value": values.to_numpy()})
            for col, v in setting.items():
                out[col] = v
            used = rows[rows.metric.isin(comb.required_metrics(params))].groupby("arch_id")
            if "seconds" in rows.columns:
                out["seconds"] = used.seconds.sum(min_count=1).reindex(wide.index).to_numpy()
            for col in rows.columns:
                if col not in out.columns:
                    out[col] = per_arch[col].first().reindex(wide.index).to_numpy()
            frames.append(out[list(scores.columns)])
    return pd.concat(frames, ignore_index=True)


def higher_is_better(metric: str) -> bool:
    """Direction of a score table's ``metric``: a combination's rows (``name`` or ``name(...)``)
    are higher-is-better by convention; a metric's is its registry flag."""
    if metric.split("(", 1)[0] in _REGISTRY:
        return True
    from trainfree.metrics import get_metric

    return get_metric(metric).higher_is_better


# --------------------------------------------------------------------------- built-in combinations

def _az_components(p: dict) -> Sequence[str]:
    from trainfree.metrics.az_nas import AZ_COMPONENTS

    return p["components"] or AZ_COMPONENTS


@register_combination("az_nas", metrics=_az_components)
def az_nas(wide: pd.DataFrame, components: list[str] | None = None) -> pd.Series:
    """AZ-NAS rank aggregation: sum over the components of log(rank / N), NaN ranked lowest.

    ``components``: the metrics aggregated (default AZ-NAS's four: az_complexity,
    az_expressivity, az_progressivity, az_trainability); ``trainfree.metrics.az_nas.az_nas_aggregate``.
    """
    from trainfree.metrics.az_nas import az_nas_aggregate

    return az_nas_aggregate(wide, _az_components({"components": components}))


@register_combination("das_linear", metrics=("distinguishing_ability", "activation_units"))
def das_linear(wide: pd.DataFrame, alpha: float, batch_size: int) -> pd.Series:
    """DAS linear rule: D + alpha * n * log(N_A), n the scoring batch size (alpha = 1 is NASWOT).

    D = distinguishing_ability, N_A = activation_units.
    """
    return wide["distinguishing_ability"] + alpha * batch_size * np.log(wide["activation_units"])


@register_combination("das_rank", metrics=("distinguishing_ability", "activation_units"))
def das_rank(wide: pd.DataFrame, lam: float) -> pd.Series:
    """DAS rank rule: rank(D) + lam * rank(N_A) over the population (average ranks for ties)."""
    return wide["distinguishing_ability"].rank() + lam * wide["activation_units"].rank()


def _positive_mu(p: dict) -> str | None:
    return None if p["mu"] > 0 else f"mu must be > 0 (mu = 10^c), got {p['mu']}"


@register_combination("hnas", metrics=lambda p: (p["trace_metric"], "ntk_condnum"), check=_positive_mu)
def hnas(wide: pd.DataFrame, mu: float, nu: float, trace_metric: str = "ntk_trace") -> pd.Series:
    """HNAS criterion negated: −(mu * |M² − nu²| + κ / (M + 1e-6)), M = trace_metric, κ = ntk_condnum.

    The criterion is minimised by HNAS (``trainfree.analysis.criterion.hnas_criterion``, with its
    non-finite κ rule); its negation is higher-is-better like every combination.
    """
    return -hnas_criterion(wide, mu, nu, trace_metric=trace_metric)


@register_combination("rank_sum", metrics=lambda p: p["metrics"])
def rank_sum(wide: pd.DataFrame, metrics: list[str]) -> pd.Series:
    """Sum of each listed metric's rank, oriented so that better ranks higher (a vote of ranks).

    Ranks over the population, ties averaged; an arch with NaN in any listed metric gets NaN.
    """
    from trainfree.metrics import get_metric

    total = pd.Series(0.0, index=wide.index)
    for m in metrics:
        sign = 1.0 if get_metric(m).higher_is_better else -1.0
        total = total + (sign * wide[m].astype(float)).rank()
    return total


__all__ = ["Combination", "Param", "add_combinations", "check_combinations", "combine",
           "get_combination", "higher_is_better", "label", "list_combinations", "register_combination",
           "resolve"]
