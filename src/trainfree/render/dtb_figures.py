"""DTB figures: the benchmark's summary and the fast-training curves (correlation and cost vs k)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from trainfree.render.figures import plt, save, sns


def summary(states: pd.DataFrame, archs: pd.DataFrame, pdf_path: str | os.PathLike) -> list[Path]:
    """Test/valid accuracy per epoch of every arch, final test-accuracy histogram, accuracy vs params."""
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(11.0, 3.2))
    last = int(states.epoch.max())
    for split, color in (("test", "tab:blue"), ("valid", "tab:orange")):
        s = states[states.split == split]
        for i, (_, g) in enumerate(s.groupby("arch_id")):
            a1.plot(g.epoch, g.acc, color=color, alpha=0.25, lw=0.8, label=split if i == 0 else None)
    a1.set_xlabel("epoch")
    a1.set_ylabel("accuracy (%)")
    a1.set_title(f"learning curves ({states.arch_id.nunique()} archs)")
    a1.legend(fontsize=8)
    final = states[(states.split == "test") & (states.epoch == last)].set_index("arch_id").acc
    sns.histplot(final, ax=a2, bins=min(20, max(5, len(final) // 2)))
    a2.set_xlabel(f"test accuracy at epoch {last} (%)")
    both = archs.set_index("arch_id").join(final.rename("acc"), how="inner")
    a3.scatter(both.params_m, both.acc, s=14, alpha=0.7, edgecolor="none")
    a3.set_xlabel("parameters (M)")
    a3.set_ylabel(f"test accuracy at epoch {last} (%)")
    for a in (a1, a2, a3):
        a.grid(alpha=0.3)
    fig.tight_layout()
    return save(fig, pdf_path)


def fast_training(table: pd.DataFrame, pdf_path: str | os.PathLike) -> list[Path]:
    """Kendall tau (95% CI) vs k and seconds per arch vs k, one row of panels per unit of k."""
    units = [u for u in ("epoch", "step") if u in set(table.unit)]
    fig, axes = plt.subplots(len(units), 2, figsize=(8.4, 3.0 * len(units)), squeeze=False)
    for (a1, a2), unit in zip(axes, units, strict=True):
        t = table[table.unit == unit]
        for metric, g in t.groupby("metric"):
            g = g.sort_values("k")
            a1.errorbar(g.k, g.kendall, yerr=[(g.kendall - g.kendall_lo).clip(lower=0),
                                              (g.kendall_hi - g.kendall).clip(lower=0)],
                        marker="o", capsize=3, label=metric)
            a2.plot(g.k, g.seconds_per_arch, marker="o", label=metric)
        what = "checkpoint epoch k" if unit == "epoch" else "fast-training SGD steps k"
        a1.set_xlabel(what)
        a1.set_ylabel("Kendall τ (95% CI)")
        a1.axhline(0, color="black", lw=0.6)
        a2.set_xlabel(what)
        a2.set_ylabel("seconds per arch (train + score)")
        for a in (a1, a2):
            a.grid(alpha=0.3)
        if unit == "step" and (t.k > 0).any():
            a1.set_xscale("symlog", linthresh=10)
            a2.set_xscale("symlog", linthresh=10)
    axes[0][0].legend(fontsize=7)
    axes[0][0].set_title("vs " + str(table["ground_truth"].iloc[0]), fontsize=8)
    fig.tight_layout()
    return save(fig, pdf_path)
