"""Reshaping of tidy score tables, free of torch so that table and figure jobs start fast."""

from __future__ import annotations

import pandas as pd


def wide_scores(scores: pd.DataFrame, fast_steps: int | None = None) -> pd.DataFrame:
    """Tidy scores -> one row per arch_id, one column per metric (NaN kept).

    With ``fast_steps`` only the rows scored after that many fast-training steps.
    """
    if fast_steps is not None and "fast_steps" in scores:
        scores = scores[scores.fast_steps == fast_steps]
    return scores.pivot_table(index="arch_id", columns="metric", values="value", aggfunc="first",
                              dropna=False)
