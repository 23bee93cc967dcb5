"""Stage ``analysis``: the rules of ``workflow/rules/analysis.smk``, one function each, named
like its rule and its script: correlation tables, the DAS ablation, the fast-training table
and paper-vs-ours."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trainfree.analysis.correlation import correlation_table
from trainfree.analysis.das import ablation_table, paired_delta
from trainfree.analysis.tidy import wide_scores
from trainfree.io import read_parquet
from trainfree.pipeline.common import targets, truth_of
from trainfree.render.tables import write_table


def correlations(cfg: dict, scores_path: str, gt_path: str, out_csv: str) -> pd.DataFrame:
    """Signed Kendall/Spearman (+CIs) of every metric and every combination named in
    ``analysis.combinations`` at k=0 vs every target field."""
    from trainfree.analysis.combine import add_combinations, higher_is_better

    a = cfg["analysis"]
    scores, gt = read_parquet(scores_path), read_parquet(gt_path)
    scores = add_combinations(scores, a.get("combinations", []))
    wide = wide_scores(scores, 0)
    dirs = {m: higher_is_better(m) for m in wide.columns}
    frames = []
    for t in targets(cfg):
        truth, label = truth_of(gt, t)
        frames.append(correlation_table(wide, truth, label, dirs, a["n_boot"], a["seed"]))
    table = pd.concat(frames, ignore_index=True)
    write_table(table, out_csv, caption=f"Signed rank correlation vs ground truth ({cfg['study']})")
    return table


def das_ablation(cfg: dict, scores_path: str, gt_path: str, out_csv: str) -> pd.DataFrame:
    """DAS rules vs WOT on the held-out half, for the primary target (``analysis.ablation_targets:
    all``: for every target, each on the archs that have it, one block per ground truth)."""
    scores, gt = read_parquet(scores_path), read_parquet(gt_path)
    wide = wide_scores(scores, 0)
    a = cfg["analysis"]
    ts = targets(cfg) if a.get("ablation_targets", "primary") == "all" else targets(cfg)[:1]
    n = int(scores.batch_size.iloc[0])
    table = pd.concat([ablation_table(wide, *truth_of(gt, t), n, a["das_alphas"], a["das_lambdas"], a["seed"],
                                      a["n_boot"]) for t in ts], ignore_index=True)
    write_table(table, out_csv, caption=f"DAS combination rules vs WOT, held-out half ({cfg['study']})")
    return table


def paper_vs_ours(cfg: dict, corr_csv: str, out_csv: str) -> pd.DataFrame:
    """NASWOT's published Kendall tau beside ours (and the DAS atoms) per ground truth."""
    from trainfree.analysis.published import paper_vs_ours as compare

    table = compare(pd.read_csv(corr_csv), space=cfg["space"])
    write_table(table, out_csv, caption=f"Paper vs ours: Kendall tau on {cfg['space'].upper()} ({cfg['study']})")
    return table


def published_beside(cfg: dict, corr_csv: str, out_csv: str) -> pd.DataFrame:
    """Every metric's and combination's signed Kendall/Spearman (95 % CIs) beside the published
    figure for the same metric and ground truth, with the field and sample it used."""
    from trainfree.analysis.published import published_beside as beside

    table = beside(pd.read_csv(corr_csv), space=cfg["space"])
    write_table(table, out_csv, caption=f"Ours beside the published correlations on {cfg['space'].upper()} "
                                        f"({cfg['study']})")
    return table


def _delta_vs_k0(wide: pd.DataFrame, base: pd.DataFrame | None, metric: str, k: int, truth: pd.Series,
                 a: dict) -> tuple[float, float, float]:
    """tau(k) - tau(0) of ``metric`` with its paired CI; zeros at k = 0, NaN without a k = 0 score."""
    if not k:
        return 0.0, 0.0, 0.0
    if base is None or metric not in base:
        return np.nan, np.nan, np.nan
    return paired_delta(wide[metric], base[metric], truth, n_boot=a["n_boot"], seed=a["seed"])


def fast_training_table(cfg: dict, scores_path: str, gt_path: str, out_csv: str) -> pd.DataFrame:
    """Kendall tau of each metric after k fast-training steps, tau(k) - tau(0) on the same archs
    with a paired bootstrap 95% CI (``beats_k0``: that CI above 0), and the cost per arch."""
    from trainfree.metrics import get_metric  # loads the metric families (torch)

    scores, gt = read_parquet(scores_path), read_parquet(gt_path)
    truth, label = truth_of(gt, targets(cfg)[0])
    a = cfg["analysis"]
    frames = []
    base = wide_scores(scores, 0) if (scores.fast_steps == 0).any() else None
    for k in sorted(scores.fast_steps.unique()):
        wide = wide_scores(scores, int(k))
        dirs = {m: get_metric(m).higher_is_better for m in wide.columns}
        t = correlation_table(wide, truth, label, dirs, a["n_boot"], a["seed"])
        deltas = [_delta_vs_k0(wide, base, m, int(k), truth, a) for m in t.metric]
        t["delta_vs_k0"], t["delta_lo"], t["delta_hi"] = zip(*deltas, strict=True)
        t["beats_k0"] = t.delta_lo > 0
        per_arch = scores[scores.fast_steps == k].groupby("arch_id")
        secs = (per_arch.seconds.sum() + per_arch.fast_train_seconds.first()).median()
        t.insert(1, "fast_steps", int(k))
        t["seconds_per_arch"] = secs
        t["uses_trained_weights"] = [get_metric(m).uses_weights for m in t.metric]  # zen re-initialises
        frames.append(t)
    table = pd.concat(frames, ignore_index=True)
    write_table(table, out_csv, caption=f"Correlation after k fast-training steps ({cfg['study']})")
    return table
