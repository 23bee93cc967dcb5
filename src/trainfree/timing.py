"""``trainfree timing``: time and memory of the scoring engine, shared vs unshared passes.

For a fixed seeded set of archs of a space (``--space``, default NB201;
``spaces.<name>.sample(n, seed)``) it measures, per arch:

- the whole metric suite through the engine in one context (passes shared);
- every metric alone in a fresh context (fresh network, no sharing); the sum over the
  metrics is the unshared suite, so ``speedup = unshared / shared`` is a measured ratio;
- ``naswot`` alone at its own batch size (128 by default, the original procedure).

Reported: median seconds per arch (model build excluded, it is timed on its own row) and
peak memory: resident set size above the pre-phase level (sampled every few ms) on CPU,
``torch.cuda.max_memory_allocated`` on GPU. Values of shared and unshared runs are
compared too (they must agree).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from trainfree.cli.args import model_kwargs
from trainfree.cli.timing import DEFAULT_SUITE  # the options live there (the CLI loads no torch)
from trainfree.memory import rss_mib


def _rss_bytes() -> int:
    return int(rss_mib() * 2**20)


class PeakMemory:
    """Context manager: peak memory (bytes) above the level at entry.

    CPU: RSS sampled every ``interval`` s by a thread; CUDA: ``max_memory_allocated``.
    """

    def __init__(self, device: torch.device, interval: float = 0.002):
        self.device, self.interval = device, interval
        self.peak = 0
        self._stop = threading.Event()

    def __enter__(self) -> PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._base = torch.cuda.memory_allocated(self.device)
        else:
            self._base = _rss_bytes()
            self._max = self._base
            self._thread = threading.Thread(target=self._poll, daemon=True)
            self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._max = max(self._max, _rss_bytes())
            time.sleep(self.interval)

    def __exit__(self, *exc: object) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.peak = torch.cuda.max_memory_allocated(self.device) - self._base
        else:
            self._stop.set()
            self._thread.join()
            self._max = max(self._max, _rss_bytes())
            self.peak = self._max - self._base


@dataclass
class TimingResult:
    """Per-row lists over archs of seconds and peak bytes, plus value agreement."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    peak: dict[str, list[int]] = field(default_factory=dict)
    max_rel_diff: float = 0.0

    def add(self, row: str, sec: float, peak: int) -> None:
        self.seconds.setdefault(row, []).append(sec)
        self.peak.setdefault(row, []).append(peak)

    def table(self) -> pd.DataFrame:
        """One row per measured item: median and mean s/arch, max peak MiB, archs."""
        rows = []
        for k, secs in self.seconds.items():
            rows.append({"item": k, "median_s": statistics.median(secs), "mean_s": float(np.mean(secs)),
                         "peak_mib": max(self.peak[k]) / 2**20, "archs": len(secs)})
        return pd.DataFrame(rows)


def _build(arch: str, seed: int, model_kwargs: dict, space: str):
    from trainfree.seeding import derive_seed, seed_everything
    from trainfree.spaces import get_space

    sp = get_space(space)
    seed_everything(derive_seed(sp.canonical(arch), seed))
    return sp.build_model(arch, **model_kwargs)


def _rel(a: float, b: float) -> float:
    if np.isnan(a) and np.isnan(b):
        return 0.0
    return abs(a - b) / max(abs(a), abs(b), 1e-30)


