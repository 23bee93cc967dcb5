"""``trainfree metrics``: the registered metrics with their direction, read without torch."""

from __future__ import annotations

import argparse
import json


def _metrics(args: argparse.Namespace) -> int:
    from trainfree.metric_table import metric_rows  # the registry read without importing torch

    rows = []
    for m in metric_rows():
        needs = ["data" if m["needs_data"] else "no data"] + (["labels"] if m["needs_labels"] else [])
        rows.append({"metric": m["metric"], "higher_is_better": m["higher_is_better"], "needs": "+".join(needs),
                     "passes": ",".join(m["passes"]), "doc": m["doc"]})
    if args.format == "json":
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            arrow = "higher" if r["higher_is_better"] else "lower "
            print(f"{r['metric']:<24} {arrow} is better  [{r['needs']}]  {r['doc']}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``metrics`` to ``subparsers``."""
    m = subparsers.add_parser("metrics", help="list registered metrics with their direction")
    m.add_argument("--format", choices=["text", "json"], default="text")
    m.set_defaults(func=_metrics)
