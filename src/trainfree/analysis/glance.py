"""Results at a glance: every published number the default run can stand beside, and ours.

One row per claim: what is compared, the published number and its source, ours (with its 95 %
CI where the table has one), the sample size, the ground-truth field and the study that made
it. Built from the final tables of the default run's studies (the CSVs their ``summary.md``
quotes), written to ``results/default_run/glance.md`` and copied into the README between the
``<!-- glance -->`` markers (``tools/readme_glance.py``).
"""

from __future__ import annotations

import os

import pandas as pd

from trainfree.analysis.published import DAS_RATIO_VS_WOT, PEER_AGREEMENT

#: the glance's inputs: table name -> (study of the default run, i.e. config/default/<name>.yaml; the
#: CSV under results/<study>/tables/)
GLANCE_TABLES: dict[str, tuple[str, str]] = {
    "paper_vs_ours": ("nb201", "paper_vs_ours"),
    "das_ablation": ("nb201", "das_ablation"),
    "fast_training": ("fast", "fast_training"),
    "search_best_of_n": ("search", "search_best_of_n"),
    "search_hnas": ("search", "search_hnas"),
    "suitezero_validation": ("hnas", "suitezero_validation"),
    "unification_accuracy": ("hnas", "unification_accuracy"),
    "dtb_fast_training": ("dtb", "dtb/fast_training"),
    "darts_search_hnas": ("darts_search", "search_hnas"),
}
_COLUMNS = ["claim", "published", "ours", "n", "ground_truth", "study"]


def _ci(v: float, lo: float, hi: float, fmt: str = "{:+.3f}") -> str:
    if pd.isna(v):
        return "NaN"
    return f"{fmt.format(v)} [{fmt.format(lo)}, {fmt.format(hi)}]"


def _read(tables: dict[str, str | os.PathLike], name: str) -> pd.DataFrame | None:
    path = tables.get(name)
    return pd.read_csv(path) if path is not None and os.path.isfile(path) else None


def glance(tables: dict[str, str | os.PathLike], studies: dict[str, str]) -> pd.DataFrame:
    """The at-a-glance rows from the final tables ``tables`` (name -> CSV; missing ones skipped).

    ``studies``: table name -> the study that made it (the ``study`` column).
    """
    rows = []

    def add(claim, published, ours, n, gt, table):
        rows.append(dict(zip(_COLUMNS, (claim, published, ours, n, gt, studies.get(table, "")), strict=True)))

    pvo = _read(tables, "paper_vs_ours")
    if pvo is not None:
        for r in pvo[pvo.paper_kendall.notna()].itertuples():
            add("NASWOT Kendall τ, NB201", f"{r.paper_kendall:.3f} (NASWOT, ≈1,000 archs)",
                _ci(r.ours_kendall, r.ours_lo, r.ours_hi), int(r.n), r.ground_truth, "paper_vs_ours")
    abl = _read(tables, "das_ablation")
    if abl is not None:
        first = abl[abl.ground_truth == abl.ground_truth.iloc[0]]
        rules = first[first.rule.str.startswith("das_")]
        if len(rules):
            best = rules.loc[rules.kendall.idxmax()]
            add(f"DAS rule vs WOT, held-out half ({best.rule}, chosen on the other half)",
                f"{DAS_RATIO_VS_WOT[0]:.2f}–{DAS_RATIO_VS_WOT[1]:.2f}× WOT (DAS; NB101, NDS, DTB)",
                f"{best.ratio_vs_wot:.2f}×, Δτ {_ci(best.delta_vs_wot, best.delta_lo, best.delta_hi)}",
                int(best.n), best.ground_truth, "das_ablation")
    def after_training(table: str, k: str, claim: str, published: str) -> None:
        """NASWOT's τ(k) − τ(0) rows of a fast-training table (``k``: its column of steps/epochs)."""
        t = _read(tables, table)
        if t is not None:
            for r in t[(t.metric == "naswot") & (t[k] > 0)].itertuples():
                add(claim.format(r=r), published, _ci(r.delta_vs_k0, r.delta_lo, r.delta_hi), int(r.n),
                    r.ground_truth, table)

    after_training("fast_training", "fast_steps", "Fast training: NASWOT τ after k = {r.fast_steps} steps − at init",
                   "gain claimed (DAS; no NB201 number)")
    bon = _read(tables, "search_best_of_n")
    if bon is not None:
        t = bon[bon.naswot_published.notna()]  # the report leaves it empty where N draws the whole pool
        for r in t.itertuples():
            add(f"Best-of-N by {r.scores} {r.metric}, N = {r.n} ({r.dataset})", f"{r.naswot_published:.2f} (NASWOT)",
                r.ours, int(r.n_pool), f"{r.dataset} test acc @200ep", "search_best_of_n")
    hn = _read(tables, "search_hnas")
    if hn is not None and "dataset" in hn.columns:
        for r in hn.itertuples():
            add(f"HNAS search, NB201 ({r.dataset}; pool of {int(r.n_pool)}, {int(r.seeds)} seeds)",
                f"{r.published} (HNAS)", r.ours, int(r.n_pool), f"{r.dataset} test acc @200ep", "search_hnas")
    sz = _read(tables, "suitezero_validation")
    if sz is not None:
        for r in sz[sz.metric.isin(list(PEER_AGREEMENT))].itertuples():
            add(f"{r.metric}: Spearman ours vs NAS-Bench-Suite-Zero's values", f"{PEER_AGREEMENT[r.metric]:.3f} "
                "(zero-cost-nas vs Suite-Zero)", f"{r.spearman_ours_published:+.3f}", int(r.n), "same archs",
                "suitezero_validation")
    ua = _read(tables, "unification_accuracy")
    if ua is not None:
        for r in ua[ua.metric.isin(["hnas_criterion", "ntk_trace", "ntk_condnum"])].itertuples():
            add(f"{r.metric}: Spearman ρ with accuracy", "not published per arch (HNAS)", f"{r.spearman:+.3f}",
                int(r.n), r.ground_truth, "unification_accuracy")
    after_training("dtb_fast_training", "k", "DTB: NASWOT τ at {r.unit} {r.k} − at init", "gain claimed (DAS, on DTB)")
    ds = _read(tables, "darts_search_hnas")
    if ds is not None and "observed_valid" in ds.columns:
        r = next(ds.itertuples())
        add(f"HNAS search, DARTS space ({r.seeds} seed(s), pool of {r.n_pool})",
            "24.3 % top-1 error on ImageNet (HNAS; not comparable at this scale)",
            f"observed valid acc {r.observed_valid}, test acc {r.test_acc}", int(r.n_pool),
            f"{r.observation}", "darts_search_hnas")
    return pd.DataFrame(rows, columns=_COLUMNS)


def to_markdown(table: pd.DataFrame) -> str:
    """The glance table as Markdown (the README's copy)."""
    head = "| " + " | ".join(_COLUMNS) + " |"
    lines = [head.replace("ground_truth", "ground truth"), "|" + "---|" * len(_COLUMNS)]
    for r in table.itertuples(index=False):
        lines.append("| " + " | ".join(str(v) for v in r) + " |")
    return "\n".join(lines) + "\n"
