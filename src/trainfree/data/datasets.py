"""Image datasets as uint8 NHWC arrays, NB201's train/valid/test splits, the scoring batch.

Sources:

- ``digits``: scikit-learn's bundled 8x8 handwritten digits (1,797 images, no download),
  upsampled to 32x32 and repeated to 3 channels: the offline default.
- ``cifar10`` / ``cifar100``: the official python-version archive folder
  (``cifar-10-batches-py`` / ``cifar-100-python``), the ``.tar.gz`` itself, or its parent.
  An archive is extracted only after it passes the size and checksum of
  :mod:`trainfree.data.fetch`.
- ``cifar10-valid``: CIFAR-10 with NB201's 25k/25k split of the training set.
- ``ImageNet16-120``: downsampled ImageNet 16x16 (``train_data_batch_1..10``, ``val_data``;
  folder ``ImageNet16``), classes 1..120 only, relabelled 0..119, as NB201 uses it.
- ``npz``: any ``.npz`` with ``x_train, y_train, x_test, y_test`` (NHWC uint8), e.g. a
  partial CIFAR-10 mirror.

NB201 splits (:func:`load_split`), with the benchmark's names:

============== ========================== ========================== ====================
dataset        train                      valid                      test
============== ========================== ========================== ====================
cifar10        50k train                  --                         10k test (ori-test)
cifar10-valid  25k of the train set       the other 25k              10k test (ori-test)
cifar100       50k train                  5k half of test (x-valid)  other 5k (x-test)
ImageNet16-120 151.7k train (cls 1..120)  3k half of val (x-valid)   other 3k (x-test)
============== ========================== ========================== ====================

The halves come from NB201's own split files when one is found next to the data
(``cifar-split.txt`` with keys ``train``/``valid``; ``cifar100-test-split.txt`` and
``imagenet-16-120-test-split.txt`` with keys ``xvalid``/``xtest``; JSON, each value a
list of indices or NB201's ``["int", [...]]`` form). Without a split file the split is
deterministic and documented here: ``cifar10-valid`` train = training images 0..24,999
(``data_batch_1``, ``data_batch_2`` and the first half of ``data_batch_3``), valid =
25,000..49,999; valid = the first half of the test (val) set in file order, test = the
second half. :func:`load_split` reports which rule it used.

Images are read with a restricted unpickler (:mod:`trainfree.data.safe_pickle`). The
scoring batch is un-augmented, drawn once per (dataset, batch size, seed) from the
training split, normalised with the dataset's mean/std, and cached as ``.npz``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from trainfree.contracts import draw
from trainfree.data.npz import load_batch, load_npz
from trainfree.data.safe_pickle import load_pickle
from trainfree.errors import TrainfreeError
from trainfree.io import atomic_path
from trainfree.json_input import loads

DATASETS: tuple[str, ...] = ("digits", "cifar10", "cifar10-valid", "cifar100", "ImageNet16-120", "npz")
ALIASES = {"imagenet16-120": "ImageNet16-120", "imagenet16": "ImageNet16-120", "ImageNet16": "ImageNet16-120"}
SPLITS: tuple[str, ...] = ("train", "valid", "test")
# Normalisation used by NB201 / NASWOT / zero-cost-nas for CIFAR (all CIFAR variants here).
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2023, 0.1994, 0.2010)
# NB201's ImageNet16 statistics (pixel values / 255).
IMAGENET16_MEAN = (122.68 / 255, 116.66 / 255, 104.01 / 255)
IMAGENET16_STD = (63.22 / 255, 61.26 / 255, 65.09 / 255)
IMAGENET16_CLASSES = 120
_CIFAR = {
    "cifar10": ("cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)], ["test_batch"], b"labels"),
    "cifar100": ("cifar-100-python", ["train"], ["test"], b"fine_labels"),
}
_CIFAR_ARCHIVE = {"cifar10": "cifar-10-python.tar.gz", "cifar100": "cifar-100-python.tar.gz"}
_IN16_FOLDER = "ImageNet16"
_IN16_TRAIN = [f"train_data_batch_{i}" for i in range(1, 11)]
_IN16_VAL = "val_data"
_SPLIT_FILES = {
    "cifar10-valid": ("cifar-split.txt", "train", "valid"),
    "cifar100": ("cifar100-test-split.txt", "xvalid", "xtest"),
    "ImageNet16-120": ("imagenet-16-120-test-split.txt", "xvalid", "xtest"),
}


@dataclass(frozen=True)
class Dataset:
    """Images as uint8 arrays (N, H, W, 3) and int64 labels (N,); H = W = 32 (16 for ImageNet16).

    ``x_valid``/``y_valid`` are set only where the dataset has its own validation part
    (``cifar10-valid``); NB201's valid/test halves of a test set come from :func:`load_split`.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    x_valid: np.ndarray | None = None
    y_valid: np.ndarray | None = None

    @property
    def num_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max())) + 1


