"""Stage ``data``: fetched external files and the fixed scoring batch."""

from __future__ import annotations

import numpy as np

from trainfree.data import scoring_batch as build_batch
from trainfree.io import atomic_path, write_json


def fetch_assets(assets: list[str], root: str, out: str) -> dict:
    """Fetch and verify every named asset under ``root``; record their paths in ``out`` (JSON)."""
    from trainfree.data.fetch import fetch

    done = {name: str(fetch(name, root)) for name in assets}
    write_json(out, done)
    return done


def scoring_batch(cfg: dict, out: str) -> None:
    """Build the fixed scoring batch once and store it as ``.npz`` (x float32 NCHW, y int64)."""
    s = cfg["scoring"]
    x, y = build_batch(cfg["data"]["dataset"], s["batch_size"], s["seed"], root=cfg["data"].get("root"))
    with atomic_path(out) as tmp:
        np.savez(tmp, x=x.numpy(), y=y.numpy())
