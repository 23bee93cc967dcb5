"""NB201 ground truth from the official benchmark files -> the tidy table.

Two official layouts hold the same per-arch records:

- **NAS-Bench-201** ``NAS-Bench-201-v1_1-096897.pth`` / ``NAS-Bench-201-v1_0-e61699.pth``:
  one ``torch.save``'d dict ``{"meta_archs": [arch_str, ...], "evaluated_indexes": ...,
  "arch2infos": {index: {"less": ArchResults, "full": ArchResults}}}`` where ``less``
  is the 12-epoch schedule (hp 12) and ``full`` the 200-epoch one (hp 200).
- **NATS-Bench tss** ``NATS-tss-v1_0-3ffb9-simple/``: ``meta.pickle.pbz2`` (``{"meta_archs":
  [...]}``) plus one bz2 pickle per arch, ``{index:06d}.pickle.pbz2`` =
  ``{"12": ArchResults, "200": ArchResults}``.

Each ArchResults (as its ``state_dict``) maps ``(dataset, seed)`` to one trial
(``ResultsCount``): per-epoch ``train_acc1es``/``train_losses`` keyed by epoch,
``eval_acc1es``/``eval_losses`` keyed ``"<set>@<epoch>"``, ``params`` (millions),
``flop`` (millions), ``latency`` (list, seconds per batch of 256), ``train_times``
(seconds per epoch). They are decoded with the ``nas-bench-201`` package's own
``ArchResults``/``ResultsCount`` classes.

Rows written (values after the last epoch of each trial; ``epochs`` = the hp, 12 or 200):

- ``split`` ``train`` / ``valid`` / ``test`` / ``valtest`` with ``field`` ``acc`` (percent)
  and ``loss`` (cross-entropy). Evaluation sets map as NB201 defines them:
  ``x-valid`` -> ``valid``; ``x-test`` -> ``test``; ``ori-test`` -> ``test`` for
  ``cifar10`` and ``cifar10-valid`` (the CIFAR-10 test set) and ``valtest`` for
  ``cifar100``/``ImageNet16-120`` (their whole test set = valid + test halves).
- ``split`` ``cost``: ``params_m`` (millions), ``flops_m`` (millions of FLOPs),
  ``latency_s`` (seconds), ``train_time_s`` (seconds for all epochs of the trial).
- ``seed`` = ``seed<N>`` for each trial and ``mean`` = the mean over the trials of that
  (arch, dataset, hp), exactly as ``get_metrics(..., is_random=False)`` averages them.

Loading never executes code from the files: the ``.pth`` goes through
``torch.load(weights_only=True)`` (plus numpy scalar types), the ``.pbz2`` files through
:func:`trainfree.data.safe_pickle.load_pickle`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trainfree.errors import TrainfreeError

PTH_PATTERN = re.compile(r"NAS-Bench-201-(v\d+_\d+)-[0-9a-f]+\.pth$")
NATS_META = "meta.pickle.pbz2"
HP_KEYS = ("12", "200")
_PTH_HP = {"less": "12", "full": "200"}
_COST_FIELDS = ("params_m", "flops_m", "latency_s", "train_time_s")


def split_name(dataset: str, eval_name: str) -> str:
    """Tidy split name of NB201 evaluation set ``eval_name`` on ``dataset``."""
    if eval_name == "x-valid":
        return "valid"
    if eval_name == "x-test":
        return "test"
    if eval_name == "ori-test":
        return "test" if dataset in ("cifar10", "cifar10-valid") else "valtest"
    return eval_name


def _num(v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return math.nan
    return f


class _Columns:
    """Column-wise row buffer (fast for millions of rows)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.cols: dict[str, list] = {k: [] for k in ("arch_id", "bench_index", "dataset", "split",
                                                       "epochs", "seed", "field", "value")}

    def add(self, arch: str, index: int, dataset: str, split: str, epochs: int, seed: str,
            field: str, value: float) -> None:
        c = self.cols
        c["arch_id"].append(arch)
        c["bench_index"].append(index)
        c["dataset"].append(dataset)
        c["split"].append(split)
        c["epochs"].append(epochs)
        c["seed"].append(seed)
        c["field"].append(field)
        c["value"].append(value)

    def frame(self) -> pd.DataFrame:
        from trainfree.benchmarks import GT_COLUMNS

        df = pd.DataFrame({
            "space": "nb201",
            "arch_id": self.cols["arch_id"],
            "bench_index": np.asarray(self.cols["bench_index"], dtype=np.int64),
            "dataset": self.cols["dataset"],
            "split": self.cols["split"],
            "epochs": np.asarray(self.cols["epochs"], dtype=np.int64),
            "seed": self.cols["seed"],
            "field": self.cols["field"],
            "value": np.asarray(self.cols["value"], dtype=np.float64),
            "source": self.source,
        })
        return df[GT_COLUMNS]


