"""``trainfree timing``: the subcommand's options, defined without importing torch.

The timing code is :mod:`trainfree.timing` (torch, numpy, pandas); the CLI registers the
subcommand from here and loads that module only when ``timing`` runs, so that
``trainfree --help`` starts in a fraction of a second. ("Benchmark" in this project means a
NAS benchmark, the ground truth of ``trainfree ground-truth``; this command times our code.)
"""

from __future__ import annotations

import argparse

from trainfree.cli.args import device_name, nonneg_int, out_file, positive_int, thread_count

#: the metric suite ``trainfree timing`` times by default
DEFAULT_SUITE = ("grad_norm", "snip", "grasp", "fisher", "jacob_cov", "plain", "synflow", "l2_norm",
                 "epe_nas", "zen", "zico", "ntk_trace", "ntk_condnum")

DESCRIPTION = "``trainfree timing``: time and memory of the scoring engine, shared vs unshared passes."


def run(args: argparse.Namespace) -> int:
    """Handler of ``trainfree timing``: loads the timing code, then runs it."""
    from trainfree.timing import handler

    return handler(args)


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``timing`` to ``subparsers``; :mod:`trainfree.timing` loads when it runs."""
    from trainfree.spaces import list_spaces

    p = subparsers.add_parser("timing", help="time and memory of the metric suite, shared vs one at a time",
                              description=DESCRIPTION)
    p.add_argument("--space", default="nb201", choices=list_spaces(), help="search space of the archs")
    p.add_argument("--archs", type=positive_int, default=10, help="number of archs (<space>.sample(N, seed))")
    p.add_argument("--batch-size", type=positive_int, default=64, help="scoring batch of the suite")
    p.add_argument("--naswot-batch", type=nonneg_int, default=128, help="batch of the naswot-alone row (0: skip)")
    p.add_argument("--metrics", default=",".join(DEFAULT_SUITE), help="comma-separated metric names, or all (every registered metric)")
    p.add_argument("--device", type=device_name, default="cpu", help="cpu or cuda[:i]")
    p.add_argument("--dataset", default="cifar10", help="dataset of the scoring batch")
    p.add_argument("--data-root", default=None,
                   help="dataset folder or .npz (default: the bundled partial CIFAR-10 npz)")
    p.add_argument("--seed", type=nonneg_int, default=0, help="arch sample, batch and init seed")
    p.add_argument("--C", type=positive_int, default=None, help="channels (NB201, DARTS; default the space's)")
    p.add_argument("--N", type=positive_int, default=None, help="NB201 cells per stage (default 5)")
    p.add_argument("--model", action="append", default=[], metavar="KEY=VALUE",
                   help="other model options of the space (e.g. layers=8, stem_channels=128)")
    p.add_argument("--threads", type=thread_count, default=0, help="torch threads (0: leave as is)")
    p.add_argument("--warmup", action=argparse.BooleanOptionalAction, default=True,
                   help="one untimed arch first")
    p.add_argument("--progress", action="store_true", help="print a line per arch")
    p.add_argument("--out", default=None, type=out_file, help="also write the table as CSV here")
    p.add_argument("--throughput", action="store_true",
                   help="instead: whole-suite throughput (ms per metric per arch, peak memory, archs/s)")
    p.add_argument("--in-flight", type=int, default=1,
                   help="with --throughput: worker processes scoring different archs at once on the device")
    p.add_argument("--tf32", action="store_true",
                   help="on a GPU, allow TF32 convolutions/matmuls (default: off, full float32 scores)")
    p.set_defaults(func=run)
    return p
