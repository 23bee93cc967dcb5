"""Stage ``sample``: a seeded uniform sample of architectures.

The sample table (``SAMPLE_COLUMNS``) has one row per arch: ``space``, ``arch_id`` (canonical id), ``spec``
(the form that rebuilds the arch in another process, ``spaces.<name>.spec``) and
``bench_index`` (the arch's index in the ground-truth source, when there is one).
"""

from __future__ import annotations

import pandas as pd

from trainfree.benchmarks import load_ground_truth
from trainfree.contracts import SAMPLE_COLUMNS, draw
from trainfree.errors import TrainfreeError
from trainfree.io import write_parquet
from trainfree.spaces import get_space


def ground_truth_pool(space: str, source: str) -> pd.DataFrame:
    """The distinct archs of a ground-truth source, in the source's order: ``arch_id``,
    ``spec``, ``bench_index`` (first index of the arch in the source)."""
    sp = get_space(space)
    gt = load_ground_truth(space, source)
    first = gt.drop_duplicates("arch_id")[["arch_id", "bench_index"]].reset_index(drop=True)
    # the source was canonicalised in this process, so spec() rebuilds every id it holds
    first["spec"] = [sp.spec(a) for a in first.arch_id]
    return first


def _draw(pool: list[str], n: int, seed: int) -> list[str]:
    """``n`` items of ``pool`` drawn uniformly without replacement (all of it when n >= len)."""
    if n >= len(pool):
        return list(pool)
    return [pool[i] for i in draw(len(pool), n, seed)]


def sample(cfg: dict, out: str) -> pd.DataFrame:
    """Seeded uniform sample of ``cfg.sample.n`` archs (+ listed ``extra`` archs) -> Parquet.

    ``cfg.sample.pool``: ``space`` draws from the whole search space; ``ground_truth``
    draws from the archs of ``cfg.ground_truth.source`` (all of them when n >= their number).
    """
    sp = get_space(cfg["space"])
    s = cfg["sample"]
    g = cfg["ground_truth"]
    gt_src = g.get("source") if g["kind"] == "benchmark" else None
    pool = None
    if s.get("pool", "space") == "ground_truth":
        if not gt_src:
            raise TrainfreeError("config sample.pool: ground_truth needs ground_truth.kind: benchmark and "
                                 "a ground_truth.source to draw from; or set sample.pool: space")
        pool = ground_truth_pool(cfg["space"], gt_src)
        specs = [pool.spec[i] for i in _draw_index(len(pool), s["n"], s["seed"])]
    else:
        specs = sp.sample(s["n"], s["seed"])
    ids = [sp.canonical(a) for a in specs]
    for a in s.get("extra", []):
        a_id = sp.canonical(a)
        if a_id not in ids:
            ids.append(a_id)
            specs.append(sp.spec(a))
    if not ids:
        raise TrainfreeError("the sample is empty: set sample.n >= 1 or list archs in sample.extra")
    df = pd.DataFrame({"space": cfg["space"], "arch_id": ids, "spec": specs, "bench_index": pd.NA},
                      columns=SAMPLE_COLUMNS)
    if pool is not None:
        df["bench_index"] = df.arch_id.map(pool.set_index("arch_id")["bench_index"]).astype("Int64")
    elif gt_src:
        gt = load_ground_truth(cfg["space"], gt_src)
        idx = gt.drop_duplicates("arch_id").set_index("arch_id")["bench_index"]
        df["bench_index"] = df.arch_id.map(idx).astype("Int64")
    write_parquet(df, out)
    return df


def _draw_index(size: int, n: int, seed: int) -> list[int]:
    """Indices of ``n`` of ``size`` items drawn uniformly without replacement (all when n >= size)."""
    return _draw(list(range(size)), n, seed)
