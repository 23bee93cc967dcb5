"""How well do our proxy values agree with themselves on a second scoring seed?

A Suite-Zero agreement table (``results/suitezero*/tables/suitezero_validation.*``) correlates
our values with the published ones. For a proxy that depends strongly on the batch and the
initial weights, that correlation cannot exceed what two scorings of the same archs at two
seeds give. NB101's file holds several keys of one cell and so measures this for the
published values (``spearman_published_repeat``); NB201's and NB301's files do not. This
script measures it for our values: it scores ``--archs`` published archs (sampled with seed 0,
the agreement runs' seed, in index order) once per seed in ``--seeds`` (each seed draws its own
CIFAR-10 batch and its own initial weights), on the space's published network and batch, and
prints per proxy the Spearman between the two seeds and each seed's Spearman with the published
values.

    python tools/suitezero_self_repeat.py --space darts --archs 60 --seeds 0 1 \\
        --scores results/suitezero_darts/suitezero_scores.csv

``--scores``: a scores CSV of an agreement run (seed 0); the archs it holds with every requested
proxy, at the first seed, the published batch and the current code, are read from it instead of
being scored again.
"""

from __future__ import annotations

import argparse

import pandas as pd

from trainfree.analysis import suitezero as sz
from trainfree.analysis.correlation import rank_correlation
from trainfree.analysis.tidy import wide_scores

NOISY = ("jacob_cov", "epe_nas", "grasp", "plain", "fisher", "snip", "grad_norm")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--space", default="darts", help="nb201 | nb101 | darts")
    ap.add_argument("--archs", type=int, default=60, help="number of published archs (seed-0 sample)")
    ap.add_argument("--seeds", type=int, nargs=2, default=(0, 1), metavar=("A", "B"))
    ap.add_argument("--metrics", default=",".join(NOISY), help="comma-separated proxies")
    ap.add_argument("--scores", default=None, help="scores CSV of an agreement run, reused for seed A")
    args = ap.parse_args()

    root = sz.default_bench_root()
    src = sz.published_source(args.space)
    pub = sz.sample_rows(sz.load_published(root, args.space), args.archs, 0)
    specs = pub.spec.groupby(level=0).first()
    archs = sorted(specs.index)
    names = [m.strip() for m in args.metrics.split(",") if m.strip()]
    # the key under which the agreement run caches its scores: rows of other code are scored anew
    code = sz.scores_code()
    wides = []
    for i, seed in enumerate(args.seeds):
        have = pd.DataFrame()
        if i == 0 and args.scores:
            have = pd.read_csv(args.scores)
            have = have[(have.seed == seed) & (have.batch_size == src.batch_size)
                        & have.arch_id.isin(archs) & have.metric.isin(names)
                        & (have.get("code", pd.Series("", index=have.index)).astype(str) == code)]
            # an arch is reused only when it has every requested proxy
            complete = have.groupby("arch_id").metric.nunique()
            have = have[have.arch_id.isin(complete[complete == len(names)].index)]
        todo = [a for a in archs if have.empty or a not in set(have.arch_id)]
        parts = [have] if not have.empty else []
        if todo:
            parts.append(sz.score_sample(specs[todo].tolist(), seed=seed, images=root / sz.IMAGES_FILE,
                                         batch_size=src.batch_size, metrics=tuple(names),
                                         space=args.space))
        wides.append(wide_scores(pd.concat(parts)).reindex(archs))
    first = pub.groupby(level=0).first()
    print(f"{args.space}: {len(archs)} archs, batch {src.batch_size}, seeds {args.seeds[0]} and {args.seeds[1]}")
    print("| proxy | ρ(ours seed A, ours seed B) | ρ(ours seed A, published) | ρ(ours seed B, published) |")
    print("|---|---|---|---|")
    for m in names:
        a, b = wides[0][m].to_numpy(), wides[1][m].to_numpy()
        p = first[m].reindex(archs).to_numpy() if m in first.columns else None
        cells = [rank_correlation("spearman", a, b)]
        cells += [rank_correlation("spearman", x, p) if p is not None else float("nan") for x in (a, b)]
        print(f"| `{m}` | " + " | ".join(f"{c:.3f}" for c in cells) + " |")


if __name__ == "__main__":
    main()
