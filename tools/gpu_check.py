"""Throughput of the whole metric suite on one GPU, written to one Markdown and one JSON file.

Called by ``tools/gpu_check.sh`` (which runs the CUDA tests first); on its own::

    python tools/gpu_check.py --device cuda --out results/gpu_check          # the GPU check
    python tools/gpu_check.py --device cpu --archs 3 --out /tmp/gpu_dry      # dry run of the code

On a CPU (``--device cpu``) it is a dry run of the same code at a small size (C=4, N=1,
batch 16, phases of at most 10 s) unless ``--C``, ``--N``, ``--batch-size``, ``--phase-s``
say otherwise.

NB201 at benchmark size (C=16, N=5), one scoring batch of the bundled CIFAR-10 images
(``images/cifar10_partial_5506.npz``, batch 64), archs of ``nb201.sample(n, seed)``,
float32 (TF32 off), every registered metric unless ``--metrics``. Measured:

- per metric, ms per arch (median over archs) from CUDA events around each metric's
  call through the engine (``score_network``), one arch in flight; a metric that first
  needs a shared pass carries its cost;
- ms per arch of the whole suite (host wall time, model build and transfer included);
- peak GPU memory (``torch.cuda.max_memory_allocated`` and ``max_memory_reserved``);
- archs/s at 1, 2 and 4 archs in flight: threads of this process, each on its own CUDA
  stream (the GPU overlaps kernels of different archs while the host launches the next),
  and, with ``--modes threads,processes``, worker processes (``trainfree timing
  --throughput --in-flight K``: one CUDA context each, no shared interpreter lock).

Each phase scores up to ``--archs`` archs and stops early after ``--phase-s`` seconds, so
the whole check has a bounded length; the files say how many archs each figure used.
``--device cuda`` with no GPU visible stops with exit status 3 before measuring anything.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 60.0  # full suite per arch on one H100: 15,625 NB201 archs in 15 min


def _fail(msg: str, code: int = 3) -> None:
    print(f"gpu_check: error: {msg}", file=sys.stderr)
    sys.exit(code)


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _median_ms(secs: list[float]) -> float:
    return 1e3 * statistics.median(secs) if secs else float("nan")


class Setup:
    """Device, batch, archs and metrics shared by every phase."""

    def __init__(self, a: argparse.Namespace):
        import torch

        from trainfree.benchdata import path as benchdata_path
        from trainfree.data import scoring_batch
        from trainfree.metrics import list_metrics, resolve
        from trainfree.metrics.engine import canonical_layout
        from trainfree.spaces import get_space

        self.dev = torch.device(a.device)
        if self.dev.type == "cuda":
            torch.backends.cudnn.allow_tf32 = False  # float32 scores, as on the CPU
            torch.backends.cuda.matmul.allow_tf32 = False
        if a.threads:
            torch.set_num_threads(a.threads)
        self.images = benchdata_path("images/cifar10_partial_5506.npz")
        x, y = scoring_batch("cifar10", a.batch_size, a.seed, root=str(self.images))
        self.x, self.y = canonical_layout(x.to(self.dev)), y.to(self.dev)  # as score_archs lays it out
        self.metrics = resolve(list_metrics() if a.metrics == "all" else a.metrics)
        self.model_kw = {"C": a.C, "N": a.N}
        self.seed = a.seed
        self.archs = get_space("nb201").sample(a.archs + a.warmup, a.seed)
        self.warm, self.archs = self.archs[:a.warmup], self.archs[a.warmup:]

    def build(self, arch: str):
        from trainfree.timing import _build

        return _build(arch, self.seed, self.model_kw, "nb201")

    def sync(self) -> None:
        import torch

        if self.dev.type == "cuda":
            torch.cuda.synchronize(self.dev)

    def reset_peak(self) -> None:
        import torch

        if self.dev.type == "cuda":
            torch.cuda.synchronize(self.dev)
            torch.cuda.reset_peak_memory_stats(self.dev)

    def peak(self) -> dict:
        import torch

        if self.dev.type == "cuda":
            return {"peak_allocated_mib": torch.cuda.max_memory_allocated(self.dev) / 2**20,
                    "peak_reserved_mib": torch.cuda.max_memory_reserved(self.dev) / 2**20}
        from trainfree.timing import _rss_bytes

        return {"rss_mib": _rss_bytes() / 2**20}


def per_metric(s: Setup, phase_s: float, metrics=None, batch=None) -> dict:
    """One arch in flight through the engine: per-metric ms (CUDA events on a GPU) and the
    whole arch's host wall time, build included (``metrics``/``batch``: other than the
    setup's)."""
    from trainfree.metrics import ScoringContext, score_network

    metrics = metrics or s.metrics
    x, y = batch or (s.x, s.y)
    for arch in s.warm:
        score_network(ScoringContext(s.build(arch), x, y, s.dev, channels_last=True), metrics)
    s.reset_peak()
    metric_s: dict[str, list[float]] = {m.name: [] for m in metrics}
    arch_s: list[float] = []
    nan: dict[str, int] = {m.name: 0 for m in metrics}
    t_end = time.perf_counter() + phase_s
    t_start = time.perf_counter()
    for arch in s.archs:
        t0 = time.perf_counter()
        out = score_network(ScoringContext(s.build(arch), x, y, s.dev, channels_last=True), metrics)
        arch_s.append(time.perf_counter() - t0)
        for name, (v, sec) in out.items():
            metric_s[name].append(sec)
            nan[name] += v != v
        if time.perf_counter() > t_end:
            break
    wall = time.perf_counter() - t_start
    return {"archs": len(arch_s), "wall_s": wall, "archs_per_s": len(arch_s) / wall,
            "suite_ms_median": _median_ms(arch_s), "suite_ms_mean": 1e3 * statistics.fmean(arch_s),
            "metric_ms_median": {k: _median_ms(v) for k, v in metric_s.items()},
            "metric_ms_sum": sum(_median_ms(v) for v in metric_s.values()),
            "nan_values": {k: n for k, n in nan.items() if n}, **s.peak()}


