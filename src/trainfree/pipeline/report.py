"""Stage ``report``: the rules of ``workflow/rules/report.smk``, one function each, named like
its rule and its script: the study's provenance record and its summary of headline numbers."""

from __future__ import annotations

import platform
import subprocess
import sys
from collections.abc import Callable

import numpy as np
import pandas as pd

from trainfree.io import write_json, write_text
from trainfree.pipeline.common import target_label, targets


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


def _param(p: float) -> str:
    return "" if pd.isna(p) else f" ({p:g})"


def _correlations(t: pd.DataFrame) -> list[str]:
    lines = []
    for gt_label, block in t.groupby("ground_truth", sort=False):  # every target of the study
        lines += [f"Signed Kendall τ-b [95% bootstrap CI] and Spearman ρ at initialisation vs **{gt_label}**:", ""]
        lines += [f"- {r.metric}: τ = {_fmt(r.kendall)} [{_fmt(r.kendall_lo)}, {_fmt(r.kendall_hi)}], "
                  f"ρ = {_fmt(r.spearman)}, n = {r.n}, {r.n_nan} NaN" for r in block.itertuples()]
        lines.append("")
    return lines


def _das_ablation(t: pd.DataFrame) -> list[str]:
    lines = []
    for gt_label, block in t.groupby("ground_truth", sort=False):
        lines += [f"DAS rules on the held-out half vs **{gt_label}** (n = {int(block.n.iloc[0])}; "
                  f"Kendall τ, ratio to WOT):", ""]
        lines += [f"- {r.rule}{_param(r.param)}: τ = {_fmt(r.kendall)} (ratio {_fmt(r.ratio_vs_wot)})"
                  for r in block.itertuples()]
        lines.append("")
    return lines


def _fast_training(t: pd.DataFrame) -> list[str]:
    t = t[(t.metric == "naswot") & (t.ground_truth == t.ground_truth.iloc[0])]
    if not len(t):
        return []
    return (["NASWOT after k fast-training steps (Kendall τ):", ""]
            + [f"- k = {r.fast_steps}: τ = {_fmt(r.kendall)} [{_fmt(r.kendall_lo)}, {_fmt(r.kendall_hi)}]"
               for r in t.itertuples()] + [""])


def _paper_vs_ours(t: pd.DataFrame) -> list[str]:
    return ["Paper vs ours:", "", t.to_string(index=False), ""]


def _published_beside(t: pd.DataFrame) -> list[str]:
    t = t[t.published_value.notna()]
    return (["Ours beside published correlations (same metric and ground truth):", ""]
            + [f"- {r.metric}, {r.ground_truth}: ours {r.published_statistic} {_fmt(r.ours_same_statistic)} "
               f"(n = {r.n}) vs {_fmt(r.published_value)} ({r.publication}; {r.publication_sample})"
               for r in t.itertuples()] + [""])


def _suitezero_validation(t: pd.DataFrame) -> list[str]:
    return (["Ours vs NAS-Bench-Suite-Zero (Spearman ours-published; ours-acc vs published-acc):", ""]
            + [f"- {r.metric}: {_fmt(r.spearman_ours_published)}; {_fmt(r.spearman_ours_acc)} vs "
               f"{_fmt(r.spearman_published_acc)} (n = {r.n})" for r in t.itertuples()] + [""])


def _unification_accuracy(t: pd.DataFrame) -> list[str]:
    return ([f"Spearman ρ with {t.ground_truth.iloc[0]}:", ""]
            + [f"- {r.metric}: {_fmt(r.spearman)} (n = {r.n})" for r in t.itertuples()] + [""])


def _search_best_of_n(t: pd.DataFrame) -> list[str]:
    lines = [f"Best-of-N, {int(t.repeats.iloc[0])} repeats, test accuracy (mean ± std; NASWOT's published "
             "value where it has one):", ""]
    for r in t.itertuples():
        pub = "" if pd.isna(r.naswot_published) else f" (NASWOT paper {r.naswot_published:.2f})"
        lines.append(f"- {r.scores} {r.metric}, N = {r.n} of {r.n_pool}, {r.dataset}: {r.ours}{pub}; "
                     f"random {r.random}, optimum {r.optimum:.2f}")
    return lines + [""]


