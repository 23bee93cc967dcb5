"""NDS release (Radosavovic et al. 2019, github.com/facebookresearch/nds) -> tidy ground truth.

The release ``data.zip`` holds one JSON file per sweep (``DARTS.json``, ``ResNeXt-A_in.json``,
...). A file is either a list of records or, for the rerun sweeps, an object
``{"top": [...], "mid": [...]}`` (read top then mid, as the NDS and NASWOT code does). A
record holds ``net`` (the network config), ``optim`` (``base_lr``, ``wd``, ...),
``params``, ``flops``, per-epoch ``train_ep_top1`` / ``test_ep_top1`` errors in percent,
``min_test_top1`` and, where present, ``rng_seed``.

Rows per record (``GT_COLUMNS``; ``dataset`` ``cifar10``, or ``imagenet`` for ``_in``
sweeps; ``epochs`` = number of recorded test epochs):

- ``test``  ``acc``      = 100 - final ``test_ep_top1`` (the accuracy NASWOT correlates with)
- ``test``  ``best_acc`` = 100 - ``min_test_top1``
- ``train`` ``acc``      = 100 - final ``train_ep_top1``
- ``cost``  ``params_m`` = ``params`` / 1e6, ``flops_m`` = ``flops`` / 1e6

``seed`` is the record's ``rng_seed`` (rows only where it is given) and ``mean`` (the mean
over the file's records of the same arch id; a single run where the arch occurs once).
``bench_index`` is the record's position in the file (top part first); ``source`` names
the file (and part). The source given to :func:`read` is the release zip, a folder holding
the JSON files (directly or in ``data/``), or one JSON file.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from trainfree.contracts import draw
from trainfree.errors import TrainfreeError
from trainfree.json_input import loads
from trainfree.spaces import nds as nds_space

FIELDS = ("acc", "best_acc", "train_acc", "params_m", "flops_m")


def _missing(path: Path, stem: str, why: str) -> TrainfreeError:
    from trainfree.data.fetch import _message, get_asset

    asset = get_asset("nds")
    root = path.parent if path.suffix in (".zip", ".json") else path
    return TrainfreeError(_message(asset, root, f"{why}; the NDS space needs {stem}.json from the release"))


def load_records(path: str | Path, stem: str) -> list[tuple[str, dict]]:
    """``(part, record)`` pairs of the release file ``<stem>.json`` under ``path`` (zip, folder
    or the JSON file itself); ``part`` is ``""`` for plain lists, else ``top``/``mid``."""
    path = Path(path)
    name = f"{stem}.json"
    if not path.exists():
        raise _missing(path, stem, f"{path} does not exist")
    if path.is_dir():
        hits = [p for p in (path / name, path / "data" / name) if p.is_file()]
        if not hits:
            raise _missing(path, stem, f"no {name} in {path} or {path / 'data'}")
        raw = loads(hits[0].read_bytes(), repr(str(hits[0])), f"replace it with the NDS release's {name}")
    elif path.suffix == ".zip":
        with zipfile.ZipFile(path) as z:
            members = [m for m in z.namelist() if m == name or m.endswith("/" + name)]
            if not members:
                raise _missing(path, stem, f"{path} holds no {name}")
            member = sorted(members, key=len)[0]
            raw = loads(z.read(member), f"{str(path)!r} member {member}", "replace the zip with the NDS release")
    elif path.name == name:
        raw = loads(path.read_bytes(), repr(str(path)), f"replace it with the NDS release's {name}")
    else:
        raise TrainfreeError(f"{str(path)!r} is not the NDS file {name}; give the release zip, its folder or {name}")
    if isinstance(raw, dict):
        if not {"top", "mid"} <= set(raw):
            raise TrainfreeError(f"{name}: an object must hold 'top' and 'mid' record lists, has {sorted(raw)[:5]}")
        return [("top", r) for r in raw["top"]] + [("mid", r) for r in raw["mid"]]
    if not isinstance(raw, list):
        raise TrainfreeError(f"{name}: expected a list of records or {{'top': [...], 'mid': [...]}}")
    return [("", r) for r in raw]


def _final(values: object, key: str, i: int, name: str) -> float:
    if not isinstance(values, list) or not values:
        raise TrainfreeError(f"{name} record {i}: {key} must be a non-empty per-epoch list")
    return float(values[-1])


def read(space: str, path: str | Path, seeds: bool = True) -> pd.DataFrame:
    """Tidy ground truth (``GT_COLUMNS``) of NDS space ``space`` (e.g. ``nds_DARTS``);
    ``seeds=False`` keeps only the ``mean`` rows."""
    from trainfree.benchmarks import GT_COLUMNS

    stem = nds_space.file_stem(space)
    dataset = "imagenet" if nds_space.is_imagenet(space) else "cifar10"
    name = f"{stem}.json"
    rows = []
    for i, (part, rec) in enumerate(load_records(path, stem)):
        if not isinstance(rec, dict) or "net" not in rec or "test_ep_top1" not in rec:
            raise TrainfreeError(f"{name} record {i}: not an NDS record (needs 'net' and 'test_ep_top1')")
        arch = nds_space.canonical_in(space, rec)
        epochs = len(rec["test_ep_top1"])
        values = {"acc": ("test", 100.0 - _final(rec["test_ep_top1"], "test_ep_top1", i, name))}
        if "min_test_top1" in rec:
            values["best_acc"] = ("test", 100.0 - float(rec["min_test_top1"]))
        if "train_ep_top1" in rec:
            values["train_acc"] = ("train", 100.0 - _final(rec["train_ep_top1"], "train_ep_top1", i, name))
        for key, field in (("params", "params_m"), ("flops", "flops_m")):
            if key in rec:
                values[field] = ("cost", float(rec[key]) / 1e6)
        src = f"NDS {name}" + (f" [{part}]" if part else "")
        seed = str(rec["rng_seed"]) if rec.get("rng_seed") is not None else None
        for field, (split, value) in values.items():
            f = "acc" if field == "train_acc" else field
            rows.append((arch, i, split, epochs, seed, f, value, src))
    if not rows:
        raise TrainfreeError(f"{name} under {path} holds no records")
    df = pd.DataFrame(rows, columns=["arch_id", "bench_index", "split", "epochs", "seed", "field", "value",
                                     "source"])
    keys = ["arch_id", "split", "epochs", "field"]
    mean = df.groupby(keys, sort=False).agg(bench_index=("bench_index", "min"), value=("value", "mean"),
                                           source=("source", "first")).reset_index()
    mean["seed"] = "mean"
    per_seed = df[df.seed.notna()] if seeds else df.iloc[:0]
    gt = pd.concat([mean, per_seed], ignore_index=True)
    gt["space"], gt["dataset"] = space, dataset
    gt["epochs"] = gt["epochs"].astype(int)
    gt["bench_index"] = gt["bench_index"].astype(np.int64)
    return gt[GT_COLUMNS]


def params_check(space: str, path: str | Path, n: int = 20, seed: int = 0) -> pd.DataFrame:
    """Our networks' parameter counts beside the release's ``params`` for ``n`` seeded records.

    Columns: ``bench_index, release_params, our_params, difference`` (ours - release). All
    parameters count (conv, BN affine, linear, the auxiliary head where ``aux``), at the
    record's own size and 10 classes (1000 for ``_in`` sweeps); zero differences confirm
    the networks match the ones the release trained.
    """
    from trainfree.spaces import get_space

    recs = load_records(path, nds_space.file_stem(space))
    picks = draw(len(recs), min(n, len(recs)), seed)
    sp = get_space(space)
    classes = 1000 if nds_space.is_imagenet(space) else 10
    rows = []
    for i in sorted(int(k) for k in picks):
        rec = recs[i][1]
        ours = sp.count_params(sp.build_model(sp.canonical(rec), num_classes=classes))
        release = int(rec["params"]) if rec.get("params") is not None else None
        rows.append({"bench_index": i, "release_params": release, "our_params": ours,
                     "difference": None if release is None else ours - release})
    return pd.DataFrame(rows)
