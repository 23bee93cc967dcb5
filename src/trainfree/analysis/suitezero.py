"""Validation of our proxies against NAS-Bench-Suite-Zero's published values, per space.

NAS-Bench-Suite-Zero (NASLib, CIFAR-10, batch 64) publishes zero-cost proxies for 9,445
NB201 archs (CSV mirror), 250 NB101 cell keys and 362 NB301 (DARTS-space) archs (JSON
subsets in the bundled benchmark data). For a seeded sample of them we score the same archs with
our engine on a real CIFAR-10 batch of 64 and report, per proxy, the Spearman rank
correlation of

- ours vs published (do the two implementations rank archs alike?),
- ours vs the space's accuracy, and published vs the same accuracy (same rows),

so that a disagreement with accuracy can be told apart from batch/init noise. Where the
published file holds several keys of one cell (NB101: keys that prune alike, each scored by
Suite-Zero on its own random batch), the table adds the Spearman of the published values of
two keys of the same cell: how far their own numbers reproduce, the ceiling for ours.
All correlations are signed. Rows where ours or theirs is NaN are dropped and counted.
Each space's published file, reader, accuracy, network size and scoring batch are one
``PUBLISHED`` entry.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from trainfree.analysis.correlation import finite_pairs, rank_correlation
from trainfree.closure import code_hash
from trainfree.contracts import draw
from trainfree.errors import TrainfreeError
from trainfree.io import benchdata_root, write_csv, write_text
from trainfree.metrics.engine import wide_scores
from trainfree.render.tables import to_markdown

#: published column -> our metric name
COLUMN_MAP: dict[str, str] = {
    "epe_nas": "epe_nas", "fisher": "fisher", "flops": "flops", "grad_norm": "grad_norm",
    "grasp": "grasp", "jacov": "jacob_cov", "l2_norm": "l2_norm", "nwot": "naswot",
    "params": "params", "plain": "plain", "snip": "snip", "synflow": "synflow", "zen": "zen",
}
PROXY_FILE = "nb201/nb201_zc_proxies_cifar10_suitezero.csv.xz"
ACC_FILE = "nb201/nb201_cifar10_v1_1.csv.xz"
NB101_FILE = "nb101/nb101_suitezero_subset250.json"
NB301_FILE = "darts/nb301_suitezero_subset362.json"
IMAGES_FILE = "images/cifar10_partial_5506.npz"
#: our named variants compared with a published column: variant -> our metric name
VARIANTS: dict[str, str] = {"fisher_channel": "fisher"}
#: metrics scored besides the 13 published ones (variants, HNAS unification analysis)
EXTRA_METRICS: tuple[str, ...] = ("fisher_channel", "zico", "ntk_trace", "ntk_condnum")


def default_bench_root() -> Path:
    """The offline copy of the benchmark files (see :func:`trainfree.io.benchdata_root`)."""
    return benchdata_root()


def _load_nb201(root: Path) -> pd.DataFrame:
    from trainfree.spaces import nb201

    pub = pd.read_csv(root / PROXY_FILE)
    pub["arch_id"] = [nb201.canonical(s) for s in pub.net_str]
    pub = pub.rename(columns=COLUMN_MAP).set_index("arch_id")[list(COLUMN_MAP.values())]
    acc = pd.read_csv(root / ACC_FILE)
    acc["arch_id"] = [nb201.canonical(s) for s in acc.arch_str]
    acc = acc.set_index("arch_id")["test_acc"].rename("acc")
    out = pub.join(acc, how="inner")
    out.insert(0, "spec", out.index)
    return out


def _load_nb101(root: Path) -> pd.DataFrame:
    from trainfree.benchmarks.nb101 import read_suitezero_proxies

    pub = read_suitezero_proxies(root / NB101_FILE).rename(columns={**COLUMN_MAP, "val_accuracy": "acc"})
    # one row per key of the file: keys that prune to one cell keep their own published values
    return pub.set_index("arch_id").drop(columns=["key"])


def _load_nb301(root: Path) -> pd.DataFrame:
    from trainfree.benchmarks.darts import read_nb301, suitezero_proxies

    long = suitezero_proxies(root / NB301_FILE)
    pub = long.pivot_table(index="arch_id", columns="proxy", values="value", aggfunc="first", dropna=False)
    pub = pub.rename(columns=COLUMN_MAP)
    pub = pub[[c for c in COLUMN_MAP.values() if c in pub.columns]]
    gt = read_nb301(root / NB301_FILE)
    acc = gt[gt.field == "acc"].drop_duplicates("arch_id").set_index("arch_id")["value"].rename("acc")
    out = pub.join(acc, how="inner")
    out.insert(0, "spec", out.index)
    return out


def _naslib_nb301() -> dict:
    from trainfree.spaces.darts import NASLIB_NB301_KWARGS

    return dict(NASLIB_NB301_KWARGS)


@dataclass(frozen=True)
class PublishedSource:
    """Suite-Zero's published proxies of one space: files (under the benchdata root), a
    loader (root -> one row per published arch/key, index ``arch_id``, columns ``spec``,
    proxies under our names, ``acc`` in %), the accuracy's label, the batch size their
    values were computed with and the scoring network.

    The batch is read off the published ``jacov`` values: for a batch of n inputs whose
    input Jacobians are nearly uncorrelated, -sum(log(l + k) + 1/(l + k)) over the n
    eigenvalues of their correlation matrix is about -n. NB201's best values are -64.95
    (batch 64); NB101's and NB301's all lie in [-32.33, -32.15] (batch 32, the default
    ``--batch_size`` of the zero-cost benchmark scripts of NASLib's ``zerocost`` branch).
    ``epe_nas`` agrees: NB101's published values average 460, ours at batch 64 2,041 (its
    per-class sums grow with the square of the images per class).
    """

    files: tuple[str, ...]
    load: Callable[[Path], pd.DataFrame]
    acc_label: str
    batch_size: int
    model: dict = field(default_factory=dict)


#: space -> its published Suite-Zero source
PUBLISHED: dict[str, PublishedSource] = {
    "nb201": PublishedSource((PROXY_FILE, ACC_FILE), _load_nb201,
                             "cifar10 test acc @200ep (seed mean) [v1_1]", 64, {"C": 16, "N": 5}),
    "nb101": PublishedSource((NB101_FILE,), _load_nb101, "cifar10 valid acc @108ep (seed single) "
                             "[Suite-Zero NB101]", 32, {"stem_channels": 128, "num_stacks": 3,
                                                        "num_modules_per_stack": 3}),
    "darts": PublishedSource((NB301_FILE,), _load_nb301, "cifar10 valid acc @100ep (seed mean) "
                             "[Suite-Zero NB301 surrogate]", 32, _naslib_nb301()),
}


def published_source(space: str) -> PublishedSource:
    """The registered Suite-Zero source of ``space`` (error lists the spaces that have one)."""
    if space not in PUBLISHED:
        raise TrainfreeError(f"no NAS-Bench-Suite-Zero proxies registered for space {space!r}; "
                             f"choose one of: {', '.join(sorted(PUBLISHED))}")
    return PUBLISHED[space]


def published_files(space: str, bench_root: str | os.PathLike | None = None) -> list[Path]:
    """Paths of the files the ``space``'s validation reads (images included)."""
    root = Path(bench_root) if bench_root is not None else default_bench_root()
    return [root / f for f in (*published_source(space).files, IMAGES_FILE)]


