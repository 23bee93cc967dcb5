"""Reshaping of tidy score tables: :func:`wide_scores`, defined with the data contracts
(``trainfree.contracts``) and re-exported here."""

from trainfree.contracts import wide_scores

__all__ = ["wide_scores"]
