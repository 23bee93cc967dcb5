"""Where the time of scoring goes: per-operator profile of ``score_archs`` on NB201 archs.

Scores ``--archs`` seeded NB201 archs (benchmark networks, C=16, N=5) one call per arch
on the bundled CIFAR-10 images, as ``../shared/peerbench/side_by_side.py``'s "ours" side
does, under ``torch.profiler``, and prints the operators by self CPU time (with call counts)
and the Python functions by cumulative time (cProfile), so a change can be profiled before
and after::

    python tools/profile_scoring.py --metrics naswot --batch-size 128 --archs 10
    python tools/profile_scoring.py --metrics grad_norm,snip,grasp,fisher,jacob_cov,plain,synflow,l2_norm

Run it on an otherwise idle machine: other processes on the cores distort every figure.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--metrics", default="naswot", help="comma-separated metric names (default naswot)")
    ap.add_argument("--archs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: leave as is)")
    ap.add_argument("--top", type=int, default=15, help="rows of each table")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)

    import torch
    from torch.profiler import ProfilerActivity, profile

    from trainfree.data import scoring_batch
    from trainfree.io import benchdata_root
    from trainfree.metrics import score_archs
    from trainfree.spaces import get_space

    if a.threads:
        torch.set_num_threads(a.threads)
    metrics = [m for m in a.metrics.split(",") if m]
    root = str(benchdata_root() / "images" / "cifar10_partial_5506.npz")
    x, y = scoring_batch("cifar10", a.batch_size, a.seed, root=root)
    archs = get_space("nb201").sample(a.archs + 1, a.seed)

    def one(arch: str) -> None:
        score_archs("nb201", [arch], metrics, (x, y), dataset="cifar10", progress=False)

    one(archs[0])  # warm-up: kernels, caches and allocator pools in place
    t0 = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for arch in archs[1:]:
            one(arch)
    wall = (time.perf_counter() - t0) / a.archs
    print(f"{a.archs} NB201 archs (C=16, N=5), {','.join(metrics)}, batch {a.batch_size}, "
          f"{torch.get_num_threads()} threads; {wall * 1e3:.0f} ms per arch under the profiler")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=a.top))
    pr = cProfile.Profile()
    pr.enable()
    for arch in archs[1:]:
        one(arch)
    pr.disable()
    out = io.StringIO()
    pstats.Stats(pr, stream=out).sort_stats("cumulative").print_stats(a.top + 10)
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
