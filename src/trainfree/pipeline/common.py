"""What several stages share: the logging wrapper, model arguments, training tensors,
ground-truth targets, the shard of a table and the gather of shard tables."""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trainfree.benchmarks import describe, select
from trainfree.errors import TrainfreeError
from trainfree.io import read_parquet, write_parquet

if TYPE_CHECKING:  # torch is imported by the jobs that build networks, not by table/figure jobs
    import torch


def model_kwargs(cfg: dict) -> dict:
    """Build options of the study's network: the ``model`` section (keys of the space's
    ``MODEL_DEFAULTS``; omitted keys keep the builder's defaults) and ``num_classes``
    (``cfg``: model + data sections)."""
    from trainfree.data import load_dataset, num_classes

    data = cfg["data"]
    classes = num_classes(data["dataset"])
    if classes is None:
        classes = load_dataset(data["dataset"], data.get("root")).num_classes
    # a null option keeps the builder's default (e.g. NDS's C and N: the record's values)
    return {**{k: v for k, v in (cfg.get("model") or {}).items() if v is not None}, "num_classes": classes}


def train_tensors(cfg: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x_train, y_train, x_test, y_test) of the study's dataset, normalised (x float32 NCHW)."""
    import torch

    from trainfree.data import load_dataset, normalise

    name = cfg["data"]["dataset"]
    ds = load_dataset(name, cfg["data"].get("root"))
    return (normalise(ds.x_train, name), torch.from_numpy(ds.y_train), normalise(ds.x_test, name),
            torch.from_numpy(ds.y_test))


def shard_of(df: pd.DataFrame, shard: int, n_shards: int) -> pd.DataFrame:
    """Contiguous block ``shard`` (0-based) of ``n_shards`` near-equal blocks of rows, so that
    concatenating shards 0..n-1 gives back ``df`` in its order for any ``n_shards``."""
    if not 0 <= shard < n_shards:
        raise TrainfreeError(f"shard {shard} out of range for {n_shards} shards (0..{n_shards - 1})")
    bounds = np.linspace(0, len(df), n_shards + 1).round().astype(int)
    return df.iloc[bounds[shard]:bounds[shard + 1]]


def gather(paths: list[str], out: str) -> pd.DataFrame:
    """Concatenate shard tables in order into one (Parquet); empty shards (more shards than
    archs) are skipped so that they cannot change the column dtypes."""
    frames = [read_parquet(p) for p in paths]
    df = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
    write_parquet(df, out)
    return df


def _family(dataset: str) -> str:
    """Image family of a dataset name (cifar10-valid and an npz mirror of CIFAR-10 share images)."""
    return {"cifar10-valid": "cifar10", "npz": "cifar10"}.get(dataset, dataset)


def targets(cfg: dict) -> list[dict]:
    """The ground-truth fields this study correlates against (first = primary).

    A benchmark target on another dataset than the scoring images is kept only when
    ``ground_truth.cross_dataset`` is true; it then carries ``scored_on``.
    """
    g = cfg["ground_truth"]
    if g["kind"] == "training":
        return [{"dataset": cfg["data"]["dataset"], "split": "test", "epochs": cfg["training"]["epochs"],
                 "seed": str(cfg["training"]["seed"]), "field": "acc"}]
    scored = _family(cfg["data"]["dataset"])
    out = []
    for t in g["targets"]:
        t = {**t, "seed": str(t.get("seed", "mean")), "field": t.get("field", "acc")}
        if _family(t["dataset"]) != scored:
            if not g.get("cross_dataset", False):
                print(f"skipping ground truth {t['dataset']}: no {t['dataset']} scoring images "
                      f"(set ground_truth.cross_dataset: true to score it on {scored} images)")
                continue
            t["scored_on"] = scored
        out.append(t)
    return out


def target_label(t: dict) -> str:
    """Human-readable name of a ground-truth target (as written in every table)."""
    label = describe(t["dataset"], t["split"], int(t["epochs"]), t["seed"], t["field"], t.get("source"))
    return label + (f" [scored on {t['scored_on']} images]" if t.get("scored_on") else "")


def truth_of(gt: pd.DataFrame, t: dict) -> tuple[pd.Series, str]:
    """The ground-truth Series (index arch_id) of target ``t`` and its label."""
    truth = select(gt, t["dataset"], t["split"], int(t["epochs"]), t["seed"], t["field"], t.get("source"))
    return truth, target_label(t)


def run_logged(log_path: str, step: Callable[..., Any], *args: Any, threads: int | None = None,
               **kwargs: Any) -> Any:
    """Run ``step(*args, **kwargs)`` with stdout/stderr written to ``log_path``.

    ``threads`` caps torch's intra-op threads (the job's Snakemake ``threads``).
    """
    if threads:
        import torch

        torch.set_num_threads(int(threads))
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        try:
            return step(*args, **kwargs)
        except Exception:
            traceback.print_exc(file=log)
            raise
