"""What the exact GraSP product costs, stage by stage, beside the whole 8-measure set.

GraSP needs H·g (H the Hessian of the cross-entropy in the layer weights, g its gradient)
exactly. On seeded NB201 archs (benchmark networks, C=16, N=5), batch 64 of the bundled
CIFAR-10 images, one arch at a time, this times (medians over the archs, network build
excluded from the stages):

- forward: the scoring engine's shared train-mode forward (``trainfree.metrics.passes``);
- backward: its cross-entropy pass without a graph, what grad_norm/snip/fisher alone need;
- create-graph backward: the same pass keeping the gradients' graph, what ``grasp`` asks for;
- double backward: the ``grasp`` metric itself on those passes, H·g = ∂(gᵀ·sg(g))/∂W;
- forward-over-reverse (``--fwd-over-rev``): H·g as ``torch.func.jvp`` of ``torch.func.grad``,
  the other exact way, and how far the grasp value it gives differs from the metric's, relative
  to Σ|W ⊙ H·g| (grasp sums terms that largely cancel, so float32 rounding shows at that scale);
- the 8-measure set (grad_norm, snip, grasp, fisher, jacob_cov, plain, synflow, l2_norm) in one
  ``score_archs`` call, and the same call without grasp.

The exact product's chain (forward + create-graph backward + double backward) is a floor
under the set as long as its second derivatives are PyTorch's own formulas, so a peer's time
for the whole set divided by it bounds the ratio reachable against that peer::

    python tools/grasp_stages.py --archs 10 --peer-seconds 3.889
    python tools/grasp_stages.py --arch-csv ../shared/peerbench/sample100.csv --archs 20 --peer-seconds 4.053

(``--arch-csv``: the first N ``arch_str`` of a CSV, e.g. the archs a side-by-side run timed,
so that the peer's median and these stages come from the same networks.)

Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

ZC8 = ["grad_norm", "snip", "grasp", "fisher", "jacob_cov", "plain", "synflow", "l2_norm"]


def _fwd_over_rev(net, weights, x, y, g):
    """H·g by forward-mode over reverse-mode (``torch.func``), on a copy of ``net`` whose
    BatchNorms use batch statistics without updating running ones (same train-mode output)."""
    import torch
    import torch.nn.functional as F
    from torch.func import functional_call, grad, jvp

    twin = copy.deepcopy(net)
    for m in twin.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.track_running_stats, m.running_mean, m.running_var, m.num_batches_tracked = False, None, None, None
    names = {id(p): n for n, p in net.named_parameters()}
    wnames = [names[id(w)] for w in weights]
    params = {n: p.detach() for n, p in twin.named_parameters()}

    def loss(ws):
        return F.cross_entropy(functional_call(twin, {**params, **dict(zip(wnames, ws))}, (x,)), y)

    return jvp(grad(loss), (tuple(params[n] for n in wnames),), (tuple(g),))[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--archs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: leave as is)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--arch-csv", help="take the first --archs arch_str of this CSV instead of seeded ones")
    ap.add_argument("--peer-seconds", type=float, help="a peer's median for the whole 8-measure set")
    ap.add_argument("--fwd-over-rev", action="store_true", help="also time H·g by forward-over-reverse")
    a = ap.parse_args(argv)
    if a.archs < 1:
        ap.error("--archs must be at least 1")
    if a.peer_seconds is not None and not a.peer_seconds > 0:
        ap.error("--peer-seconds must be a positive number of seconds")
    listed: list[str] = []
    if a.arch_csv:
        import csv

        try:
            with open(a.arch_csv, newline="") as f:
                listed = [r.get("arch_str") or "" for r in csv.DictReader(f)][: a.archs]
        except (OSError, UnicodeDecodeError, csv.Error) as e:
            ap.error(f"cannot read --arch-csv {a.arch_csv}: {e}")
        if not listed or not all(listed):
            ap.error(f"--arch-csv {a.arch_csv}: needs an arch_str column with an arch in every row")

    import torch

    from trainfree.data import scoring_batch
    from trainfree.io import benchdata_root
    from trainfree.metrics import score_archs
    from trainfree.metrics.engine import ScoringContext, canonical_layout
    from trainfree.metrics.passes import _ce, _forward, ce_grad_pass, layers
    from trainfree.metrics.saliency import grasp
    from trainfree.seeding import derive_seed, seed_everything
    from trainfree.spaces import get_space

    if a.threads:
        torch.set_num_threads(a.threads)
    root = str(benchdata_root() / "images" / "cifar10_partial_5506.npz")
    x, y = scoring_batch("cifar10", a.batch_size, a.seed, root=root)
    x = canonical_layout(x)
    space = get_space("nb201")
    if listed:
        from trainfree.errors import TrainfreeError

        try:  # the first one twice: once to warm up, once timed
            archs = [space.canonical(v) for v in listed[:1] + listed]
        except TrainfreeError as e:
            ap.error(f"--arch-csv {a.arch_csv}: {e}")
    else:
        archs = space.sample(a.archs + 1, a.seed)
    stages = ["forward", "backward", "create-graph backward", "double backward"]
    if a.fwd_over_rev:
        stages.append("forward-over-reverse")
    stages += ["8 measures (score_archs)", "8 measures without grasp"]
    times: dict[str, list[float]] = {s: [] for s in stages}
    worst = 0.0

    for i, arch in enumerate(archs):
        seed_everything(derive_seed(arch, a.seed))  # the initialisation score_archs gives this arch
        net = space.build_model(arch)
        ctx = ScoringContext(net, x, y, "cpu", channels_last=True)
        ctx.requested = frozenset({"grasp"})  # as score_archs sets it: the shared pass keeps its graph
        t = [time.perf_counter()]
        fwd = _forward(ctx)
        t.append(time.perf_counter())
        ce_grad_pass(net, fwd, y, keep_graph=False)
        t.append(time.perf_counter())
        g = [v.clone() for v in _ce(ctx).grads]
        t.append(time.perf_counter())
        value = grasp(ctx)
        t.append(time.perf_counter())
        del ctx, fwd
        if a.fwd_over_rev:
            weights = [m.weight for m in layers(net)]
            hg = _fwd_over_rev(net, weights, x, y, g)
            t.append(time.perf_counter())
            terms = [-w.detach().double() * h.double() for w, h in zip(weights, hg)]
            scale = float(sum(v.abs().sum() for v in terms))  # grasp sums terms that largely cancel
            worst = max(worst, abs(float(sum(v.sum() for v in terms)) - value) / max(scale, 1e-30))
        for metrics in (ZC8, [m for m in ZC8 if m != "grasp"]):
            score_archs("nb201", [arch], metrics, (x, y), dataset="cifar10", progress=False)
            t.append(time.perf_counter())
        if i:  # the first arch warms kernels, caches and allocator pools
            for s, t0, t1 in zip(stages, t, t[1:]):
                times[s].append(t1 - t0)

    med = {s: statistics.median(v) for s, v in times.items()}
    chain = med["forward"] + med["create-graph backward"] + med["double backward"]
    print(f"{len(archs) - 1} NB201 archs (C=16, N=5{', ' + a.arch_csv if a.arch_csv else ''}), batch {a.batch_size}, {torch.get_num_threads()} threads")
    print("| stage | median s |")
    print("|---|---|")
    for s in stages:
        print(f"| {s} | {med[s]:.3f} |")
    print(f"| exact H·g chain (forward + create-graph backward + double backward) | {chain:.3f} |")
    print(f"| grasp's share of the set (set − set without grasp) | "
          f"{med['8 measures (score_archs)'] - med['8 measures without grasp']:.3f} |")
    if a.fwd_over_rev:
        print(f"forward-over-reverse vs double backward: largest difference of grasp, relative to Σ|W·Hg|, {worst:.1e}")
    if a.peer_seconds:
        print(f"peer {a.peer_seconds:.3f} s for the set: at most {a.peer_seconds / chain:.2f}x with the exact "
              f"H·g chain alone; {a.peer_seconds / med['8 measures (score_archs)']:.2f}x with the set as timed here")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
