"""Dataset loaders and NB201 splits on tiny fixtures written in the official pickle formats."""

from __future__ import annotations

import json
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from trainfree.data import (
    load_dataset,
    load_split,
    norm_stats,
    normalise,
    num_classes,
    scoring_batch,
    split_indices,
)
from trainfree.data.datasets import IMAGENET16_MEAN
from trainfree.errors import TrainfreeError
from trainfree.io import benchdata_root

BENCHDATA = benchdata_root()


def _images(n: int, side: int, offset: int) -> np.ndarray:
    """n images as official rows: (n, 3*side*side) uint8, channel-planar (R plane, G plane, B plane)."""
    rng = np.random.default_rng(offset)
    return rng.integers(0, 256, size=(n, 3 * side * side), dtype=np.uint8)


def _dump(path: Path, obj: dict) -> None:
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=2)


@pytest.fixture(scope="module")
def cifar10_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("c10")
    d = root / "cifar-10-batches-py"
    d.mkdir()
    for i in range(1, 6):
        data = _images(4, 32, i)
        _dump(d / f"data_batch_{i}", {b"batch_label": f"training batch {i} of 5".encode(), b"data": data,
                                      b"labels": [(4 * (i - 1) + k) % 10 for k in range(4)],
                                      b"filenames": [f"img{i}_{k}.png".encode() for k in range(4)]})
    _dump(d / "test_batch", {b"batch_label": b"testing batch 1 of 1", b"data": _images(6, 32, 99),
                             b"labels": [9, 8, 7, 6, 5, 4], b"filenames": [b"t.png"] * 6})
    return root


@pytest.fixture(scope="module")
def cifar100_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("c100")
    d = root / "cifar-100-python"
    d.mkdir()
    _dump(d / "train", {b"data": _images(8, 32, 1), b"fine_labels": [0, 11, 22, 33, 44, 55, 66, 99],
                        b"coarse_labels": [0] * 8, b"filenames": [b"x"] * 8, b"batch_label": b"train"})
    _dump(d / "test", {b"data": _images(6, 32, 2), b"fine_labels": [1, 2, 3, 4, 5, 6],
                       b"coarse_labels": [0] * 6, b"filenames": [b"x"] * 6, b"batch_label": b"test"})
    return root


@pytest.fixture(scope="module")
def imagenet16_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("in16")
    d = root / "ImageNet16"
    d.mkdir()
    for i in range(1, 11):
        # 1-based labels, some beyond class 120 (dropped by ImageNet16-120)
        labels = [i, 120, 121, 1000, 60 + i]
        _dump(d / f"train_data_batch_{i}", {"data": _images(5, 16, i), "labels": labels,
                                            "mean": np.zeros(768, dtype=np.float64)})
    _dump(d / "val_data", {"data": _images(6, 16, 50), "labels": [1, 2, 500, 3, 120, 4]})
    return root


def test_cifar10_official_pickles(cifar10_root):
    ds = load_dataset("cifar10", cifar10_root)
    assert ds.x_train.shape == (20, 32, 32, 3) and ds.x_test.shape == (6, 32, 32, 3)
    assert ds.x_train.dtype == np.uint8 and ds.y_train.dtype == np.int64
    row = _images(4, 32, 1)[2]  # data_batch_1, image 2
    assert ds.x_train[2, 0, 0].tolist() == [row[0], row[1024], row[2048]]  # R, G, B planes
    assert ds.x_train[2, 1, 3, 2] == row[2048 + 32 + 3]
    assert ds.y_test.tolist() == [9, 8, 7, 6, 5, 4]
    assert load_dataset("cifar10", cifar10_root / "cifar-10-batches-py").x_train.shape[0] == 20


def test_cifar10_valid_fallback_split(cifar10_root):
    ds = load_dataset("cifar10-valid", cifar10_root)
    full = load_dataset("cifar10", cifar10_root)
    np.testing.assert_array_equal(ds.x_train, full.x_train[:10])
    np.testing.assert_array_equal(ds.x_valid, full.x_train[10:])
    np.testing.assert_array_equal(ds.x_test, full.x_test)
    tr = load_split("cifar10-valid", "train", cifar10_root)
    va = load_split("cifar10-valid", "valid", cifar10_root)
    te = load_split("cifar10-valid", "test", cifar10_root)
    assert tr.indices.tolist() == list(range(10)) and va.indices.tolist() == list(range(10, 20))
    assert "fallback" in tr.how and len(te.y) == 6


def test_nb201_split_file_is_used(tmp_path, cifar10_root):
    root = tmp_path / "c10"
    root.mkdir()
    os.symlink(cifar10_root / "cifar-10-batches-py", root / "cifar-10-batches-py", target_is_directory=True)
    train = [1, 3, 5, 7, 9, 11, 13, 15, 17, 19]
    valid = [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]
    (root / "cifar-split.txt").write_text(json.dumps({"train": ["int", train], "valid": ["int", valid]}))
    tr = load_split("cifar10-valid", "train", root)
    assert tr.indices.tolist() == train and tr.how == "NB201 split file cifar-split.txt"
    full = load_dataset("cifar10", root)
    np.testing.assert_array_equal(load_split("cifar10-valid", "valid", root).x, full.x_train[valid])
    (root / "cifar-split.txt").write_text(json.dumps({"train": [0, 1], "valid": [1, 2]}))
    with pytest.raises(TrainfreeError, match="overlap"):
        load_split("cifar10-valid", "train", root)


