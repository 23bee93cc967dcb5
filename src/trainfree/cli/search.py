"""``trainfree search best-of-n | hnas | convert`` (the library functions the workflow's search stage calls).

Score tables are CSV or Parquet with columns ``arch_id, metric, value`` (as ``trainfree
score`` writes them); a wide published table converts with ``search convert``.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from trainfree.cli.args import nonneg_int, out_file, positive_int
from trainfree.errors import TrainfreeError

if TYPE_CHECKING:  # pandas loads in the handlers, not when the CLI starts
    import pandas as pd


def _ints(text: str) -> list[int]:
    """argparse type of ``--n``: comma-separated integers >= 1."""
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give comma-separated integers, e.g. 10,100,1000") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give one or more sample sizes >= 1, e.g. 10,100,1000")
    return values


def _seed(text: str) -> int:
    """argparse type: a seed, an integer in 0..SEED_MAX (as in the config)."""
    from trainfree.config_check import SEED_MAX

    v = nonneg_int(text)
    if v > SEED_MAX:
        raise argparse.ArgumentTypeError(f"a seed must be an integer in 0..{SEED_MAX}, got {v}")
    return v


def _read_gt(path: str) -> pd.DataFrame:
    from pathlib import Path

    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise TrainfreeError(f"ground truth {path!r} does not exist; write it with `trainfree ground-truth nb201 "
                             f"--source src/trainfree/benchdata/nb201 --out gt.parquet`")
    gt = pd.read_parquet(p) if p.suffix in (".parquet", ".pq") else pd.read_csv(p)
    gt["seed"] = gt["seed"].astype(str)
    return gt


def _emit(df: pd.DataFrame, fmt: str) -> None:
    if fmt == "json":
        print(df.to_json(orient="records", indent=2))
    else:
        print(df.to_csv(index=False), end="")


def _best_of_n(args: argparse.Namespace) -> int:
    from trainfree.search.best_of_n import best_of_n_table
    from trainfree.search.pool import read_scores

    metrics = [m.strip() for m in args.metric.split(",") if m.strip()]
    directions = {m: args.direction for m in metrics} if args.direction is not None else None
    df = best_of_n_table(read_scores(args.scores), _read_gt(args.ground_truth), metrics, args.n,
                         repeats=args.repeats, seed=args.seed, directions=directions, fast_steps=args.fast_steps,
                         source=f"score table {args.scores!r}")
    _emit(df, args.format)
    return 0


def _hnas(args: argparse.Namespace) -> int:
    from trainfree.config_check import SEED_MAX
    from trainfree.search.hnas import hnas_nb201
    from trainfree.search.pool import read_scores

    if args.seed_start + args.seeds - 1 > SEED_MAX:
        raise TrainfreeError(f"--seed-start {args.seed_start} with --seeds {args.seeds} runs past seed {SEED_MAX}; "
                             f"lower --seed-start")
    seeds = list(range(args.seed_start, args.seed_start + args.seeds))
    df = hnas_nb201(read_scores(args.scores), _read_gt(args.ground_truth), seeds,
                    trace_metric=args.trace_metric, cond_metric=args.cond_metric)
    _emit(df, args.format)
    return 0


def _convert(args: argparse.Namespace) -> int:
    from trainfree.search.pool import convert_wide

    metrics = [m.strip() for m in args.metrics.split(",")] if args.metrics else None
    out = convert_wide(args.wide, args.out, arch_col=args.arch_col, metrics=metrics, space=args.space)
    print(f"wrote {out}", file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``search`` with its ``best-of-n``, ``hnas`` and ``convert`` subcommands."""
    s = subparsers.add_parser("search", help="best-of-N and HNAS searches over a score table")
    sub = s.add_subparsers(dest="search_command", required=True)

    b = sub.add_parser("best-of-n", help="best-scored of N random archs, repeated; mean and std per dataset")
    b.add_argument("--scores", required=True, help="score table (CSV or Parquet: arch_id, metric, value)")
    b.add_argument("--metric", required=True, help="metric name(s), comma-separated")
    b.add_argument("--ground-truth", required=True, help="tidy ground truth of `trainfree ground-truth`")
    b.add_argument("--n", type=_ints, default=[10, 100, 1000], help="sample sizes N (default 10,100,1000)")
    b.add_argument("--repeats", type=positive_int, default=500)
    b.add_argument("--seed", type=_seed, default=0)
    b.add_argument("--fast-steps", type=nonneg_int, default=None, metavar="K",
                   help="use the scores after K fast-training steps (needed when the table holds several K)")
    d = b.add_mutually_exclusive_group()
    d.add_argument("--higher-is-better", dest="direction", action="store_const", const=True, default=None,
                   help="direction of a score not in the metric registry (e.g. Suite-Zero's nwot)")
    d.add_argument("--lower-is-better", dest="direction", action="store_const", const=False)
    b.add_argument("--format", choices=["csv", "json"], default="csv")
    b.set_defaults(func=_best_of_n)

    h = sub.add_parser("hnas", help="HNAS Bayesian optimisation on NB201; one row per seed")
    h.add_argument("--scores", required=True, help="score table with ntk_trace and ntk_condnum")
    h.add_argument("--ground-truth", required=True, help="tidy ground truth of `trainfree ground-truth`")
    h.add_argument("--seeds", type=positive_int, default=10, help="number of seeds (default 10)")
    h.add_argument("--seed-start", type=_seed, default=0)
    h.add_argument("--trace-metric", default="ntk_trace")
    h.add_argument("--cond-metric", default="ntk_condnum")
    h.add_argument("--format", choices=["csv", "json"], default="csv")
    h.set_defaults(func=_hnas)

    c = sub.add_parser("convert", help="wide score table (one column per metric) -> tidy arch_id, metric, value")
    c.add_argument("--wide", required=True, help="wide CSV, e.g. nb201_zc_proxies_cifar10_suitezero.csv.xz")
    c.add_argument("--arch-col", default="net_str", help="column holding the arch string (default net_str)")
    c.add_argument("--metrics", default=None, help="columns to keep (default: every numeric column)")
    c.add_argument("--out", required=True, type=out_file, help="output .csv or .parquet")
    c.add_argument("--space", default="nb201", help="search space of the arch strings (default nb201)")
    c.set_defaults(func=_convert)