def in_flight_threads(s: Setup, k: int, phase_s: float) -> dict:
    """``k`` threads score disjoint archs at once, each on its own CUDA stream (its own
    synchronisation only); archs/s over the phase's wall time."""
    import torch

    from trainfree.metrics import ScoringContext

    names = frozenset(m.name for m in s.metrics)
    lock, it = threading.Lock(), iter(s.archs)
    arch_s: list[float] = []
    errors: list[str] = []
    barrier = threading.Barrier(k + 1)
    deadline = [0.0]

    def worker() -> None:
        stream = torch.cuda.Stream(s.dev) if s.dev.type == "cuda" else None
        ctx_mgr = torch.cuda.stream(stream) if stream is not None else contextlib.nullcontext()
        try:
            with ctx_mgr:
                barrier.wait()
                while time.perf_counter() < deadline[0]:
                    with lock:
                        arch = next(it, None)
                    if arch is None:
                        return
                    t0 = time.perf_counter()
                    ctx = ScoringContext(s.build(arch), s.x, s.y, s.dev, channels_last=True)
                    ctx.requested = names
                    values = [m.fn(ctx) for m in s.metrics]
                    if stream is not None:
                        stream.synchronize()
                    [float(v) for v in values]  # read back, as the engine does
                    with lock:
                        arch_s.append(time.perf_counter() - t0)
        except Exception as e:  # reported below; the phase fails loudly
            errors.append(f"{type(e).__name__}: {e}")
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.abort()

    s.reset_peak()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(k)]
    for t in threads:
        t.start()
    deadline[0] = time.perf_counter() + phase_s
    t0 = time.perf_counter()
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait()
    for t in threads:
        t.join()
    s.sync()
    wall = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"{k} threads in flight: {errors[0]}")
    return {"mode": "threads", "in_flight": k, "archs": len(arch_s), "wall_s": wall,
            "archs_per_s": len(arch_s) / wall, "arch_ms_median": _median_ms(arch_s), **s.peak()}


