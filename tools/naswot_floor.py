"""naswot against its floor: build + one no-grad forward, in both memory layouts.

For each of ``--archs`` seeded NB201 archs (benchmark networks, C=16, N=5) and the bundled
CIFAR-10 images at batch 128, interleaved arch by arch, it times as a whole:

- floor, contiguous: build + one no-grad forward of the batch in contiguous (NCHW) memory;
- floor, channels-last: the same with the batch in channels-last memory, which is how
  ``score_archs`` runs the ReLU kernel's forward;
- naswot: ``score_archs(..., ["naswot"])`` on the contiguous batch (build included);

and prints the medians and naswot over each floor. Run it on an otherwise idle machine::

    python tools/naswot_floor.py --archs 20
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--archs", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: leave as is)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)

    import torch

    from trainfree.data import scoring_batch
    from trainfree.io import benchdata_root
    from trainfree.metrics import score_archs
    from trainfree.spaces import get_space

    if a.threads:
        torch.set_num_threads(a.threads)
    root = str(benchdata_root() / "images" / "cifar10_partial_5506.npz")
    x, y = scoring_batch("cifar10", a.batch_size, a.seed, root=root)
    layouts = {"contiguous": x.contiguous(), "channels-last": x.contiguous(memory_format=torch.channels_last)}
    sp = get_space("nb201")
    archs = sp.sample(a.archs + 1, a.seed)

    def floor(arch: str, xb: torch.Tensor) -> None:
        net = sp.build_model(arch)
        with torch.no_grad():
            net(xb)

    def naswot(arch: str) -> None:
        score_archs("nb201", [arch], ["naswot"], (layouts["contiguous"], y), dataset="cifar10", progress=False)

    jobs = {f"floor, {k}": (lambda arch, xb=xb: floor(arch, xb)) for k, xb in layouts.items()}
    jobs["naswot (score_archs)"] = naswot
    times: dict[str, list[float]] = {k: [] for k in jobs}
    for i, arch in enumerate(archs):
        order = list(jobs) if i % 2 == 0 else list(jobs)[::-1]
        for k in order:
            t0 = time.perf_counter()
            jobs[k](arch)
            if i:  # the first arch warms kernels and allocator pools
                times[k].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"{a.archs} NB201 archs (C=16, N=5), batch {a.batch_size}, {torch.get_num_threads()} threads, "
          f"torch {torch.__version__}")
    print("| timed | median s | naswot ÷ this |")
    print("|---|---|---|")
    for k, v in med.items():
        print(f"| {k} | {v:.3f} | {med['naswot (score_archs)'] / v:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
