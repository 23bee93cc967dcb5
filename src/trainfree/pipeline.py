"""The workflow's steps as plain functions of (config, input paths, output paths).

Each Snakemake script only unpacks the ``snakemake`` object and calls one function
here, so every step is importable, testable and usable without Snakemake. Outputs are
written atomically (temporary name, then rename).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from trainfree.analysis.correlation import correlation_table
from trainfree.analysis.das import ablation_table
from trainfree.benchmarks import GT_COLUMNS, describe, load_ground_truth, select
from trainfree.data import load_dataset, normalise, num_classes, scoring_batch
from trainfree.errors import TrainfreeError
from trainfree.metrics import get_metric, score_archs
from trainfree.metrics.engine import wide_scores
from trainfree.render import figures
from trainfree.render.tables import write_table
from trainfree.seeding import derive_seed, seed_everything
from trainfree.spaces import get_space
from trainfree.training import TrainConfig, fast_train_steps, train_arch


def write_parquet(df: pd.DataFrame, path: str | os.PathLike) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + f".tmp{os.getpid()}")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, p)


def _model_kwargs(cfg: dict) -> dict:
    data = cfg["data"]
    classes = num_classes(data["dataset"])
    if classes is None:
        classes = load_dataset(data["dataset"], data.get("root")).num_classes
    return {"C": cfg["model"]["C"], "N": cfg["model"]["N"], "num_classes": classes}


# ---------------------------------------------------------------------------- fetch


def fetch_assets(assets: list[str], root: str, out: str) -> dict:
    """Fetch and verify every named asset under ``root``; record their paths in ``out``."""
    from trainfree.data.fetch import fetch

    done = {name: str(fetch(name, root)) for name in assets}
    p = Path(out)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(done, indent=2))
    return done


# ----------------------------------------------------------------------------- sample


def sample(cfg: dict, out: str) -> pd.DataFrame:
    """Seeded uniform sample of ``cfg.sample.n`` archs (+ listed ``extra`` archs)."""
    sp = get_space(cfg["space"])
    archs = sp.sample(cfg["sample"]["n"], cfg["sample"]["seed"])
    for a in cfg["sample"].get("extra", []):
        a = sp.canonical(a)
        if a not in archs:
            archs.append(a)
    df = pd.DataFrame({"space": cfg["space"], "arch_id": archs, "bench_index": pd.NA})
    gt_src = cfg["ground_truth"].get("source")
    if cfg["ground_truth"]["kind"] == "benchmark" and gt_src:
        gt = load_ground_truth(cfg["space"], gt_src)
        idx = gt.drop_duplicates("arch_id").set_index("arch_id")["bench_index"]
        df["bench_index"] = df.arch_id.map(idx).astype("Int64")
    write_parquet(df, out)
    return df


def shard_of(df: pd.DataFrame, shard: int, n_shards: int) -> pd.DataFrame:
    """Contiguous block ``shard`` (0-based) of ``n_shards`` near-equal blocks of rows, so that
    concatenating shards 0..n-1 gives back ``df`` in its order for any ``n_shards``."""
    if not 0 <= shard < n_shards:
        raise TrainfreeError(f"shard {shard} out of range for {n_shards} shards (0..{n_shards - 1})")
    bounds = np.linspace(0, len(df), n_shards + 1).round().astype(int)
    return df.iloc[bounds[shard]:bounds[shard + 1]]


# ------------------------------------------------------------------------------ score


def make_batch(cfg: dict, out: str) -> None:
    """Build the fixed scoring batch once and store it as ``.npz``."""
    s = cfg["scoring"]
    x, y = scoring_batch(cfg["data"]["dataset"], s["batch_size"], s["seed"], root=cfg["data"].get("root"))
    p = Path(out)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + f".tmp{os.getpid()}.npz")
    np.savez(tmp, x=x.numpy(), y=y.numpy())
    os.replace(tmp, p)


def _train_tensors(cfg: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    name = cfg["data"]["dataset"]
    ds = load_dataset(name, cfg["data"].get("root"))
    return (normalise(ds.x_train, name), torch.from_numpy(ds.y_train), normalise(ds.x_test, name),
            torch.from_numpy(ds.y_test))


def _fast_config(cfg: dict) -> TrainConfig:
    f = cfg["fast_training"]
    return TrainConfig(batch_size=f["batch_size"], lr=f["lr"], momentum=f["momentum"],
                       weight_decay=f["weight_decay"])


def score_shard(cfg: dict, sample_path: str, batch_path: str, fast_steps: int, shard: int,
                n_shards: int, out: str, device: str = "cpu") -> pd.DataFrame:
    """Score one shard of the sample after ``fast_steps`` SGD steps (0 = at init)."""
    archs = shard_of(pd.read_parquet(sample_path), shard, n_shards).arch_id.tolist()
    z = np.load(batch_path)
    batch = (torch.from_numpy(z["x"]), torch.from_numpy(z["y"]))
    fast = None
    if fast_steps > 0:
        xtr, ytr, _, _ = _train_tensors(cfg)
        xtr, ytr = xtr.to(device), ytr.to(device)  # once per shard: fast training runs on the device
        fcfg = _fast_config(cfg)
        fast = lambda model, arch: fast_train_steps(model, xtr, ytr, fast_steps, fcfg, cfg["scoring"]["seed"])  # noqa: E731
    df = score_archs(cfg["space"], archs, cfg["scoring"]["metrics"], batch,
                     dataset=cfg["data"]["dataset"], seed=cfg["scoring"]["seed"],
                     model_kwargs=_model_kwargs(cfg), device=device, fast_steps=fast_steps,
                     fast_train=fast)
    write_parquet(df, out)
    return df


def gather(paths: list[str], out: str) -> pd.DataFrame:
    """Concatenate shard tables in order; empty shards (more shards than archs) are skipped
    so that they cannot change the column dtypes."""
    frames = [pd.read_parquet(p) for p in paths]
    df = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
    write_parquet(df, out)
    return df


# ------------------------------------------------------------------------------ train


def arch_dirname(arch: str) -> str:
    """A file-system-safe folder name for an arch id (stable hash)."""
    return f"arch_{derive_seed(arch):010d}"


def train_shard(cfg: dict, sample_path: str, shard: int, n_shards: int, out: str,
                checkpoint_root: str | None = None, device: str = "cpu") -> pd.DataFrame:
    """Train one shard of the sample with the study's protocol -> training states."""
    t = cfg["training"]
    tcfg = TrainConfig(epochs=t["epochs"], batch_size=t["batch_size"], lr=t["lr"],
                       momentum=t["momentum"], weight_decay=t["weight_decay"],
                       max_train=t.get("max_train"), max_test=t.get("max_test"))
    data = tuple(a.to(device) for a in _train_tensors(cfg))
    sp = get_space(cfg["space"])
    frames = []
    archs = shard_of(pd.read_parquet(sample_path), shard, n_shards).arch_id.tolist()
    for arch in tqdm(archs, desc=f"train shard {shard}", mininterval=5):
        seed_everything(derive_seed(arch, t["seed"]))
        model = sp.build_model(arch, **_model_kwargs(cfg)).to(device)
        ckpt = None
        if checkpoint_root and t.get("checkpoint_epochs"):
            ckpt = Path(checkpoint_root) / arch_dirname(arch)
        frames.append(train_arch(model, arch, data, tcfg, t["seed"], ckpt, tuple(t.get("checkpoint_epochs", []))))
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    write_parquet(df, out)
    return df


