"""Metric registry, metric families and the scoring engine."""

from trainfree.metrics.engine import (
    SCORE_COLUMNS,
    ScoringContext,
    score_archs,
    score_network,
    score_on_dataset,
)
from trainfree.metrics.registry import (
    METRICS,
    Metric,
    get_metric,
    list_metrics,
    register_metric,
    resolve,
)

__all__ = [
    "METRICS", "SCORE_COLUMNS", "Metric", "ScoringContext", "get_metric", "list_metrics", "register_metric",
    "resolve", "score_archs", "score_network", "score_on_dataset",
]