def in_flight_processes(s: Setup, k: int, n: int) -> dict:
    """``k`` worker processes (``timing.run_throughput``) score ``n`` archs between them, each
    with its share of the CPUs as torch threads."""
    from trainfree.timing import run_throughput

    batch = (s.x.cpu(), s.y.cpu())
    threads = max(1, (os.cpu_count() or 1) // k)  # the CPUs shared out, not k times all of them
    tp = run_throughput(s.archs[:n], [m.name for m in s.metrics], batch, device=str(s.dev), seed=s.seed,
                        model_kwargs=s.model_kw, workers=k, threads=threads, space="nb201")
    mem = "peak_allocated_mib" if s.dev.type == "cuda" else "peak_rss_mib"
    return {"mode": "processes", "in_flight": k, "threads_each": threads, "archs": tp.archs, "wall_s": tp.wall_s,
            "archs_per_s": tp.archs_per_s, "arch_ms_median": _median_ms(tp.arch_s),
            mem: tp.peak_bytes / 2**20}


def environment(s: Setup) -> dict:
    import torch

    env = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "commit": _git_commit(),
           "python": platform.python_version(), "torch": torch.__version__, "host": platform.node(),
           "cpu_count": os.cpu_count(), "device": str(s.dev), "torch_threads": torch.get_num_threads()}
    if s.dev.type == "cuda":
        p = torch.cuda.get_device_properties(s.dev)
        env.update(gpu=torch.cuda.get_device_name(s.dev), gpu_memory_gib=round(p.total_memory / 2**30, 1),
                   cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version())
    return env


def _fmt(v, nd: int = 2) -> str:
    return f"{v:.{nd}f}" if isinstance(v, float) else str(v)