def _trial_values(rc: Any, dataset: str) -> dict[tuple[str, str], float]:
    """{(split, field): value} of one ResultsCount after its last epoch."""
    last = int(rc.epochs) - 1
    out: dict[tuple[str, str], float] = {}
    if rc.train_acc1es is not None and last in rc.train_acc1es:
        out[("train", "acc")] = _num(rc.train_acc1es[last])
        out[("train", "loss")] = _num(rc.train_losses[last]) if rc.train_losses is not None else math.nan
    for name in rc.eval_names or ():
        key = f"{name}@{last}"
        if key in rc.eval_acc1es:
            split = split_name(dataset, name)
            out[(split, "acc")] = _num(rc.eval_acc1es[key])
            out[(split, "loss")] = _num(rc.eval_losses.get(key)) if rc.eval_losses else math.nan
    out[("cost", "params_m")] = _num(rc.params)
    out[("cost", "flops_m")] = _num(rc.flop)
    lats = [_num(x) for x in (rc.latency or ())]
    lat = float(np.mean(lats)) if lats else math.nan
    out[("cost", "latency_s")] = lat if lat > 0 else math.nan
    times = rc.train_times
    out[("cost", "train_time_s")] = (float(sum(_num(t) for t in times.values()))
                                     if isinstance(times, Mapping) and times else math.nan)
    return out


def add_arch_results(buf: _Columns, index: int, arch: str, hp: str, state: Mapping | Any,
                     seeds: bool = True) -> None:
    """Append the rows of one ArchResults (object or its state dict) at hp ``hp``."""
    from nas_201_api import ArchResults

    res = state if isinstance(state, ArchResults) else ArchResults.create_from_state_dict(dict(state))
    epochs = int(hp)
    for dataset, seed_list in res.dataset_seed.items():
        per_seed = []
        for seed in seed_list:
            vals = _trial_values(res.all_results[(dataset, seed)], dataset)
            per_seed.append(vals)
            if seeds:
                for (split, field), v in vals.items():
                    buf.add(arch, index, dataset, split, epochs, f"seed{seed}", field, v)
        keys: list[tuple[str, str]] = []
        for vals in per_seed:
            keys.extend(k for k in vals if k not in keys)
        for key in keys:
            xs = [v[key] for v in per_seed if key in v]
            finite = [x for x in xs if not math.isnan(x)]
            mean = float(np.mean(finite)) if finite else math.nan
            buf.add(arch, index, dataset, key[0], epochs, "mean", key[1], mean)


def _progress(it: Iterable, total: int, desc: str) -> Iterable:
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        return it
    return tqdm(it, total=total, desc=desc, disable=None, mininterval=2.0)


# ---------------------------------------------------------------------------- NAS-Bench-201 .pth

def is_pth(path: Path) -> bool:
    """True for a file that looks like an NB201 benchmark ``.pth`` (by suffix)."""
    return path.is_file() and path.suffix == ".pth"


def version_of(path: Path) -> str:
    """Benchmark version from an official file name (``v1_1``), or ``unknown``."""
    m = PTH_PATTERN.search(path.name)
    return m.group(1) if m else "unknown"


def _safe_globals() -> list:
    import numpy as np_

    try:
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct, scalar  # type: ignore[no-redef]
    g: list = [scalar, _reconstruct, np_.ndarray, np_.dtype]
    dt = getattr(np_, "dtypes", None)
    if dt is not None:
        g += [getattr(dt, n) for n in ("Float64DType", "Float32DType", "Int64DType", "Int32DType",
                                      "BoolDType") if hasattr(dt, n)]
    return g


def load_pth(path: str | Path, *, trusted: bool = False) -> dict:
    """The raw dict of an NB201 ``.pth`` file, loaded without running code from it.

    ``trusted=True`` falls back to full unpickling if the safe loader refuses an object;
    use it only for a file obtained from the official source.
    """
    import pickle

    import torch

    path = Path(path)
    try:
        with torch.serialization.safe_globals(_safe_globals()):
            data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        m = re.search(r"GLOBAL (\S+)", str(e))  # "Unsupported global" or "unsupported GLOBAL ... blocked"
        if m is None:
            raise TrainfreeError(f"cannot read {str(path)!r}: not a torch-saved file; replace it") from None
        if not trusted:
            raise TrainfreeError(
                f"{path.name}: the safe loader refused the object {m.group(1)}; if this is the official "
                f"NAS-Bench-201 file from its authors, rerun with --trust-pickle (trusted=True)"
            ) from None
        data = torch.load(path, map_location="cpu", weights_only=False)
    except (RuntimeError, OSError, EOFError) as e:
        msg = str(e).splitlines()[0][:200] if str(e).strip() else "empty or truncated file"
        raise TrainfreeError(f"cannot read {str(path)!r} as a torch file ({e.__class__.__name__}: "
                             f"{msg}); replace the file") from None
    if not isinstance(data, dict) or not {"meta_archs", "arch2infos"} <= set(data):
        raise TrainfreeError(f"{str(path)!r} is not a NAS-Bench-201 file (needs keys meta_archs, arch2infos)")
    return data


