"""Datasets (download, verify, load) and the cached, fixed scoring batch."""

from trainfree.data.datasets import (
    DATASETS,
    Dataset,
    load_dataset,
    normalise,
    num_classes,
    scoring_batch,
)

__all__ = ["DATASETS", "Dataset", "load_dataset", "normalise", "num_classes", "scoring_batch"]
