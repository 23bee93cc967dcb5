"""Figures: one per file, PDF (embedded fonts) + PNG, readable at paper size."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from trainfree.contracts import finite_pairs  # noqa: E402
from trainfree.io import atomic_path  # noqa: E402

plt.rcParams.update({"pdf.fonttype": 42, "ps.fonttype": 42, "font.size": 10,
                     "axes.titlesize": 10, "figure.dpi": 150})


def save(fig: plt.Figure, pdf_path: str | os.PathLike) -> list[Path]:
    """Save as ``X.pdf`` and ``X.png`` (same stem), atomically; closes the figure."""
    pdf = Path(pdf_path)
    out = []
    for ext in (".pdf", ".png"):
        final = pdf.with_suffix(ext)
        with atomic_path(final) as tmp:
            fig.savefig(tmp, bbox_inches="tight", dpi=200)
        out.append(final)
    plt.close(fig)
    return out


def scatter_metric(score: pd.Series, truth: pd.Series, metric: str, truth_label: str,
                   kendall: float, pdf_path: str | os.PathLike) -> list[Path]:
    """Score vs ground truth for one metric, tau in the title."""
    both = finite_pairs(score, truth)[0].set_axis(["s", "t"], axis=1)
    fig, ax = plt.subplots(figsize=(4.2, 3.4))
    ax.scatter(both.s, both.t, s=10, alpha=0.6, edgecolor="none")
    ax.set_xlabel(metric)
    ax.set_ylabel(truth_label)
    ax.set_title(f"{metric}: Kendall τ = {kendall:+.3f} (n = {len(both)})")
    ax.grid(alpha=0.3)
    return save(fig, pdf_path)


def correlation_bars(table: pd.DataFrame, pdf_path: str | os.PathLike, kind: str = "kendall",
                     label_col: str = "metric") -> list[Path]:
    """Signed correlation per metric with its bootstrap 95% CI."""
    t = table.sort_values(kind)
    fig, ax = plt.subplots(figsize=(5.0, 0.35 * len(t) + 1.2))
    y = np.arange(len(t))
    err = np.vstack([t[kind] - t[f"{kind}_lo"], t[f"{kind}_hi"] - t[kind]]).clip(min=0)
    colors = ["tab:blue" if v >= 0 else "tab:red" for v in t[kind].fillna(0)]
    ax.barh(y, t[kind], xerr=err, color=colors, alpha=0.8, capsize=3)
    ax.set_yticks(y, t[label_col])
    ax.axvline(0, color="black", lw=0.8)
    name = "Kendall τ" if kind == "kendall" else "Spearman ρ"
    truth = table["ground_truth"].iloc[0] if "ground_truth" in table else ""
    ax.set_xlabel(f"{name} vs {truth} (95% bootstrap CI)")
    ax.grid(axis="x", alpha=0.3)
    return save(fig, pdf_path)


def atoms_plot(wide: pd.DataFrame, truth: pd.Series, truth_label: str,
               pdf_path: str | os.PathLike) -> list[Path]:
    """Distinguishing ability vs activation units, coloured by the ground truth."""
    both = finite_pairs(wide["activation_units"], wide["distinguishing_ability"], truth)[0].set_axis(
        ["activation_units", "distinguishing_ability", "t"], axis=1)
    fig, ax = plt.subplots(figsize=(4.8, 3.6))
    sc = ax.scatter(both.activation_units, both.distinguishing_ability, c=both.t, cmap="viridis",
                    s=14, alpha=0.8, edgecolor="none")
    fig.colorbar(sc, ax=ax, label=truth_label)
    ax.set_xscale("log")
    ax.set_xlabel("activation units $N_A$ (log scale)")
    ax.set_ylabel("distinguishing ability $\\log|K_H/N_A|$")
    ax.set_title(f"DAS atoms (n = {len(both)})")
    ax.grid(alpha=0.3)
    return save(fig, pdf_path)


def fast_training_curve(table: pd.DataFrame, pdf_path: str | os.PathLike) -> list[Path]:
    """Kendall tau (with CI) vs fast-training steps k per metric, and cost vs k."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(8.0, 3.2))
    for metric, g in table.groupby("metric"):
        g = g.sort_values("fast_steps")
        a1.errorbar(g.fast_steps, g.kendall, yerr=[g.kendall - g.kendall_lo, g.kendall_hi - g.kendall],
                    marker="o", capsize=3, label=metric)
        a2.plot(g.fast_steps, g.seconds_per_arch, marker="o", label=metric)
    a1.set_xlabel("fast-training steps k")
    a1.set_ylabel("Kendall τ vs " + str(table["ground_truth"].iloc[0]))
    a1.axhline(0, color="black", lw=0.6)
    a1.legend(fontsize=8)
    a2.set_xlabel("fast-training steps k")
    a2.set_ylabel("seconds per arch (train + score)")
    for a in (a1, a2):
        a.grid(alpha=0.3)
    fig.tight_layout()
    return save(fig, pdf_path)


def learning_curves(states: pd.DataFrame, pdf_path: str | os.PathLike) -> list[Path]:
    """Test accuracy per epoch for every trained arch, and the final-accuracy histogram."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(8.0, 3.2))
    test = states[states.split == "test"]
    for _, g in test.groupby("arch_id"):
        a1.plot(g.epoch, g.acc, color="tab:blue", alpha=0.3, lw=0.8)
    a1.set_xlabel("epoch")
    a1.set_ylabel("test accuracy (%)")
    final = test[test.epoch == test.epoch.max()].acc
    sns.histplot(final, ax=a2, bins=20)
    a2.set_xlabel(f"test accuracy at epoch {int(test.epoch.max())} (%)")
    for a in (a1, a2):
        a.grid(alpha=0.3)
    fig.tight_layout()
    return save(fig, pdf_path)
