"""Published numbers this workflow compares with, each with its source."""

from __future__ import annotations

import pandas as pd

# NASWOT (Mellor et al., ICML 2021), Kendall tau vs accuracy over NB201, keyed by the
# (dataset, split) its code read: score_networks.py builds the space from
# ``cifar10-valid`` and reads ``get_metrics('cifar10-valid', 'ori-test')`` (200 ep) for
# CIFAR-10, ``x-test`` (the test half) of ``cifar100`` / ``ImageNet16-120``; singular
# kernels score −inf (ranked last, not dropped).
NASWOT_KENDALL_NB201 = {("cifar10-valid", "test"): 0.574, ("cifar100", "test"): 0.611,
                        ("ImageNet16-120", "test"): 0.549}
#: where a target differs from the field NASWOT's code read: (dataset, split) -> note
NASWOT_OTHER_FIELD = {
    ("cifar10", "test"): "NASWOT's CIFAR-10 tau is vs cifar10-valid ori-test (row cifar10-valid test)",
    ("cifar10-valid", "valid"): "NASWOT's CIFAR-10 tau is vs cifar10-valid ori-test (row cifar10-valid test)",
}
# NASWOT, Kendall tau vs CIFAR-10 accuracy (100 - final test_ep_top1, field ``acc``) over
# ~1000 records per NDS design space.
NASWOT_KENDALL_NDS = {"nds_DARTS": 0.467, "nds_ENAS": 0.365, "nds_PNAS": 0.382, "nds_NASNet": 0.304,
                      "nds_Amoeba": 0.223}
#: space -> ((dataset, split) -> NASWOT's tau, the field it is against (None: any), its source, notes)
_NASWOT = {
    "nb201": (NASWOT_KENDALL_NB201, None, "NASWOT (Mellor et al. 2021), all NB201 archs", NASWOT_OTHER_FIELD),
    **{space: ({("cifar10", "test"): tau}, "acc", "NASWOT (Mellor et al. 2021), ~1000 records of the space",
               {("cifar10", "test"): "NASWOT's NDS tau is vs the final test accuracy (field acc)"})
       for space, tau in NASWOT_KENDALL_NDS.items()},
}
# Zero-cost proxies (Abdelfattah et al., ICLR 2021), |Spearman| vs test acc, all NB201 archs.
ZC_SPEARMAN_NB201 = {
    "synflow": (0.737, 0.763, 0.751), "jacob_cov": (0.731, 0.704, 0.701),
    "snip": (0.596, 0.637, 0.578), "grad_norm": (0.594, 0.637, 0.578),
    "grasp": (0.514, 0.547, 0.549), "fisher": (0.360, 0.385, 0.327),
}


# NASWOT (Mellor et al., ICML 2021), Kendall tau over NAS-Bench-101 (their code reads the
# CIFAR-10 test accuracy of the NB101 API; ours is the Suite-Zero valid accuracy, one repeat).
NASWOT_KENDALL_NB101 = {("cifar10", "test"): 0.285}
NASWOT_OTHER_FIELD_NB101 = {
    ("cifar10", "valid"): "NASWOT's NB101 tau 0.285 is vs CIFAR-10 test acc of the NB101 API; this row is valid acc",
}
_NASWOT["nb101"] = (NASWOT_KENDALL_NB101, None, "NASWOT (Mellor et al. 2021), NB101", NASWOT_OTHER_FIELD_NB101)
# Rank agreement of two independent implementations: zero-cost-nas run here vs NAS-Bench-Suite-Zero's
# published values (58 NB201 archs, different batches), Spearman per proxy.
PEER_AGREEMENT = {"grad_norm": 0.991, "snip": 0.985, "fisher": 0.984, "synflow": 1.000, "jacob_cov": 0.933,
                  "grasp": 0.714}
# DAS: held-out improvement of its combination rules over WOT claimed on NB101, NDS and DTB.
DAS_RATIO_VS_WOT = (1.04, 1.56)


def has_published(space: str) -> bool:
    """Whether published numbers are registered for ``space`` (a paper-vs-ours table is made)."""
    return space in _NASWOT


def paper_vs_ours(corr: pd.DataFrame, space: str) -> pd.DataFrame:
    """Our Kendall tau of WOT and the DAS atoms beside NASWOT's published tau.

    ``corr``: a correlation table (metric, ground_truth, n, n_nan, kendall, CIs,
    kendall_nan_last) of search space ``space``. NASWOT's tau stands only beside the ground
    truth its code read (``NASWOT_KENDALL_NB201``; NDS: ``NASWOT_KENDALL_NDS``, CIFAR-10
    test ``acc``); ``ours_kendall`` drops NaN scores, ``ours_kendall_nan_last`` ranks them
    last as NASWOT does (``difference`` uses the latter). The DAS paper publishes no
    per-space tau for the atoms, so their ``paper`` cell is empty.
    """
    taus, field_of, published, notes = _NASWOT.get(space, ({}, None, "", {}))
    rows = []
    for r in corr.itertuples():
        if r.metric not in ("naswot", "distinguishing_ability", "activation_units"):
            continue
        dataset, split, field = (str(r.ground_truth).split(" ") + [""] * 3)[:3]
        paper = None
        if r.metric == "naswot" and (field_of is None or field == field_of):
            paper = taus.get((dataset, split))
        if paper is not None:
            source = published
        elif r.metric == "naswot":
            source = notes.get((dataset, split), "not published")
        else:
            source = "not published"
        last = getattr(r, "kendall_nan_last", float("nan"))
        rows.append({"metric": r.metric, "ground_truth": r.ground_truth, "n": r.n,
                     "n_nan": getattr(r, "n_nan", 0),
                     "ours_kendall": r.kendall, "ours_lo": r.kendall_lo, "ours_hi": r.kendall_hi,
                     "ours_kendall_nan_last": last, "paper_kendall": paper, "paper_source": source,
                     "difference": (last - paper) if paper is not None else None})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- every proxy on NB201