# ------------------------------------------------------------------------ ground truth


def _family(dataset: str) -> str:
    """Image family of a dataset name (cifar10-valid and an npz mirror of CIFAR-10 share images)."""
    return {"cifar10-valid": "cifar10", "npz": "cifar10"}.get(dataset, dataset)


def targets(cfg: dict) -> list[dict]:
    """The ground-truth fields this study correlates against (first = primary).

    A benchmark target on another dataset than the scoring images is kept only when
    ``ground_truth.cross_dataset`` is true; it then carries ``scored_on``.
    """
    g = cfg["ground_truth"]
    if g["kind"] == "training":
        return [{"dataset": cfg["data"]["dataset"], "split": "test", "epochs": cfg["training"]["epochs"],
                 "seed": str(cfg["training"]["seed"]), "field": "acc"}]
    scored = _family(cfg["data"]["dataset"])
    out = []
    for t in g["targets"]:
        t = {**t, "seed": str(t.get("seed", "mean")), "field": t.get("field", "acc")}
        if _family(t["dataset"]) != scored:
            if not g.get("cross_dataset", False):
                print(f"skipping ground truth {t['dataset']}: no {t['dataset']} scoring images "
                      f"(set ground_truth.cross_dataset: true to score it on {scored} images)")
                continue
            t["scored_on"] = scored
        out.append(t)
    return out


def target_label(t: dict) -> str:
    label = describe(t["dataset"], t["split"], int(t["epochs"]), t["seed"], t["field"], t.get("source"))
    return label + (f" [scored on {t['scored_on']} images]" if t.get("scored_on") else "")