def run_timing(archs: list[str], metrics: list[str], batch: tuple[torch.Tensor, torch.Tensor],
              naswot_batch: tuple[torch.Tensor, torch.Tensor] | None, *, device: str = "cpu",
              seed: int = 0, model_kwargs: dict | None = None, progress: bool = False,
              space: str) -> TimingResult:
    """Measure the suite shared, each metric alone (unshared), and naswot alone on ``archs``
    (any form ``space`` accepts)."""
    from trainfree.metrics import ScoringContext, resolve, score_network
    from trainfree.metrics.engine import canonical_layout

    dev = torch.device(device)
    kw = model_kwargs or {}
    ms = resolve(metrics)
    res = TimingResult()
    x, y = canonical_layout(batch[0]), batch[1]  # as score_archs lays it out
    for i, arch in enumerate(archs):
        t0 = time.perf_counter()
        model = _build(arch, seed, kw, space)
        res.add("model build", time.perf_counter() - t0, 0)
        with PeakMemory(dev) as pm:
            t0 = time.perf_counter()
            shared = score_network(ScoringContext(model, x, y, dev, channels_last=True), ms)
            total = time.perf_counter() - t0
        res.add(f"suite shared ({len(ms)} metrics)", total, pm.peak)
        del model
        unshared_total, peaks = 0.0, []
        for m in ms:
            model = _build(arch, seed, kw, space)
            with PeakMemory(dev) as pm:
                t0 = time.perf_counter()
                alone = score_network(ScoringContext(model, x, y, dev, channels_last=True), [m])
                sec = time.perf_counter() - t0
            del model
            res.add(f"  {m.name} alone", sec, pm.peak)
            unshared_total += sec
            peaks.append(pm.peak)
            res.max_rel_diff = max(res.max_rel_diff, _rel(shared[m.name][0], alone[m.name][0]))
        res.add(f"suite one at a time ({len(ms)} metrics)", unshared_total, max(peaks))
        if naswot_batch is not None:
            model = _build(arch, seed, kw, space)
            with PeakMemory(dev) as pm:
                t0 = time.perf_counter()
                score_network(ScoringContext(model, *naswot_batch, dev, channels_last=True), resolve(["naswot"]))
                sec = time.perf_counter() - t0
            res.add(f"naswot alone (batch {len(naswot_batch[0])})", sec, pm.peak)
            del model
        if progress:
            print(f"  arch {i + 1}/{len(archs)} done", flush=True)
    return res


def format_report(res: TimingResult, archs: int, batch_size: int, device: str, space: str,
                  model: str = "C=16, N=5") -> str:
    """The printed table plus the speedup line (``model``: the network's options, as text)."""
    t = res.table()
    shared = t[t.item.str.startswith("suite shared")].median_s.iloc[0]
    unshared = t[t.item.str.startswith("suite one at a time")].median_s.iloc[0]
    lines = [f"{space.upper()} ({model}) on {device}, {torch.get_num_threads()} threads, batch {batch_size}, "
             f"{archs} archs ({space}.sample), median seconds per arch",
             f"{'item':<34} {'median s':>9} {'mean s':>9} {'peak MiB':>9}"]
    for _, r in t.iterrows():
        lines.append(f"{r['item']:<34} {r.median_s:9.3f} {r.mean_s:9.3f} {r.peak_mib:9.1f}")
    per_arch = [u / s for u, s in zip(
        res.seconds[t[t.item.str.startswith('suite one at a time')].item.iloc[0]],
        res.seconds[t[t.item.str.startswith('suite shared')].item.iloc[0]])]
    lines.append(f"sharing speedup (one at a time / shared): {unshared / shared:.2f}x of medians, "
                 f"median of per-arch ratios {statistics.median(per_arch):.2f}x")
    lines.append(f"max relative difference shared vs alone values: {res.max_rel_diff:.2e}")
    return "\n".join(lines)


# ------------------------------------------------------------------ throughput (archs/s)


@dataclass
class Throughput:
    """Whole-suite throughput of ``workers`` processes scoring disjoint archs concurrently.

    ``wall_s`` spans the timed phase (after every worker built its context and scored one
    untimed warm-up arch); ``arch_s`` and ``metric_s`` are per-arch seconds (model build
    included in ``arch_s``); ``peak_bytes`` is the largest per-worker peak (GPU:
    ``torch.cuda.max_memory_allocated``; CPU: resident set size).
    """

    workers: int
    threads: int
    archs: int
    wall_s: float
    arch_s: list[float]
    metric_s: dict[str, list[float]]
    peak_bytes: int

    @property
    def archs_per_s(self) -> float:
        return self.archs / self.wall_s if self.wall_s > 0 else float("nan")


