"""Stage ``search``: the rules of ``workflow/rules/search.smk``, one function each, named
like its rule and its script (``workflow/scripts/<rule>.py``); functions of the study config
(``cfg["search"]``) and paths. The CLI calls the same library functions (``best_of_n_table``,
``hnas_nb201``).
"""

from __future__ import annotations

import os

import pandas as pd

from trainfree.errors import TrainfreeError
from trainfree.pipeline.common import model_kwargs
from trainfree.search.best_of_n import best_of_n_table
from trainfree.search.hnas import NB201_SETTINGS, HnasSettings, hnas_nb201
from trainfree.search.pool import (
    gather_shards,
    read_scores,
    score_shard,
    seconds_per_arch,
    wide_to_tidy,
)
from trainfree.search.report import best_of_n_report, budget_figure, hnas_report


def search_pool_shard(cfg: dict, shard: int, out: str, cache_dir: str | None = None, device: str = "cpu") -> None:
    """Score shard ``shard`` of the study's search pool into ``out``."""
    p = cfg["search"]["pool"]
    score_shard(cfg["space"], p["n"], p["seed"], shard, p["shard_size"], p["metrics"], out,
                dataset=cfg["data"]["dataset"], root=cfg["data"]["root"], batch_size=p["batch_size"],
                score_seed=p["score_seed"], model_kwargs=model_kwargs(cfg), device=device, cache_dir=cache_dir)


def search_scores(paths: list[str], out: str) -> None:
    """Concatenate the pool's score shards."""
    gather_shards(paths, out)


def _gt(path: str) -> pd.DataFrame:
    gt = pd.read_parquet(path)
    gt["seed"] = gt["seed"].astype(str)
    return gt


def search_best_of_n(cfg: dict, scores_path: str | None, gt_path: str, out_csv: str) -> pd.DataFrame:
    """Best-of-N table over the pool's metrics and the external table (if configured)."""
    s = cfg["search"]
    b = s["best_of_n"]
    gt = _gt(gt_path)
    parts = []
    if scores_path:
        scores = read_scores(scores_path)
        metrics = b["metrics"] or list(s["pool"]["metrics"])
        n_pool = scores.arch_id.nunique()
        df = best_of_n_table(scores, gt, metrics, b["n"], repeats=b["repeats"], seed=b["seed"])
        parts.append(best_of_n_report(df, f"ours ({n_pool} archs scored)"))
    ext = s["external"]
    if ext["path"]:
        if not os.path.isfile(ext["path"]):
            raise TrainfreeError(f"search.external.path {ext['path']!r} does not exist")
        tidy = wide_to_tidy(pd.read_csv(ext["path"]), ext["arch_col"], ext["metrics"], space=cfg["space"])
        df = best_of_n_table(tidy, gt, ext["metrics"], b["n"], repeats=b["repeats"], seed=b["seed"],
                             directions={m: ext["higher_is_better"] for m in ext["metrics"]})
        parts.append(best_of_n_report(df, f"{ext['label']} ({tidy.arch_id.nunique()} archs)"))
    if not parts:
        raise TrainfreeError("search: no score table (search.pool.n is 0 and search.external.path is null)")
    table = pd.concat(parts, ignore_index=True)
    from trainfree.render.tables import write_table

    write_table(table.drop(columns=["mean", "std", "random_mean", "random_std"]), out_csv,
                caption=f"Best-of-N search, {b['repeats']} repeats: test accuracy of the best-scored of N archs")
    table.to_csv(os.path.splitext(out_csv)[0] + "_raw.csv", index=False)
    return table


def _settings(cfg: dict) -> HnasSettings:
    h = cfg["search"]["hnas"]
    return HnasSettings(n_probes=h["n_probes"], n_steps=h["n_steps"], acquisition=h["acquisition"],
                        t_bounds=tuple(h["t_bounds"]), c_bounds=tuple(h["c_bounds"]), probe_c=h["probe_c"],
                        scale=h["scale"], pool_step=h["pool_step"] or None)


