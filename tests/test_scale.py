"""Sharding through Snakemake's scatter/gather: results do not depend on the shard count."""

import subprocess
from pathlib import Path

import pandas as pd
import pytest
from conftest import run_snakemake

from trainfree.errors import TrainfreeError
from trainfree.pipeline.common import shard_of

TINY = {
    "study": "tiny",
    "model": {"C": 4, "N": 1},
    "sample": {"n": 7, "seed": 0},
    "scoring": {"batch_size": 16, "fast_steps": [], "metrics": ["naswot", "activation_units", "params"]},
    "training": {"epochs": 1, "max_train": 128, "max_test": 64},
    "analysis": {"n_boot": 20},
}
TARGETS = ["results/tiny/scores.parquet", "results/tiny/training_states.parquet",
           "results/tiny/tables/correlations.csv"]


def without_timings(df: pd.DataFrame) -> pd.DataFrame:
    """The table less its wall-clock columns (the only ones allowed to differ between runs)."""
    return df.drop(columns=[c for c in df.columns if "seconds" in c])


def run_tiny(workdir: Path, *extra: str, cfg: dict = TINY, targets: list[str] = ()) -> subprocess.CompletedProcess:
    return run_snakemake(workdir, cfg, *extra, targets=targets, timeout=900)


@pytest.mark.parametrize("n_rows, n_shards", [(7, 1), (7, 3), (2, 3), (15625, 8)])
def test_shards_are_contiguous_and_cover_the_sample_in_order(n_rows, n_shards):
    df = pd.DataFrame({"i": range(n_rows)})
    parts = [shard_of(df, s, n_shards) for s in range(n_shards)]
    assert pd.concat(parts).i.tolist() == list(range(n_rows))
    assert max(len(p) for p in parts) - min(len(p) for p in parts) <= 1
    with pytest.raises(TrainfreeError, match="out of range"):
        shard_of(df, n_shards, n_shards)


def test_removed_shards_key_is_rejected_with_the_fix(tmp_path):
    cfg = {**TINY, "scoring": {**TINY["scoring"], "shards": 2}}
    r = run_tiny(tmp_path, "-n", "--cores", "1", cfg=cfg)
    assert r.returncode != 0
    msg = r.stdout + r.stderr
    assert "scoring.shards was removed" in msg and "--set-scatter score=4" in msg


@pytest.mark.slow
def test_one_and_three_shards_give_identical_tables(tmp_path):
    r = run_tiny(tmp_path, "--cores", "2", "-q", "--set-scatter", "score=1", "train=1", targets=TARGETS)
    assert r.returncode == 0, r.stderr[-3000:]
    out = tmp_path / "results" / "tiny"
    assert sorted(p.name for p in (out / "scores" / "k0").iterdir()) == ["shard1-of-1.parquet"]
    one = {t: (pd.read_csv if t.endswith(".csv") else pd.read_parquet)(tmp_path / t) for t in TARGETS}

    r = run_tiny(tmp_path, "--cores", "2", "-q", "--set-scatter", "score=3", "train=3", targets=TARGETS)
    assert r.returncode == 0, r.stderr[-3000:]
    assert sorted(p.name for p in (out / "scores" / "k0").iterdir())[-3:] == [
        "shard1-of-3.parquet", "shard2-of-3.parquet", "shard3-of-3.parquet"]
    assert sorted(p.name for p in (out / "training").glob("shard*-of-3.parquet")) == [
        "shard1-of-3.parquet", "shard2-of-3.parquet", "shard3-of-3.parquet"]
    three = {t: (pd.read_csv if t.endswith(".csv") else pd.read_parquet)(tmp_path / t) for t in TARGETS}

    scores = three["results/tiny/scores.parquet"]
    assert scores.arch_id.nunique() == 7 and set(scores.fast_steps) == {0} and len(scores) == 7 * 3
    for t in TARGETS:
        pd.testing.assert_frame_equal(without_timings(one[t]), without_timings(three[t]))


def test_throughput_cpu_path_one_and_two_workers(capsys):
    """The GPU throughput benchmark's code path, on the CPU: per-metric ms, archs/s, workers."""
    import argparse

    import torch

    from trainfree import timing
    from trainfree.cli import timing as cli_timing
    from trainfree.data import scoring_batch
    from trainfree.spaces import nb201

    archs = nb201.sample(3, 0)
    batch = scoring_batch("digits", 8, 0)
    kw = {"C": 4, "N": 1}
    metrics = ["naswot", "grad_norm", "fisher"]
    one = timing.run_throughput(archs, metrics, batch, device="cpu", model_kwargs=kw, workers=1, threads=1,
                               space="nb201")
    two = timing.run_throughput(archs, metrics, batch, device="cpu", model_kwargs=kw, workers=2, threads=1,
                               space="nb201")
    for tp in (one, two):
        assert tp.archs == 3 and len(tp.arch_s) == 3 and list(tp.metric_s) == metrics
        assert all(len(v) == 3 and min(v) > 0 for v in tp.metric_s.values())
        assert tp.wall_s > 0 and tp.archs_per_s == 3 / tp.wall_s and tp.peak_bytes > 0
    assert (one.workers, two.workers, two.threads) == (1, 2, 1)
    # a bad metric in a worker is reported, not waited on forever
    with pytest.raises(RuntimeError, match="timing worker failed"):
        timing.run_throughput(archs, ["no_such_metric"], batch, device="cpu", model_kwargs=kw, workers=2,
                             space="nb201")

    ap = argparse.ArgumentParser()
    cli_timing.register(ap.add_subparsers())
    args = ap.parse_args(["timing", "--throughput", "--archs", "2", "--batch-size", "8", "--dataset", "digits",
                          "--C", "4", "--N", "1", "--metrics", "naswot,params", "--device", "cpu"])
    threads = torch.get_num_threads()
    assert args.func(args) == 0
    torch.set_num_threads(threads)
    text = capsys.readouterr().out
    assert "whole suite (+ build)" in text and "archs/s:" in text and "peak RSS" in text
    assert [line.split()[0] for line in text.splitlines() if line.startswith(("naswot ", "params "))] == [
        "naswot", "params"]


def test_gather_skips_empty_shards(tmp_path):
    from trainfree.io import write_parquet
    from trainfree.pipeline.common import gather

    full = pd.DataFrame({"arch_id": ["a", "b"], "value": [1.5, 2.5]})
    write_parquet(full.iloc[:1], tmp_path / "s1.parquet")
    write_parquet(pd.DataFrame({"arch_id": pd.Series([], dtype=object), "value": pd.Series([], dtype=object)}),
                  tmp_path / "s2.parquet")  # an empty shard, as a shard with no archs writes it
    write_parquet(full.iloc[1:], tmp_path / "s3.parquet")
    out = gather([str(tmp_path / f"s{i}.parquet") for i in (1, 2, 3)], str(tmp_path / "all.parquet"))
    pd.testing.assert_frame_equal(out, full)
    assert pd.read_parquet(tmp_path / "all.parquet").value.dtype == "float64"