def ground_truth(cfg: dict, out: str, states_path: str | None = None) -> pd.DataFrame:
    """Tidy ground truth of the sampled archs: from training states or a benchmark."""
    g = cfg["ground_truth"]
    if g["kind"] == "training":
        st = pd.read_parquet(states_path)
        rows = []
        for field in ("acc", "loss"):
            rows.append(pd.DataFrame({
                "space": cfg["space"], "arch_id": st.arch_id, "bench_index": pd.NA,
                "dataset": cfg["data"]["dataset"], "split": st.split, "epochs": st.epoch,
                "seed": str(cfg["training"]["seed"]), "field": field, "value": st[field],
                "source": "trainfree fast training (this study)",
            }))
        gt = pd.concat(rows, ignore_index=True)[GT_COLUMNS]
    else:
        gt = load_ground_truth(cfg["space"], g["source"])
    write_parquet(gt, out)
    return gt


# --------------------------------------------------------------------------- analysis


def _truth(gt: pd.DataFrame, t: dict) -> tuple[pd.Series, str]:
    truth = select(gt, t["dataset"], t["split"], int(t["epochs"]), t["seed"], t["field"], t.get("source"))
    return truth, target_label(t)


def correlations(cfg: dict, scores_path: str, gt_path: str, out_csv: str) -> pd.DataFrame:
    """Signed Kendall/Spearman (+CIs) of every metric at k=0 vs every target field."""
    scores, gt = pd.read_parquet(scores_path), pd.read_parquet(gt_path)
    wide = wide_scores(scores, 0)
    dirs = {m: get_metric(m).higher_is_better for m in wide.columns}
    a = cfg["analysis"]
    frames = []
    for t in targets(cfg):
        truth, label = _truth(gt, t)
        frames.append(correlation_table(wide, truth, label, dirs, a["n_boot"], a["seed"]))
    table = pd.concat(frames, ignore_index=True)
    write_table(table, out_csv, caption=f"Signed rank correlation vs ground truth ({cfg['study']})")
    return table


def ablation(cfg: dict, scores_path: str, gt_path: str, out_csv: str) -> pd.DataFrame:
    """DAS rules vs WOT on the held-out half, for the primary target."""
    scores, gt = pd.read_parquet(scores_path), pd.read_parquet(gt_path)
    wide = wide_scores(scores, 0)
    a = cfg["analysis"]
    truth, label = _truth(gt, targets(cfg)[0])
    n = int(scores.batch_size.iloc[0])
    table = ablation_table(wide, truth, label, n, a["das_alphas"], a["das_lambdas"], a["seed"], a["n_boot"])
    write_table(table, out_csv, caption=f"DAS combination rules vs WOT, held-out half ({cfg['study']})")
    return table


def paper_vs_ours(cfg: dict, corr_csv: str, out_csv: str) -> pd.DataFrame:
    """NASWOT's published Kendall tau beside ours (and the DAS atoms) per ground truth."""
    from trainfree.analysis.published import paper_vs_ours as compare

    table = compare(pd.read_csv(corr_csv))
    write_table(table, out_csv, caption=f"Paper vs ours: Kendall tau on NB201 ({cfg['study']})")
    return table


def fast_training(cfg: dict, scores_path: str, gt_path: str, out_csv: str) -> pd.DataFrame:
    """Kendall tau of each metric after k fast-training steps, and its cost per arch."""
    scores, gt = pd.read_parquet(scores_path), pd.read_parquet(gt_path)
    truth, label = _truth(gt, targets(cfg)[0])
    a = cfg["analysis"]
    frames = []
    for k in sorted(scores.fast_steps.unique()):
        wide = wide_scores(scores, int(k))
        dirs = {m: get_metric(m).higher_is_better for m in wide.columns}
        t = correlation_table(wide, truth, label, dirs, a["n_boot"], a["seed"])
        per_arch = scores[scores.fast_steps == k].groupby("arch_id")
        secs = (per_arch.seconds.sum() + per_arch.fast_train_seconds.first()).median()
        t.insert(1, "fast_steps", int(k))
        t["seconds_per_arch"] = secs
        frames.append(t)
    table = pd.concat(frames, ignore_index=True)
    write_table(table, out_csv, caption=f"Correlation after k fast-training steps ({cfg['study']})")
    return table


# ---------------------------------------------------------------------------- figures


def figure(cfg: dict, name: str, inputs: dict, out_pdf: str) -> None:
    """Render figure ``name`` (scatter_<metric>, correlation_bars, atoms, fast_training,
    learning_curves) from the study's tables."""
    if name == "learning_curves":
        figures.learning_curves(pd.read_parquet(inputs["states"]), out_pdf)
        return
    if name == "fast_training":
        figures.fast_training_curve(pd.read_csv(inputs["table"]), out_pdf)
        return
    if name == "correlation_bars":
        t = pd.read_csv(inputs["table"])
        figures.correlation_bars(t[t.ground_truth == t.ground_truth.iloc[0]], out_pdf)
        return
    scores, gt = pd.read_parquet(inputs["scores"]), pd.read_parquet(inputs["gt"])
    wide = wide_scores(scores, 0)
    truth, label = _truth(gt, targets(cfg)[0])
    if name == "atoms":
        figures.atoms_plot(wide, truth, label, out_pdf)
        return
    if name.startswith("scatter_"):
        metric = name.removeprefix("scatter_")
        from trainfree.analysis.correlation import correlate

        tau = correlate(wide[metric], truth, n_boot=0)["kendall"]
        figures.scatter_metric(wide[metric], truth, metric, label, tau, out_pdf)
        return
    raise ValueError(f"unknown figure {name!r}")