def _score_loop(archs: list[str], metrics: list[str], batch: tuple[torch.Tensor, torch.Tensor],
                device: str, seed: int, model_kwargs: dict,
                space: str) -> tuple[list[float], dict[str, list[float]]]:
    """Build and score each arch of ``space`` with the whole suite (one shared context per arch)."""
    from trainfree.metrics import ScoringContext, resolve, score_network
    from trainfree.metrics.engine import canonical_layout

    ms = resolve(metrics)
    dev = torch.device(device)
    x, y = (t.to(dev) for t in batch)  # the batch stays on the device for every arch
    x = canonical_layout(x)  # as score_archs lays it out
    arch_s: list[float] = []
    metric_s: dict[str, list[float]] = {m.name: [] for m in ms}
    for arch in archs:
        t0 = time.perf_counter()
        out = score_network(ScoringContext(_build(arch, seed, model_kwargs, space), x, y, dev, channels_last=True), ms)
        arch_s.append(time.perf_counter() - t0)
        for name, (_v, sec) in out.items():
            metric_s[name].append(sec)
    return arch_s, metric_s


def _peak_bytes(device: str) -> int:
    if torch.device(device).type == "cuda":
        return int(torch.cuda.max_memory_allocated(torch.device(device)))
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _worker(rank: int, archs: list[str], metrics: list[str], batch, device: str, seed: int,
            model_kwargs: dict, threads: int, barrier, queue, space: str) -> None:
    """One of several processes in flight: warm up, wait for all, score ``archs``, report."""
    try:
        if threads:
            torch.set_num_threads(threads)
        _score_loop(archs[:1], metrics, batch, device, seed, model_kwargs, space)  # untimed warm-up
        if torch.device(device).type == "cuda":
            torch.cuda.reset_peak_memory_stats(torch.device(device))
        barrier.wait()
        arch_s, metric_s = _score_loop(archs, metrics, batch, device, seed, model_kwargs, space)
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize(torch.device(device))
        queue.put((rank, time.perf_counter(), arch_s, metric_s, _peak_bytes(device), None))
    except Exception as e:  # reported by the parent, which would otherwise wait forever
        barrier.abort()
        queue.put((rank, time.perf_counter(), [], {}, 0, f"{type(e).__name__}: {e}"))


def run_throughput(archs: list[str], metrics: list[str], batch: tuple[torch.Tensor, torch.Tensor], *,
                   device: str = "cpu", seed: int = 0, model_kwargs: dict | None = None,
                   workers: int = 1, threads: int = 0, space: str) -> Throughput:
    """Score ``archs`` with the whole suite by ``workers`` processes in flight at once.

    Workers share the device (on a GPU: one CUDA context each, kernels of different archs
    overlap); arch ``i`` goes to worker ``i % workers``. ``workers=1`` runs in this process.
    ``threads`` sets torch's intra-op threads per worker (0: leave as is).
    """
    kw = model_kwargs or {}
    if workers <= 1:
        if threads:
            torch.set_num_threads(threads)
        _score_loop(archs[:1], metrics, batch, device, seed, kw, space)  # warm-up
        if torch.device(device).type == "cuda":
            torch.cuda.reset_peak_memory_stats(torch.device(device))
        t0 = time.perf_counter()
        arch_s, metric_s = _score_loop(archs, metrics, batch, device, seed, kw, space)
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize(torch.device(device))
        return Throughput(1, torch.get_num_threads(), len(archs), time.perf_counter() - t0, arch_s,
                          metric_s, _peak_bytes(device))
    import torch.multiprocessing as mp

    ctx = mp.get_context("spawn")  # CUDA cannot be used in forked children
    barrier, queue = ctx.Barrier(workers + 1), ctx.Queue()
    parts = [archs[r::workers] for r in range(workers)]
    procs = [ctx.Process(target=_worker, args=(r, parts[r], metrics, batch, device, seed, kw, threads,
                                              barrier, queue, space)) for r in range(workers)]
    for p in procs:
        p.start()
    try:
        barrier.wait()
    except Exception:  # a worker failed before the start: its message is in the queue
        pass
    t0 = time.perf_counter()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    errors = [err for *_, err in results if err]
    if errors:
        raise RuntimeError("timing worker failed: " + errors[0])
    arch_s = [s for r in results for s in r[2]]
    metric_s = {m: [s for r in results for s in r[3][m]] for m in results[0][3]}
    return Throughput(workers, threads or torch.get_num_threads(), len(archs),
                      max(r[1] for r in results) - t0, arch_s, metric_s, max(r[4] for r in results))