def test_cifar10_split_names(cifar10_root):
    assert len(load_split("cifar10", "train", cifar10_root).y) == 20
    assert len(load_split("cifar10", "test", cifar10_root).y) == 6
    with pytest.raises(TrainfreeError, match="cifar10-valid"):
        load_split("cifar10", "valid", cifar10_root)
    with pytest.raises(TrainfreeError, match="unknown split"):
        load_split("cifar10", "val", cifar10_root)


def test_cifar100_halves(cifar100_root, tmp_path):
    ds = load_dataset("cifar100", cifar100_root)
    assert ds.y_train.tolist() == [0, 11, 22, 33, 44, 55, 66, 99] and len(ds.y_test) == 6
    va = load_split("cifar100", "valid", cifar100_root)
    te = load_split("cifar100", "test", cifar100_root)
    assert va.y.tolist() == [1, 2, 3] and te.y.tolist() == [4, 5, 6]
    np.testing.assert_array_equal(np.concatenate([va.x, te.x]), ds.x_test)
    a, b, how = split_indices("cifar100", 10, None)
    assert a.tolist() == [0, 1, 2, 3, 4] and b.tolist() == [5, 6, 7, 8, 9] and "fallback" in how


def test_cifar100_split_file(cifar100_root):
    f = cifar100_root / "cifar100-test-split.txt"
    f.write_text(json.dumps({"xvalid": ["int", [5, 0, 2]], "xtest": ["int", [1, 3, 4]]}))
    try:
        va = load_split("cifar100", "valid", cifar100_root)
        assert va.indices.tolist() == [5, 0, 2] and va.y.tolist() == [6, 1, 3]
    finally:
        f.unlink()


def test_imagenet16_120(imagenet16_root):
    ds = load_dataset("ImageNet16-120", imagenet16_root)
    assert ds.x_train.shape == (30, 16, 16, 3)  # 3 of 5 per batch have label <= 120
    assert ds.y_train.min() == 0 and ds.y_train.max() == 119
    assert ds.y_train[:3].tolist() == [0, 119, 60]  # batch 1: labels 1, 120, 61
    row = _images(5, 16, 1)[0]
    assert ds.x_train[0, 0, 0].tolist() == [row[0], row[256], row[512]]
    assert ds.y_test.tolist() == [0, 1, 2, 119, 3]  # 500 dropped, 1-based -> 0-based
    assert load_dataset("imagenet16-120", imagenet16_root / "ImageNet16").x_test.shape == (5, 16, 16, 3)
    va = load_split("ImageNet16-120", "valid", imagenet16_root)
    te = load_split("ImageNet16-120", "test", imagenet16_root)
    assert va.y.tolist() == [0, 1] and te.y.tolist() == [2, 119, 3]
    assert num_classes("ImageNet16-120") == 120


def test_scoring_batch_imagenet16(imagenet16_root, tmp_path):
    x, y = scoring_batch("ImageNet16-120", 8, 3, root=imagenet16_root, cache_dir=tmp_path)
    assert x.shape == (8, 3, 16, 16) and x.dtype == torch.float32 and y.max() <= 119
    x2, y2 = scoring_batch("ImageNet16-120", 8, 3, root=imagenet16_root, cache_dir=tmp_path)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    zeros = normalise(np.zeros((1, 16, 16, 3), np.uint8), "ImageNet16-120")
    assert zeros[0, 0, 0, 0].item() == pytest.approx(-IMAGENET16_MEAN[0] / norm_stats("ImageNet16-120")[1][0])


def test_scoring_batch_cifar10_valid_uses_train_half(cifar10_root):
    x, y = scoring_batch("cifar10-valid", 10, 0, root=cifar10_root)
    full = load_dataset("cifar10", cifar10_root)
    assert torch.equal(x, normalise(full.x_train[:10]))


def test_unverified_archive_is_not_extracted(tmp_path, cifar10_root):
    arch = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(arch, "w:gz") as tar:
        tar.add(cifar10_root / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    with pytest.raises(TrainfreeError, match="failed verification .* not extracted"):
        load_dataset("cifar10", tmp_path)
    assert not (tmp_path / "cifar-10-batches-py").exists()


def test_pickle_with_code_is_refused(tmp_path):
    d = tmp_path / "cifar-10-batches-py"
    d.mkdir()

    class Evil:
        def __reduce__(self):
            return (os.getcwd, ())

    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(d / name, "wb") as f:
            pickle.dump({b"data": Evil(), b"labels": []}, f)
    with pytest.raises(TrainfreeError, match="refusing to unpickle"):
        load_dataset("cifar10", tmp_path)


def test_missing_imagenet16_message(tmp_path):
    with pytest.raises(TrainfreeError, match="ImageNet16-120 not found .*val_data"):
        load_dataset("ImageNet16-120", tmp_path)


def test_partial_cifar10_mirror():
    npz = BENCHDATA / "images" / "cifar10_partial_5506.npz"
    ds = load_dataset("cifar10", npz)
    assert ds.x_train.shape == (4660, 32, 32, 3)
