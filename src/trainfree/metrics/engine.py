"""The scoring engine: one network build, shared passes, every requested metric.

``ScoringContext`` holds the network (train mode, on its device), the fixed batch, and a
cache of shared passes. Each pass is computed the first time a metric asks for it and
reused by every later metric, so e.g. ``naswot``, ``distinguishing_ability`` and
``activation_units`` cost one forward together. Metrics that would mutate the weights
work on a copy (``ctx.copy_model()``).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from trainfree.contracts import SCORE_COLUMNS, wide_scores  # noqa: F401  (wide_scores: part of this module's API)
from trainfree.memory import HeapGuard
from trainfree.metrics.registry import Metric, resolve
from trainfree.seeding import derive_seed, seed_everything


class ScoringContext:
    """A network in train mode with its scoring batch ``x`` (B,3,H,W) and labels ``y`` (B,).

    ``channels_last``: the no-grad forward passes (the ReLU kernel of ``naswot`` and its
    DAS atoms) run the batch in channels-last memory, where the benchmark networks'
    convolutions, BatchNorm and pooling take vectorised CPU kernels (about twice as fast
    at batch 128). The layout changes float rounding in the last bits, so it is a fixed
    property of a scoring run, not of the batch handed in. Off by default: a model of
    one's own may flatten with ``.view``, which needs the contiguous layout.
    """

    def __init__(self, model: nn.Module, x: torch.Tensor | None, y: torch.Tensor | None,
                 device: str | torch.device = "cpu", channels_last: bool = False):
        self.device = torch.device(device)
        self.model = model.to(self.device).train()
        self.x = None if x is None else x.to(self.device)
        self.y = None if y is None else y.to(self.device)
        self.channels_last = channels_last
        self._cache: dict[str, Any] = {}
        # names of the metrics being scored (set by score_network); None = unknown/all,
        # so a pass may skip work that only unrequested metrics need
        self.requested: frozenset[str] | None = None

    def wants(self, metric: str) -> bool:
        """Whether ``metric`` may be asked of this context."""
        return self.requested is None or metric in self.requested

    def shared(self, key: str, compute: Callable[[ScoringContext], Any]) -> Any:
        """Result of pass ``key``, computed once per context."""
        if key not in self._cache:
            self._cache[key] = compute(self)
        return self._cache[key]

    @property
    def forward_x(self) -> torch.Tensor | None:
        """The batch for the no-grad forward passes (channels-last with ``channels_last``)."""
        if self.channels_last and self.x is not None and self.x.dim() == 4:
            return self.shared("x_channels_last", lambda c: c.x.contiguous(memory_format=torch.channels_last))
        return self.x

    def copy_model(self) -> nn.Module:
        """A deep copy of the network, for metrics that change weights or structure."""
        return copy.deepcopy(self.model)


def _finite(v: float) -> float:
    """NaN policy: any non-finite score (dead arch, singular kernel) is stored as NaN."""
    v = float(v)
    return v if math.isfinite(v) else float("nan")


def score_network(ctx: ScoringContext, metrics: Sequence[Metric]) -> dict[str, tuple[float, float]]:
    """Compute ``metrics`` on one context -> {name: (value, seconds)}.

    ``seconds`` is the wall time of that metric's own call, including any shared pass it
    was the first to need (so the sum over metrics is the total cost).
    """
    ctx.requested = frozenset(m.name for m in metrics) | (ctx.requested or frozenset())
    if ctx.device.type == "cuda":
        return _score_network_cuda(ctx, metrics)
    out: dict[str, tuple[float, float]] = {}
    for m in metrics:
        t0 = time.perf_counter()
        value = m.fn(ctx)
        out[m.name] = (_finite(value), time.perf_counter() - t0)
    return out


def _score_network_cuda(ctx: ScoringContext, metrics: Sequence[Metric]) -> dict[str, tuple[float, float]]:
    """``score_network`` on a GPU: per-metric time from CUDA events and one synchronisation
    per arch (at the end), so the timing itself adds no host sync between metrics. A metric
    may return a 0-d tensor: it is read back with the others after that one sync."""
    stream = torch.cuda.current_stream(ctx.device)
    marks, values = [], []
    for m in metrics:
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record(stream)
        values.append(m.fn(ctx))
        end.record(stream)
        marks.append((start, end))
    torch.cuda.synchronize(ctx.device)
    return {m.name: (_finite(v.item() if isinstance(v, torch.Tensor) else v), s.elapsed_time(e) / 1e3)
            for m, v, (s, e) in zip(metrics, values, marks)}


#: one per process: the resident set stays within 256 MiB of its level after the first arch
_HEAP = HeapGuard(256.0)


def canonical_layout(x: torch.Tensor) -> torch.Tensor:
    """The batch in contiguous memory, whatever layout it came in.

    The layout decides which CPU kernels run, so float results depend on it in the last
    bits: one layout makes a score the same whether the batch was freshly drawn (a
    channels-last view of the NHWC images) or read back from a cached file (contiguous).
    """
    return x.contiguous()


def score_archs(
    space: str,
    archs: Iterable[str],
    metrics: str | Sequence[str],
    batch: tuple[torch.Tensor, torch.Tensor] | None,
    *,
    dataset: str,
    seed: int = 1,
    model_kwargs: dict | None = None,
    device: str = "cpu",
    fast_steps: int = 0,
    fast_train: Callable[[nn.Module, str], None] | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Score every arch with every metric -> tidy table (``SCORE_COLUMNS``).

    Each network is initialised with a seed derived from (arch id, ``seed``), so values
    do not depend on the order of ``archs``. With ``fast_steps > 0``, ``fast_train(model,
    arch)`` trains the network in place before scoring; its wall time is the row's
    ``fast_train_seconds`` (the same for every metric of that arch). On a GPU the batch
    is moved there once, networks are built there, and TF32 is switched off for the
    process (scores in float32, as on the CPU).
    """
    from trainfree.spaces import get_space

    sp = get_space(space)
    ms = resolve(list(metrics) if not isinstance(metrics, str) else metrics)
    x, y = batch if batch is not None else (None, None)
    if x is None and any(m.needs_data for m in ms):
        raise ValueError("these metrics need a scoring batch: " + ", ".join(m.name for m in ms if m.needs_data))
    if torch.device(device).type == "cuda":  # float32 scores as on the CPU: no TF32, no AMP
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    if x is not None:  # the batch goes to the device once, not once per arch
        x, y = canonical_layout(x.to(device)), (None if y is None else y.to(device))
    rows = []
    archs = list(archs)
    heap = _HEAP
    for arch in tqdm(archs, desc=f"score {space}", disable=not progress, mininterval=5):
        arch = sp.canonical(arch)
        seed_everything(derive_seed(arch, seed))
        model = sp.build_model(arch, **(model_kwargs or {})).to(device)  # fast training on the device too
        train_sec = 0.0
        if fast_steps > 0:
            if fast_train is None:
                raise ValueError("fast_steps > 0 needs a fast_train function")
            t0 = time.perf_counter()
            fast_train(model, arch)
            train_sec = time.perf_counter() - t0
        ctx = ScoringContext(model, x, y, device, channels_last=True)
        for name, (value, sec) in score_network(ctx, ms).items():
            rows.append((space, arch, name, value, sec, dataset, 0 if x is None else len(x), seed,
                         fast_steps, str(device), train_sec))
        del ctx, model
        heap.check()  # freed activations stay resident in glibc's heap until trimmed
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def score_on_dataset(
    space: str,
    archs: Iterable[str],
    metrics: str | Sequence[str],
    *,
    dataset: str,
    root: str | None = None,
    batch_size: int,
    seed: int = 1,
    model_kwargs: dict | None = None,
    device: str = "cpu",
    cache_dir: str | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """:func:`score_archs` on the fixed scoring batch of ``dataset``, with networks of the
    dataset's class count: what ``trainfree score``, the search pool and the Suite-Zero
    validation run (the workflow's scoring shards read the same batch from its file instead).

    The batch is ``trainfree.data.scoring_batch(dataset, batch_size, seed, root=root)``,
    built only when a metric needs data; ``seed`` also seeds every network's initialisation
    (with its arch id). ``model_kwargs``: the space's build options (``num_classes`` is set here).
    """
    from trainfree.data import load_dataset, num_classes, scoring_batch

    ms = resolve(list(metrics) if not isinstance(metrics, str) else metrics)
    batch = None
    classes = num_classes(dataset) or 10
    if any(m.needs_data for m in ms):
        batch = scoring_batch(dataset, batch_size, seed, root=root, cache_dir=cache_dir)
        if num_classes(dataset) is None:
            classes = load_dataset(dataset, root).num_classes
    return score_archs(space, archs, [m.name for m in ms], batch, dataset=dataset, seed=seed,
                       model_kwargs={**(model_kwargs or {}), "num_classes": classes}, device=device,
                       progress=progress)
