"""Stage ``train``: short seeded training runs of one shard -> training states (DTB format)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from trainfree.io import read_parquet, write_parquet
from trainfree.pipeline.common import gather, model_kwargs, shard_of, train_tensors
from trainfree.seeding import derive_seed, seed_everything
from trainfree.spaces import get_space
from trainfree.training import TrainConfig, train_arch

__all__ = ["arch_dirname", "gather_states", "train_shard"]


def arch_dirname(arch: str) -> str:
    """A file-system-safe folder name for an arch id (stable hash)."""
    return f"arch_{derive_seed(arch):010d}"


def train_shard(cfg: dict, sample_path: str, shard: int, n_shards: int, out: str,
                checkpoint_root: str | None = None, device: str = "cpu") -> pd.DataFrame:
    """Train one shard of the sample with the study's protocol -> training states."""
    t = cfg["training"]
    tcfg = TrainConfig.from_config(t)
    data = tuple(a.to(device) for a in train_tensors(cfg))
    sp = get_space(cfg["space"])
    frames = []
    part = shard_of(read_parquet(sample_path), shard, n_shards)
    specs = (part.spec if "spec" in part else part.arch_id).tolist()
    for spec in tqdm(specs, desc=f"train shard {shard}", mininterval=5):
        arch = sp.canonical(spec)  # rebuildable in this process from ``spec``
        seed_everything(derive_seed(arch, t["seed"]))
        model = sp.build_model(arch, **model_kwargs(cfg)).to(device)
        ckpt = None
        if checkpoint_root and t.get("checkpoint_epochs"):
            ckpt = Path(checkpoint_root) / arch_dirname(arch)
        frames.append(train_arch(model, arch, data, tcfg, t["seed"], ckpt, tuple(t.get("checkpoint_epochs", []))))
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    write_parquet(df, out)
    return df


def gather_states(paths: list[str], out: str) -> pd.DataFrame:
    """Concatenate the training shards into the study's training states."""
    return gather(paths, out)
