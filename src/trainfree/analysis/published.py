"""Published numbers this workflow compares with, each with its source."""

from __future__ import annotations

import pandas as pd

# NASWOT (Mellor et al., ICML 2021), Kendall tau vs accuracy, ~1000 NB201 archs.
NASWOT_KENDALL_NB201 = {"cifar10": 0.574, "cifar100": 0.611, "ImageNet16-120": 0.549}
# Zero-cost proxies (Abdelfattah et al., ICLR 2021), |Spearman| vs test acc, all NB201 archs.
ZC_SPEARMAN_NB201 = {
    "synflow": (0.737, 0.763, 0.751), "jacob_cov": (0.731, 0.704, 0.701),
    "snip": (0.596, 0.637, 0.578), "grad_norm": (0.594, 0.637, 0.578),
    "grasp": (0.514, 0.547, 0.549), "fisher": (0.360, 0.385, 0.327),
}
# NASWOT (Mellor et al., ICML 2021), Kendall tau vs CIFAR-10 accuracy on NAS-Bench-101.
NASWOT_KENDALL_NB101 = {"cifar10": 0.285}
# DAS: held-out improvement of its combination rules over WOT claimed on NB101, NDS and DTB.
DAS_RATIO_VS_WOT = (1.04, 1.56)

#: space -> (dataset -> NASWOT's published Kendall tau, source); the paper-vs-ours table is
#: made for the spaces listed here
NASWOT_KENDALL: dict[str, tuple[dict[str, float], str]] = {
    "nb201": (NASWOT_KENDALL_NB201, "NASWOT (Mellor et al. 2021), ~1000 archs"),
    "nb101": (NASWOT_KENDALL_NB101, "NASWOT (Mellor et al. 2021), NB101"),
}


def has_published(space: str) -> bool:
    """Whether published numbers are registered for ``space`` (a paper-vs-ours table is made)."""
    return space in NASWOT_KENDALL


def paper_vs_ours(corr: pd.DataFrame, space: str = "nb201") -> pd.DataFrame:
    """Our Kendall tau of WOT and the DAS atoms beside NASWOT's published tau per dataset.

    ``corr``: a correlation table (metric, ground_truth, kendall, CIs, n). The DAS paper
    publishes no tau for the atoms, so their ``paper`` cell is empty.
    """
    published, source = NASWOT_KENDALL.get(space, ({}, ""))
    rows = []
    for r in corr.itertuples():
        if r.metric not in ("naswot", "distinguishing_ability", "activation_units"):
            continue
        dataset = str(r.ground_truth).split(" ")[0]
        paper = published.get(dataset) if r.metric == "naswot" else None
        rows.append({"metric": r.metric, "ground_truth": r.ground_truth, "n": r.n,
                     "ours_kendall": r.kendall, "ours_lo": r.kendall_lo, "ours_hi": r.kendall_hi,
                     "paper_kendall": paper,
                     "paper_source": source if paper is not None else "not published",
                     "difference": (r.kendall - paper) if paper is not None else None})
    return pd.DataFrame(rows)