@dataclass(frozen=True)
class Split:
    """One split of a dataset: images (N, H, W, 3) uint8, labels (N,) int64, and provenance.

    ``indices`` index the split's parent array (training set or test/val set, file
    order); ``how`` says which rule chose them (an NB201 split file or the fallback).
    """

    dataset: str
    split: str
    x: np.ndarray
    y: np.ndarray
    indices: np.ndarray
    how: str


def canonical_name(name: str) -> str:
    """Dataset name with aliases resolved (``imagenet16-120`` -> ``ImageNet16-120``)."""
    return ALIASES.get(name, name)


def num_classes(name: str) -> int | None:
    """Number of classes of a named dataset (None for ``npz``: read from the file)."""
    return {"digits": 10, "cifar10": 10, "cifar10-valid": 10, "cifar100": 100,
            "ImageNet16-120": IMAGENET16_CLASSES}.get(canonical_name(name))


def norm_stats(name: str | None) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """(mean, std) per channel, in [0, 1] pixel units, used to normalise dataset ``name``."""
    if name is not None and canonical_name(name) == "ImageNet16-120":
        return IMAGENET16_MEAN, IMAGENET16_STD
    return MEAN, STD


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


# ---------------------------------------------------------------------------- CIFAR

def _extract_atomically(archive: Path, folder: str) -> Path:
    """Extract ``archive`` (holding ``folder/``) into a private temporary folder beside it,
    then rename ``folder`` into place: a killed or concurrent extraction never leaves a
    half-written ``folder`` (the loser of a race removes its copy and uses the winner's)."""
    final = archive.parent / folder
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder}.tmp", dir=archive.parent))
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        if not (tmp / folder).is_dir():
            raise TrainfreeError(f"{archive} does not hold a {folder}/ folder; replace it with the official archive")
        try:
            os.rename(tmp / folder, final)
        except OSError:
            if not final.is_dir():  # not a lost race: a real failure
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _cifar_dir(name: str, root: Path) -> Path:
    from trainfree.data.fetch import get_asset, verify_file

    folder = _CIFAR[name][0]
    for cand in (root, root / folder):
        if (cand / _CIFAR[name][1][0]).is_file():
            return cand
    archive = root if root.is_file() else root / _CIFAR_ARCHIVE[name]
    if archive.is_file():
        if (archive.parent / folder / _CIFAR[name][1][0]).is_file():
            return archive.parent / folder
        asset = get_asset(name)
        bad = verify_file(asset, archive)
        if bad is not None:
            raise TrainfreeError(
                f"{archive} failed verification ({bad}) and is not extracted; replace it with the official "
                f"{asset.filename} ({asset.size} bytes, {asset.checksum_label}) or run `trainfree fetch {name} "
                f"--root {archive.parent}`"
            )
        return _extract_atomically(archive, folder)
    raise TrainfreeError(
        f"{name} not found under {str(root)!r}: expected the official python-version folder "
        f"{folder}/ (or its .tar.gz); run `trainfree fetch {name} --root {root}` or pass "
        f"--data-root pointing at it"
    )