def _search_hnas(t: pd.DataFrame) -> list[str]:
    if "dataset" not in t.columns:  # HNAS with training observations: one row, no published numbers
        r = next(t.itertuples())
        return [f"HNAS with training observations ({r.seeds} seeds, pool of {r.n_pool}, {r.n_evals} evaluations "
                f"each; observation: {r.observation}):", "",
                f"- observed valid acc {r.observed_valid}, test acc {r.test_acc}, params {r.params_m} M; "
                f"{r.distinct_genotypes} distinct genotype(s); cost {r.cost_s:.0f} s ({r.cost})", ""]
    return ([f"HNAS ({int(t.seeds.iloc[0])} seeds, pool of {int(t.n_pool.iloc[0])}; observation: "
             f"{t.observation.iloc[0]}; cost: {t.cost.iloc[0]}):", ""]
            + [f"- {r.dataset}: {r.ours} (published {r.published}); cost {r.cost_s:.0f} s "
               f"(published {r.published_cost_s:.0f} s)" for r in t.itertuples()] + [""])


def _dtb_fast_training(t: pd.DataFrame) -> list[str]:
    lines = [f"DTB: Kendall τ with **{t.ground_truth.iloc[0]}** after k (checkpoint epoch or fast SGD "
             "steps); τ(k) − τ(0) with its paired 95% CI:", ""]
    lines += [f"- {r.metric}, {r.unit} {r.k}: τ = {_fmt(r.kendall)} [{_fmt(r.kendall_lo)}, "
              f"{_fmt(r.kendall_hi)}], Δ = {_fmt(r.delta_vs_k0)} [{_fmt(r.delta_lo)}, {_fmt(r.delta_hi)}]"
              for r in t[t.metric.isin(["naswot", "distinguishing_ability", "activation_units"])].itertuples()]
    return lines + [""]


def _dtb_das_ablation(t: pd.DataFrame) -> list[str]:
    lines = ["DTB: DAS rules on the held-out half per checkpoint epoch (Kendall τ; τ − τ(WOT) with its "
             "paired 95% CI):", ""]
    lines += [f"- epoch {r.epoch}, {r.rule}{_param(r.param)}: τ = {_fmt(r.kendall)}, Δ vs WOT = "
              f"{_fmt(r.delta_vs_wot)} [{_fmt(r.delta_lo)}, {_fmt(r.delta_hi)}]" for r in t.itertuples()]
    return lines + [""]


#: the summary's sections in order: final table name -> its lines (from the table's CSV)
SECTIONS: dict[str, Callable[[pd.DataFrame], list[str]]] = {
    "correlations": _correlations,
    "das_ablation": _das_ablation,
    "fast_training": _fast_training,
    "paper_vs_ours": _paper_vs_ours,
    "published_beside": _published_beside,
    "suitezero_validation": _suitezero_validation,
    "unification_accuracy": _unification_accuracy,
    "search_best_of_n": _search_best_of_n,
    "search_hnas": _search_hnas,
    "dtb_fast_training": _dtb_fast_training,
    "dtb_das_ablation": _dtb_das_ablation,
}


def summary(cfg: dict, tables: dict[str, str], out_md: str) -> str:
    """Headline numbers of the study -> Markdown (``results/<study>/summary.md``).

    ``tables``: name -> CSV path of the final tables the study made, names among
    :data:`SECTIONS` (one section each, in that order). The README quotes these lines; they
    regenerate with the study.
    """
    unknown = sorted(set(tables) - SECTIONS.keys())
    if unknown:
        raise ValueError(f"summary: no section for tables {unknown}; known: {sorted(SECTIONS)}")
    lines = [f"# Summary: study `{cfg['study']}`", ""]
    for name, section in SECTIONS.items():
        if name in tables:
            lines += section(pd.read_csv(tables[name]))
    text = "\n".join(lines)
    write_text(out_md, text)
    return text
