"""Readers of benchmark ground truth -> one tidy table.

Tidy ground truth (``GT_COLUMNS``, defined in ``trainfree.contracts``): one row per (arch,
dataset, split, epochs, seed, field) with ``value``; ``seed`` is ``"mean"`` for seed-averaged
rows; ``field`` says what the value is (``acc`` in percent, ``loss``, ``params_m``,
``flops_m``, ``latency_s``, ``train_time_s``); ``source`` names the file and benchmark version;
``bench_index`` is the arch's index in the loaded source's own arch list.

``split`` is ``train``, ``valid`` (NB201 ``x-valid``), ``test`` (``x-test``; for
``cifar10``/``cifar10-valid`` the CIFAR-10 test set, ``ori-test``), ``valtest``
(``ori-test`` of cifar100/ImageNet16-120 = valid + test halves) or ``cost`` (params,
FLOPs, latency, training time). ``epochs`` is the training schedule (12 or 200).

Readers: ``nb201_official`` (``NAS-Bench-201-v1_*.pth``, NATS-tss ``-simple`` folder)
and ``nb201_csv`` (CSV mirrors) for NB201; ``nb101`` (official ``.tfrecord``, Suite-Zero
JSON) for NB101; ``darts`` (Suite-Zero NB301 JSON, SWAP CSV) for the DARTS space; ``nds``
(the NDS release ``data.zip``, its folder or one sweep's JSON) for the ``nds_*`` spaces.
``load_ground_truth`` picks the space's reader from :data:`READERS` (a
:class:`trainfree.registry.Registry` keyed by space name; ``register_reader`` adds one), and
the reader picks a format by the source's form.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from trainfree.contracts import GT_COLUMNS
from trainfree.errors import TrainfreeError
from trainfree.registry import Registry
from trainfree.spaces import nds as _nds

# pandas (and trainfree.io, which imports it) load where a table is read or written, so
# that the CLI lists its subcommands without them
if TYPE_CHECKING:
    import pandas as pd


def load_ground_truth(space: str, source: str | os.PathLike | list | tuple, *, hps: tuple[str, ...] = ("12", "200"),
                      seeds: bool = True, trusted: bool = False) -> pd.DataFrame:
    """Tidy ground truth (``GT_COLUMNS``) of ``space`` from ``source``; the format is detected.

    ``source`` may be a list of sources: their tables are concatenated in list order.

    ``nb201``:

    - a ``.pth`` file: official NAS-Bench-201 (``NAS-Bench-201-v1_1-096897.pth`` or v1_0);
    - a folder holding ``meta.pickle.pbz2``: NATS-Bench tss ``-simple`` release;
    - a CSV file or a folder of CSVs: the mirrors read by ``nb201_csv``;
    - for NB101: ``nasbench_only108.tfrecord`` or the Suite-Zero JSON (``benchmarks.nb101``).

    ``darts``: the NAS-Bench-Suite-Zero NB301 JSON and/or the SWAP CSV, or their folder
    (``benchmarks.darts``).

    ``nds_<sweep>`` (``nds_DARTS``, ...): the NDS release zip, its folder or the sweep's
    JSON file (``benchmarks.nds``); a missing source gives the release's fetch message.

    ``hps`` (``"12"``/``"200"`` epochs), ``seeds`` (per-trial rows besides the mean) and
    ``trusted`` (see ``nb201_official.load_pth``) apply to the official NB201 formats only;
    ``seeds`` also to NB101 and NDS.
    """
    if isinstance(source, list | tuple):
        if not source:
            raise TrainfreeError("ground-truth source: the list of sources is empty; give at least one file or folder")
        import pandas as pd

        frames = [load_ground_truth(space, s, hps=hps, seeds=seeds, trusted=trusted) for s in source]
        return pd.concat(frames, ignore_index=True)
    path = Path(source)
    reader = READERS.get(space)
    if reader.missing is not None and not path.exists():
        raise TrainfreeError(f"ground-truth source {str(path)!r} does not exist; give {reader.missing}")
    gt = reader.read(space, path, hps=hps, seeds=seeds, trusted=trusted)
    gt["seed"] = gt["seed"].astype(str)
    return gt


@dataclass(frozen=True)
class Reader:
    """The ground-truth reader of one space.

    ``read(space, path, *, hps, seeds, trusted)`` returns the tidy table (``GT_COLUMNS``);
    ``missing`` says what to give when ``path`` does not exist (None: ``read`` itself
    reports a missing source, as the NDS reader does with the release's fetch message).
    """

    read: Callable[..., pd.DataFrame]
    missing: str | None


def _reader_choices(names: list[str]) -> str:
    own = [n for n in names if not n.startswith(_nds.PREFIX)]
    return f"{', '.join(own)}, {_nds.PREFIX}<release file>"


#: space name -> its reader
READERS: Registry[Reader] = Registry("ground-truth reader", choices=_reader_choices)


def register_reader(space: str, read: Callable[..., pd.DataFrame], missing: str | None, *,
                    replace: bool = False) -> None:
    """Register the ground-truth reader of ``space`` (see :class:`Reader`)."""
    READERS.register(space, Reader(read, missing), replace=replace)


def get_reader(space: str) -> Reader:
    """The ground-truth reader of ``space`` (error lists the spaces that have one)."""
    return READERS.get(space)


def _read_nb201(_space: str, path: Path, *, hps: tuple[str, ...], seeds: bool, trusted: bool) -> pd.DataFrame:
    from trainfree.benchmarks import nb201_csv, nb201_official

    if nb201_official.is_nats_dir(path):
        return nb201_official.read_nats(path, hps=hps, seeds=seeds)
    if nb201_official.is_pth(path):
        return nb201_official.read_pth(path, hps=hps, seeds=seeds, trusted=trusted)
    if nb201_csv.can_read(path):
        return nb201_csv.read(path)
    raise TrainfreeError(
        f"{str(path)!r} is not a recognised NB201 ground-truth source: give an official .pth file "
        f"(NAS-Bench-201-v1_1-096897.pth), a NATS-tss-v1_0-3ffb9-simple folder, or a CSV file/folder"
    )


def _read_darts(_space: str, path: Path, **_options) -> pd.DataFrame:
    from trainfree.benchmarks import darts

    return darts.read(path)


def _read_nb101(_space: str, path: Path, *, seeds: bool, **_options) -> pd.DataFrame:
    from trainfree.benchmarks import nb101

    return nb101.load(path, seeds=seeds)


def _read_nds(space: str, path: Path, *, seeds: bool, **_options) -> pd.DataFrame:
    from trainfree.benchmarks import nds

    return nds.read(space, path, seeds=seeds)


register_reader("nb101", _read_nb101, "nasbench_only108.tfrecord or the Suite-Zero JSON "
                                      "(e.g. the bundled src/trainfree/benchdata/nb101/nb101_suitezero_subset250.json)")
register_reader("nb201", _read_nb201, "an NB201 benchmark file, a NATS folder or a CSV folder "
                                      "(e.g. the bundled src/trainfree/benchdata/nb201)")
register_reader("darts", _read_darts, "the Suite-Zero NB301 JSON (bundled: src/trainfree/benchdata/darts), "
                                      "the SWAP CSV (`trainfree fetch swap-darts`) or their folder")
# every NDS sweep shares one reader, which names the release's fetch asset when the source is missing
for _space in _nds.SPACES:
    register_reader(_space, _read_nds, None)


def save_ground_truth(gt: pd.DataFrame, out: str | os.PathLike) -> Path:
    """Write a tidy ground-truth table to ``out`` (``.parquet``, or ``.csv``) atomically."""
    from trainfree.io import write_csv, write_parquet

    out = Path(out)
    missing = [c for c in GT_COLUMNS if c not in gt.columns]
    if missing:
        raise TrainfreeError(f"not a tidy ground-truth table: missing columns {', '.join(missing)}")
    if out.suffix == ".csv":
        return write_csv(gt[GT_COLUMNS], out)
    if out.suffix in (".parquet", ".pq"):
        return write_parquet(gt[GT_COLUMNS], out)
    raise TrainfreeError(f"output {str(out)!r}: use a .parquet or .csv file name")


def select(gt: pd.DataFrame, dataset: str, split: str, epochs: int, seed: str = "mean",
           field: str = "acc", source: str | None = None) -> pd.Series:
    """One ground-truth field as a Series indexed by arch_id (error names what exists).

    Where several sources hold the field, the first in the table wins unless ``source``
    (a substring of the ``source`` column) picks one.
    """
    m = gt[(gt.dataset == dataset) & (gt.split == split) & (gt.epochs == epochs)
           & (gt.seed.astype(str) == str(seed)) & (gt.field == field)]
    if source is not None:
        m = m[m.source.astype(str).str.contains(source, regex=False)]
    if m.empty:
        have = gt[["dataset", "split", "epochs", "seed", "field"]].drop_duplicates().astype(str)
        opts = "; ".join("/".join(r) for r in have.itertuples(index=False))
        raise TrainfreeError(
            f"no ground truth for dataset={dataset} split={split} epochs={epochs} seed={seed} "
            f"field={field}; available (dataset/split/epochs/seed/field): {opts}"
        )
    return m.drop_duplicates("arch_id").set_index("arch_id")["value"]


def describe(dataset: str, split: str, epochs: int, seed: str = "mean", field: str = "acc",
             source: str | None = None) -> str:
    """The human label of a ground-truth field, written into every table."""
    return f"{dataset} {split} {field} @{epochs}ep (seed {seed})" + (f" [{source}]" if source else "")


def ground_truth_spaces() -> list[str]:
    """Spaces with a ground-truth reader (the NDS spaces too), sorted."""
    return READERS.names()
