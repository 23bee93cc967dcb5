"""Validation of our proxies against NAS-Bench-Suite-Zero's published NB201 values.

NAS-Bench-Suite-Zero (NASLib, CIFAR-10, batch 64) publishes 13 proxies for 9,445 NB201
archs. For a seeded sample of them we score the same archs with our engine on a real
CIFAR-10 batch of 64 and report, per proxy, the Spearman rank correlation of

- ours vs published (do the two implementations rank archs alike?),
- ours vs CIFAR-10 test accuracy, and published vs the same accuracy (same rows),

so that a disagreement with accuracy can be told apart from batch/init noise.
All correlations are signed. Rows where ours or theirs is NaN are dropped and counted.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from trainfree.analysis.correlation import finite_pairs, rank_correlation
from trainfree.errors import TrainfreeError
from trainfree.io import benchdata_root, package_hash, write_csv, write_text
from trainfree.metrics.engine import wide_scores
from trainfree.render.tables import to_markdown

#: published column -> our metric name
COLUMN_MAP: dict[str, str] = {
    "epe_nas": "epe_nas", "fisher": "fisher", "flops": "flops", "grad_norm": "grad_norm",
    "grasp": "grasp", "jacov": "jacob_cov", "l2_norm": "l2_norm", "nwot": "naswot",
    "params": "params", "plain": "plain", "snip": "snip", "synflow": "synflow", "zen": "zen",
}
PROXY_FILE = "nb201/nb201_zc_proxies_cifar10_suitezero.csv"
ACC_FILE = "nb201/nb201_cifar10_v1_1.csv"
IMAGES_FILE = "images/cifar10_partial_5506.npz"
#: our named variants compared with a published column: variant -> our metric name
VARIANTS: dict[str, str] = {"fisher_channel": "fisher"}
#: metrics scored besides the 13 published ones (variants, HNAS unification analysis)
EXTRA_METRICS: tuple[str, ...] = ("fisher_channel", "zico", "ntk_trace", "ntk_condnum")


def default_bench_root() -> Path:
    """The offline copy of the benchmark files (see :func:`trainfree.io.benchdata_root`)."""
    return benchdata_root()


def load_published(bench_root: str | os.PathLike) -> pd.DataFrame:
    """Published proxies (columns renamed to our names) joined with CIFAR-10 test accuracy.

    Returns one row per arch, index ``arch_id`` (canonical NB201 string), the 13 proxy
    columns and ``test_acc`` (NB201 v1_1 ``cifar10`` test, 200 epochs, mean over seeds, %).
    """
    from trainfree.spaces import nb201

    root = Path(bench_root)
    pf, af = root / PROXY_FILE, root / ACC_FILE
    for f in (pf, af):
        if not f.is_file():
            raise TrainfreeError(f"benchmark file {str(f)!r} is missing; place the NAS-Bench-Suite-Zero / "
                                 f"NB201 CSV there (see shared/benchdata/README.md)")
    pub = pd.read_csv(pf)
    pub["arch_id"] = [nb201.canonical(s) for s in pub.net_str]
    pub = pub.rename(columns=COLUMN_MAP).set_index("arch_id")[list(COLUMN_MAP.values())]
    acc = pd.read_csv(af)
    acc["arch_id"] = [nb201.canonical(s) for s in acc.arch_str]
    acc = acc.set_index("arch_id")["test_acc"]
    return pub.join(acc, how="inner")


def sample_archs(published: pd.DataFrame, n: int, seed: int) -> list[str]:
    """``n`` distinct arch ids of ``published`` drawn with ``seed`` (sorted for stable order)."""
    if not 0 < n <= len(published):
        raise TrainfreeError(f"sample size must be in 1..{len(published)}, got {n}")
    idx = np.random.default_rng(seed).choice(len(published), n, replace=False)
    return sorted(published.index[idx])


def score_sample(archs: list[str], *, seed: int, images: str | os.PathLike, batch_size: int = 64,
                 metrics: tuple[str, ...] | None = None, device: str = "cpu",
                 progress: bool = True) -> pd.DataFrame:
    """Score ``archs`` (NB201, C=16, N=5) with our engine -> tidy scores table.

    The batch is ``scoring_batch('cifar10', batch_size, seed, root=images)``; each network
    is initialised with a seed derived from (arch, ``seed``).
    """
    from trainfree.data import scoring_batch
    from trainfree.metrics import score_archs

    names = list(metrics) if metrics else list(COLUMN_MAP.values()) + list(EXTRA_METRICS)
    batch = scoring_batch("cifar10", batch_size, seed, root=images)
    return score_archs("nb201", archs, names, batch, dataset="cifar10", seed=seed,
                       device=device, progress=progress)


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    return rank_correlation("spearman", a, b)


def validation_table(ours: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """Per proxy: Spearman(ours, published), Spearman(ours, acc), Spearman(published, acc).

    ``ours``: wide scores (index arch_id, columns our metric names); ``published``: from
    :func:`load_published`. All three on the same rows (both values finite), ``n`` of
    them; ``n_nan_ours`` / ``n_nan_published`` count dropped rows. ``delta_acc`` =
    ours-vs-acc minus published-vs-acc.
    """
    from trainfree.metrics import get_metric

    rows = []
    pairs = [(m, m) for m in COLUMN_MAP.values()] + list(VARIANTS.items())
    for metric, theirs in pairs:
        if metric not in ours.columns:
            continue
        both = pd.concat([ours[metric], published[theirs], published["test_acc"]], axis=1, join="inner")
        n_nan_o = int((~np.isfinite(both.iloc[:, 0].astype(float))).sum())
        n_nan_p = int((~np.isfinite(both.iloc[:, 1].astype(float))).sum())
        ok, _ = finite_pairs(*(both.iloc[:, i] for i in range(3)))
        o, p, a = (ok[c].to_numpy(float) for c in ("c0", "c1", "c2"))
        r_oa, r_pa = _spearman(o, a), _spearman(p, a)
        rows.append({
            "metric": metric if metric == theirs else f"{metric} (vs {theirs})",
            "higher_is_better": get_metric(metric).higher_is_better,
            "spearman_ours_published": _spearman(o, p), "spearman_ours_acc": r_oa,
            "spearman_published_acc": r_pa, "delta_acc": r_oa - r_pa, "n": len(ok),
            "n_nan_ours": n_nan_o, "n_nan_published": n_nan_p,
        })
    return pd.DataFrame(rows)


def run_validation(n: int = 300, seed: int = 0, *, bench_root: str | os.PathLike | None = None,
                   batch_size: int = 64, out_csv: str | os.PathLike | None = None,
                   out_md: str | os.PathLike | None = None,
                   scores_out: str | os.PathLike | None = None,
                   device: str = "cpu", progress: bool = True, chunk: int = 20) -> pd.DataFrame:
    """Sample ``n`` archs with ``seed``, score them, and write the validation table.

    Scores are computed in chunks of ``chunk`` archs and saved to ``scores_out`` after
    each, so an interrupted run resumes where it stopped. Writes ``out_csv`` / ``out_md`` (markdown with sample size, seed and runtime) and the
    tidy scores to ``scores_out`` (CSV) when given. Returns the table.
    """
    root = Path(bench_root) if bench_root is not None else default_bench_root()
    pub = load_published(root)
    archs = sample_archs(pub, n, seed)
    names = list(COLUMN_MAP.values()) + list(EXTRA_METRICS)
    code = package_hash("metrics", "spaces", "data", "analysis/suitezero.py")
    done = pd.DataFrame()
    if scores_out is not None and Path(scores_out).is_file():  # resume an interrupted run
        done = pd.read_csv(scores_out)
        if "code" not in done.columns:
            done["code"] = ""
        done = done[done.arch_id.isin(archs) & (done.seed == seed) & (done.batch_size == batch_size)
                    & (done.code.astype(str) == code) & done.metric.isin(names)]
        # an arch is done only when every requested metric is there for the current code
        complete = done.groupby("arch_id").metric.nunique()
        done = done[done.arch_id.isin(complete[complete == len(names)].index)]
    todo = [a for a in archs if done.empty or a not in set(done.arch_id)]
    parts = [done] if not done.empty else []
    t0 = time.perf_counter()
    for lo in range(0, len(todo), chunk):
        part = score_sample(todo[lo:lo + chunk], seed=seed, images=root / IMAGES_FILE,
                            batch_size=batch_size, metrics=tuple(names), device=device, progress=False)
        parts.append(part.assign(code=code))
        if scores_out is not None:
            write_csv(pd.concat(parts), scores_out)
        if progress:
            print(f"scored {min(lo + chunk, len(todo))}/{len(todo)} archs "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)
    seconds = time.perf_counter() - t0
    if todo:
        seconds_per_arch = seconds / len(todo)
    else:
        seconds_per_arch = float("nan")
    scores = pd.concat(parts)
    table = validation_table(wide_scores(scores), pub)
    if out_csv is not None:
        write_csv(table, out_csv)
    if out_md is not None:
        head = (f"Validation against NAS-Bench-Suite-Zero (NB201, CIFAR-10): {n} archs sampled with "
                f"seed {seed}, our batch = {batch_size} CIFAR-10 training images, accuracy = NB201 "
                f"v1_1 cifar10 test (200 ep). Scoring time {seconds:.0f} s for {len(todo)} archs "
                f"({seconds_per_arch:.2f} s/arch, all {scores.metric.nunique()} metrics, {device}).\n\n")
        write_text(out_md, head + to_markdown(table))
    table.attrs["seconds"] = seconds
    return table


__all__ = ["COLUMN_MAP", "EXTRA_METRICS", "VARIANTS", "default_bench_root", "load_published", "run_validation",
           "sample_archs", "score_sample", "to_markdown", "validation_table", "wide_scores"]
