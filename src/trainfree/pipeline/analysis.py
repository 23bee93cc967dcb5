"""Stage ``analysis``: correlation tables, the DAS ablation, the fast-training curve,
paper-vs-ours, the Suite-Zero validation, the HNAS unification and provenance."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from trainfree.analysis.correlation import correlation_table
from trainfree.analysis.das import ablation_table, paired_delta
from trainfree.analysis.tidy import wide_scores
from trainfree.io import read_parquet, write_csv, write_json, write_text
from trainfree.pipeline.common import target_label, targets, truth_of
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


def ablation(cfg: dict, scores_path: str, gt_path: str, out_csv: str) -> pd.DataFrame:
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


def _delta_vs_k0(wide: pd.DataFrame, base: pd.DataFrame | None, metric: str, k: int, truth: pd.Series,
                 a: dict) -> tuple[float, float, float]:
    """tau(k) - tau(0) of ``metric`` with its paired CI; zeros at k = 0, NaN without a k = 0 score."""
    if not k:
        return 0.0, 0.0, 0.0
    if base is None or metric not in base:
        return np.nan, np.nan, np.nan
    return paired_delta(wide[metric], base[metric], truth, n_boot=a["n_boot"], seed=a["seed"])


def fast_training(cfg: dict, scores_path: str, gt_path: str, out_csv: str) -> pd.DataFrame:
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


def suitezero(cfg: dict, out_csv: str, scores_csv: str, cache: str, device: str = "cpu") -> pd.DataFrame:
    """Score a seeded sample of the published Suite-Zero archs and compare per proxy.

    Resumable: scores accumulate in ``cache`` (chunks of 20 archs) until all are done.
    """
    from trainfree.analysis.suitezero import published_source, run_validation

    v = cfg["suitezero"]
    space = v.get("space", "nb201")
    batch = v.get("batch_size") or published_source(space).batch_size
    table = run_validation(v["n"], v["seed"], bench_root=v.get("bench_root"), batch_size=batch,
                           out_csv=out_csv, out_md=str(Path(out_csv).with_suffix(".md")),
                           scores_out=cache, device=device, space=space, model_kwargs=v.get("model") or None)
    n = int(table.n.max()) if len(table) else 0
    write_table(table, out_csv, caption=(
        f"Ours vs NAS-Bench-Suite-Zero published proxies: up to {n} {space} rows of {v['n']} drawn "
        f"(seed {v['seed']}), batch {batch} (published: {published_source(space).batch_size}); accuracy = {published_source(space).acc_label}"))
    write_csv(pd.read_csv(cache), scores_csv)
    return table


def unification(cfg: dict, scores_csv: str, matrix_csv: str, accuracy_csv: str, heatmap_pdf: str) -> None:
    """HNAS unification: Spearman matrix among metrics, each metric's and the criterion's
    signed correlation with CIFAR-10 test accuracy, and the heatmap."""
    from trainfree.analysis.suitezero import default_bench_root, load_published, published_source
    from trainfree.analysis.unify import unification_analysis
    from trainfree.render.heatmap import correlation_heatmap
    from trainfree.search.hnas import hnas_weights

    v = cfg["suitezero"]
    space = v.get("space", "nb201")
    wide = wide_scores(pd.read_csv(scores_csv))
    pub = load_published(v.get("bench_root") or default_bench_root(), space)
    acc = pub["acc"].groupby(level=0).first()  # one accuracy per arch (NB101 keys of one cell repeat it)
    h = v["hnas"]
    mu, nu = hnas_weights(h["t"], h["c"], h["s"])
    matrix, acc_table = unification_analysis(wide, acc, mu, nu)
    label = published_source(space).acc_label
    acc_table.insert(0, "ground_truth", label)
    m = matrix.reset_index().rename(columns={"index": "metric"})
    write_table(m, matrix_csv, caption=f"Spearman rank correlation among metrics ({len(wide)} {space} archs)")
    write_table(acc_table, accuracy_csv, caption=(
        f"Signed correlation with {label}; hnas_criterion with t={h['t']}, c={h['c']}, s={h['s']}"))
    correlation_heatmap(matrix, heatmap_pdf, title=f"Metric agreement, {len(wide)} {space} archs")


def provenance(cfg: dict, out: str) -> dict:
    """Effective config, versions, device, git commit and ground-truth fields -> JSON."""
    import matplotlib
    import scipy
    import snakemake
    import torch

    import trainfree

    def _git() -> str:
        try:
            return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                  check=True).stdout.strip()
        except Exception:
            return "unknown"

    info = {
        "config": cfg,
        "ground_truth_fields": [target_label(t) for t in targets(cfg)],
        "versions": {"trainfree": trainfree.__version__, "python": sys.version.split()[0],
                     "torch": torch.__version__, "numpy": np.__version__, "pandas": pd.__version__,
                     "scipy": scipy.__version__, "matplotlib": matplotlib.__version__,
                     "snakemake": snakemake.__version__},
        "platform": platform.platform(),
        "device": cfg.get("device", "cpu"),
        "torch_threads": torch.get_num_threads(),
        "git_commit": _git(),
    }
    write_json(out, info)
    return info


def _fmt(v: object) -> str:
    return "n/a" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{float(v):+.3f}"


def summary(cfg: dict, tables: dict[str, str], out_md: str) -> str:
    """Headline numbers of the study -> Markdown (``results/<study>/summary.md``).

    ``tables``: name -> CSV path among ``correlations``, ``das_ablation``, ``fast_training``,
    ``paper_vs_ours``, ``suitezero_validation``, ``unification_accuracy``, ``search_best_of_n``,
    ``search_hnas``, ``dtb_fast_training``, ``dtb_das_ablation`` (those present).
    The README quotes these lines; they regenerate with the study.
    """
    lines = [f"# Summary: study `{cfg['study']}`", ""]
    if "correlations" in tables:
        t = pd.read_csv(tables["correlations"])
        for gt_label, block in t.groupby("ground_truth", sort=False):  # every target of the study
            lines += [f"Signed Kendall τ-b [95% bootstrap CI] and Spearman ρ at initialisation vs **{gt_label}**:", ""]
            for r in block.itertuples():
                lines.append(f"- {r.metric}: τ = {_fmt(r.kendall)} [{_fmt(r.kendall_lo)}, {_fmt(r.kendall_hi)}], "
                             f"ρ = {_fmt(r.spearman)}, n = {r.n}, {r.n_nan} NaN")
            lines.append("")
    if "das_ablation" in tables:
        t = pd.read_csv(tables["das_ablation"])
        for gt_label, block in t.groupby("ground_truth", sort=False):
            lines += [f"DAS rules on the held-out half vs **{gt_label}** (n = {int(block.n.iloc[0])}; "
                      f"Kendall τ, ratio to WOT):", ""]
            for r in block.itertuples():
                param = "" if pd.isna(r.param) else f" ({r.param:g})"
                lines.append(f"- {r.rule}{param}: τ = {_fmt(r.kendall)} (ratio {_fmt(r.ratio_vs_wot)})")
            lines.append("")
    if "fast_training" in tables:
        t = pd.read_csv(tables["fast_training"])
        t = t[(t.metric == "naswot") & (t.ground_truth == t.ground_truth.iloc[0])]
        if len(t):
            lines += ["NASWOT after k fast-training steps (Kendall τ):", ""]
            lines += [f"- k = {r.fast_steps}: τ = {_fmt(r.kendall)} [{_fmt(r.kendall_lo)}, {_fmt(r.kendall_hi)}]"
                      for r in t.itertuples()]
            lines.append("")
    if "paper_vs_ours" in tables:
        lines += ["Paper vs ours:", "", pd.read_csv(tables["paper_vs_ours"]).to_string(index=False), ""]
    if "suitezero_validation" in tables:
        t = pd.read_csv(tables["suitezero_validation"])
        lines += ["Ours vs NAS-Bench-Suite-Zero (Spearman ours-published; ours-acc vs published-acc):", ""]
        lines += [f"- {r.metric}: {_fmt(r.spearman_ours_published)}; {_fmt(r.spearman_ours_acc)} vs "
                  f"{_fmt(r.spearman_published_acc)} (n = {r.n})" for r in t.itertuples()]
        lines.append("")
    if "unification_accuracy" in tables:
        t = pd.read_csv(tables["unification_accuracy"])
        lines += [f"Spearman ρ with {t.ground_truth.iloc[0]}:", ""]
        lines += [f"- {r.metric}: {_fmt(r.spearman)} (n = {r.n})" for r in t.itertuples()]
        lines.append("")
    if "search_best_of_n" in tables:
        t = pd.read_csv(tables["search_best_of_n"])
        lines += [f"Best-of-N, {int(t.repeats.iloc[0])} repeats, test accuracy (mean ± std; NASWOT's published "
                  "value where it has one):", ""]
        for r in t.itertuples():
            pub = "" if pd.isna(r.naswot_published) else f" (NASWOT paper {r.naswot_published:.2f})"
            lines.append(f"- {r.scores} {r.metric}, N = {r.n} of {r.n_pool}, {r.dataset}: {r.ours}{pub}; "
                         f"random {r.random}, optimum {r.optimum:.2f}")
        lines.append("")
    if "search_hnas" in tables and "dataset" not in pd.read_csv(tables["search_hnas"], nrows=0).columns:
        r = next(pd.read_csv(tables["search_hnas"]).itertuples())
        lines += [f"HNAS with training observations ({r.seeds} seeds, pool of {r.n_pool}, {r.n_evals} evaluations "
                  f"each; observation: {r.observation}):", "",
                  f"- observed valid acc {r.observed_valid}, test acc {r.test_acc}, params {r.params_m} M; "
                  f"{r.distinct_genotypes} distinct genotype(s); cost {r.cost_s:.0f} s ({r.cost})", ""]
    elif "search_hnas" in tables:
        t = pd.read_csv(tables["search_hnas"])
        lines += [f"HNAS ({int(t.seeds.iloc[0])} seeds, pool of {int(t.n_pool.iloc[0])}; observation: "
                  f"{t.observation.iloc[0]}; cost: {t.cost.iloc[0]}):", ""]
        lines += [f"- {r.dataset}: {r.ours} (published {r.published}); cost {r.cost_s:.0f} s "
                  f"(published {r.published_cost_s:.0f} s)" for r in t.itertuples()]
        lines.append("")
    if "dtb_fast_training" in tables:
        t = pd.read_csv(tables["dtb_fast_training"])
        lines += [f"DTB: Kendall τ with **{t.ground_truth.iloc[0]}** after k (checkpoint epoch or fast SGD "
                  "steps); τ(k) − τ(0) with its paired 95% CI:", ""]
        for r in t[t.metric.isin(["naswot", "distinguishing_ability", "activation_units"])].itertuples():
            lines.append(f"- {r.metric}, {r.unit} {r.k}: τ = {_fmt(r.kendall)} [{_fmt(r.kendall_lo)}, "
                         f"{_fmt(r.kendall_hi)}], Δ = {_fmt(r.delta_vs_k0)} [{_fmt(r.delta_lo)}, {_fmt(r.delta_hi)}]")
        lines.append("")
    if "dtb_das_ablation" in tables:
        t = pd.read_csv(tables["dtb_das_ablation"])
        lines += ["DTB: DAS rules on the held-out half per checkpoint epoch (Kendall τ; τ − τ(WOT) with its "
                  "paired 95% CI):", ""]
        for r in t.itertuples():
            param = "" if pd.isna(r.param) else f" ({r.param:g})"
            lines.append(f"- epoch {r.epoch}, {r.rule}{param}: τ = {_fmt(r.kendall)}, Δ vs WOT = "
                         f"{_fmt(r.delta_vs_wot)} [{_fmt(r.delta_lo)}, {_fmt(r.delta_hi)}]")
        lines.append("")
    text = "\n".join(lines)
    write_text(out_md, text)
    return text
