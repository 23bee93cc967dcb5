"""Stage ``score``: every configured metric of one shard of the sample, after k fast steps."""

from __future__ import annotations

import pandas as pd
import torch

from trainfree.data.npz import load_batch
from trainfree.io import read_parquet, write_parquet
from trainfree.metrics import score_archs
from trainfree.pipeline.common import gather, model_kwargs, shard_of, train_tensors
from trainfree.training import TrainConfig, fast_train_steps

__all__ = ["fast_config", "gather_scores", "score_shard"]


def fast_config(cfg: dict) -> TrainConfig:
    """The fast-training protocol (``cfg.fast_training``) as a :class:`TrainConfig`."""
    return TrainConfig.from_config(cfg["fast_training"])


def score_shard(cfg: dict, sample_path: str, batch_path: str, fast_steps: int, shard: int,
                n_shards: int, out: str, device: str = "cpu") -> pd.DataFrame:
    """Score one shard of the sample after ``fast_steps`` SGD steps (0 = at init)."""
    part = shard_of(read_parquet(sample_path), shard, n_shards)
    # build from ``spec`` (rebuilds in this process; NB101's id is a one-way hash)
    archs = (part.spec if "spec" in part else part.arch_id).tolist()
    x, y = load_batch(batch_path)
    batch = (torch.from_numpy(x), torch.from_numpy(y))
    fast = None
    if fast_steps > 0:
        xtr, ytr, _, _ = train_tensors(cfg)
        xtr, ytr = xtr.to(device), ytr.to(device)
        fcfg = fast_config(cfg)

        def fast(model: torch.nn.Module, arch: str) -> None:
            fast_train_steps(model, xtr, ytr, fast_steps, fcfg, cfg["scoring"]["seed"], device=device)

    df = score_archs(cfg["space"], archs, cfg["scoring"]["metrics"], batch,
                     dataset=cfg["data"]["dataset"], seed=cfg["scoring"]["seed"],
                     model_kwargs=model_kwargs(cfg), device=device, fast_steps=fast_steps,
                     fast_train=fast)
    write_parquet(df, out)
    return df


def gather_scores(paths: list[str], out: str) -> pd.DataFrame:
    """Concatenate the score shards (k outer, shard inner) into the study's score table."""
    return gather(paths, out)