def markdown(r: dict) -> str:
    e, a = r["environment"], r["settings"]
    dev = e.get("gpu", e["device"])
    dry = r.get("dry_run", False)
    lines = [f"# GPU check: {dev}" + (" (dry run of the code: no GPU figures)" if dry else ""), "",
             f"{e['date']}, commit {e['commit']}, torch {e['torch']}"
             + (f", CUDA {e['cuda']}, cuDNN {e['cudnn']}" if "cuda" in e else "")
             + f", {e['cpu_count']} CPUs, host {e['host']}.", "",
             f"NB201 C={a['C']}, N={a['N']}; CIFAR-10 batch {a['batch_size']} of the bundled images; "
             f"{len(r['metrics'])} metrics; float32 (TF32 off); up to {a['archs']} archs per phase, "
             f"at most {a['phase_s']:.0f} s each.", ""]
    if r.get("tests"):
        t = r["tests"]
        lines += ["## CUDA tests", "", f"`{t.get('command', '')}`: {t.get('summary', '')}", ""]
        lines += [f"- {kind}: {name}" for kind in ("failed", "skipped", "passed") for name in t.get(kind, [])]
        lines += [""] if any(t.get(k) for k in ("failed", "skipped", "passed")) else []
    if "per_metric" not in r:
        return "\n".join([*lines, "**Incomplete: no phase finished.**", ""])
    one = r["per_metric"]
    lines += ["## One arch in flight (engine, per metric)", "",
              f"{one['archs']} archs; whole suite {one['suite_ms_median']:.1f} ms per arch (median, host wall "
              f"time, build included; mean {one['suite_ms_mean']:.1f})"
              + ("" if dry else f"; target {TARGET_MS:.0f} ms: "
                 f"{'met' if one['suite_ms_median'] <= TARGET_MS else 'not met'}")
              + "; all 15,625 NB201 archs at this "
              f"rate: {15625 / one['archs_per_s'] / 60:.1f} min.", ""]
    mem = [k for k in one if k.endswith("_mib")]
    lines.append("Peak memory: " + ", ".join(f"{k.removesuffix('_mib')} {one[k]:.1f} MiB" for k in mem) + ".")
    if one["nan_values"]:
        lines.append("NaN values (dead archs): " + ", ".join(f"{k} {n}" for k, n in one["nan_values"].items()))
    fam = r.get("relu_kernel_family")
    lines += ["", "| metric | ms per arch (median) |" + (f" at batch {fam['batch_size']} |" if fam else ""),
              "|---|---:|" + ("---:|" if fam else "")]
    for name, ms in one["metric_ms_median"].items():
        extra = f" {fam['metric_ms_median'][name]:.2f} |" if fam and name in fam["metric_ms_median"] else (
            " |" if fam else "")
        lines.append(f"| {name} | {ms:.2f} |{extra}")
    lines.append(f"| sum of the metrics | {one['metric_ms_sum']:.2f} |" + (" |" if fam else ""))
    if fam:
        lines += ["", f"At the papers' batches (the relu-kernel metrics at batch {fam['batch_size']}, the "
                      f"others at {a['batch_size']}; estimate from the medians): "
                      f"{fam['papers_batches_ms_estimate']:.1f} ms per arch."]
    lines += ["", "## Archs in flight", "",
              "| mode | in flight | archs | wall s | archs/s | ms per arch (median) | peak memory MiB |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for row in r["in_flight"]:
        peak = next((row[k] for k in row if k.startswith("peak") or k == "rss_mib"), float("nan"))
        lines.append(f"| {row['mode']} | {row['in_flight']} | {row['archs']} | {row['wall_s']:.1f} | "
                     f"{row['archs_per_s']:.2f} | {row['arch_ms_median']:.1f} | {peak:.1f} |")
    if r["in_flight"]:
        best = max(r["in_flight"], key=lambda row: row["archs_per_s"])
        lines += ["", f"Best: {best['mode']} x{best['in_flight']}, {best['archs_per_s']:.2f} archs/s "
                      f"({1e3 / best['archs_per_s']:.1f} ms per arch; 15,625 archs in "
                      f"{15625 / best['archs_per_s'] / 60:.1f} min)."]
    if not r.get("complete"):
        lines += ["", "**Incomplete: the check stopped before its last phase; the figures above are the "
                      "phases it finished.**"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda", help="cuda (default), cuda:N, or cpu for a dry run")
    ap.add_argument("--archs", type=int, default=400, help="most archs per phase (default 400)")
    ap.add_argument("--phase-s", type=float, default=None, help="most seconds per phase (default 30)")
    ap.add_argument("--warmup", type=int, default=None, help="untimed archs first (default 3)")
    ap.add_argument("--in-flight", default="1,2,4", help="archs in flight (default 1,2,4)")
    ap.add_argument("--modes", default="threads,processes", help="threads and/or processes (default both)")
    ap.add_argument("--metrics", default="all", help="comma-separated names, or all (default)")
    ap.add_argument("--C", type=int, default=None, help="NB201 channels (default 16)")
    ap.add_argument("--N", type=int, default=None, help="NB201 cells per stage (default 5)")
    ap.add_argument("--batch-size", type=int, default=None, help="scoring batch (default 64)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--naswot-batch", type=int, default=None,
                    help="also time the relu-kernel metrics (naswot, DAS) at this batch, NASWOT's own "
                         "(default 128; 0: skip)")
    ap.add_argument("--tests-json", default=None, help="the CUDA tests' summary (JSON) to include")
    ap.add_argument("--out", default=str(ROOT / "results" / "gpu_check"), help="folder of gpu_check.md/.json")
    a = ap.parse_args(argv)
    # on a CPU this is a dry run of the code: a small network unless the sizes are given
    dry = not a.device.startswith("cuda")
    for key, full, small in (("C", 16, 4), ("N", 5, 1), ("batch_size", 64, 16), ("naswot_batch", 128, 32),
                             ("warmup", 3, 1), ("phase_s", 30.0, 10.0)):
        if getattr(a, key) is None:
            setattr(a, key, small if dry else full)
    if dry and not a.threads:
        a.threads = 1  # tiny ops on a shared CPU: more threads mostly wait on each other
    if dry:
        print(f"gpu_check: dry run on {a.device}: C={a.C}, N={a.N}, batch {a.batch_size}, phases of at most "
              f"{a.phase_s:.0f} s (--C, --N, --batch-size, --phase-s for others)", flush=True)

    import torch

    if a.device.startswith("cuda"):
        if not torch.cuda.is_available() or torch.cuda.device_count() == 0:
            _fail(f"--device {a.device}: no CUDA GPU is visible to torch {torch.__version__} "
                  f"(CUDA build {torch.version.cuda}); run on a GPU machine, or --device cpu for a dry run")
    ks = [int(v) for v in a.in_flight.split(",") if v.strip()]
    modes = [m.strip() for m in a.modes.split(",") if m.strip()]
    if bad := [m for m in modes if m not in ("threads", "processes")]:
        _fail(f"--modes: unknown {bad}; use threads and/or processes", 2)
    t_all = time.perf_counter()
    s = Setup(a)
    report: dict = {"environment": environment(s), "settings": vars(a),
                    "metrics": [m.name for m in s.metrics], "data": str(s.images), "dry_run": dry, "complete": False,
                    "in_flight": []}
    if a.tests_json and Path(a.tests_json).is_file():
        report["tests"] = json.loads(Path(a.tests_json).read_text())
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)

    def save() -> None:  # after every phase: a check stopped by its time limit keeps its figures
        report["seconds"] = time.perf_counter() - t_all
        (out / "gpu_check.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
        (out / "gpu_check.md").write_text(markdown(report))

    save()

    print(f"gpu_check: {report['environment'].get('gpu', a.device)}, {len(s.metrics)} metrics", flush=True)
    report["per_metric"] = one = per_metric(s, a.phase_s)
    save()
    print(f"  1 in flight (engine): {one['suite_ms_median']:.1f} ms per arch, {one['archs']} archs", flush=True)
    family = [m for m in s.metrics if "relu_kernel" in m.passes]
    if a.naswot_batch and family:  # NASWOT's own batch for the metrics of its kernel
        from trainfree.data import scoring_batch

        xb, yb = scoring_batch("cifar10", a.naswot_batch, a.seed, root=str(s.images))
        fam = per_metric(s, a.phase_s / 3, family, (xb.to(s.dev), yb.to(s.dev)))
        fam["batch_size"] = a.naswot_batch
        fam["papers_batches_ms_estimate"] = (
            one["suite_ms_median"] - sum(one["metric_ms_median"][m.name] for m in family)
            + sum(fam["metric_ms_median"].values()))
        report["relu_kernel_family"] = fam
        save()
        print(f"  {', '.join(m.name for m in family)} at batch {a.naswot_batch}: "
              f"{fam['metric_ms_sum']:.1f} ms per arch", flush=True)
    for mode in modes:
        for k in ks:
            if mode == "threads":
                row = in_flight_threads(s, k, a.phase_s)
            elif k == 1:
                continue  # one process in flight is the engine row above
            else:  # archs that k in flight score in 0.6 phases if they are up to 2x faster than one
                n = max(2 * k, min(len(s.archs), int(one["archs_per_s"] * a.phase_s * min(k, 2) * 0.6)))
                row = in_flight_processes(s, k, n)
            report["in_flight"].append(row)
            save()
            print(f"  {mode} x{k}: {row['archs_per_s']:.2f} archs/s ({row['archs']} archs)", flush=True)
    report["complete"] = True
    save()
    print(f"gpu_check: wrote {out / 'gpu_check.md'} and {out / 'gpu_check.json'} "
          f"({report['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
