"""Our ``fisher`` against zero-cost-nas's own fisher function, on one network and one set of weights.

The side-by-side harness (``../shared/peerbench/side_by_side.py``) lets each code build its own
network, so its agreement figure mixes the metric with the two networks. This script removes the
network from the comparison: for each NB201 arch it builds *our* benchmark network once, hands a
deep copy to zero-cost-nas's ``compute_fisher_per_weight`` (read from a checkout given with
``--peers``; nothing of it is copied here) and scores the original with our engine, on the same
CIFAR-10 batch, and prints the relative differences.

    python tools/fisher_vs_zero_cost_nas.py --peers ../peers --archs 30

``--peers`` is the folder that ``../shared/peerbench/get_peers.sh`` fills (it holds ``zero-cost-nas/``).
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from trainfree.data.datasets import scoring_batch
from trainfree.io import benchdata_root
from trainfree.metrics.engine import ScoringContext, score_network
from trainfree.metrics.registry import resolve
from trainfree.spaces import get_space


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peers", type=Path, required=True, help="folder holding the zero-cost-nas checkout")
    ap.add_argument("--archs", type=int, default=30, help="number of archs (nb201.sample, seed 0)")
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args()

    sys.path.insert(0, str(args.peers / "zero-cost-nas"))
    from foresight.pruners.measures.fisher import compute_fisher_per_weight

    torch.set_num_threads(1)
    npz = benchdata_root() / "images" / "cifar10_partial_5506.npz"
    x, y = scoring_batch("cifar10", args.batch_size, seed=0, root=npz)
    space = get_space("nb201")
    rows = []
    for arch in space.sample(args.archs, seed=0):
        torch.manual_seed(0)
        net = space.build_model(arch)
        peer = compute_fisher_per_weight(copy.deepcopy(net), x, y, F.cross_entropy, "channel", split_data=1)
        theirs = float(sum(float(t.sum()) for t in peer))
        ours = score_network(ScoringContext(net, x, y), resolve(["fisher"]))["fisher"][0]
        rows.append((arch, ours, theirs))
    d = pd.DataFrame(rows, columns=["arch", "ours", "zero_cost_nas"])
    rel = ((d.ours - d.zero_cost_nas) / d.zero_cost_nas).abs()
    print(f"{len(d)} NB201 archs (our network, C=16, N=5, one set of weights each), batch {args.batch_size}")
    print(f"|ours - zero-cost-nas| / zero-cost-nas: median {np.median(rel):.2e}, max {rel.max():.2e}")


if __name__ == "__main__":
    main()
