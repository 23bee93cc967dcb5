"""Command-line interface: ``trainfree metrics | score | ...``.

User mistakes (unknown metric, malformed arch, missing data file) print one line
``error: ...`` naming the fix and exit with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time

from trainfree.errors import TrainfreeError


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (sizes, counts)."""
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {v}")
    return v


def nonneg_int(text: str) -> int:
    """argparse type: an integer >= 0 (seeds, optional counts where 0 means none)."""
    v = int(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {v}")
    return v


def out_file(text: str) -> str:
    """argparse type: the path of an output file (not a folder, not inside a file)."""
    import os

    if not text.strip():
        raise argparse.ArgumentTypeError("empty path; give an output file, e.g. out.csv")
    if text.endswith(("/", os.sep)) or os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is a folder; give a file path inside it, e.g. "
                                         f"{os.path.join(text, 'out.csv')}")
    parent = os.path.dirname(text)
    if parent and os.path.exists(parent) and not os.path.isdir(parent):
        raise argparse.ArgumentTypeError(f"{parent!r} is a file, not a folder; give an output path in a folder")
    return text


def thread_count(text: str) -> int:
    """argparse type: torch threads, 0 (torch's default) up to 4 per CPU of this machine."""
    import os

    v = nonneg_int(text)
    most = 4 * (os.cpu_count() or 1)
    if v > most:
        raise argparse.ArgumentTypeError(f"{v} threads is more than {most} (4 per CPU of this machine); "
                                         f"give 0 (torch's default) or at most {most}")
    return v


def device_name(text: str) -> str:
    """argparse type: a torch device this machine has (``cpu``, ``cuda``, ``cuda:1``, ``mps``)."""
    import torch

    try:
        dev = torch.device(text)
    except (RuntimeError, ValueError):
        raise argparse.ArgumentTypeError(f"unknown device {text!r}; use cpu, cuda or cuda:N") from None
    if dev.type == "cpu":
        return text
    if dev.type == "cuda":
        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if n == 0:
            raise argparse.ArgumentTypeError(f"device {text!r}: this machine has no CUDA GPU; use cpu")
        if dev.index is not None and dev.index >= n:
            raise argparse.ArgumentTypeError(f"device {text!r}: this machine has {n} CUDA GPU(s), "
                                             f"cuda:0..cuda:{n - 1}")
        return text
    if dev.type == "mps" and torch.backends.mps.is_available():
        return text
    raise argparse.ArgumentTypeError(f"device {text!r} is not available here; use cpu or cuda")


def cache_folder(text: str) -> str:
    """argparse type: a folder for caches (created when missing; not a file)."""
    import os

    if not text.strip():
        raise argparse.ArgumentTypeError("empty path; give a folder, e.g. .cache")
    if os.path.exists(text) and not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is a file; give a folder for the cache")
    return text


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``error: ...``, exit status 2), like ``TrainfreeError``."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"error: {self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


# modules that add subcommands through register(subparsers)
_EXTENSIONS = ("trainfree.cli_benchmarks", "trainfree.cli_bench", "trainfree.cli_search")


def _cmd_metrics(args: argparse.Namespace) -> int:
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


def _model_kwargs(sp, args: argparse.Namespace) -> dict:
    """Model options of space ``sp`` from ``--C``/``--N`` and ``--model KEY=VALUE`` (others: defaults)."""
    given: list[tuple[str, str, object]] = [(f"--{k}", k, v) for k, v in (("C", args.C), ("N", args.N))
                                            if v is not None]
    for item in args.model:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise TrainfreeError(f"--model {item!r}: write KEY=VALUE, e.g. --model layers=8")
        try:
            value = json.loads(text.lower() if text.lower() in ("true", "false") else text)
        except json.JSONDecodeError:
            value = text
        given.append((f"--model {item}", key, value))
    from trainfree.config_check import check_model

    kw = {}
    for flag, key, value in given:
        if key not in sp.MODEL_DEFAULTS:
            raise TrainfreeError(f"{flag} does not apply to space {sp.NAME!r}; its model options are "
                                 f"{', '.join(sp.MODEL_DEFAULTS)}")
        kw[key] = value
    check_model(sp.NAME, sp.MODEL_DEFAULTS, kw, where="--model ")  # the config's checks
    return kw


def _cmd_score(args: argparse.Namespace) -> int:
    import torch

    from trainfree.data import load_dataset, num_classes, scoring_batch
    from trainfree.metrics import resolve, score_archs
    from trainfree.spaces import get_space

    sp = get_space(args.space)
    archs = [sp.canonical(a) for a in args.arch]
    model_kwargs = _model_kwargs(sp, args)
    metrics = resolve(args.metrics)
    batch = None
    classes = num_classes(args.dataset) or 10
    if any(m.needs_data for m in metrics):
        batch = scoring_batch(args.dataset, args.batch_size, args.seed, root=args.data_root,
                              cache_dir=args.cache_dir)
        if num_classes(args.dataset) is None:
            classes = load_dataset(args.dataset, args.data_root).num_classes
    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    df = score_archs(args.space, archs, [m.name for m in metrics], batch, dataset=args.dataset,
                     seed=args.seed, model_kwargs={**model_kwargs, "num_classes": classes},
                     device=args.device, progress=False)
    first = ["arch_id", "metric", "value", "seconds"]
    df = df[first + [c for c in df.columns if c not in first]]
    if args.format == "json":
        print(df.to_json(orient="records", indent=2))
    else:
        print(df.to_csv(index=False), end="")
    print(f"# {len(archs)} archs x {len(metrics)} metrics in {time.perf_counter() - t0:.2f} s", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="trainfree", description="Training-free NAS: score, benchmark, analyse.")
    sub = p.add_subparsers(dest="command", required=True)

    m = sub.add_parser("metrics", help="list registered metrics with their direction")
    m.add_argument("--format", choices=["text", "json"], default="text")
    m.set_defaults(func=_cmd_metrics)

    s = sub.add_parser("score", help="score architectures with metrics; one row per (arch, metric)")
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
    s.set_defaults(func=_cmd_score)

    for mod in _EXTENSIONS:
        try:
            importlib.import_module(mod).register(sub)
        except ModuleNotFoundError as e:
            if e.name != mod:
                raise
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except TrainfreeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
