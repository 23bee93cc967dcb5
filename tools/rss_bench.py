"""Resident memory of one process scoring many NB201 archs with the metric suite.

Builds and scores ``--archs`` archs of ``nb201.sample(n, seed)`` one after another in this
process (one fixed batch, the default suite of ``trainfree timing`` unless ``--metrics``),
exactly as ``score_archs`` does, and prints the resident set size every ``--every`` archs
(VmRSS of /proc/self/status), with the live tensor count, the objects the garbage
collector tracks, and, on a GPU, ``torch.cuda.memory_allocated``. A flat RSS column
means no memory is kept per arch::

    nice -n 10 python tools/rss_bench.py --archs 2000 --C 4 --N 1 --batch-size 16
    python tools/rss_bench.py --archs 2000 --device cuda          # C=16, N=5, batch 64

``--json FILE`` also writes the table. The exit status is 1 when RSS grows by more
than ``--max-growth-mib`` between the first and the last report (``--max-growth-mib 0``:
report only).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path


def live_tensors() -> int:
    """Tensors the garbage collector can see (parameters and buffers included)."""
    import warnings

    import torch

    n = 0
    with warnings.catch_warnings():  # isinstance on some torch.distributed objects warns
        warnings.simplefilter("ignore")
        for o in gc.get_objects():
            try:
                if isinstance(o, torch.Tensor):
                    n += 1
            except ReferenceError:  # a dead weak proxy
                pass
    return n


def run(archs: int, metrics: list[str], *, C: int, N: int, batch_size: int, device: str, seed: int,
        every: int, threads: int, trim: bool = False, heap_limit_mib: float | None = None,
        out=sys.stdout) -> list[dict]:
    """Score ``archs`` archs in this process through ``score_archs``, one call per arch (as a
    scoring shard's loop runs them); one row per ``every`` archs (and one after the first).
    ``heap_limit_mib``: the scoring engine's heap guard limit (None: the library's default;
    0: off, so the allocator's untrimmed growth shows)."""
    import torch

    import trainfree.metrics.engine as engine
    from trainfree.data import scoring_batch
    from trainfree.io import benchdata_root
    from trainfree.memory import malloc_trim, rss_mib
    from trainfree.metrics import resolve, score_archs
    from trainfree.spaces import get_space

    if threads:
        torch.set_num_threads(threads)
    dev = torch.device(device)
    if dev.type == "cuda":  # float32 scores, as score_archs runs them
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    img = benchdata_root() / "images" / "cifar10_partial_5506.npz"
    dataset, root = ("cifar10", str(img)) if img.is_file() else ("digits", None)
    x, y = scoring_batch(dataset, batch_size, seed, root=root)
    x, y = x.to(dev), y.to(dev)
    sp = get_space("nb201")
    ms = resolve(metrics)
    if heap_limit_mib is not None:
        engine._HEAP.limit_mib = heap_limit_mib
    sample = sp.sample(archs, seed)
    rows: list[dict] = []
    t0 = time.perf_counter()

    def report(done: int) -> None:
        gc.collect()
        row = {"archs": done, "rss_mib": round(rss_mib(), 1), "tensors": live_tensors(),
               "gc_objects": len(gc.get_objects()), "heap_trims": engine._HEAP.trims,
               "seconds": round(time.perf_counter() - t0, 1)}
        if trim:  # what the process holds once the allocator returns its free pages
            malloc_trim()
            row["rss_trimmed_mib"] = round(rss_mib(), 1)
        if dev.type == "cuda":
            row["cuda_alloc_mib"] = round(torch.cuda.memory_allocated(dev) / 2**20, 1)
        rows.append(row)
        print("  ".join(f"{k}={v}" for k, v in row.items()), file=out, flush=True)

    print(f"nb201 C={C} N={N}, {dataset} batch {batch_size}, {len(ms)} metrics "
          f"({','.join(m.name for m in ms)}) on {device}, {torch.get_num_threads()} threads, "
          f"heap guard {engine._HEAP.limit_mib:g} MiB, pid {os.getpid()}",
          file=out, flush=True)
    for i, arch in enumerate(sample):
        if i == 1:  # after one arch: lazily built kernels, caches and allocator pools are in place
            report(1)
        score_archs("nb201", [arch], [m.name for m in ms], (x, y), dataset=dataset, seed=seed,
                    model_kwargs={"C": C, "N": N}, device=device, progress=False)
        if (i + 1) % every == 0 or i + 1 == len(sample):
            report(i + 1)
    return rows


def main(argv: list[str] | None = None) -> int:
    from trainfree.cli.timing import DEFAULT_SUITE

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--archs", type=int, default=2000, help="archs to score (default 2000)")
    ap.add_argument("--every", type=int, default=250, help="report every this many archs (default 250)")
    ap.add_argument("--metrics", default=",".join(DEFAULT_SUITE), help="comma-separated metric names")
    ap.add_argument("--C", type=int, default=16, help="NB201 channels (default 16)")
    ap.add_argument("--N", type=int, default=5, help="NB201 cells per stage (default 5)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: leave as is)")
    ap.add_argument("--trim", action="store_true",
                    help="at each report also give free heap pages back (glibc malloc_trim) and print the "
                         "RSS after it: growth that trimming removes is the allocator's, not kept objects")
    ap.add_argument("--heap-limit-mib", type=float, default=None,
                    help="the scoring engine's heap guard: trim when RSS grows this much (default: the "
                         "library's; 0: off)")
    ap.add_argument("--json", default=None, help="also write the rows here")
    ap.add_argument("--max-growth-mib", type=float, default=0.0,
                    help="exit 1 when RSS grows more than this from the first to the last report (0: off)")
    a = ap.parse_args(argv)
    rows = run(a.archs, [m for m in a.metrics.split(",") if m], C=a.C, N=a.N, batch_size=a.batch_size,
               device=a.device, seed=a.seed, every=a.every, threads=a.threads, trim=a.trim,
               heap_limit_mib=a.heap_limit_mib)
    growth = rows[-1]["rss_mib"] - rows[0]["rss_mib"]
    print(f"RSS growth from arch {rows[0]['archs']} to arch {rows[-1]['archs']}: {growth:+.1f} MiB")
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps({"args": vars(a), "rows": rows, "growth_mib": growth}, indent=2))
    return 1 if a.max_growth_mib and growth > a.max_growth_mib else 0


if __name__ == "__main__":
    sys.exit(main())
