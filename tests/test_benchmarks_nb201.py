"""NB201 ground-truth readers on fixture files written in the official formats."""

from __future__ import annotations

import bz2
import pickle
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from nas_201_api import ArchResults, NASBench201API, ResultsCount

from trainfree.benchmarks import GT_COLUMNS, load_ground_truth, save_ground_truth, select
from trainfree.benchmarks.nb201_official import read_nats, read_pth, split_name
from trainfree.errors import TrainfreeError
from trainfree.io import benchdata_root

BENCHDATA = benchdata_root()
ARCHS = [
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
    "|none~0|+|skip_connect~0|none~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|",
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_3x3~0|nor_conv_3x3~1|none~2|",
]
EVALS = {"cifar10-valid": ("x-valid", "ori-test"), "cifar10": ("ori-test",),
         "cifar100": ("x-valid", "x-test", "ori-test"), "ImageNet16-120": ("x-valid", "x-test", "ori-test")}
CLASSES = {"cifar10-valid": 10, "cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}


def _trial(index: int, arch: str, dataset: str, seed: int, epochs: int) -> ResultsCount:
    """A ResultsCount with distinct, checkable numbers (built with the package's class)."""
    rng = np.random.default_rng(hash((index, dataset, seed, epochs)) % 2**32)
    ep = range(epochs)
    tr_acc = {e: float(rng.uniform(10, 99)) for e in ep}
    tr_loss = {e: float(rng.uniform(0.01, 3)) for e in ep}
    rc = ResultsCount(dataset, None, tr_acc, tr_loss, params=0.1 + index + CLASSES[dataset] / 1e3,
                      flop=10.0 * (index + 1), arch_config={"channel": 16, "num_cells": 5, "arch_str": arch,
                                                          "class_num": CLASSES[dataset]},
                      seed=seed, epochs=epochs, latency=[0.01 + 0.001 * seed % 7, 0.02])
    rc.update_train_info(tr_acc, None, tr_loss, {e: 2.0 + 0.1 * index for e in ep})
    accs, losses, times = {}, {}, {}
    for name in EVALS[dataset]:
        for e in ep:
            accs[f"{name}@{e}"] = float(rng.uniform(10, 95))
            losses[f"{name}@{e}"] = float(rng.uniform(0.1, 3))
            times[f"{name}@{e}"] = 0.5
    rc.update_eval(accs, losses, times)
    return rc


def _arch_results(index: int, epochs: int) -> ArchResults:
    res = ArchResults(index, ARCHS[index])
    for dataset in EVALS:
        seeds = [777, 888, 999][: 1 + (index + len(dataset)) % 3]  # 1..3 trials, like the real file
        for seed in seeds:
            res.update(dataset, seed, _trial(index, ARCHS[index], dataset, seed, epochs))
    return res


def _official_dict() -> dict:
    return {
        "meta_archs": list(ARCHS),
        "evaluated_indexes": set(range(len(ARCHS))),
        "arch2infos": {i: {"less": _arch_results(i, 12).state_dict(), "full": _arch_results(i, 200).state_dict()}
                       for i in range(len(ARCHS))},
    }


@pytest.fixture(scope="module")
def pth_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("nb201") / "NAS-Bench-201-v1_1-096897.pth"
    torch.save(_official_dict(), path)
    return path


@pytest.fixture(scope="module")
def nats_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("nats") / "NATS-tss-v1_0-3ffb9-simple"
    folder.mkdir()
    with bz2.BZ2File(folder / "meta.pickle.pbz2", "wb") as f:
        pickle.dump({"meta_archs": list(ARCHS), "evaluated_indexes": []}, f, protocol=4)
    for i in range(len(ARCHS)):
        with bz2.BZ2File(folder / f"{i:06d}.pickle.pbz2", "wb") as f:
            pickle.dump({"12": _arch_results(i, 12).state_dict(), "200": _arch_results(i, 200).state_dict()},
                        f, protocol=4)
    return folder


def _value(gt: pd.DataFrame, arch: str, dataset: str, split: str, epochs: int, seed: str, field: str) -> float:
    m = gt[(gt.arch_id == arch) & (gt.dataset == dataset) & (gt.split == split) & (gt.epochs == epochs)
           & (gt.seed == seed) & (gt.field == field)]
    assert len(m) == 1, (arch, dataset, split, epochs, seed, field, len(m))
    return float(m.value.iloc[0])


API_SETS = {("cifar10-valid", "valid"): "valid", ("cifar10-valid", "test"): "test",
            ("cifar10", "test"): "test", ("cifar100", "valid"): "valid", ("cifar100", "test"): "test",
            ("cifar100", "valtest"): "valtest", ("ImageNet16-120", "valid"): "valid",
            ("ImageNet16-120", "test"): "test", ("ImageNet16-120", "valtest"): "valtest"}


def _check_against_api(gt: pd.DataFrame) -> None:
    """Every acc/loss (mean and per seed) equals what the official API's get_more_info returns."""
    api = NASBench201API(_official_dict(), verbose=False)
    for index, arch in enumerate(ARCHS):
        for hp in ("12", "200"):
            for (dataset, split), key in API_SETS.items():
                seeds = api.arch2infos_dict[index][hp].get_dataset_seeds(dataset)
                for seed_arg, label in [(False, "mean")] + [(s, f"seed{s}") for s in seeds]:
                    info = api.get_more_info(index, dataset, hp=hp, is_random=seed_arg)
                    assert _value(gt, arch, dataset, split, int(hp), label, "acc") == pytest.approx(info[f"{key}-accuracy"])
                    assert _value(gt, arch, dataset, split, int(hp), label, "loss") == pytest.approx(info[f"{key}-loss"])
                    assert _value(gt, arch, dataset, "train", int(hp), label, "acc") == pytest.approx(info["train-accuracy"])
                    assert _value(gt, arch, dataset, "cost", int(hp), label, "train_time_s") == pytest.approx(info["train-all-time"])
            cost = api.get_cost_info(index, "cifar100", hp=hp)
            assert _value(gt, arch, "cifar100", "cost", int(hp), "mean", "params_m") == pytest.approx(cost["params"])
            assert _value(gt, arch, "cifar100", "cost", int(hp), "mean", "flops_m") == pytest.approx(cost["flops"])
            assert _value(gt, arch, "cifar100", "cost", int(hp), "mean", "latency_s") == pytest.approx(cost["latency"])


def test_pth_reader_matches_official_api(pth_file):
    gt = read_pth(pth_file)
    assert list(gt.columns) == GT_COLUMNS
    assert set(gt.field) == {"acc", "loss", "params_m", "flops_m", "latency_s", "train_time_s"}
    assert set(gt.epochs) == {12, 200}
    assert set(gt.split) == {"train", "valid", "test", "valtest", "cost"}
    assert gt.source.iloc[0] == "NAS-Bench-201-v1_1-096897.pth (NAS-Bench-201 v1_1)"
    assert (gt.groupby("arch_id").bench_index.first().to_dict() == {a: i for i, a in enumerate(ARCHS)})
    assert not gt.duplicated(["arch_id", "dataset", "split", "epochs", "seed", "field"]).any()
    _check_against_api(gt)


def test_nats_reader_matches_official_api(nats_dir):
    gt = read_nats(nats_dir)
    assert gt.source.iloc[0] == "NATS-tss-v1_0-3ffb9-simple (NATS-Bench tss v1_0)"
    _check_against_api(gt)
    pth_like = read_nats(nats_dir, hps=("200",), seeds=False)
    assert set(pth_like.epochs) == {200} and set(pth_like.seed) == {"mean"}


def test_load_ground_truth_detects_formats(pth_file, nats_dir, tmp_path):
    a = load_ground_truth("nb201", pth_file)
    b = load_ground_truth("nb201", nats_dir)
    key = ["arch_id", "dataset", "split", "epochs", "seed", "field"]
    pd.testing.assert_series_equal(a.sort_values(key).value.reset_index(drop=True),
                                   b.sort_values(key).value.reset_index(drop=True))
    s = select(a, "cifar10", "test", 200)
    assert len(s) == len(ARCHS)
    out = save_ground_truth(a, tmp_path / "gt.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(out), a)


def test_split_names():
    assert split_name("cifar10", "ori-test") == "test"
    assert split_name("cifar10-valid", "ori-test") == "test"
    assert split_name("cifar100", "ori-test") == "valtest"
    assert split_name("ImageNet16-120", "x-test") == "test"


def test_pth_with_code_is_refused(tmp_path):
    path = tmp_path / "NAS-Bench-201-v1_1-096897.pth"
    torch.save({"meta_archs": ARCHS, "arch2infos": {}, "hook": time.time}, path)
    with pytest.raises(TrainfreeError, match="safe loader refused the object time.time"):
        read_pth(path)


def test_nats_with_code_is_refused(tmp_path):
    folder = tmp_path / "NATS-tss-v1_0-3ffb9-simple"
    folder.mkdir()
    with bz2.BZ2File(folder / "meta.pickle.pbz2", "wb") as f:
        pickle.dump({"meta_archs": ARCHS, "x": time.time}, f)
    with pytest.raises(TrainfreeError, match="refusing to unpickle time.time"):
        read_nats(folder)


def test_not_a_benchmark(tmp_path):
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(TrainfreeError, match="not a recognised NB201 ground-truth source"):
        load_ground_truth("nb201", tmp_path / "x.txt")
    bad = tmp_path / "NAS-Bench-201-v1_0-e61699.pth"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(TrainfreeError, match="cannot read"):
        load_ground_truth("nb201", bad)


def test_benchdata_csv_folder():
    folder = BENCHDATA / "nb201"
    gt = load_ground_truth("nb201", folder)
    best = {d: select(gt, d, "test", 200).max() for d in ("cifar10", "cifar100", "ImageNet16-120")}
    # the NATS mirror gives the optimum; the v1_1 CSV gives a second cifar10 value per arch
    assert best["cifar100"] == pytest.approx(73.51, abs=0.01)
    assert best["ImageNet16-120"] == pytest.approx(47.31, abs=0.01)
    nats = gt[gt.source.str.contains("nats")]
    assert select(nats, "cifar10", "test", 200).max() == pytest.approx(94.37, abs=0.01)
    assert gt.arch_id.nunique() == 15625


def test_cli_ground_truth(pth_file, tmp_path, capsys):
    from trainfree.cli import main

    out = tmp_path / "gt.parquet"
    assert main(["ground-truth", "nb201", "--source", str(pth_file), "--out", str(out), "--hp", "200"]) == 0
    printed = capsys.readouterr().out
    gt = pd.read_parquet(out)
    assert f"wrote {len(gt)} rows" in printed and " s" in printed
    assert set(gt.epochs) == {200}
    assert main(["ground-truth", "nb201", "--source", str(tmp_path / "nope"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