def _read_cifar_batches(d: Path, files: list[str], key: bytes) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for f in files:
        path = d / f
        if not path.is_file():
            raise TrainfreeError(f"CIFAR batch {str(path)!r} is missing; the folder must hold {', '.join(files)}")
        b = load_pickle(path, encoding="bytes")
        try:
            xs.append(np.asarray(b[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
            ys.append(np.asarray(b[key], dtype=np.int64))
        except (KeyError, ValueError, TypeError) as e:
            raise TrainfreeError(f"{str(path)!r} is not an official CIFAR python batch ({e!r})") from None
    return np.concatenate(xs).transpose(0, 2, 3, 1), np.concatenate(ys)


def _cifar(name: str, root: Path) -> Dataset:
    d = _cifar_dir(name, root)
    _, train_files, test_files, key = _CIFAR[name]
    xtr, ytr = _read_cifar_batches(d, train_files, key)
    xte, yte = _read_cifar_batches(d, test_files, key)
    return Dataset(name, xtr, ytr, xte, yte)


# ---------------------------------------------------------------------------- ImageNet16-120

def _imagenet16_dir(root: Path) -> Path:
    for cand in (root, root / _IN16_FOLDER, root / "ImageNet16-120"):
        if (cand / _IN16_VAL).is_file():
            return cand
    raise TrainfreeError(
        f"ImageNet16-120 not found under {str(root)!r}: expected the folder {_IN16_FOLDER}/ with "
        f"{_IN16_TRAIN[0]}..{_IN16_TRAIN[-1].rsplit('_', 1)[1]} and {_IN16_VAL} (downsampled ImageNet 16x16 "
        f"from image-net.org, login needed); put it there and pass --data-root {root}"
    )


def _read_imagenet16(path: Path, keep: int) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        raise TrainfreeError(f"ImageNet16 file {str(path)!r} is missing; the folder needs "
                             f"{', '.join(_IN16_TRAIN)} and {_IN16_VAL}")
    b = load_pickle(path, encoding="latin1")
    try:
        data = b["data"] if "data" in b else b[b"data"]
        labels = b["labels"] if "labels" in b else b[b"labels"]
    except (KeyError, TypeError) as e:
        raise TrainfreeError(f"{str(path)!r} is not a downsampled-ImageNet pickle (needs keys data, labels; {e!r})") from None
    y = np.asarray(labels, dtype=np.int64)  # 1-based
    x = np.asarray(data, dtype=np.uint8).reshape(-1, 3, 16, 16)
    m = (y >= 1) & (y <= keep)
    return x[m].transpose(0, 2, 3, 1), y[m] - 1


def _imagenet16(root: Path, keep: int = IMAGENET16_CLASSES) -> Dataset:
    d = _imagenet16_dir(root)
    parts = [_read_imagenet16(d / f, keep) for f in _IN16_TRAIN]
    xtr = np.concatenate([p[0] for p in parts])
    ytr = np.concatenate([p[1] for p in parts])
    xte, yte = _read_imagenet16(d / _IN16_VAL, keep)
    return Dataset("ImageNet16-120", xtr, ytr, xte, yte)


# ---------------------------------------------------------------------------- npz

def _npz(path: Path, name: str = "npz") -> Dataset:
    """The npz source, checked: images uint8 NHWC (3 channels, same H, W), labels 1-D integers,
    one per image, in 0..K-1 (K = the named dataset's classes; for ``npz`` every class
    0..max must have a training image, so one stray label cannot add classes)."""
    if not path.is_file():
        raise TrainfreeError(
            f"npz dataset file {str(path)!r} does not exist; pass --data-root with the path of "
            f"an .npz holding x_train, y_train, x_test, y_test (NHWC uint8)"
        )
    fix = "an npz dataset holds x_train, y_train, x_test, y_test (images NHWC uint8, labels 0..K-1)"
    z = load_npz(path, ("x_train", "y_train", "x_test", "y_test"), what="npz dataset", fix=fix)
    xtr, ytr, xte, yte = z["x_train"], z["y_train"], z["x_test"], z["y_test"]
    for x in (xtr, xte):
        if x.ndim != 4 or x.shape[-1] != 3 or x.dtype != np.uint8:
            raise TrainfreeError(f"{str(path)!r}: images must be uint8 NHWC with 3 channels, got {x.dtype} {x.shape}")
    if xtr.shape[1:] != xte.shape[1:]:
        raise TrainfreeError(f"{str(path)!r}: x_train images are {xtr.shape[1:3]} but x_test images "
                             f"{xte.shape[1:3]}; both splits need images of one size")
    for key, x, y in (("train", xtr, ytr), ("test", xte, yte)):
        if y.ndim != 1 or y.dtype.kind not in "iu":
            raise TrainfreeError(f"{str(path)!r}: y_{key} must be a 1-D integer array of labels, got {y.dtype} "
                                 f"{y.shape}")
        if len(y) != len(x):
            raise TrainfreeError(f"{str(path)!r}: y_{key} has {len(y)} labels for {len(x)} images in x_{key}; "
                                 f"give one label per image")
    if len(ytr) == 0:
        raise TrainfreeError(f"{str(path)!r}: x_train holds no image; an npz dataset needs training images")
    known = num_classes(name)
    labels = np.concatenate([ytr, yte]).astype(np.int64)
    lo, hi = int(labels.min()), int(labels.max())
    if known is not None and (lo < 0 or hi >= known):
        raise TrainfreeError(f"{str(path)!r}: labels range {lo}..{hi} but {name} has classes 0..{known - 1}; "
                             f"fix the labels or use the matching dataset name")
    if known is None:
        missing = np.setdiff1d(np.arange(hi + 1), ytr.astype(np.int64))
        if lo < 0 or len(missing):
            shown = ", ".join(str(int(c)) for c in missing[:5]) + (" ..." if len(missing) > 5 else "")
            why = f"negative label {lo}" if lo < 0 else f"classes {shown} of 0..{hi} have no training image"
            raise TrainfreeError(f"{str(path)!r}: labels must be 0..K-1 with every class in y_train ({why}); "
                                 f"fix the labels")
    return Dataset(path.stem, xtr, ytr.astype(np.int64), xte, yte.astype(np.int64))


# ---------------------------------------------------------------------------- splits

def _find_split_file(name: str, root: Path | None) -> Path | None:
    if root is None or name not in _SPLIT_FILES:
        return None
    fname = _SPLIT_FILES[name][0]
    base = root.parent if root.is_file() else root
    for cand in (base, base / _CIFAR["cifar10"][0], base / _CIFAR["cifar100"][0], base / _IN16_FOLDER):
        if (cand / fname).is_file():
            return cand / fname
    return None


def _indices(value: object, path: Path, key: str) -> np.ndarray:
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], list):
        value = value[1]  # NB201's ["int", [...]] form
    try:
        return np.asarray(value, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError):
        raise TrainfreeError(f"{str(path)!r}: key {key!r} must be a list of integer indices") from None


def split_indices(name: str, n: int, root: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """NB201's two halves of a set of ``n`` images: (first part, second part, how).

    ``cifar10-valid``: (train, valid) of the 50k training set; ``cifar100`` /
    ``ImageNet16-120``: (valid, test) of the test/val set. Read from NB201's split file
    under ``root`` when present, else the documented fallback (first half, second half).
    """
    name = canonical_name(name)
    if name not in _SPLIT_FILES:
        raise TrainfreeError(f"dataset {name!r} has no NB201 split; splits exist for {', '.join(_SPLIT_FILES)}")
    fname, k1, k2 = _SPLIT_FILES[name]
    path = _find_split_file(name, Path(root) if root is not None else None)
    if path is not None:
        try:
            text = path.read_bytes()
        except OSError as e:
            raise TrainfreeError(f"cannot read NB201 split file {str(path)!r} ({e})") from None
        spec = loads(text, f"NB201 split file {str(path)!r}", "replace it with the official split file")
        if not isinstance(spec, dict) or k1 not in spec or k2 not in spec:
            raise TrainfreeError(f"NB201 split file {str(path)!r} must have keys {k1!r} and {k2!r}")
        a, b = _indices(spec[k1], path, k1), _indices(spec[k2], path, k2)
        if len(a) and (a.min() < 0 or a.max() >= n) or len(b) and (b.min() < 0 or b.max() >= n):
            raise TrainfreeError(f"NB201 split file {str(path)!r} has indices outside 0..{n - 1}")
        if np.intersect1d(a, b).size:
            raise TrainfreeError(f"NB201 split file {str(path)!r}: {k1!r} and {k2!r} overlap")
        return a, b, f"NB201 split file {fname}"
    half = n // 2
    return (np.arange(half), np.arange(half, n),
            f"fallback (no {fname}): first {half} / last {n - half} images in file order")


def load_split(name: str, split: str, root: str | os.PathLike | None = None) -> Split:
    """One NB201 split (``train``, ``valid`` or ``test``) of ``cifar10``, ``cifar10-valid``,
    ``cifar100`` or ``ImageNet16-120`` (see the module table); also ``digits``/``npz``
    train/test. ``root`` is the data folder as for :func:`load_dataset`."""
    name = canonical_name(name)
    if split not in SPLITS:
        raise TrainfreeError(f"unknown split {split!r}; choose one of: {', '.join(SPLITS)}")
    if name == "cifar10-valid":
        ds = load_dataset("cifar10", root)
        tr, va, how = split_indices(name, len(ds.y_train), root)
        if split == "test":
            return Split(name, split, ds.x_test, ds.y_test, np.arange(len(ds.y_test)), "full CIFAR-10 test set")
        idx = tr if split == "train" else va
        return Split(name, split, ds.x_train[idx], ds.y_train[idx], idx, how)
    ds = load_dataset(name, root)
    if split == "train":
        return Split(ds.name, split, ds.x_train, ds.y_train, np.arange(len(ds.y_train)), "full training set")
    if name in ("cifar100", "ImageNet16-120"):
        va, te, how = split_indices(name, len(ds.y_test), root)
        idx = va if split == "valid" else te
        return Split(name, split, ds.x_test[idx], ds.y_test[idx], idx, how)
    if split == "valid":
        raise TrainfreeError(
            f"dataset {name!r} has no validation split in NB201; use cifar10-valid (train/valid halves of the "
            f"CIFAR-10 training set) or split test"
        )
    return Split(ds.name, split, ds.x_test, ds.y_test, np.arange(len(ds.y_test)), "full test set")


# ---------------------------------------------------------------------------- public loader

def load_dataset(name: str, root: str | os.PathLike | None = None) -> Dataset:
    """Load dataset ``name`` (see ``DATASETS``); ``root`` is its folder or ``.npz`` file.

    A ``root`` ending in ``.npz`` selects the npz source whatever ``name`` says.
    ``cifar10-valid`` returns the 25k NB201 training half as ``x_train``, the other
    half as ``x_valid`` and the CIFAR-10 test set as ``x_test``; ``ImageNet16-120``
    returns the 120-class training set and the whole 120-class val set as ``x_test``.
    """
    name = canonical_name(name)
    path = Path(root) if root is not None else None
    if path is not None and path.suffix == ".npz":
        return _npz(path, name)
    if name == "digits":
        return _digits()
    if name in ("cifar10", "cifar100", "cifar10-valid", "ImageNet16-120"):
        if path is None:
            where = _IN16_FOLDER if name == "ImageNet16-120" else _CIFAR.get(name, _CIFAR["cifar10"])[0]
            raise TrainfreeError(f"{name} needs --data-root (the folder holding {where}/ or an .npz file)")
        if not path.exists():
            fetch_name = "imagenet16-120" if name == "ImageNet16-120" else name.removesuffix("-valid")
            raise TrainfreeError(
                f"dataset path {str(path)!r} does not exist; point --data-root at the {name} folder "
                f"or an .npz file, or run `trainfree fetch {fetch_name} --root DIR`"
            )
        if name == "ImageNet16-120":
            return _imagenet16(path)
        if name == "cifar10-valid":
            full = _cifar("cifar10", path)
            tr, va, _ = split_indices(name, len(full.y_train), path)
            return Dataset(name, full.x_train[tr], full.y_train[tr], full.x_test, full.y_test,
                           full.x_train[va], full.y_train[va])
        return _cifar(name, path)
    if name == "npz":
        raise TrainfreeError("dataset 'npz' needs --data-root pointing at the .npz file")
    raise TrainfreeError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)} (or give an .npz path)")


