"""Image datasets as uint8 NHWC arrays, and the fixed scoring batch.

Sources:

- ``digits``: scikit-learn's bundled 8x8 handwritten digits (1,797 images, no download),
  upsampled to 32x32 and repeated to 3 channels: the offline default.
- ``cifar10`` / ``cifar100``: the official python-version archive folder
  (``cifar-10-batches-py`` / ``cifar-100-python``), the ``.tar.gz`` itself, or its parent.
- ``npz``: any ``.npz`` with ``x_train, y_train, x_test, y_test`` (NHWC uint8), e.g. a
  partial CIFAR-10 mirror.

The scoring batch is un-augmented, drawn once per (dataset, batch size, seed) from the
training split, normalised with the CIFAR mean/std, and cached as ``.npz``.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from trainfree.errors import TrainfreeError

DATASETS: tuple[str, ...] = ("digits", "cifar10", "cifar100", "npz")
# Normalisation used by NB201 / NASWOT / zero-cost-nas for CIFAR.
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2023, 0.1994, 0.2010)
_CIFAR = {
    "cifar10": ("cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)], ["test_batch"], b"labels"),
    "cifar100": ("cifar-100-python", ["train"], ["test"], b"fine_labels"),
}


@dataclass(frozen=True)
class Dataset:
    """Images as uint8 arrays (N, 32, 32, 3) and int64 labels (N,)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def num_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max())) + 1


def num_classes(name: str) -> int | None:
    """Number of classes of a named dataset (None for ``npz``: read from the file)."""
    return {"digits": 10, "cifar10": 10, "cifar100": 100}.get(name)


def _digits() -> Dataset:
    from sklearn.datasets import load_digits

    d = load_digits()
    img = (d.images / 16.0 * 255.0).round().astype(np.uint8)  # (1797, 8, 8)
    img = img.repeat(4, axis=1).repeat(4, axis=2)  # nearest-neighbour 32x32
    img = np.repeat(img[..., None], 3, axis=3)
    y = d.target.astype(np.int64)
    # fixed split: every 5th image is test (360 test, 1437 train)
    test = np.arange(len(y)) % 5 == 4
    return Dataset("digits", img[~test], y[~test], img[test], y[test])


def _unpickle(path: Path) -> dict:
    with open(path, "rb") as f:
        return pickle.load(f, encoding="bytes")


def _cifar_dir(name: str, root: Path) -> Path:
    folder = _CIFAR[name][0]
    for cand in (root, root / folder):
        if (cand / _CIFAR[name][1][0]).is_file():
            return cand
    archive = root if root.is_file() else root / f"{folder.replace('-batches-py', '').replace('-python', '')}-python.tar.gz"
    if archive.is_file() and tarfile.is_tarfile(archive):
        out = archive.parent
        if not (out / folder).is_dir():
            with tarfile.open(archive) as tar:
                tar.extractall(out, filter="data")
        return out / folder
    raise TrainfreeError(
        f"{name} not found under {str(root)!r}: expected the official python-version folder "
        f"{folder}/ (or its .tar.gz); run `trainfree fetch {name} --root {root}` or pass "
        f"--data-root pointing at it"
    )


def _cifar(name: str, root: Path) -> Dataset:
    d = _cifar_dir(name, root)
    _, train_files, test_files, key = _CIFAR[name]

    def read(files: list[str]) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = [], []
        for f in files:
            b = _unpickle(d / f)
            xs.append(np.asarray(b[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
            ys.append(np.asarray(b[key], dtype=np.int64))
        return np.concatenate(xs).transpose(0, 2, 3, 1), np.concatenate(ys)

    xtr, ytr = read(train_files)
    xte, yte = read(test_files)
    return Dataset(name, xtr, ytr, xte, yte)


def _npz(path: Path) -> Dataset:
    if not path.is_file():
        raise TrainfreeError(
            f"npz dataset file {str(path)!r} does not exist; pass --data-root with the path of "
            f"an .npz holding x_train, y_train, x_test, y_test (NHWC uint8)"
        )
    try:
        z = np.load(path)
        arrays = [z[k] for k in ("x_train", "y_train", "x_test", "y_test")]
    except KeyError as e:
        raise TrainfreeError(f"{str(path)!r} lacks key {e}; an npz dataset needs x_train, y_train, x_test, y_test") from None
    except Exception as e:  # corrupt archive
        raise TrainfreeError(f"cannot read npz dataset {str(path)!r} ({e}); replace the file") from None
    xtr, ytr, xte, yte = arrays
    for x in (xtr, xte):
        if x.ndim != 4 or x.shape[-1] != 3 or x.dtype != np.uint8:
            raise TrainfreeError(f"{str(path)!r}: images must be uint8 NHWC with 3 channels, got {x.dtype} {x.shape}")
    return Dataset(path.stem, xtr, ytr.astype(np.int64), xte, yte.astype(np.int64))


def load_dataset(name: str, root: str | os.PathLike | None = None) -> Dataset:
    """Load dataset ``name`` (see ``DATASETS``); ``root`` is its folder or ``.npz`` file.

    A ``root`` ending in ``.npz`` selects the npz source whatever ``name`` says.
    """
    path = Path(root) if root is not None else None
    if path is not None and path.suffix == ".npz":
        return _npz(path)
    if name == "digits":
        return _digits()
    if name in _CIFAR:
        if path is None:
            raise TrainfreeError(f"{name} needs --data-root (the folder holding {_CIFAR[name][0]}/ or an .npz file)")
        if not path.exists():
            raise TrainfreeError(
                f"dataset path {str(path)!r} does not exist; point --data-root at the {name} folder "
                f"or an .npz file, or run `trainfree fetch {name} --root DIR`"
            )
        return _cifar(name, path)
    if name == "npz":
        raise TrainfreeError("dataset 'npz' needs --data-root pointing at the .npz file")
    raise TrainfreeError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)} (or give an .npz path)")


def normalise(x: np.ndarray) -> torch.Tensor:
    """uint8 NHWC -> float32 NCHW tensor with the CIFAR mean/std."""
    t = torch.from_numpy(np.ascontiguousarray(x)).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (t - mean) / std


def scoring_batch(
    name: str,
    batch_size: int,
    seed: int,
    root: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed, un-augmented scoring batch: (x float32 (B,3,32,32), y int64 (B,)).

    Images are drawn without replacement from the training split with ``seed``. With
    ``cache_dir`` the batch is stored once as ``.npz`` (keyed by dataset, source file,
    batch size, seed) and every later call returns exactly the same tensors.
    """
    key = f"{name}|{Path(root).resolve() if root else ''}|{batch_size}|{seed}"
    cache = None
    if cache_dir is not None:
        tag = hashlib.sha256(key.encode()).hexdigest()[:12]
        cache = Path(cache_dir) / f"batch_{name}_b{batch_size}_s{seed}_{tag}.npz"
        if cache.is_file():
            z = np.load(cache)
            return torch.from_numpy(z["x"]), torch.from_numpy(z["y"])
    ds = load_dataset(name, root)
    if batch_size > len(ds.y_train):
        raise TrainfreeError(f"batch size {batch_size} exceeds the {len(ds.y_train)} training images of {name}")
    idx = np.sort(np.random.default_rng(seed).choice(len(ds.y_train), batch_size, replace=False))
    x = normalise(ds.x_train[idx])
    y = torch.from_numpy(ds.y_train[idx].astype(np.int64))
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".tmp{os.getpid()}.npz")
        np.savez(tmp, x=x.numpy(), y=y.numpy())
        os.replace(tmp, cache)
    return x, y
