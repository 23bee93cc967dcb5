"""Gradient metrics (zero-cost proxies) and the NTK quantities of NASI/HNAS, by family.

Importing this module registers every family; the implementations live in

- :mod:`~trainfree.metrics.passes`: the shared forward and cross-entropy passes (protocol);
- :mod:`~trainfree.metrics.saliency`: grad_norm, snip, plain, fisher*, grasp;
- :mod:`~trainfree.metrics.jacobian`: jacob_cov, epe_nas;
- :mod:`~trainfree.metrics.ntk`: ntk_*;
- :mod:`~trainfree.metrics.zico`: zico;
- :mod:`~trainfree.metrics.synflow`: synflow, l2_norm;
- :mod:`~trainfree.metrics.zen`: zen.
"""

from __future__ import annotations

import trainfree.metrics.saliency  # noqa: F401  (registers its metrics)
from trainfree.metrics.jacobian import EPS_CORR, input_jacobian
from trainfree.metrics.ntk import NTK, ntk_gram, ntk_gram_bnfixed
from trainfree.metrics.passes import LAYERS, CEGrad, ForwardPass, ce_grad_pass, forward_pass, layers
from trainfree.metrics.synflow import synflow_score
from trainfree.metrics.zen import ZEN_GAMMA, ZEN_SEED, zen_score
from trainfree.metrics.zico import zico_grads

ALL: tuple[str, ...] = (
    "grad_norm", "snip", "grasp", "fisher", "synflow", "jacob_cov", "plain", "l2_norm",
    "epe_nas", "zen", "zico", "ntk_trace", "ntk_condnum", "fisher_channel",
    "ntk_trace_bnfixed", "ntk_condnum_bnfixed",
)

__all__ = [
    "ALL", "EPS_CORR", "LAYERS", "ZEN_GAMMA", "ZEN_SEED", "CEGrad", "ForwardPass", "NTK",
    "ce_grad_pass", "forward_pass", "input_jacobian", "layers", "ntk_gram", "ntk_gram_bnfixed", "synflow_score", "zen_score", "zico_grads",
]
