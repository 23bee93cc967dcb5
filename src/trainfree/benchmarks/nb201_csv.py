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


def _line(frame: pd.DataFrame, i: int) -> int:
    """The file line of row ``i`` of ``frame`` (line 1 is the header)."""
    return int(frame["_line"].iloc[i]) if "_line" in frame.columns else i + 2


def _arch_ids(path: Path, frame: pd.DataFrame, col: str) -> np.ndarray:
    """The canonical NB201 id of every row's arch string; a malformed one is refused with its line."""
    from trainfree.spaces import nb201

    seen: dict[object, str] = {}
    out = []
    for i, a in enumerate(frame[col].tolist()):
        if a not in seen:
            try:
                seen[a] = nb201.canonical(a)
            except TrainfreeError as e:
                raise TrainfreeError(f"{str(path)!r} line {_line(frame, i)}, column {col}: {e}; fix or delete "
                                     f"the row") from None
        out.append(seen[a])
    return np.asarray(out, dtype=object)


def _numbers(path: Path, frame: pd.DataFrame, col: str, integer: bool = False) -> np.ndarray:
    """Column ``col`` as floats (empty cells NaN); a cell that is no number is refused with its line."""
    raw = frame[col]
    num = pd.to_numeric(raw, errors="coerce")
    bad = raw.notna() & num.isna()
    if integer:
        bad |= num.notna() & (num != np.round(num))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        kind = "an integer" if integer else "a number"
        raise TrainfreeError(f"{str(path)!r} line {_line(frame, i)}, column {col}: {str(raw.iloc[i])!r} is not {kind}; "
                             f"fix the value or delete the row ({int(bad.sum())} such cell(s) in the column)")
    return num.astype(float).to_numpy()


def _long(path: Path, arch_col: str, source: str, specs: list[tuple[str, str, str, str, int, str]],
          frame: pd.DataFrame) -> pd.DataFrame:
    """specs: (column, dataset, split, field, epochs, seed) -> tidy rows (with each row's file line)."""
    parts = []
    idx = np.arange(len(frame))
    arch = _arch_ids(path, frame, arch_col)
    for col, dataset, split, field, epochs, seed in specs:
        parts.append(pd.DataFrame({
            "space": "nb201", "arch_id": arch, "bench_index": idx, "dataset": dataset,
            "split": split, "epochs": epochs, "seed": seed, "field": field,
            "value": _numbers(path, frame, col), "source": source, "_line": frame["_line"].to_numpy(),
        }))
    return pd.concat(parts, ignore_index=True)


#: the columns that say what a value is: two rows agreeing on them must agree on the value
KEY_COLUMNS = ["arch_id", "dataset", "split", "epochs", "seed", "field"]


def _no_conflicts(path: Path, tidy: pd.DataFrame) -> None:
    """Refuse an arch listed twice with different values for one (dataset, split, epochs, seed, field)."""
    vals = tidy.dropna(subset=["value"])
    dup = vals[vals.duplicated(KEY_COLUMNS, keep=False)]
    if dup.empty:
        return
    spread = dup.groupby(KEY_COLUMNS, sort=False)["value"].transform("nunique")
    clash = dup[spread > 1]
    if clash.empty:
        return
    first = clash.iloc[0]
    same = clash[(clash[KEY_COLUMNS] == first[KEY_COLUMNS]).all(axis=1)]
    lines = sorted({int(v) for v in same["_line"]})
    values = ", ".join(f"{v:g}" for v in same["value"].drop_duplicates())
    raise TrainfreeError(
        f"{str(path)!r} lines {', '.join(map(str, lines))}: arch {first.arch_id} is listed {len(lines)} times with "
        f"different {first.dataset} {first.split} {first.field} values ({values}); keep one row per arch "
        f"({clash.arch_id.nunique()} arch(s) conflict)")


def read_file(path: Path) -> pd.DataFrame:
    """One recognised CSV -> tidy rows. Every arch string is canonicalised and every value parsed;
    a malformed arch, a non-numeric value or an arch listed twice with different values is one
    ``TrainfreeError`` naming the file, the line and the fix."""
    from trainfree.benchmarks import GT_COLUMNS

    kind = _kind(path)
    df = pd.read_csv(path)
    df["_line"] = np.arange(len(df)) + 2
    src = f"{_name(path)} ({kind})"
    if kind == "v1_1":
        if "index" in df.columns:
            index = _numbers(path, df, "index", integer=True)
            if not (index == np.arange(len(df))).all():
                df = df.assign(index=index).sort_values("index", kind="stable").reset_index(drop=True)
        out = _long(path, "arch_str", src, [
            ("test_acc", "cifar10", "test", "acc", 200, "mean"),
            ("valid_acc", "cifar10-valid", "valid", "acc", 200, "mean"),
            ("valid_test_acc", "cifar10-valid", "test", "acc", 200, "mean"),
            ("params_m", "cifar10", "cost", "params_m", 200, "mean"),
        ], df)
    elif kind == "nats":
        out = _long(path, "ArchitectureString", src, [
            ("CIFAR10TestAccuracy200Epochs", "cifar10", "test", "acc", 200, "mean"),
            ("CIFAR100TestAccuracy200Epochs", "cifar100", "test", "acc", 200, "mean"),
            ("ImageNetTestAccuracy200Epochs", "ImageNet16-120", "test", "acc", 200, "mean"),
        ], df)
    elif kind == "seeds":
        seeds = sorted(c for c in df.columns if c.startswith("acc_seed"))
        out = _long(path, "arch_str", src,
                    [(c, "cifar10", "test", "acc", 200, c.removeprefix("acc_")) for c in seeds], df)
        out = out.dropna(subset=["value"])
    elif kind == "tidy":
        out = df[[*GT_COLUMNS, "_line"]].copy()
        bad_space = out.space != "nb201"
        if bad_space.any():
            i = int(np.flatnonzero(bad_space.to_numpy())[0])
            raise TrainfreeError(f"{str(path)!r} line {_line(out, i)}, column space: {out.space.iloc[i]!r} is not "
                                 f"nb201; an NB201 ground-truth file holds nb201 rows only")
        out["arch_id"] = _arch_ids(path, out, "arch_id")
        out["value"] = _numbers(path, out, "value")
        for col in ("epochs", "bench_index"):
            num = _numbers(path, out, col, integer=True)
            if np.isnan(num).any():
                i = int(np.flatnonzero(np.isnan(num))[0])
                raise TrainfreeError(f"{str(path)!r} line {_line(out, i)}, column {col}: empty; give an integer")
            out[col] = num.astype(np.int64)
    else:
        raise TrainfreeError(f"{str(path)!r}: unrecognised CSV columns; see trainfree.benchmarks.nb201_csv for "
                             f"the formats")
    if kind == "tidy" or out.arch_id.nunique() < len(df):  # a wide file lists each arch once per row
        _no_conflicts(path, out)
    return out.drop(columns="_line")


def read(path: Path) -> pd.DataFrame:
    """Every recognised CSV under ``path`` (a file or folder) -> one tidy table."""
    from trainfree.benchmarks import GT_COLUMNS

    frames = [read_file(f) for f in _files(path) if _kind(f)]
    if not frames:
        raise TrainfreeError(f"no recognised NB201 CSV under {str(path)!r}")
    gt = pd.concat(frames, ignore_index=True)[GT_COLUMNS]
    gt["seed"] = gt["seed"].astype(str)
    return gt
