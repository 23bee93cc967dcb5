"""DTB, the benchmark of training states: ``trainfree.dtb.open(path)`` opens a built folder.

    >>> import trainfree.dtb
    >>> dtb = trainfree.dtb.open("results/dtb_mini/dtb")   # verifies every SHA-256 first
    >>> dtb.states.head()                                  # arch_id, epoch, split, loss, acc, seconds
    >>> net = dtb.checkpoint(dtb.archs.arch_id[0], epoch=0) # the untrained network, weights loaded
"""

from trainfree.training.dtb import Protocol
from trainfree.training.dtb_store import DTB, DTB_VERSION, open_dtb

open = open_dtb  # noqa: A001  (the documented loader name)

__all__ = ["DTB", "DTB_VERSION", "Protocol", "open", "open_dtb"]
