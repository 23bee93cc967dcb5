"""Stage ``sample``: a seeded uniform sample of architectures."""

from __future__ import annotations

import pandas as pd

from trainfree.benchmarks import load_ground_truth
from trainfree.errors import TrainfreeError
from trainfree.io import write_parquet
from trainfree.spaces import get_space


def sample(cfg: dict, out: str) -> pd.DataFrame:
    """Seeded uniform sample of ``cfg.sample.n`` archs (+ listed ``extra`` archs) -> Parquet."""
    sp = get_space(cfg["space"])
    archs = sp.sample(cfg["sample"]["n"], cfg["sample"]["seed"])
    for a in cfg["sample"].get("extra", []):
        a = sp.canonical(a)
        if a not in archs:
            archs.append(a)
    if not archs:
        raise TrainfreeError("the sample is empty: set sample.n >= 1 or list archs in sample.extra")
    df = pd.DataFrame({"space": cfg["space"], "arch_id": archs, "bench_index": pd.NA})
    gt_src = cfg["ground_truth"].get("source")
    if cfg["ground_truth"]["kind"] == "benchmark" and gt_src:
        gt = load_ground_truth(cfg["space"], gt_src)
        idx = gt.drop_duplicates("arch_id").set_index("arch_id")["bench_index"]
        df["bench_index"] = df.arch_id.map(idx).astype("Int64")
    write_parquet(df, out)
    return df
