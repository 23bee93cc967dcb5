"""``trainfree ground-truth`` and ``trainfree fetch``: NAS-benchmark ground truth and external files.

``trainfree ground-truth nb201 --source PATH --out FILE.parquet`` writes the tidy
ground-truth table; ``trainfree fetch NAME --root DIR`` fetches and verifies one asset.
Both print a one-line message and exit with code 2 on a user-facing error.
"""

from __future__ import annotations

import argparse
import sys
import time

from trainfree.cli.args import out_file, positive_int
from trainfree.errors import TrainfreeError

EXIT_USER_ERROR = 2


def _ground_truth(args: argparse.Namespace) -> int:
    """Handler of ``ground-truth``: read ``args.source``, write ``args.out``; returns the exit code."""
    from trainfree.benchmarks import load_ground_truth, save_ground_truth

    t0 = time.perf_counter()
    try:
        gt = load_ground_truth(args.space, args.source, hps=tuple(args.hp), seeds=not args.mean_only,
                               trusted=args.trust_pickle)
        out = save_ground_truth(gt, args.out)
    except TrainfreeError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    seconds = time.perf_counter() - t0
    print(f"wrote {len(gt)} rows ({gt.arch_id.nunique()} archs, sources: "
          f"{', '.join(sorted(gt.source.unique()))}) to {out} in {seconds:.2f} s")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    """Handler of ``fetch``: fetch and verify asset ``args.name`` under ``args.root``."""
    from trainfree.data.fetch import fetch, get_asset

    t0 = time.perf_counter()
    try:
        asset = get_asset(args.name)
        path = fetch(asset, args.root, url_override=args.url, retries=args.retries)
    except TrainfreeError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    status = "verified" if (asset.sha256 or asset.md5) else "present (no published checksum)"
    print(f"{asset.name}: {path} {status} ({asset.checksum_label}) in {time.perf_counter() - t0:.1f} s")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``ground-truth`` and ``fetch`` subcommands to ``subparsers``."""
    from trainfree.benchmarks import ground_truth_spaces
    from trainfree.data.fetch import list_assets

    gt = subparsers.add_parser(
        "ground-truth", help="write a benchmark's tidy ground-truth table (Parquet or CSV)",
        description="Read an official benchmark file (NAS-Bench-201 .pth, NATS-tss -simple folder, "
                    "NAS-Bench-101 .tfrecord) or an offline mirror and write one tidy table: space, arch_id, bench_index, dataset, split, "
                    "epochs, seed, field, value, source.")
    gt.add_argument("space", choices=ground_truth_spaces(), help="search space")
    gt.add_argument("--source", required=True,
                    help="nb201: NAS-Bench-201-v1_1-096897.pth, a NATS-tss-v1_0-3ffb9-simple folder, or a CSV "
                         "file/folder; nb101: nasbench_only108.tfrecord or the Suite-Zero NB101 JSON; "
                         "darts: the Suite-Zero NB301 JSON, the SWAP CSV, or their folder")
    gt.add_argument("--out", required=True, type=out_file, help="output file (.parquet or .csv)")
    gt.add_argument("--hp", nargs="+", default=["12", "200"], choices=["12", "200"],
                    help="training schedules (epochs) to read from the official files (default: both)")
    gt.add_argument("--mean-only", action="store_true", help="write only seed-mean rows (no per-seed rows)")
    gt.add_argument("--trust-pickle", action="store_true",
                    help="allow full unpickling of an official .pth the safe loader refuses (trusted files only)")
    gt.set_defaults(func=_ground_truth)

    fe = subparsers.add_parser(
        "fetch", help="download (or accept a pre-placed) external file and verify it",
        description="Fetch one asset into ROOT and verify its size and checksum. A file already at "
                    "ROOT/<file name> is verified and used; user-placed assets (no public URL) are only checked.")
    fe.add_argument("name", choices=list_assets(), help="asset name")
    fe.add_argument("--root", required=True, help="folder that holds (or will hold) the file")
    fe.add_argument("--url", default=None, help="download from this mirror URL instead")
    fe.add_argument("--retries", type=positive_int, default=3, help="attempts per URL (default 3)")
    fe.set_defaults(func=_fetch)
