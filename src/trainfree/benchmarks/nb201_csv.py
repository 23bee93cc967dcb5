"""NB201 ground truth from simple CSV mirrors (e.g. the bundled ``trainfree/benchdata/nb201``).

Recognised files (``.csv``, or ``.csv.xz`` / ``.csv.gz`` compressed; by their columns), each
row order = NB201 index:

- ``index, arch_str, params_m, test_acc, valid_acc, valid_test_acc`` (NB201 v1_1
  CIFAR-10 as used by NASWOT): ``cifar10`` test, ``cifar10-valid`` valid and test,
  200 epochs, seed mean; ``params_m``.
- ``CIFAR10TestAccuracy200Epochs, CIFAR100TestAccuracy200Epochs,
  ImageNetTestAccuracy200Epochs, ArchitectureString`` (NATS-Bench tss): test accuracy
  at 200 epochs, seed mean, on ``cifar10``, ``cifar100``, ``ImageNet16-120``.
- ``arch_str, acc_seed1..3`` (per-seed CIFAR-10 test accuracy, NB201 v1_1).
- a tidy CSV with the ``GT_COLUMNS`` themselves.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from trainfree.errors import TrainfreeError

V11_COLS = {"arch_str", "params_m", "test_acc", "valid_acc", "valid_test_acc"}
NATS_COLS = {"CIFAR10TestAccuracy200Epochs", "CIFAR100TestAccuracy200Epochs",
             "ImageNetTestAccuracy200Epochs", "ArchitectureString"}
SEED_COLS = {"arch_str", "acc_seed1"}


def _kind(path: Path) -> str | None:
    try:
        cols = set(pd.read_csv(path, nrows=0).columns)
    except Exception:
        return None
    from trainfree.benchmarks import GT_COLUMNS

    if V11_COLS <= cols:
        return "v1_1"
    if NATS_COLS <= cols:
        return "nats"
    if SEED_COLS <= cols:
        return "seeds"
    if set(GT_COLUMNS) <= cols:
        return "tidy"
    return None


CSV_SUFFIXES = (".csv", ".csv.xz", ".csv.gz")


def _is_csv(path: Path) -> bool:
    return path.name.endswith(CSV_SUFFIXES)


def _name(path: Path) -> str:
    """The CSV's name without its compression suffix (the tidy table's ``source`` label)."""
    return path.name.removesuffix(".xz").removesuffix(".gz")


def _files(path: Path) -> list[Path]:
    if not path.is_dir():
        return [path]
    return sorted((f for f in path.iterdir() if f.is_file() and _is_csv(f)), key=_name)


def can_read(path: Path) -> bool:
    return any(_kind(f) for f in _files(path) if _is_csv(f))


def _long(arch: pd.Series, source: str, specs: list[tuple[str, str, str, str, int, str]],
          frame: pd.DataFrame) -> pd.DataFrame:
    """specs: (column, dataset, split, field, epochs, seed) -> tidy rows."""
    parts = []
    idx = np.arange(len(frame))
    for col, dataset, split, field, epochs, seed in specs:
        parts.append(pd.DataFrame({
            "space": "nb201", "arch_id": arch.values, "bench_index": idx, "dataset": dataset,
            "split": split, "epochs": epochs, "seed": seed, "field": field,
            "value": frame[col].astype(float).values, "source": source,
        }))
    return pd.concat(parts, ignore_index=True)


def read_file(path: Path) -> pd.DataFrame:
    from trainfree.benchmarks import GT_COLUMNS

    kind = _kind(path)
    df = pd.read_csv(path)
    src = f"{_name(path)} ({kind})"
    if kind == "v1_1":
        if "index" in df.columns and not (df["index"].values == np.arange(len(df))).all():
            df = df.sort_values("index").reset_index(drop=True)
        return _long(df.arch_str, src, [
            ("test_acc", "cifar10", "test", "acc", 200, "mean"),
            ("valid_acc", "cifar10-valid", "valid", "acc", 200, "mean"),
            ("valid_test_acc", "cifar10-valid", "test", "acc", 200, "mean"),
            ("params_m", "cifar10", "cost", "params_m", 200, "mean"),
        ], df)
    if kind == "nats":
        return _long(df.ArchitectureString, src, [
            ("CIFAR10TestAccuracy200Epochs", "cifar10", "test", "acc", 200, "mean"),
            ("CIFAR100TestAccuracy200Epochs", "cifar100", "test", "acc", 200, "mean"),
            ("ImageNetTestAccuracy200Epochs", "ImageNet16-120", "test", "acc", 200, "mean"),
        ], df)
    if kind == "seeds":
        seeds = sorted(c for c in df.columns if c.startswith("acc_seed"))
        out = _long(df.arch_str, src, [(c, "cifar10", "test", "acc", 200, c.removeprefix("acc_")) for c in seeds], df)
        return out.dropna(subset=["value"])
    if kind == "tidy":
        return df[GT_COLUMNS]
    raise TrainfreeError(f"{str(path)!r}: unrecognised CSV columns; see trainfree.benchmarks.nb201_csv for the formats")


def read(path: Path) -> pd.DataFrame:
    """Every recognised CSV under ``path`` (a file or folder) -> one tidy table."""
    from trainfree.benchmarks import GT_COLUMNS

    frames = [read_file(f) for f in _files(path) if _kind(f)]
    if not frames:
        raise TrainfreeError(f"no recognised NB201 CSV under {str(path)!r}")
    gt = pd.concat(frames, ignore_index=True)[GT_COLUMNS]
    gt["seed"] = gt["seed"].astype(str)
    return gt
