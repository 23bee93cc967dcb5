"""The timing subcommand: registers on a parser, runs on a tiny setting, reports a ratio."""

from __future__ import annotations

import argparse

import pandas as pd

from trainfree.cli import timing as cli_timing


def _parse(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="trainfree")
    sub = ap.add_subparsers(dest="command")
    cli_timing.register(sub)
    return ap.parse_args(argv)


def test_register_and_defaults():
    args = _parse(["timing"])
    assert args.func is cli_timing.run
    assert args.archs == 10 and args.batch_size == 64 and args.naswot_batch == 128
    assert "grasp" in args.metrics and args.device == "cpu"


def test_handler_runs_small(tmp_path, capsys):
    out = tmp_path / "timing.csv"
    args = _parse(["timing", "--archs", "2", "--batch-size", "8", "--naswot-batch", "8",
                   "--metrics", "grad_norm,snip,synflow,ntk_trace", "--dataset", "digits",
                   "--C", "4", "--N", "1", "--no-warmup", "--out", str(out)])
    assert args.func(args) == 0
    text = capsys.readouterr().out
    assert "sharing speedup" in text and "naswot alone (batch 8)" in text
    t = pd.read_csv(out)
    items = set(t["item"])
    assert {"suite shared (4 metrics)", "suite one at a time (4 metrics)", "  grad_norm alone"} <= items
    assert (t.archs == 2).all() and (t.median_s >= 0).all() and (t.peak_mib >= 0).all()
    # shared and unshared values agree
    line = [x for x in text.splitlines() if x.startswith("max relative difference")][0]
    assert float(line.split(":")[1]) < 1e-6


def test_packed_hamming_kernel_is_exact():
    import numpy as np

    from trainfree.metrics.activation import _hamming_kernel_packed

    rng = np.random.default_rng(0)
    for units in (1, 63, 64, 130, 1000):
        c = rng.random((7, units)) > 0.5
        f = c.astype(float)
        want = f @ f.T + (1 - f) @ (1 - f).T
        np.testing.assert_array_equal(_hamming_kernel_packed(np.packbits(c, axis=1), units), want)
        # packed per ReLU call (each call padded to whole bytes) and concatenated: same K
        cut = units // 3
        parts = np.concatenate([np.packbits(c[:, :cut], axis=1), np.packbits(c[:, cut:], axis=1)], axis=1)
        np.testing.assert_array_equal(_hamming_kernel_packed(parts, units), want)
