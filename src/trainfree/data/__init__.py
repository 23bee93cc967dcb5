"""Datasets (download, verify, load), NB201 splits and the cached, fixed scoring batch."""

from trainfree.data.datasets import (
    DATASETS,
    SPLITS,
    Dataset,
    Split,
    canonical_name,
    load_dataset,
    load_split,
    norm_stats,
    normalise,
    num_classes,
    scoring_batch,
    split_indices,
)
from trainfree.data.fetch import (
    ASSETS,
    Asset,
    fetch,
    get_asset,
    list_assets,
    register_asset,
    verify_file,
)

__all__ = ["ASSETS", "DATASETS", "SPLITS", "Asset", "Dataset", "Split", "canonical_name", "fetch",
           "get_asset", "list_assets", "load_dataset", "load_split", "norm_stats", "normalise",
           "num_classes", "register_asset", "scoring_batch", "split_indices", "verify_file"]
