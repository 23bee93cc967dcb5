"""Stage ``benchmarks``: the tidy ground truth of the study (own training runs or a benchmark)."""

from __future__ import annotations

import pandas as pd

from trainfree.benchmarks import GT_COLUMNS, load_ground_truth
from trainfree.io import read_parquet, write_parquet


def ground_truth(cfg: dict, out: str, states_path: str | None = None) -> pd.DataFrame:
    """Tidy ground truth of the sampled archs: from training states or a benchmark."""
    g = cfg["ground_truth"]
    if g["kind"] == "training":
        st = read_parquet(states_path)
        rows = []
        for field in ("acc", "loss"):
            rows.append(pd.DataFrame({
                "space": cfg["space"], "arch_id": st.arch_id, "bench_index": pd.NA,
                "dataset": cfg["data"]["dataset"], "split": st.split, "epochs": st.epoch,
                "seed": str(cfg["training"]["seed"]), "field": field, "value": st[field],
                "source": "trainfree fast training (this study)",
            }))
        gt = pd.concat(rows, ignore_index=True)[GT_COLUMNS]
    else:
        gt = load_ground_truth(cfg["space"], g["source"])
    write_parquet(gt, out)
    return gt
