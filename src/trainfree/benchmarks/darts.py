"""DARTS-space ground truth: NAS-Bench-Suite-Zero's NB301 JSON and the SWAP CSV.

Recognised files (a file, or every recognised file of a folder):

- ``nb301_suitezero_subset362.json`` (NASLib ``zc_nasbench301.json`` layout
  ``{"cifar10": {compact_key: {"idx", "val_accuracy", "params": {"score", "time"}, ...}}}``):
  ``val_accuracy`` -> ``cifar10 / valid / acc`` at 100 epochs (NB301's training schedule),
  seed ``mean``; it is the NB301 *surrogate's* prediction, said so in ``source``.
  ``params`` -> ``params_m`` and ``flops`` -> ``flops_m`` (split ``cost``; millions, as
  NASLib measured them on its C=32, 8-cell network, see ``trainfree.spaces.darts``).
  ``bench_index`` = the file's ``idx``. The published zero-cost proxies of the same file
  are returned by ``suitezero_proxies``.
- the SWAP CSV (two columns, no header: a ``Genotype(...)`` string, CIFAR-10 validation
  accuracy in %): ``cifar10 / valid / acc`` at 200 epochs (the SWAP repository's README)
  of a reduced-size training (best 86.4 %, vs ~97 % for full DARTS training), seed
  ``mean``; ``bench_index`` = row order. Its 500 archs have identical normal and
  reduction cells and nodes fed twice by the same input: they were not drawn with NB301's
  sampler.

Arch ids are canonical DARTS strings (``trainfree.spaces.darts.canonical``).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pandas as pd

from trainfree.benchmarks import GT_COLUMNS
from trainfree.errors import TrainfreeError
from trainfree.json_input import loads
from trainfree.spaces import darts as space

NB301_EPOCHS = 100
SWAP_EPOCHS = 200
NB301_SOURCE = "{name} (Suite-Zero NB301; acc = NB301 surrogate prediction, C=32 8 cells 100 ep)"
SWAP_SOURCE = "{name} (SWAP; CIFAR-10 valid acc after 200 ep of a reduced-size training)"
#: fields of a Suite-Zero record that are not zero-cost proxies
_NOT_PROXIES = {"idx", "arch", "val_accuracy"}


def _kind(path: Path) -> str | None:
    """``"nb301"`` / ``"swap"`` when ``path`` looks like one of the formats, else None."""
    try:
        if path.suffix == ".json":
            with open(path) as f:
                head = f.read(4096)
            return "nb301" if head.lstrip().startswith('{"cifar10"') or '"val_accuracy"' in head else None
        if path.suffix == ".csv":
            with open(path, newline="") as f:
                row = next(csv.reader(f), [])
            return "swap" if len(row) == 2 and row[0].lstrip().startswith("Genotype(") else None
    except (OSError, UnicodeDecodeError):
        return None
    return None


def _files(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]


def can_read(path: str | os.PathLike) -> bool:
    """Whether ``path`` (file or folder) holds a recognised DARTS ground-truth file."""
    path = Path(path)
    return path.exists() and any(_kind(f) for f in _files(path))


def _load_nb301(path: Path) -> dict:
    data = loads(path.read_bytes(), repr(str(path)), "give the Suite-Zero NB301 JSON")
    if not isinstance(data, dict) or "cifar10" not in data or not isinstance(data["cifar10"], dict):
        raise TrainfreeError(f"{str(path)!r} is not a Suite-Zero NB301 JSON: expected "
                             f"{{\"cifar10\": {{compact_key: {{...}}}}}}")
    return data["cifar10"]


def read_nb301(path: str | os.PathLike) -> pd.DataFrame:
    """Suite-Zero NB301 JSON -> tidy ground truth (acc, params_m, flops_m)."""
    path = Path(path)
    src = NB301_SOURCE.format(name=path.name)
    rows = []
    for key, rec in _load_nb301(path).items():
        arch = space.canonical(key)
        idx = int(rec["idx"]) if "idx" in rec else len(rows)
        for field, split, value in (("acc", "valid", rec.get("val_accuracy")),
                                    ("params_m", "cost", (rec.get("params") or {}).get("score")),
                                    ("flops_m", "cost", (rec.get("flops") or {}).get("score"))):
            if value is not None:
                rows.append(("darts", arch, idx, "cifar10", split, NB301_EPOCHS, "mean", field,
                             float(value), src))
    return pd.DataFrame(rows, columns=GT_COLUMNS)


def read_swap(path: str | os.PathLike) -> pd.DataFrame:
    """SWAP CSV (genotype, validation accuracy; no header) -> tidy ground truth."""
    path = Path(path)
    src = SWAP_SOURCE.format(name=path.name)
    rows = []
    with open(path, newline="") as f:
        for i, row in enumerate(csv.reader(f)):
            if len(row) != 2:
                raise TrainfreeError(f"{str(path)!r} row {i + 1}: expected 2 columns (genotype, "
                                     f"validation accuracy), got {len(row)}")
            try:
                acc = float(row[1])
            except ValueError as e:
                raise TrainfreeError(f"{str(path)!r} row {i + 1}: accuracy {row[1]!r} is not a number") from e
            rows.append(("darts", space.canonical(row[0]), i, "cifar10", "valid", SWAP_EPOCHS, "mean",
                         "acc", acc, src))
    return pd.DataFrame(rows, columns=GT_COLUMNS)


def read(path: str | os.PathLike) -> pd.DataFrame:
    """Every recognised DARTS ground-truth file under ``path`` (file or folder) -> one tidy table."""
    path = Path(path)
    frames = []
    for f in _files(path):
        kind = _kind(f)
        if kind == "nb301":
            frames.append(read_nb301(f))
        elif kind == "swap":
            frames.append(read_swap(f))
    if not frames:
        raise TrainfreeError(f"no DARTS ground truth under {str(path)!r}: give the Suite-Zero NB301 JSON "
                             f"(nb301_suitezero_subset362.json), the SWAP CSV, or their folder")
    return pd.concat(frames, ignore_index=True)


def suitezero_proxies(path: str | os.PathLike) -> pd.DataFrame:
    """Published zero-cost proxies of the Suite-Zero NB301 JSON, one row per (arch, proxy).

    Columns ``arch_id`` (canonical), ``proxy`` (Suite-Zero's name: ``nwot``, ``jacov``,
    ``snip``, ``synflow``, ``flops``, ``params``, ...), ``value`` (their ``score``) and
    ``seconds`` (their ``time``). ``path`` is the JSON or the folder holding it.
    """
    path = Path(path)
    files = [f for f in _files(path) if _kind(f) == "nb301"] if path.exists() else []
    if not files:
        raise TrainfreeError(f"no Suite-Zero NB301 JSON at {str(path)!r}; place "
                             f"nb301_suitezero_subset362.json there (bundled: src/trainfree/benchdata/darts)")
    rows = []
    for f in files:
        for key, rec in _load_nb301(f).items():
            arch = space.canonical(key)
            for name, val in rec.items():
                if name in _NOT_PROXIES or not isinstance(val, dict) or "score" not in val:
                    continue
                score = val["score"]
                rows.append((arch, name, float("nan") if score is None else float(score),
                             float(val.get("time", float("nan")))))
    return pd.DataFrame(rows, columns=["arch_id", "proxy", "value", "seconds"])