#: Published rank correlations of training-free proxies over NB201, one entry per
#: (metric, dataset, split): (statistic, value, publication, the field its code read, its sample).
#: ``statistic``: "kendall", "spearman" or "|spearman|" (zero-cost-nas reports magnitudes).
_ALL_NB201 = "all 15,625 NB201 archs"
_ZC = "Abdelfattah et al. (ICLR 2021), zero-cost-nas"
_ZC_FIELDS = {"cifar10-valid": "cifar10-valid ori-test, 200 ep (nasbench2_pred.py)",
              "cifar100": "cifar100 x-test, 200 ep", "ImageNet16-120": "ImageNet16-120 x-test, 200 ep"}
PUBLISHED_NB201: dict[tuple[str, str, str], tuple[str, float, str, str, str]] = {
    **{("naswot", ds, split): ("kendall", tau, "NASWOT (Mellor et al., ICML 2021)",
                              f"{ds} {'ori-test' if ds == 'cifar10-valid' else 'x-test'}, 200 ep",
                              _ALL_NB201 + "; singular kernels ranked last")
       for (ds, split), tau in NASWOT_KENDALL_NB201.items()},
    **{(m, ds, "test"): ("|spearman|", v, _ZC, _ZC_FIELDS[ds], _ALL_NB201)
       for m, vals in ZC_SPEARMAN_NB201.items()
       for ds, v in zip(("cifar10-valid", "cifar100", "ImageNet16-120"), vals)},
    ("az_nas", "cifar10", "test"): ("kendall", 0.741, "AZ-NAS (Lee & Ham, CVPR 2024)",
                                    "cifar10 ori-test, 200 ep; its complexity term is the benchmark's FLOPs",
                                    _ALL_NB201 + "; Spearman 0.913 on the same"),
    ("meco", "cifar10-valid", "test"): ("spearman", 0.89, "MeCo (Jiang et al., NeurIPS 2023)",
                                        "cifar10-valid ori-test, 200 ep (correlation/NAS_Bench_201.py)",
                                        "NATS-Bench TSS (= NB201) archs of its script's index range"),
    ("swap_reg", "cifar100", "test"): ("spearman", 0.90, "SWAP (Peng et al., ICLR 2024)",
                                       "cifar100 test accuracy", "not stated in its repository (its "
                                       "published script covers DARTS only); size-regulariser μ, σ not published"),
}

def has_published_beside(space: str, metrics: list[str], combinations: list[str]) -> bool:
    """Whether a study of ``space`` scoring ``metrics`` (and the combinations named
    ``combinations``) gets a published-beside table: NB201 with a published figure for some
    metric other than the NASWOT family (whose own table is paper-vs-ours)."""
    names = (set(metrics) | set(combinations)) - {"naswot", "distinguishing_ability", "activation_units"}
    return space == "nb201" and any(m in names for m, _ds, _split in PUBLISHED_NB201)


def published_beside(corr: pd.DataFrame, space: str) -> pd.DataFrame:
    """Our signed Kendall τ and Spearman ρ (95 % CIs) of every metric and combination beside
    the published figure for the same metric and ground truth, where one exists.

    ``corr``: a correlation table (metric, ground_truth "<dataset> <split> ...", n, n_nan,
    kendall/spearman with _lo/_hi). One row per row of ``corr``; the published columns
    (statistic, value, publication, its field, its sample) are empty where nothing is
    published for that metric and ground truth. ``ours_same_statistic`` is our value in the
    publication's statistic (|ρ| where it reports a magnitude). NB201 only; other spaces get
    empty published columns.
    """
    rows = []
    for r in corr.itertuples(index=False):
        dataset, split = (str(r.ground_truth).split(" ") + ["", ""])[:2]
        pub = PUBLISHED_NB201.get((r.metric, dataset, split)) if space == "nb201" else None
        row = {"metric": r.metric, "ground_truth": r.ground_truth, "n": r.n, "n_nan": getattr(r, "n_nan", 0),
               "kendall": r.kendall, "kendall_lo": r.kendall_lo, "kendall_hi": r.kendall_hi,
               "spearman": r.spearman, "spearman_lo": r.spearman_lo, "spearman_hi": r.spearman_hi,
               "published_statistic": None, "published_value": None, "ours_same_statistic": None,
               "publication": None, "publication_field": None, "publication_sample": None}
        if pub is not None:
            stat, value, who, field, sample = pub
            ours = {"kendall": r.kendall, "spearman": r.spearman, "|spearman|": abs(r.spearman)}[stat]
            row.update(published_statistic=stat, published_value=value, ours_same_statistic=ours,
                       publication=who, publication_field=field, publication_sample=sample)
        rows.append(row)
    return pd.DataFrame(rows)