def normalise(x: np.ndarray, dataset: str | None = None) -> torch.Tensor:
    """uint8 NHWC -> float32 NCHW tensor, standardised with the mean/std of ``dataset``
    (``norm_stats``; the CIFAR statistics when ``dataset`` is None)."""
    mean_, std_ = norm_stats(dataset)
    t = torch.from_numpy(np.ascontiguousarray(x)).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(mean_).view(1, 3, 1, 1)
    std = torch.tensor(std_).view(1, 3, 1, 1)
    return (t - mean) / std


def _source_stamp(root: str | os.PathLike | None) -> str:
    """Size and modification time of the data files under ``root`` (two folder levels), so
    that a cached batch is not reused after the files it was drawn from changed."""
    if root is None or not Path(root).exists():
        return ""
    base = Path(root)
    files = [base] if base.is_file() else sorted(
        f for pat in ("*", "*/*") for f in base.glob(pat) if f.is_file())
    return ";".join(f"{f.relative_to(base) if f != base else f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}"
                    for f in files)


def scoring_batch(
    name: str,
    batch_size: int,
    seed: int,
    root: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed, un-augmented scoring batch: (x float32 (B,3,H,W), y int64 (B,)).

    Images are drawn without replacement from the training split with ``seed`` (for
    ``cifar10-valid`` the 25k NB201 training half) and normalised with ``norm_stats(name)``.
    With ``cache_dir`` the batch is stored once as ``.npz`` (keyed by dataset, source
    file with the size and modification time of its data files, batch size, seed) and
    every later call returns exactly the same tensors until the source changes.
    """
    key = f"{name}|{Path(root).resolve() if root else ''}|{batch_size}|{seed}|{_source_stamp(root)}"
    cache = None
    if cache_dir is not None:
        if Path(cache_dir).exists() and not Path(cache_dir).is_dir():
            raise TrainfreeError(f"cache folder {str(cache_dir)!r} is a file; give a folder (or none) for the cache")
        tag = hashlib.sha256(key.encode()).hexdigest()[:12]
        cache = Path(cache_dir) / f"batch_{name}_b{batch_size}_s{seed}_{tag}.npz"
        if cache.is_file():
            x, y = load_batch(cache, fix=f"delete {cache} to draw the batch again")
            return torch.from_numpy(x), torch.from_numpy(y)
    ds = load_dataset(name, root)
    if batch_size > len(ds.y_train):
        raise TrainfreeError(f"batch size {batch_size} exceeds the {len(ds.y_train)} training images of {name}")
    idx = np.sort(draw(len(ds.y_train), batch_size, seed))
    x = normalise(ds.x_train[idx], name)
    y = torch.from_numpy(ds.y_train[idx].astype(np.int64))
    if cache is not None:
        with atomic_path(cache) as tmp:
            np.savez(tmp, x=x.numpy(), y=y.numpy())
    return x, y
