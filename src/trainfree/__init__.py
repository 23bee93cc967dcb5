"""trainfree: reproducible training-free neural architecture search.

Library entry points (no Snakemake needed)::

    from trainfree.spaces import get_space
    from trainfree.metrics import list_metrics, score_network
    from trainfree.data import scoring_batch
    from trainfree import score_model          # any nn.Module: score_model(model, x, y, ["naswot", "snip"])
"""

from trainfree.errors import TrainfreeError

__version__ = "0.1.0"
__all__ = ["TrainfreeError", "__version__", "score_model"]


def __getattr__(name: str):
    # ``trainfree.score_model`` imports torch on first use only, so ``import trainfree`` stays light
    if name == "score_model":
        from trainfree.scoring import score_model

        return score_model
    raise AttributeError(f"module 'trainfree' has no attribute {name!r}")
