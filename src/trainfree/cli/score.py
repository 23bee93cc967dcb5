"""``trainfree score``: score architectures with metrics; one row per (arch, metric)."""

from __future__ import annotations

import argparse
import sys
import time

from trainfree.cli.args import (
    cache_folder,
    device_name,
    model_kwargs,
    nonneg_int,
    positive_int,
    thread_count,
)


def _score(args: argparse.Namespace) -> int:
    import torch

    from trainfree.metrics import resolve, score_on_dataset
    from trainfree.spaces import get_space

    sp = get_space(args.space)
    archs = [sp.canonical(a) for a in args.arch]
    kw = model_kwargs(sp, args)
    metrics = resolve(args.metrics)
    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    df = score_on_dataset(args.space, archs, [m.name for m in metrics], dataset=args.dataset, root=args.data_root,
                          batch_size=args.batch_size, seed=args.seed, model_kwargs=kw, device=args.device,
                          cache_dir=args.cache_dir, progress=False)
    first = ["arch_id", "metric", "value", "seconds"]
    df = df[first + [c for c in df.columns if c not in first]]
    if args.format == "json":
        print(df.to_json(orient="records", indent=2))
    else:
        print(df.to_csv(index=False), end="")
    print(f"# {len(archs)} archs x {len(metrics)} metrics in {time.perf_counter() - t0:.2f} s", file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``score`` to ``subparsers``."""
    s = subparsers.add_parser("score", help="score architectures with metrics; one row per (arch, metric)")
    s.add_argument("--space", default="nb201")
    s.add_argument("--arch", action="append", required=True,
                   help="arch in any form the space accepts: an NB201 string, an NB101 56-tuple or JSON "
                        "cell, a DARTS Genotype(...) or NASLib compact string (repeatable); arch_id prints "
                        "the canonical id")
    s.add_argument("--metrics", required=True, help="comma-separated metric names")
    s.add_argument("--dataset", default="cifar10", help="digits | cifar10 | cifar100 | npz")
    s.add_argument("--data-root", default=None, help="dataset folder or .npz file")
    s.add_argument("--batch-size", type=positive_int, default=128)
    s.add_argument("--seed", type=nonneg_int, default=1)
    s.add_argument("--C", type=positive_int, default=None, help="channels of the first stage (space default)")
    s.add_argument("--N", type=positive_int, default=None, help="NB201 cells per stage (space default)")
    s.add_argument("--model", action="append", default=[], metavar="KEY=VALUE",
                   help="any model option of the space, e.g. --model layers=8 for darts (repeatable)")
    s.add_argument("--device", type=device_name, default="cpu", help="cpu, cuda or cuda:N")
    s.add_argument("--threads", type=thread_count, default=0, help="torch threads (0: torch default)")
    s.add_argument("--cache-dir", type=cache_folder, default=None, help="cache the scoring batch here")
    s.add_argument("--format", choices=["csv", "json"], default="csv")
    s.set_defaults(func=_score)