def read_pth(path: str | Path, *, hps: Sequence[str] = HP_KEYS, seeds: bool = True,
             trusted: bool = False) -> pd.DataFrame:
    """Tidy ground truth of an official NAS-Bench-201 ``.pth`` file.

    Args:
        path: ``NAS-Bench-201-v1_1-096897.pth`` or ``NAS-Bench-201-v1_0-e61699.pth``.
        hps: which schedules to read: ``"12"`` (``less``) and/or ``"200"`` (``full``).
        seeds: also write one row per trial (``seed<N>``), not only the seed mean.
        trusted: see :func:`load_pth`.
    """
    path = Path(path)
    data = load_pth(path, trusted=trusted)
    meta = list(data["meta_archs"])
    buf = _Columns(f"{path.name} (NAS-Bench-201 {version_of(path)})")
    infos = data["arch2infos"]
    for index in _progress(sorted(infos), len(infos), "NB201 archs"):
        entry = infos.pop(index)  # free memory as we go
        arch = meta[int(index)]
        for key, hp in _PTH_HP.items():
            if hp in hps and key in entry:
                add_arch_results(buf, int(index), arch, hp, entry[key], seeds)
    return buf.frame()


# ---------------------------------------------------------------------------- NATS-Bench tss

def is_nats_dir(path: Path) -> bool:
    """True for a NATS-Bench ``-simple`` folder (holds ``meta.pickle.pbz2``)."""
    return path.is_dir() and (path / NATS_META).is_file()


def read_nats(folder: str | Path, *, hps: Sequence[str] = HP_KEYS, seeds: bool = True) -> pd.DataFrame:
    """Tidy ground truth of a NATS-Bench topology ``-simple`` folder.

    Args:
        folder: e.g. ``NATS-tss-v1_0-3ffb9-simple`` (``meta.pickle.pbz2`` + per-arch files
            ``{index:06d}.pickle.pbz2``, or ``{index}.pickle.pbz2``).
        hps: schedules to read (``"12"``, ``"200"``; others present in the files also work).
        seeds: also write one row per trial, not only the seed mean.
    """
    from trainfree.data.safe_pickle import load_pickle

    folder = Path(folder)
    if not is_nats_dir(folder):
        raise TrainfreeError(f"{str(folder)!r} is not a NATS-Bench -simple folder (no {NATS_META})")
    meta = load_pickle(folder / NATS_META, encoding="latin1")
    if not isinstance(meta, dict) or "meta_archs" not in meta:
        raise TrainfreeError(f"{str(folder / NATS_META)!r} lacks 'meta_archs'")
    archs = list(meta["meta_archs"])
    m = re.search(r"(v\d+_\d+)", folder.name)
    buf = _Columns(f"{folder.name} (NATS-Bench tss {m.group(1) if m else 'unknown'})")
    missing: list[int] = []
    for index in _progress(range(len(archs)), len(archs), "NATS archs"):
        f = folder / f"{index:06d}.pickle.pbz2"
        if not f.is_file():
            f = folder / f"{index}.pickle.pbz2"
        if not f.is_file():
            missing.append(index)
            continue
        entry = load_pickle(f, encoding="latin1")
        if not isinstance(entry, dict):
            raise TrainfreeError(f"{str(f)!r}: expected a dict of hp -> ArchResults, got {type(entry).__name__}")
        for hp, state in entry.items():
            if str(hp) in hps:
                add_arch_results(buf, index, archs[index], str(hp), state, seeds)
    if len(missing) == len(archs):
        raise TrainfreeError(f"{str(folder)!r} holds {NATS_META} but none of the per-arch "
                             f"files (000000.pickle.pbz2 ...)")
    if missing:
        shown = ", ".join(f"{i:06d}.pickle.pbz2" for i in missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise TrainfreeError(f"{str(folder)!r}: {len(missing)} of {len(archs)} per-arch files are missing "
                             f"({shown}); re-extract the NATS-Bench -simple archive")
    return buf.frame()
