"""Nothing lost on interruption, corrupt inputs named in one line, training on the requested device."""

import bz2
import pickle
import shutil

import numpy as np
import pandas as pd
import pytest
import torch
from test_benchmarks_nb201 import ARCHS, nats_dir  # noqa: F401  (module fixture)

from trainfree.benchmarks.nb201_official import read_nats
from trainfree.data.fetch import Asset, register_asset
from trainfree.data.safe_pickle import load_pickle
from trainfree.errors import TrainfreeError
from trainfree.io import atomic_path, clean_temporaries, read_parquet, write_parquet
from trainfree.spaces import nb201
from trainfree.training import TrainConfig, fast_train_steps


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "t.parquet"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_removes_stale_temporaries_of_its_target(tmp_path):
    stale = tmp_path / ".t.tmp99999.parquet"
    stale.write_bytes(b"left by a killed writer")
    other = tmp_path / ".u.tmp99999.parquet"
    other.write_bytes(b"another target's")
    write_parquet(pd.DataFrame({"a": [1, 2]}), tmp_path / "t.parquet")
    assert not stale.exists() and other.exists()
    assert read_parquet(tmp_path / "t.parquet").a.tolist() == [1, 2]
    assert clean_temporaries(tmp_path) == [other] and not other.exists()


def test_truncated_parquet_shard_is_one_line_naming_file_and_rebuild(tmp_path):
    p = tmp_path / "results" / "s" / "scores" / "k0" / "shard0.parquet"
    write_parquet(pd.DataFrame({"arch_id": ["a"] * 200, "value": np.arange(200.0)}), p)
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    with pytest.raises(TrainfreeError) as e:
        read_parquet(p)
    msg = str(e.value)
    assert "\n" not in msg and str(p) in msg and "truncated or corrupt" in msg
    assert "--rerun-incomplete" in msg
    with pytest.raises(TrainfreeError, match="is missing; rebuild it"):
        read_parquet(tmp_path / "nope.parquet")


def test_unpickler_maps_every_failure_to_one_error(tmp_path):
    bad = tmp_path / "b.pickle"
    bad.write_bytes(b"}]]s.")  # {[]: []}: TypeError (unhashable key) inside the unpickler
    with pytest.raises(TrainfreeError, match=r"cannot read .*b\.pickle' \(TypeError"):
        load_pickle(bad)
    trunc = tmp_path / "t.pickle.pbz2"
    trunc.write_bytes(bz2.compress(pickle.dumps({"a": list(range(1000))}))[:40])
    with pytest.raises(TrainfreeError, match="cannot read .*replace the file"):
        load_pickle(trunc)


def test_read_nats_reports_missing_per_arch_files(nats_dir, tmp_path):  # noqa: F811
    folder = tmp_path / nats_dir.name
    shutil.copytree(nats_dir, folder)
    (folder / "000001.pickle.pbz2").unlink()
    with pytest.raises(TrainfreeError, match=rf"1 of {len(ARCHS)} per-arch files are missing \(000001.pickle.pbz2\)"):
        read_nats(folder)


def test_fetch_says_present_without_published_checksum(tmp_path, capsys):
    import argparse

    from trainfree.cli.benchmarks import register

    register_asset(Asset(name="fixture-nosum", filename="blob.bin", description="test fixture",
                         identified_by="its file name"), replace=True)
    (tmp_path / "blob.bin").write_bytes(b"x")
    parser = argparse.ArgumentParser(prog="trainfree")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["fetch", "fixture-nosum", "--root", str(tmp_path)])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "present (no published checksum)" in out and "verified" not in out


def _tiny_model():
    torch.manual_seed(0)
    return nb201.build_model(nb201.sample(1, 0)[0], num_classes=10, C=4, N=1)


def test_fast_training_checks_the_device_inside_the_step(monkeypatch):
    x, y = torch.randn(16, 3, 8, 8), torch.randint(0, 10, (16,))
    model = fast_train_steps(_tiny_model(), x, y, 2, TrainConfig(batch_size=8), seed=0, device="cpu")
    assert all(p.device.type == "cpu" for p in model.parameters())
    # a model that is not moved to the requested device is caught in the training step
    monkeypatch.setattr(torch.nn.Module, "to", lambda self, *a, **k: self)
    with pytest.raises(RuntimeError, match=r"training step: parameter .* is on cpu, expected meta"):
        fast_train_steps(_tiny_model(), x, y, 2, TrainConfig(batch_size=8), seed=0, device="meta")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_fast_training_runs_on_cuda():
    x, y = torch.randn(16, 3, 8, 8), torch.randint(0, 10, (16,))
    model = fast_train_steps(_tiny_model(), x, y, 2, TrainConfig(batch_size=8), seed=0, device="cuda")
    assert all(p.device.type == "cuda" for p in model.parameters())
