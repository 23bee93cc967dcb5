"""Readers of benchmark ground truth -> one tidy table.

Tidy ground truth (``GT_COLUMNS``): one row per (arch, dataset, split, epochs, seed,
field) with ``value``; ``seed`` is ``"mean"`` for seed-averaged rows; ``field`` says
what the value is (``acc`` in percent, ``loss``, ``params_m``, ``flops_m``,
``latency_s``, ``train_time_s``); ``source`` names the file and benchmark version;
``bench_index`` is the arch's index in the loaded source's own arch list.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from trainfree.errors import TrainfreeError

GT_COLUMNS = ["space", "arch_id", "bench_index", "dataset", "split", "epochs", "seed", "field",
              "value", "source"]


def load_ground_truth(space: str, source: str | os.PathLike) -> pd.DataFrame:
    """Tidy ground truth of ``space`` from ``source`` (a file or folder; format detected)."""
    path = Path(source)
    if space != "nb201":
        raise TrainfreeError(f"no ground-truth reader for space {space!r}; available: nb201")
    if not path.exists():
        raise TrainfreeError(
            f"ground-truth source {str(path)!r} does not exist; give an NB201 benchmark file, a NATS "
            f"folder or the benchdata CSV folder (e.g. ../shared/benchdata/nb201)"
        )
    from trainfree.benchmarks import nb201_csv

    if nb201_csv.can_read(path):
        return nb201_csv.read(path)
    raise TrainfreeError(f"{str(path)!r} is not a recognised NB201 ground-truth source (CSV folder or CSV file)")


def select(gt: pd.DataFrame, dataset: str, split: str, epochs: int, seed: str = "mean",
           field: str = "acc") -> pd.Series:
    """One ground-truth field as a Series indexed by arch_id (error names what exists)."""
    m = gt[(gt.dataset == dataset) & (gt.split == split) & (gt.epochs == epochs)
           & (gt.seed.astype(str) == str(seed)) & (gt.field == field)]
    if m.empty:
        have = gt[["dataset", "split", "epochs", "seed", "field"]].drop_duplicates().astype(str)
        opts = "; ".join("/".join(r) for r in have.itertuples(index=False))
        raise TrainfreeError(
            f"no ground truth for dataset={dataset} split={split} epochs={epochs} seed={seed} "
            f"field={field}; available (dataset/split/epochs/seed/field): {opts}"
        )
    return m.drop_duplicates("arch_id").set_index("arch_id")["value"]


def describe(dataset: str, split: str, epochs: int, seed: str = "mean", field: str = "acc") -> str:
    """The human label of a ground-truth field, written into every table."""
    return f"{dataset} {split} {field} @{epochs}ep (seed {seed})"