def format_throughput(tp: Throughput, device: str) -> str:
    """Per-arch milliseconds per metric (median over archs), whole suite, peak memory, archs/s."""
    mem = "peak GPU memory (max_memory_allocated)" if torch.device(device).type == "cuda" else "peak RSS"
    lines = [f"whole-suite throughput on {device}: {tp.workers} worker(s) in flight x {tp.threads} thread(s), "
             f"{tp.archs} archs, shared passes",
             f"{'metric':<24} {'median ms/arch':>15}"]
    for name, secs in tp.metric_s.items():
        lines.append(f"{name:<24} {1e3 * statistics.median(secs):15.2f}")
    lines.append(f"{'whole suite (+ build)':<24} {1e3 * statistics.median(tp.arch_s):15.2f}")
    lines.append(f"{mem}: {tp.peak_bytes / 2**20:.1f} MiB (largest worker)")
    lines.append(f"archs/s: {tp.archs_per_s:.3f} ({tp.wall_s:.2f} s wall for {tp.archs} archs); "
                 f"15,625 NB201 archs at this rate: {15625 / tp.archs_per_s / 60:.1f} min")
    return "\n".join(lines)


def _default_images() -> Path:
    from trainfree.io import benchdata_root

    return benchdata_root() / "images" / "cifar10_partial_5506.npz"


def handler(args: argparse.Namespace) -> int:
    """Run the timing described by ``args`` (options: :mod:`trainfree.cli.timing`); prints a table, returns 0."""
    from trainfree.data import scoring_batch
    from trainfree.spaces import get_space

    if args.threads:
        torch.set_num_threads(args.threads)
    root = args.data_root
    dataset = args.dataset
    if root is None and dataset != "digits":
        img = _default_images()
        root = str(img) if img.is_file() else None
        dataset = dataset if root else "digits"
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    if metrics == ["all"]:
        from trainfree.metrics.registry import list_metrics

        metrics = list_metrics()
    batch = scoring_batch(dataset, args.batch_size, args.seed, root=root)
    nb = scoring_batch(dataset, args.naswot_batch, args.seed, root=root) if args.naswot_batch else None
    sp = get_space(args.space)
    archs = sp.sample(args.archs, args.seed)
    kw = {**sp.MODEL_DEFAULTS, **model_kwargs(sp, args)}
    if args.device.startswith("cuda") and not args.tf32:
        torch.backends.cudnn.allow_tf32 = False  # full float32 scores, as on the CPU
        torch.backends.cuda.matmul.allow_tf32 = False
    if args.throughput:
        tp = run_throughput(archs, metrics, batch, device=args.device, seed=args.seed, model_kwargs=kw,
                            workers=args.in_flight, threads=args.threads, space=args.space)
        model = ", ".join(f"{k}={v}" for k, v in kw.items())
        print(f"data: {dataset} {root or ''}; {args.space.upper()} ({model}), batch {args.batch_size}")
        print(format_throughput(tp, args.device))
        if args.out:
            rows = [{"item": m, "median_ms": 1e3 * statistics.median(v)} for m, v in tp.metric_s.items()]
            rows.append({"item": "whole suite", "median_ms": 1e3 * statistics.median(tp.arch_s)})
            t = pd.DataFrame(rows).assign(device=args.device, workers=tp.workers, threads=tp.threads,
                                          archs=tp.archs, archs_per_s=tp.archs_per_s,
                                          peak_mib=tp.peak_bytes / 2**20)
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            t.to_csv(args.out, index=False)
        return 0
    if args.warmup:
        run_timing(archs[:1], metrics, batch, nb, device=args.device, seed=args.seed, model_kwargs=kw,
                  space=args.space)
    res = run_timing(archs, metrics, batch, nb, device=args.device, seed=args.seed, model_kwargs=kw,
                    progress=args.progress, space=args.space)
    model = ", ".join(f"{k}={v}" for k, v in kw.items())
    report = format_report(res, len(archs), args.batch_size, args.device, args.space, model)
    print(f"data: {dataset} {root or ''}")
    print(report)
    if args.out:
        t = res.table()
        t.insert(0, "device", args.device)
        from trainfree.io import write_csv

        write_csv(t, args.out)
    return 0


__all__ = ["DEFAULT_SUITE", "TimingResult", "PeakMemory", "Throughput", "format_report", "format_throughput", "handler",
           "run_timing", "run_throughput"]
