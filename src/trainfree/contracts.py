"""The data contracts: the columns of the tidy tables the stages pass to each other, and the
pure helpers on them that several layers share. The ground floor of the package: it imports
nothing of it, and pandas and numpy only inside the helpers (so that the readers, which
name ``GT_COLUMNS``, load without them and the command line starts fast).

- ground truth (``GT_COLUMNS``): one row per (arch, dataset, split, epochs, seed, field)
  with ``value``; ``seed`` is ``"mean"`` for seed-averaged rows (``trainfree.benchmarks``);
- sample (``SAMPLE_COLUMNS``): one row per arch; ``spec`` rebuilds the arch in another
  process, ``bench_index`` is its index in the ground-truth source (``trainfree.pipeline.sample``);
- scores (``SCORE_COLUMNS``): one row per (arch, metric, setting), NaN kept
  (``trainfree.metrics.engine``);
- training states (``STATE_COLUMNS``): one row per (arch, epoch, split); epoch 0 is the
  untrained network (``trainfree.training.fast``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

GT_COLUMNS = ["space", "arch_id", "bench_index", "dataset", "split", "epochs", "seed", "field",
              "value", "source"]

SAMPLE_COLUMNS = ["space", "arch_id", "spec", "bench_index"]

SCORE_COLUMNS = [
    "space", "arch_id", "metric", "value", "seconds", "dataset", "batch_size", "seed",
    "fast_steps", "device", "fast_train_seconds",
]

STATE_COLUMNS = ["arch_id", "epoch", "split", "loss", "acc", "seconds"]


def wide_scores(scores: pd.DataFrame, fast_steps: int | None = None) -> pd.DataFrame:
    """Tidy scores -> one row per arch_id, one column per metric (NaN kept).

    With ``fast_steps`` only the rows scored after that many fast-training steps.
    """
    if fast_steps is not None and "fast_steps" in scores:
        scores = scores[scores.fast_steps == fast_steps]
    return scores.pivot_table(index="arch_id", columns="metric", values="value", aggfunc="first",
                              dropna=False)


def finite_pairs(*columns: pd.Series) -> tuple[pd.DataFrame, int]:
    """Align ``columns`` on their index (inner join) and keep rows where every value is finite.

    Returns the kept rows (one float column per input, named by position ``c0, c1, ...``)
    and the number of rows dropped (NaN or infinite on any side). The one rule by which every
    correlation, table and figure of the package drops values.
    """
    import numpy as np
    import pandas as pd

    both = pd.concat([c.astype(float).rename(f"c{i}") for i, c in enumerate(columns)], axis=1, join="inner")
    ok = both[np.isfinite(both.to_numpy(float)).all(axis=1)]
    return ok, len(both) - len(ok)


__all__ = ["GT_COLUMNS", "SAMPLE_COLUMNS", "SCORE_COLUMNS", "STATE_COLUMNS", "finite_pairs", "wide_scores"]


def draw(size: int, n: int, seed: int) -> np.ndarray:
    """Positions of ``n`` of ``size`` rows drawn uniformly without replacement with ``seed``, in
    draw order: the one seeded draw of rows (the scoring batch's images, a sample from a
    ground-truth pool, the Suite-Zero rows). Archs of a search space come from the space's
    own ``sample(n, seed)``."""
    import numpy as np

    return np.random.default_rng(seed).choice(size, size=n, replace=False)