def load_published(bench_root: str | os.PathLike, space: str) -> pd.DataFrame:
    """Published proxies (columns renamed to our names) with the space's accuracy.

    One row per published arch (NB101: per key of the file, so a cell whose keys prune alike
    appears once per key), index ``arch_id`` (canonical id), columns ``spec`` (rebuildable
    form), the proxy columns and ``acc`` (NB201: v1_1 ``cifar10`` test, 200 ep, mean over
    seeds; NB101: valid @108 ep, one repeat; NB301: surrogate valid @100 ep; in %).
    """
    src = published_source(space)
    root = Path(bench_root)
    for f in src.files:
        if not (root / f).is_file():
            raise TrainfreeError(f"benchmark file {str(root / f)!r} is missing; place the NAS-Bench-Suite-Zero "
                                 f"file there (the bundled copy is listed in trainfree/benchdata/manifest.json)")
    return src.load(root)


def sample_rows(published: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` rows of ``published`` drawn with ``seed`` (all when n >= the rows), in index order."""
    if n < 1:
        raise TrainfreeError(f"sample size must be >= 1, got {n}")
    if n >= len(published):
        return published.sort_index(kind="stable")
    idx = draw(len(published), n, seed)
    return published.iloc[np.sort(idx)].sort_index(kind="stable")


def sample_archs(published: pd.DataFrame, n: int, seed: int) -> list[str]:
    """``n`` distinct arch ids of ``published`` drawn with ``seed`` (sorted for stable order)."""
    if not 0 < n <= len(published):
        raise TrainfreeError(f"sample size must be in 1..{len(published)}, got {n}")
    idx = draw(len(published), n, seed)
    return sorted(published.index[idx])


def score_sample(archs: list[str], *, seed: int, images: str | os.PathLike, batch_size: int = 64,
                 metrics: tuple[str, ...] | None = None, device: str = "cpu",
                 progress: bool = True, space: str,
                 model_kwargs: dict | None = None) -> pd.DataFrame:
    """Score ``archs`` (any form ``space`` accepts) with our engine -> tidy scores table.

    The network is the space's builder with ``model_kwargs`` (default: the size Suite-Zero
    scored, ``PUBLISHED[space].model``; NB201 C=16, N=5). The batch is
    ``scoring_batch('cifar10', batch_size, seed, root=images)``; each network is
    initialised with a seed derived from (arch id, ``seed``).
    """
    from trainfree.metrics import score_on_dataset

    names = list(metrics) if metrics else list(COLUMN_MAP.values()) + list(EXTRA_METRICS)
    kw = published_source(space).model if model_kwargs is None else model_kwargs
    return score_on_dataset(space, archs, names, dataset="cifar10", root=images, batch_size=batch_size, seed=seed,
                            model_kwargs=kw, device=device, progress=progress)


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    return rank_correlation("spearman", a, b)


def published_repeat(published: pd.DataFrame, column: str) -> tuple[float, int]:
    """Spearman between the published ``column`` of the first two keys of every arch that
    the file holds more than once (NB101 keys pruning to one cell), and the number of such
    archs whose two values are finite; (nan, 0) when no arch repeats."""
    first = published.groupby(level=0).cumcount().to_numpy()
    two = published[first < 2]
    counts = two.index.value_counts()
    two = two[two.index.isin(counts[counts == 2].index)].sort_index(kind="stable")
    a = two[column].to_numpy(float)[0::2]
    b = two[column].to_numpy(float)[1::2]
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return float("nan"), int(ok.sum())
    return _spearman(a[ok], b[ok]), int(ok.sum())


def validation_table(ours: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """Per proxy: Spearman(ours, published), Spearman(ours, acc), Spearman(published, acc).

    ``ours``: wide scores (index arch_id, columns our metric names); ``published``: from
    :func:`load_published`, restricted to the archs ``ours`` holds (its index may repeat an
    arch, one row per published key). All three on the same rows (both values finite),
    ``n`` of them; ``n_nan_ours`` / ``n_nan_published`` count dropped rows. ``delta_acc``
    = ours-vs-acc minus published-vs-acc. When an arch repeats in ``published`` the table
    adds ``spearman_published_repeat`` and ``n_repeat`` (:func:`published_repeat`).
    """
    from trainfree.metrics import get_metric

    rows = []
    published = published[published.index.isin(ours.index)]
    repeats = published.index.has_duplicates
    pairs = [(m, m) for m in COLUMN_MAP.values()] + list(VARIANTS.items())
    for metric, theirs in pairs:
        if metric not in ours.columns or theirs not in published.columns:
            continue
        both = pd.DataFrame({"o": ours[metric].reindex(published.index).to_numpy(float),
                             "p": published[theirs].to_numpy(float),
                             "a": published["acc"].to_numpy(float)}, index=published.index)
        n_nan_o = int((~np.isfinite(both.iloc[:, 0].astype(float))).sum())
        n_nan_p = int((~np.isfinite(both.iloc[:, 1].astype(float))).sum())
        ok, _ = finite_pairs(*(both.iloc[:, i] for i in range(3)))
        o, p, a = (ok[c].to_numpy(float) for c in ("c0", "c1", "c2"))
        r_oa, r_pa = _spearman(o, a), _spearman(p, a)
        row = {
            "metric": metric if metric == theirs else f"{metric} (vs {theirs})",
            "higher_is_better": get_metric(metric).higher_is_better,
            "spearman_ours_published": _spearman(o, p), "spearman_ours_acc": r_oa,
            "spearman_published_acc": r_pa, "delta_acc": r_oa - r_pa, "n": len(ok),
            "n_nan_ours": n_nan_o, "n_nan_published": n_nan_p,
        }
        if repeats:
            row["spearman_published_repeat"], row["n_repeat"] = published_repeat(published, theirs)
        rows.append(row)
    return pd.DataFrame(rows)


def scores_code() -> str:
    """Code hash stored with each cached score row: the import closure of this module (it
    scores the archs); rows of other code are scored anew."""
    return code_hash(__name__)


def run_validation(n: int = 300, seed: int = 0, *, bench_root: str | os.PathLike | None = None,
                   batch_size: int | None = None, out_csv: str | os.PathLike | None = None,
                   out_md: str | os.PathLike | None = None,
                   scores_out: str | os.PathLike | None = None,
                   device: str = "cpu", progress: bool = True, chunk: int = 20, space: str,
                   model_kwargs: dict | None = None) -> pd.DataFrame:
    """Sample ``n`` published archs (NB101: keys) of ``space`` with ``seed`` (all when n >= them),
    score them on ``batch_size`` images (None: the batch of the published values), and write
    the validation table.

    Scores are computed in chunks of ``chunk`` archs and saved to ``scores_out`` after
    each, so an interrupted run resumes where it stopped. Writes ``out_csv`` / ``out_md`` (markdown with sample size, seed and runtime) and the
    tidy scores to ``scores_out`` (CSV) when given. Returns the table.
    """
    root = Path(bench_root) if bench_root is not None else default_bench_root()
    theirs = published_source(space).batch_size
    batch_size = theirs if batch_size is None else batch_size
    pub = sample_rows(load_published(root, space), n, seed)
    specs = pub.spec.groupby(level=0).first()
    archs = sorted(specs.index)
    names = list(COLUMN_MAP.values()) + list(EXTRA_METRICS)
    code = scores_code()
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
        part = score_sample(specs[todo[lo:lo + chunk]].tolist(), seed=seed, images=root / IMAGES_FILE,
                            batch_size=batch_size, metrics=tuple(names), device=device, progress=False,
                            space=space, model_kwargs=model_kwargs)
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
        head = (f"Validation against NAS-Bench-Suite-Zero ({space}, CIFAR-10): {len(pub)} published rows "
                f"({len(archs)} distinct archs) sampled with seed {seed}, our batch = {batch_size} CIFAR-10 "
                f"training images (published values: batch {theirs}), accuracy = {published_source(space).acc_label}. Scoring time {seconds:.0f} s for {len(todo)} archs "
                f"({seconds_per_arch:.2f} s/arch, all {scores.metric.nunique()} metrics, {device}).\n\n")
        write_text(out_md, head + to_markdown(table))
    table.attrs["seconds"] = seconds
    return table


__all__ = ["COLUMN_MAP", "EXTRA_METRICS", "PUBLISHED", "VARIANTS", "PublishedSource", "default_bench_root",
           "load_published", "published_files", "published_repeat", "published_source", "run_validation", "sample_archs", "sample_rows", "score_sample", "to_markdown", "validation_table", "wide_scores"]
