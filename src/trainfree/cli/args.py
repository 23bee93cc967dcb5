"""What the subcommands share: argparse value types, the parser with one-line errors and the
model options of a space from ``--C``/``--N``/``--model KEY=VALUE``. Imports no torch at
module level (``trainfree --help`` stays fast)."""

from __future__ import annotations

import argparse
import json
import sys

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


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``error: ...``, exit status 2), like ``TrainfreeError``."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"error: {self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def model_kwargs(sp, args: argparse.Namespace) -> dict:
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
