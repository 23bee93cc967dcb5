"""Command-line interface: ``trainfree metrics | score | ground-truth | fetch | search | timing``.

One module per subcommand group, each with a ``register(subparsers)`` that adds its options
without importing torch, pandas or numpy (its handlers load them), so ``trainfree --help``
and ``trainfree metrics`` start in a fraction of a second. User mistakes (unknown metric,
malformed arch, missing data file) print one line ``error: ...`` naming the fix and exit with
status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import sys

from trainfree.cli import benchmarks, metrics, score, search, timing
from trainfree.cli.args import Parser
from trainfree.errors import TrainfreeError

#: the subcommand groups, in the order ``--help`` lists them
SUBCOMMANDS = (metrics, score, benchmarks, timing, search)


def build_parser() -> argparse.ArgumentParser:
    """The ``trainfree`` parser with every subcommand."""
    p = Parser(prog="trainfree", description="Training-free NAS: score architectures, read NAS benchmarks, "
                                             "search, time the metrics.")
    sub = p.add_subparsers(dest="command", required=True)
    for group in SUBCOMMANDS:
        group.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except TrainfreeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


__all__ = ["build_parser", "main"]
