"""Stage ``render``: one figure per file (PDF + PNG) from the study's tables."""

from __future__ import annotations

import pandas as pd

from trainfree.analysis.tidy import wide_scores
from trainfree.io import read_parquet
from trainfree.pipeline.common import targets, truth_of
from trainfree.render import figures


def figure(cfg: dict, name: str, inputs: dict, out_pdf: str) -> None:
    """Render figure ``name`` (scatter_<metric>, correlation_bars, atoms, fast_training,
    learning_curves) from the study's tables."""
    if name == "learning_curves":
        figures.learning_curves(read_parquet(inputs["states"]), out_pdf)
        return
    if name == "fast_training":
        figures.fast_training_curve(pd.read_csv(inputs["table"]), out_pdf)
        return
    if name == "correlation_bars":
        t = pd.read_csv(inputs["table"])
        figures.correlation_bars(t[t.ground_truth == t.ground_truth.iloc[0]], out_pdf)
        return
    scores, gt = read_parquet(inputs["scores"]), read_parquet(inputs["gt"])
    wide = wide_scores(scores, 0)
    truth, label = truth_of(gt, targets(cfg)[0])
    if name == "atoms":
        figures.atoms_plot(wide, truth, label, out_pdf)
        return
    if name.startswith("scatter_"):
        metric = name.removeprefix("scatter_")
        from trainfree.analysis.correlation import correlate

        tau = correlate(wide[metric], truth, n_boot=0)["kendall"]
        figures.scatter_metric(wide[metric], truth, metric, label, tau, out_pdf)
        return
    raise ValueError(f"unknown figure {name!r}")