# ------------------------------------------------------- NAS-Bench-Suite-Zero / HNAS


def suitezero(cfg: dict, out_csv: str, scores_csv: str, cache: str, device: str = "cpu") -> pd.DataFrame:
    """Score a seeded sample of the published Suite-Zero archs and compare per proxy.

    Resumable: scores accumulate in ``cache`` (chunks of 20 archs) until all are done.
    """
    from trainfree.analysis.suitezero import run_validation

    v = cfg["suitezero"]
    table = run_validation(v["n"], v["seed"], bench_root=v.get("bench_root"), batch_size=v["batch_size"],
                           out_csv=out_csv, out_md=str(Path(out_csv).with_suffix(".md")),
                           scores_out=cache, device=device)
    write_table(table, out_csv, caption=(
        f"Ours vs NAS-Bench-Suite-Zero published proxies: {v['n']} NB201 archs (seed {v['seed']}), "
        f"batch {v['batch_size']}; accuracy = cifar10 test acc @200ep (seed mean) [v1_1]"))
    Path(scores_csv).parent.mkdir(parents=True, exist_ok=True)
    pd.read_csv(cache).to_csv(scores_csv, index=False)
    return table


def unification(cfg: dict, scores_csv: str, matrix_csv: str, accuracy_csv: str, heatmap_pdf: str) -> None:
    """HNAS unification: Spearman matrix among metrics, each metric's and the criterion's
    signed correlation with CIFAR-10 test accuracy, and the heatmap."""
    from trainfree.analysis.suitezero import default_bench_root, load_published
    from trainfree.analysis.unify import unification_analysis
    from trainfree.render.heatmap import correlation_heatmap
    from trainfree.search.hnas import hnas_weights

    v = cfg["suitezero"]
    wide = wide_scores(pd.read_csv(scores_csv))
    pub = load_published(v.get("bench_root") or default_bench_root())
    acc = pub["test_acc"]
    h = v["hnas"]
    mu, nu = hnas_weights(h["t"], h["c"], h["s"])
    matrix, acc_table = unification_analysis(wide, acc, mu, nu)
    label = "cifar10 test acc @200ep (seed mean) [v1_1]"
    acc_table.insert(0, "ground_truth", label)
    m = matrix.reset_index().rename(columns={"index": "metric"})
    write_table(m, matrix_csv, caption=f"Spearman rank correlation among metrics ({len(wide)} NB201 archs)")
    write_table(acc_table, accuracy_csv, caption=(
        f"Signed correlation with {label}; hnas_criterion with t={h['t']}, c={h['c']}, s={h['s']}"))
    correlation_heatmap(matrix, heatmap_pdf, title=f"Metric agreement, {len(wide)} NB201 archs")


def provenance(cfg: dict, out: str) -> dict:
    """Effective config, versions, device, git commit and ground-truth fields -> JSON."""
    import trainfree

    def _git() -> str:
        try:
            return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                  check=True).stdout.strip()
        except Exception:
            return "unknown"

    import matplotlib
    import scipy
    import snakemake

    info = {
        "config": cfg,
        "ground_truth_fields": [target_label(t) for t in targets(cfg)],
        "versions": {"trainfree": trainfree.__version__, "python": sys.version.split()[0],
                     "torch": torch.__version__, "numpy": np.__version__, "pandas": pd.__version__,
                     "scipy": scipy.__version__, "matplotlib": matplotlib.__version__,
                     "snakemake": snakemake.__version__},
        "platform": platform.platform(),
        "device": cfg.get("device", "cpu"),
        "torch_threads": torch.get_num_threads(),
        "git_commit": _git(),
    }
    p = Path(out)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(info, indent=2, default=str))
    return info


def run_logged(log_path: str, step, *args, threads: int | None = None, **kwargs):
    """Run ``step(*args, **kwargs)`` with stdout/stderr written to ``log_path``.

    ``threads`` caps torch's intra-op threads (the job's Snakemake ``threads``).
    """
    import contextlib
    import traceback

    if threads:
        torch.set_num_threads(int(threads))

    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        try:
            return step(*args, **kwargs)
        except Exception:
            traceback.print_exc(file=log)
            raise
