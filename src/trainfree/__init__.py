"""trainfree: reproducible training-free neural architecture search.

Library entry points (no Snakemake needed)::

    from trainfree.spaces import get_space
    from trainfree.metrics import list_metrics, score_network
    from trainfree.data import scoring_batch
"""

from trainfree.errors import TrainfreeError

__version__ = "0.1.0"
__all__ = ["TrainfreeError", "__version__"]