def search_hnas(cfg: dict, scores_path: str, gt_path: str, out_csv: str, runs_csv: str) -> pd.DataFrame:
    """HNAS over the study's pool for ``search.hnas.seeds`` seeds: per-seed runs and the summary table."""
    h = cfg["search"]["hnas"]
    runs = hnas_nb201(read_scores(scores_path), _gt(gt_path), list(range(h["seeds"])), settings=_settings(cfg),
                      trace_metric=h["trace_metric"], cond_metric=h["cond_metric"])
    from trainfree.render.tables import write_table

    runs.to_csv(runs_csv, index=False)
    table = hnas_report(runs)
    write_table(table.drop(columns=["mean", "std"]), out_csv,
                caption=f"HNAS on NB201, {h['seeds']} seeds, pool of {int(runs.n_pool.iloc[0])} scored archs")
    return table


def observe_protocol(cfg: dict):
    """The DTB protocol of ``search.hnas.observe`` (kind train), checkpoints at epoch 0 only."""
    from trainfree.training.dtb import Protocol

    o = {k: v for k, v in cfg["search"]["hnas"]["observe"].items() if k not in ("kind", "model")}
    return Protocol.from_config({**o, "checkpoint_epochs": [0]})


def search_hnas_train(cfg: dict, scores_path: str, out_csv: str, runs_csv: str, evals_csv: str, work_dir: str,
                      device: str = "cpu") -> pd.DataFrame:
    """HNAS with a training observation (DARTS space): per-seed runs, evaluations, summary table."""
    from trainfree.render.tables import write_table
    from trainfree.search.hnas_train import hnas_train, train_report
    from trainfree.training.dtb import load_data

    h = cfg["search"]["hnas"]
    protocol = observe_protocol(cfg)
    data = load_data(cfg["data"]["dataset"], cfg["data"]["root"], protocol).to(device)
    runs, evals = hnas_train(read_scores(scores_path), cfg["space"], data, protocol, dict(h["observe"]["model"]),
                             list(range(h["seeds"])), work_dir, settings=_settings(cfg),
                             trace_metric=h["trace_metric"], cond_metric=h["cond_metric"], device=device)
    runs.to_csv(runs_csv, index=False)
    evals.to_csv(evals_csv, index=False)
    table = train_report(runs)
    write_table(table, out_csv, caption=f"HNAS on {cfg['space']} with training observations, {h['seeds']} seeds, "
                                        f"pool of {int(runs.n_pool.iloc[0])} scored archs")
    return table


def _pass_group(metric: str, present: set[str]) -> set[str]:
    """``metric`` and the present metrics sharing a pass with it (a shared pass's time is stored on
    one of them only, e.g. the NTK on ``ntk_trace``), so each metric's cost includes its passes."""
    from trainfree.metrics import get_metric

    try:
        own = set(get_metric(metric).passes) - {"forward"}
    except TrainfreeError:
        return {metric}
    group = {metric}
    for m in present:
        try:
            if own & set(get_metric(m).passes):
                group.add(m)
        except TrainfreeError:
            pass
    return group


def search_budget(cfg: dict, best_raw_csv: str, runs_csv: str | None, scores_path: str, out_pdf: str) -> None:
    """Error-vs-budget figure of the study's own pool (CIFAR-10 test error vs seconds)."""
    best = pd.read_csv(best_raw_csv)
    best = best[best.scores.str.startswith("ours")]
    scores = read_scores(scores_path)
    sec = {m: float(seconds_per_arch(scores[scores.metric.isin(_pass_group(m, set(scores.metric)))]).median())
           for m in scores.metric.unique()}
    runs = pd.read_csv(runs_csv) if runs_csv else None
    budget_figure(best, runs, sec, out_pdf)


__all__ = ["NB201_SETTINGS", "observe_protocol", "search_best_of_n", "search_budget", "search_hnas",
           "search_hnas_train", "search_pool_shard", "search_scores"]
