"""Datasets (download, verify, load), NB201 splits and the cached, fixed scoring batch.

The fetch registry (``trainfree.data.fetch``) loads with the package; the dataset
names (``trainfree.data.datasets``, which imports torch) load on first use, so that the
CLI can list the fetchable assets without torch.
"""

from trainfree.data.fetch import (
    ASSETS,
    Asset,
    fetch,
    get_asset,
    list_assets,
    register_asset,
    verify_file,
)

#: names of ``trainfree.data.datasets`` exported here, loaded on first access
_FROM_DATASETS = ("DATASETS", "SPLITS", "Dataset", "Split", "canonical_name", "load_dataset", "load_split",
                  "norm_stats", "normalise", "num_classes", "scoring_batch", "split_indices")


def _datasets():
    # outside __getattr__ so that the import closure (trainfree.closure) counts it: reading
    # any of _FROM_DATASETS from this package runs the dataset module
    from trainfree.data import datasets

    return datasets


def __getattr__(name: str):
    if name in _FROM_DATASETS:
        return getattr(_datasets(), name)
    raise AttributeError(f"module 'trainfree.data' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_FROM_DATASETS})


__all__ = ["ASSETS", "DATASETS", "SPLITS", "Asset", "Dataset", "Split", "canonical_name", "fetch",
           "get_asset", "list_assets", "load_dataset", "load_split", "norm_stats", "normalise",
           "num_classes", "register_asset", "scoring_batch", "split_indices", "verify_file"]
