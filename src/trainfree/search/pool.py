"""Score tables for the searches: read (CSV/Parquet, tidy or wide), convert, score a pool.

A search consumes a tidy score table ``arch_id, metric, value`` (extra columns such as
``seconds`` are kept), as ``trainfree score`` and the workflow write it. Published
tables in wide form (one column per proxy, e.g. NAS-Bench-Suite-Zero's CSV) are
converted by :func:`wide_to_tidy`.

:func:`score_pool` scores a seeded uniform sample of a space in shards that are
written atomically, so an interrupted run resumes at the first missing shard.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from trainfree.errors import TrainfreeError
from trainfree.io import write_csv, write_parquet


def _atomic_frame(df: pd.DataFrame, out: Path) -> Path:
    """Write ``df`` to ``out`` (CSV or Parquet, by its suffix) atomically (:mod:`trainfree.io`)."""
    if out.suffix == ".csv":
        return write_csv(df, out)
    if out.suffix in (".parquet", ".pq"):
        return write_parquet(df, out)
    raise TrainfreeError(f"output {str(out)!r}: use a .parquet or .csv file name")


def read_scores(path: str | os.PathLike) -> pd.DataFrame:
    """A tidy score table (``arch_id, metric, value`` at least) from a CSV or Parquet file."""
    p = Path(path)
    if not p.is_file():
        raise TrainfreeError(f"score table {str(p)!r} does not exist; give a CSV or Parquet file "
                             f"written by `trainfree score` or `trainfree search convert`")
    df = pd.read_parquet(p) if p.suffix in (".parquet", ".pq") else pd.read_csv(p)
    missing = {"arch_id", "metric", "value"} - set(df.columns)
    if missing:
        raise TrainfreeError(
            f"{str(p)!r} is not a tidy score table (missing {', '.join(sorted(missing))}); a wide table "
            f"such as the Suite-Zero CSV converts with `trainfree search convert --wide FILE --arch-col "
            f"net_str --out scores.csv`")
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype(float)
    return df


def wide_to_tidy(wide: pd.DataFrame, arch_col: str, metrics: Sequence[str] | None,
                 space: str) -> pd.DataFrame:
    """One column per metric -> tidy ``space, arch_id, metric, value`` (arch ids canonicalised).

    ``metrics``: the columns to keep (None: every numeric column but ``arch_col``).
    """
    from trainfree.spaces import get_space

    if arch_col not in wide.columns:
        raise TrainfreeError(f"no column {arch_col!r} in the wide table; columns: {', '.join(map(str, wide.columns))}")
    sp = get_space(space)
    if metrics is None:
        metrics = [c for c in wide.columns if c != arch_col and pd.api.types.is_numeric_dtype(wide[c])]
    bad = [m for m in metrics if m not in wide.columns]
    if bad:
        raise TrainfreeError(f"columns {', '.join(bad)} not in the wide table")
    arch = wide[arch_col].map(sp.canonical)
    parts = [pd.DataFrame({"space": space, "arch_id": arch.values, "metric": m,
                           "value": pd.to_numeric(wide[m], errors="coerce").astype(float).values})
             for m in metrics]
    return pd.concat(parts, ignore_index=True)


def convert_wide(path: str | os.PathLike, out: str | os.PathLike, arch_col: str = "net_str",
                 metrics: Sequence[str] | None = None, *, space: str) -> Path:
    """Convert a wide CSV (e.g. the Suite-Zero proxies) into a tidy score table at ``out``."""
    p = Path(path)
    if not p.is_file():
        raise TrainfreeError(f"wide score table {str(p)!r} does not exist")
    return _atomic_frame(wide_to_tidy(pd.read_csv(p), arch_col, metrics, space=space), Path(out))


def pool_archs(space: str, n: int, seed: int) -> list[str]:
    """The pool: ``n`` archs of ``space`` drawn uniformly with ``seed`` (canonical ids, draw order).

    The draw order is random, so the first k archs are themselves a uniform sample.
    """
    from trainfree.spaces import get_space

    sp = get_space(space)
    return [sp.canonical(a) for a in sp.sample(n, seed)]


def n_shards(n: int, shard_size: int) -> int:
    """Number of shards of ``shard_size`` archs covering a pool of ``n``."""
    return -(-int(n) // int(shard_size))


def score_shard(space: str, n: int, seed: int, shard: int, shard_size: int, metrics: Sequence[str],
                out: str | os.PathLike, *, dataset: str, root: str | None, batch_size: int,
                score_seed: int = 1, model_kwargs: dict | None = None, device: str = "cpu",
                cache_dir: str | None = None) -> Path:
    """Score archs ``shard*shard_size`` … of the pool (tidy ``SCORE_COLUMNS``) into ``out`` atomically."""
    from trainfree.metrics import score_on_dataset

    archs = pool_archs(space, n, seed)[shard * shard_size:(shard + 1) * shard_size]
    if not archs:
        raise TrainfreeError(f"shard {shard} is past the end of a pool of {n} archs ({shard_size} per shard)")
    t0 = time.perf_counter()
    df = score_on_dataset(space, archs, list(metrics), dataset=dataset, root=root, batch_size=batch_size,
                          seed=score_seed, model_kwargs=model_kwargs, device=device, cache_dir=cache_dir)
    df["shard_seconds"] = time.perf_counter() - t0
    return _atomic_frame(df, Path(out))


def score_pool(space: str, n: int, seed: int, metrics: Sequence[str], out_dir: str | os.PathLike, *,
               shard_size: int = 25, progress: bool = True, **kwargs) -> pd.DataFrame:
    """Score the whole pool shard by shard under ``out_dir`` (``shard_{k}.parquet``, the workflow's names).

    A shard already on disk is not recomputed, so an interrupted run resumes. ``kwargs``
    go to :func:`score_shard` (dataset, root, batch_size, model_kwargs, …). Returns every
    shard concatenated (``seconds`` = each metric's own time, shared passes counted once).
    """
    from tqdm import tqdm

    out = Path(out_dir)
    frames = []
    for k in tqdm(range(n_shards(n, shard_size)), desc=f"score pool ({n} archs)", disable=not progress):
        f = out / f"shard_{k}.parquet"
        if not f.is_file():
            score_shard(space, n, seed, k, shard_size, metrics, f, **kwargs)
        frames.append(pd.read_parquet(f))
    return pd.concat(frames, ignore_index=True)


def gather_shards(paths: Sequence[str | os.PathLike], out: str | os.PathLike) -> Path:
    """Concatenate score shards (those that exist) into one tidy table at ``out``."""
    frames = [pd.read_parquet(p) for p in paths if Path(p).is_file()]
    if not frames:
        raise TrainfreeError("no score shard exists yet; run the pool scoring first")
    return _atomic_frame(pd.concat(frames, ignore_index=True), Path(out))


def seconds_per_arch(scores: pd.DataFrame) -> pd.Series:
    """Scoring seconds of each arch: the sum of its metrics' own times (shared passes once)."""
    if "seconds" not in scores.columns:
        return pd.Series(np.nan, index=pd.Index(scores["arch_id"].unique(), name="arch_id"))
    return scores.groupby("arch_id")["seconds"].sum(min_count=1)


__all__ = ["convert_wide", "gather_shards", "n_shards", "pool_archs", "read_scores", "score_pool", "score_shard",
           "seconds_per_arch", "wide_to_tidy"]
