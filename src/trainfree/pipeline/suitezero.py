"""Stage ``suitezero``: the rules of ``workflow/rules/suitezero.smk``, one function each, named
like its rule and its script: our scores of published NAS-Bench-Suite-Zero archs against the
published proxies, and the HNAS unification analysis on them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from trainfree.analysis.tidy import wide_scores
from trainfree.io import write_csv
from trainfree.render.tables import write_table


def suitezero_validation(cfg: dict, out_csv: str, scores_csv: str, cache: str, device: str = "cpu") -> pd.DataFrame:
    """Score a seeded sample of the published Suite-Zero archs and compare per proxy.

    Resumable: scores accumulate in ``cache`` (chunks of 20 archs) until all are done.
    """
    from trainfree.analysis.suitezero import published_source, run_validation

    v = cfg["suitezero"]
    space = v.get("space", "nb201")
    batch = v.get("batch_size") or published_source(space).batch_size
    table = run_validation(v["n"], v["seed"], bench_root=v.get("bench_root"), batch_size=batch,
                           out_csv=out_csv, out_md=str(Path(out_csv).with_suffix(".md")),
                           scores_out=cache, device=device, space=space, model_kwargs=v.get("model") or None)
    n = int(table.n.max()) if len(table) else 0
    write_table(table, out_csv, caption=(
        f"Ours vs NAS-Bench-Suite-Zero published proxies: up to {n} {space} rows of {v['n']} drawn "
        f"(seed {v['seed']}), batch {batch} (published: {published_source(space).batch_size}); accuracy = {published_source(space).acc_label}"))
    write_csv(pd.read_csv(cache), scores_csv)
    return table


def unification(cfg: dict, scores_csv: str, matrix_csv: str, accuracy_csv: str, heatmap_pdf: str) -> None:
    """HNAS unification: Spearman matrix among metrics, each metric's and the criterion's
    signed correlation with CIFAR-10 test accuracy, and the heatmap."""
    from trainfree.analysis.suitezero import default_bench_root, load_published, published_source
    from trainfree.analysis.unify import unification_analysis
    from trainfree.render.heatmap import correlation_heatmap
    from trainfree.search.hnas import hnas_weights

    v = cfg["suitezero"]
    space = v.get("space", "nb201")
    wide = wide_scores(pd.read_csv(scores_csv))
    pub = load_published(v.get("bench_root") or default_bench_root(), space)
    acc = pub["acc"].groupby(level=0).first()  # one accuracy per arch (NB101 keys of one cell repeat it)
    h = v["hnas"]
    mu, nu = hnas_weights(h["t"], h["c"], h["s"])
    matrix, acc_table = unification_analysis(wide, acc, mu, nu)
    label = published_source(space).acc_label
    acc_table.insert(0, "ground_truth", label)
    m = matrix.reset_index().rename(columns={"index": "metric"})
    write_table(m, matrix_csv, caption=f"Spearman rank correlation among metrics ({len(wide)} {space} archs)")
    write_table(acc_table, accuracy_csv, caption=(
        f"Signed correlation with {label}; hnas_criterion with t={h['t']}, c={h['c']}, s={h['s']}"))
    correlation_heatmap(matrix, heatmap_pdf, title=f"Metric agreement, {len(wide)} {space} archs")
