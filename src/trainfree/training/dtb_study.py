"""Fast-training study on a DTB: metrics on trained states vs the final accuracy.

Two axes of "k": ``unit = "epoch"`` scores the DTB checkpoint at epoch k (its cost is the
recorded training time to that epoch), ``unit = "step"`` scores the untrained network
after k SGD steps of the fast-training protocol (:func:`~trainfree.training.fast.fast_train_steps`,
un-augmented DTB training images). k = 0 is the same untrained network on both axes.
Ground truth: the DTB's own test accuracy at its last epoch (label says so).
"""

from __future__ import annotations

import time

import pandas as pd
import torch

from trainfree.analysis.correlation import correlation_table
from trainfree.analysis.das import ATOMS, ablation_table
from trainfree.metrics.engine import ScoringContext, score_network, wide_scores
from trainfree.metrics.registry import get_metric, resolve
from trainfree.seeding import derive_seed, seed_everything
from trainfree.training.dtb import Protocol, load_data
from trainfree.training.dtb_store import DTB, open_dtb
from trainfree.training.fast import TrainConfig, fast_train_steps

STUDY_COLUMNS = ["space", "arch_id", "unit", "k", "metric", "value", "seconds", "train_seconds", "batch_size"]


def truth_label(dtb: DTB, split: str = "test") -> str:
    return f"DTB {dtb.version} {dtb.manifest['data']['dataset']} {split} acc @{dtb.protocol['epochs']}ep (seed {dtb.protocol['seed']})"


def score_states(dtb_dir: str, archs: list[str], metrics: list[str], batch: tuple[torch.Tensor, torch.Tensor],
                 fast_steps: list[int], fast_cfg: TrainConfig, seed: int, device: str = "cpu") -> pd.DataFrame:
    """Score every arch at every checkpoint epoch and after every k in ``fast_steps`` -> ``STUDY_COLUMNS``."""
    dtb = open_dtb(dtb_dir, verify=False)
    ms = resolve(metrics)
    x, y = batch
    steps = sorted(k for k in set(fast_steps) if k > 0)
    xtr = ytr = None
    if steps:
        data = load_data(dtb.manifest["data"]["dataset"], dtb.manifest["data"]["source"],
                         Protocol.from_config(dtb.protocol))
        xtr, ytr = data.normalise(data.x_train).to(device), data.y_train.to(device)
    rows = []

    def score(arch: str, model: torch.nn.Module, unit: str, k: int, train_sec: float) -> None:
        seed_everything(derive_seed(arch, seed))
        ctx = ScoringContext(model.train(), x, y, device)
        for name, (value, sec) in score_network(ctx, ms).items():
            rows.append((dtb.space, arch, unit, k, name, value, sec, train_sec, len(x)))

    st = dtb.states[dtb.states.split == "train"].set_index(["arch_id", "epoch"])["seconds"]
    for arch in archs:
        for e in dtb.checkpoint_epochs:
            score(arch, dtb.checkpoint(arch, e, device), "epoch", e, float(st.loc[(arch, e)]))
            if e == 0:
                rows += [(*r[:2], "step", *r[3:]) for r in rows[-len(ms):]]
        for k in steps:
            model = dtb.checkpoint(arch, 0, device).train()
            t0 = time.perf_counter()
            fast_train_steps(model, xtr, ytr, k, fast_cfg, seed)
            score(arch, model, "step", k, time.perf_counter() - t0)
    return pd.DataFrame(rows, columns=STUDY_COLUMNS)


def paired_delta(score_k: pd.Series, score_0: pd.Series, truth: pd.Series, n_boot: int = 1000,
                 seed: int = 0) -> tuple[float, float, float]:
    """Kendall tau(k) - tau(0) on the same archs, with a paired percentile bootstrap 95% CI
    (the DAS ablation's ``trainfree.analysis.das.paired_delta``)."""
    from trainfree.analysis.das import paired_delta as das_paired_delta

    return das_paired_delta(score_k, score_0, truth, n_boot=n_boot, seed=seed)


def fast_training_table(scores: pd.DataFrame, truth: pd.Series, label: str, n_boot: int = 1000,
                        seed: int = 0) -> pd.DataFrame:
    """Per (unit, k, metric): signed Kendall/Spearman with CIs, tau(k) - tau(0) with a paired CI,
    ``beats_k0`` (that CI above 0) and the median seconds per arch (training + scoring)."""
    frames = []
    for (unit, k), g in scores.groupby(["unit", "k"]):
        wide = wide_scores(g)
        dirs = {m: get_metric(m).higher_is_better for m in wide.columns}
        t = correlation_table(wide, truth, label, dirs, n_boot, seed)
        base = wide_scores(scores[(scores.unit == unit) & (scores.k == 0)])
        deltas = [paired_delta(wide[m], base[m], truth, n_boot, seed) if k else (0.0, 0.0, 0.0)
                  for m in t.metric]
        t["delta_vs_k0"], t["delta_lo"], t["delta_hi"] = zip(*deltas, strict=True)
        t["beats_k0"] = t.delta_lo > 0
        per_arch = g.groupby("arch_id")
        t["seconds_per_arch"] = (per_arch.seconds.sum() + per_arch.train_seconds.first()).median()
        t.insert(0, "unit", unit)
        t.insert(1, "k", int(k))
        frames.append(t)
    return pd.concat(frames, ignore_index=True)


def das_ablation(scores: pd.DataFrame, truth: pd.Series, label: str, alphas: list[float],
                 lambdas: list[float], seed: int = 0, n_boot: int = 1000) -> pd.DataFrame:
    """The DAS ablation (:func:`~trainfree.analysis.das.ablation_table`) at every checkpoint epoch."""
    if not set(ATOMS) <= set(scores.metric):
        raise ValueError(f"the DAS ablation needs the metrics {', '.join(ATOMS)}")
    frames = []
    n = int(scores.batch_size.iloc[0])
    for e, g in scores[scores.unit == "epoch"].groupby("k"):
        t = ablation_table(wide_scores(g), truth, label, n, alphas, lambdas, seed, n_boot)
        t.insert(1, "epoch", int(e))
        frames.append(t)
    return pd.concat(frames, ignore_index=True)
