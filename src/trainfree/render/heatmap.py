"""Correlation heatmap (e.g. the HNAS metric matrix): one figure, PDF + PNG."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from trainfree.render.figures import save


def correlation_heatmap(matrix: pd.DataFrame, path: str | os.PathLike, title: str = "",
                        label: str = "Spearman ρ", annotate: bool = True) -> list[Path]:
    """Draw a square signed correlation matrix in [−1, 1] (diverging colours, values printed).

    ``path``: output stem or ``.pdf``/``.png`` path; writes ``<stem>.pdf`` (fonts
    embedded, Type 42) and ``<stem>.png`` (200 dpi). Returns both paths.
    """
    k = len(matrix)
    size = max(3.5, 0.45 * k + 1.5)
    with plt.rc_context({"pdf.fonttype": 42, "ps.fonttype": 42, "font.size": 9}):
        fig, ax = plt.subplots(figsize=(size + 0.8, size))
        sns.heatmap(matrix.astype(float), vmin=-1, vmax=1, center=0, cmap="RdBu_r", square=True,
                    annot=annotate, fmt=".2f", annot_kws={"size": 7 if k > 10 else 8},
                    cbar_kws={"label": label, "shrink": 0.8}, linewidths=0.4, linecolor="white",
                    mask=~np.isfinite(matrix.to_numpy(float)), ax=ax)
        ax.set_title(title)
        ax.set_xticklabels(ax.get_xticklabels(), rotation=45, ha="right")
        ax.set_yticklabels(ax.get_yticklabels(), rotation=0)
        p = Path(path)
        stem = p.with_suffix("") if p.suffix in (".pdf", ".png") else p
        return save(fig, stem.with_name(stem.name + ".pdf"))


__all__ = ["correlation_heatmap"]
