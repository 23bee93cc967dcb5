"""Stage ``dtb``: the rules of ``workflow/rules/dtb.smk``, one function each, named like its
rule and its script (``workflow/scripts/<rule>.py``).

The DTB build: sample -> one resumable training job per arch -> assemble; then the
fast-training study on it (scores at each checkpoint, tables, figures). Each function takes
the study config (its ``dtb`` and ``data`` sections) and paths and writes its outputs atomically.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from trainfree.errors import TrainfreeError
from trainfree.io import write_csv, write_json, write_parquet
from trainfree.pipeline.common import gather, shard_of
from trainfree.pipeline.score import fast_config
from trainfree.spaces import get_space
from trainfree.training.dtb import Protocol, load_data, train_job
from trainfree.training.dtb_store import arch_dir, assemble


def protocol_of(cfg: dict) -> Protocol:
    """The training protocol of ``cfg["dtb"]`` (``train_seed`` is the protocol's seed; ``seed`` samples)."""
    d = {k: v for k, v in cfg["dtb"].items() if k != "seed"}
    if "train_seed" in d:
        d["seed"] = d.pop("train_seed")
    return Protocol.from_config(d)


def data_of(cfg: dict, protocol: Protocol):
    """The DTB's tensors of the study's dataset (``cfg["data"]``) under ``protocol``."""
    return load_data(cfg["data"]["dataset"], cfg["data"].get("root"), protocol)


def dtb_sample(cfg: dict, out_csv: str) -> pd.DataFrame:
    """Seeded sample of ``dtb.n`` archs of ``space`` -> ``arch_index, arch_id, spec`` (CSV)."""
    d = cfg["dtb"]
    sp = get_space(cfg["space"])
    specs = sp.sample(int(d["n"]), int(d["seed"]))
    df = pd.DataFrame({"arch_index": range(len(specs)), "arch_id": [sp.canonical(s) for s in specs],
                       "spec": [sp.spec(s) for s in specs]})
    write_csv(df, out_csv)
    return df


def dtb_train(cfg: dict, sample_csv: str, index: int, dtb_dir: str, work_root: str, out_states: str,
              out_info: str, device: str = "cpu") -> pd.DataFrame:
    """Train the arch at ``index`` of the sample (resumable) -> its states (parquet) and info (JSON).

    Checkpoints go to ``dtb_dir/checkpoints/arch_NNNN/``; the resume file to
    ``work_root/arch_NNNN/resume.pt`` and is removed once both outputs are written.
    """
    sample = pd.read_csv(sample_csv)
    row = sample[sample.arch_index == index]
    if row.empty:
        raise TrainfreeError(f"arch_index {index} not in {sample_csv} ({len(sample)} archs)")
    row = row.iloc[0]
    protocol = protocol_of(cfg)
    data = data_of(cfg, protocol).to(device)
    name = arch_dir(index)
    work = Path(work_root) / name
    states, info = train_job(row.arch_id, row.spec, cfg["space"], dict(cfg["dtb"].get("model", {})), data,
                             protocol, Path(dtb_dir) / "checkpoints" / name, work, device=device)
    info.update({"arch_index": int(index), "device": str(device)})
    write_parquet(states, out_states)
    write_json(out_info, info)
    (work / "resume.pt").unlink(missing_ok=True)
    return states


def dtb_assemble(cfg: dict, sample_csv: str, states_paths: list[str], info_paths: list[str],
                 dtb_dir: str) -> dict:
    """Gather the per-arch outputs into the DTB folder: tables, datasheet, manifest."""
    protocol = protocol_of(cfg)
    data = data_of(cfg, protocol)
    states = pd.concat([pd.read_parquet(p) for p in states_paths], ignore_index=True)
    infos = pd.DataFrame([json.loads(Path(p).read_text()) for p in info_paths])
    archs = infos[["arch_index", "arch_id", "spec", "params_m", "flops_m", "train_seconds", "device"]]
    data_info = {**data.info, "num_classes": data.num_classes}
    text = datasheet(cfg, protocol, data_info, archs, states)
    return assemble(dtb_dir, cfg["space"], dict(cfg["dtb"].get("model", {})), protocol.as_dict(), data_info,
                    archs, states, int(cfg["dtb"]["seed"]), text, version=str(cfg["dtb"]["version"]))


def _fmt(x: float) -> str:
    return f"{x:.2f}"


def datasheet(cfg: dict, protocol: Protocol, data_info: dict, archs: pd.DataFrame, states: pd.DataFrame) -> str:
    """``DATASHEET.md`` of one DTB build, with its own numbers."""
    d = cfg["dtb"]
    final = states[(states.split == "test") & (states.epoch == protocol.epochs)].acc
    valid = states[(states.split == "valid") & (states.epoch == protocol.epochs)].acc
    kw = ", ".join(f"{k}={v}" for k, v in d.get("model", {}).items()) or "the space's defaults"
    p = protocol
    return f"""# DTB {d['version']} — datasheet

## Motivation
A benchmark of **training states**: networks of the `{cfg['space']}` search space, each trained
with one fixed protocol, with losses/accuracies per epoch and the weights (plus optimizer,
scheduler and RNG state) at chosen epochs. It lets a training-free metric be computed on a
network after *k* epochs of training and compared with the same network's final accuracy
(DAS, arXiv 2212.12132, §5 of the project's notes) without retraining anything. No public
benchmark of this kind exists; this one is rebuilt by the `trainfree` workflow from a config.

## Composition
- {len(archs)} architectures sampled uniformly without replacement from `{cfg['space']}`
  (sampler seed {d['seed']}); each row of `archs.csv` gives the canonical `arch_id`, the `spec`
  that rebuilds it, parameters and multiply-adds (millions, one {'x'.join(map(str, (3, 32, 32)))} image) and
  training seconds. Network arguments: {kw}; {data_info['num_classes']} classes.
- `states.csv`: {len(states)} rows `arch_id, epoch, split, loss, acc, seconds` for epochs
  0..{p.epochs} and splits train/valid/test (`acc` in %, `loss` mean cross-entropy, `seconds`
  cumulative training wall time, evaluation excluded).
- Checkpoints at epochs {sorted(set(p.checkpoint_epochs))} for every arch (`checkpoints/arch_NNNN/epoch_EEE.pt`).
- Final test accuracy over archs: min {_fmt(final.min())}, median {_fmt(final.median())},
  max {_fmt(final.max())} %; final valid accuracy median {_fmt(valid.median()) if len(valid) else 'n/a'} %.
- Params: {_fmt(archs.params_m.min())}–{_fmt(archs.params_m.max())} M; multiply-adds {_fmt(archs.flops_m.min())}–{_fmt(archs.flops_m.max())} M.

## Collection protocol
- Data: `{data_info['dataset']}` from `{data_info['source']}` (SHA-256 `{data_info.get('source_sha256')}`):
  {data_info['n_train']} training, {data_info['n_valid']} validation ({data_info['valid']}),
  {data_info['n_test']} test images; normalised with mean {data_info['normalisation']['mean']},
  std {data_info['normalisation']['std']}.
- Training: {p.epochs} epochs, SGD momentum {p.momentum}, weight decay {p.weight_decay}, learning rate
  {p.lr} with a cosine schedule to 0 stepped per mini-batch, batch {p.batch_size} (last partial batch
  dropped), gradient-norm clipping {p.grad_clip}, cross-entropy; augmentation for training only:
  {'random 32x32 crop of the image zero-padded by 4 and horizontal flip (p=1/2)' if p.augment else 'none'};
  drop-path {p.drop_path_prob} (networks that have it). No auxiliary head.
- Seeds: data order and augmentation from (seed {p.seed}, epoch), identical for every arch;
  initial weights from (arch id, seed {p.seed}). Epoch 0 rows evaluate the untrained network in
  eval mode; later `train` rows are running means over the epoch's augmented mini-batches.
- Each arch is one resumable job; a job killed and rerun gives the same numbers (CPU).
- Protocol digest `{p.digest()}`; every file's SHA-256 is in `manifest.json`.

## Uses
Evaluating training-free metrics on trained states (correlation with final accuracy vs the
epoch of the checkpoint), fast-training ablations, learning-curve extrapolation, warm starts.
Load with `trainfree.dtb.open(path)`; `.checkpoint(arch_id, epoch)` returns the network.

## Limits
- The final accuracy is that of this protocol ({p.epochs} epochs on {data_info['n_train']} images), not of
  the papers' 600-epoch DARTS evaluation; one seed per arch, so seed noise is not measured.
- `seconds` are wall times on the machine that built it (device: {', '.join(sorted(set(archs.device)))}),
  shared with other work when it was built on a CPU: compare them within one DTB only.
- Uniform sampling of the space: no architectures from search methods, no `none`-free filtering.
"""


# ------------------------------------------------------------- fast-training study on the DTB


def dtb_score_shard(cfg: dict, dtb_dir: str, batch_path: str, shard: int, n_shards: int, out: str,
                    device: str = "cpu") -> pd.DataFrame:
    """Score one shard of the DTB's archs at every checkpoint epoch and after k fast steps."""
    import torch

    from trainfree.data.npz import load_batch
    from trainfree.training.dtb_store import open_dtb
    from trainfree.training.dtb_study import score_states

    archs = shard_of(open_dtb(dtb_dir, verify=False).archs, shard, n_shards).arch_id.tolist()
    x, y = load_batch(batch_path)
    s = cfg["scoring"]
    df = score_states(dtb_dir, archs, s["metrics"], (torch.from_numpy(x), torch.from_numpy(y)),
                      s["fast_steps"], fast_config(cfg), s["seed"], device)
    write_parquet(df, out)
    return df


def dtb_gather_scores(paths: list[str], out: str) -> pd.DataFrame:
    """Concatenate the score shards of the DTB's archs."""
    return gather(paths, out)


def dtb_table(cfg: dict, dtb_dir: str, scores_path: str, out_csv: str, kind: str) -> pd.DataFrame:
    """``kind`` = ``fast_training`` (correlation and cost vs k) or ``das_ablation`` (DAS rules per epoch)."""
    from trainfree.render.tables import write_table
    from trainfree.training.dtb_store import open_dtb
    from trainfree.training.dtb_study import das_ablation, fast_training_table, truth_label

    dtb = open_dtb(dtb_dir, verify=False)
    scores = pd.read_parquet(scores_path)
    truth, label = dtb.final_accuracy("test"), truth_label(dtb)
    a = cfg["analysis"]
    if kind == "fast_training":
        table = fast_training_table(scores, truth, label, a["n_boot"], a["seed"])
        caption = f"Correlation with the final accuracy vs k (checkpoint epoch / fast SGD steps), {len(truth)} DTB archs"
    else:
        table = das_ablation(scores, truth, label, a["das_alphas"], a["das_lambdas"], a["seed"], a["n_boot"])
        caption = f"DAS rules vs WOT on the held-out half, per checkpoint epoch ({len(truth)} DTB archs)"
    write_table(table, out_csv, caption=f"{caption} ({cfg['study']})")
    return table


def dtb_figure(name: str, dtb_dir: str, table_csv: str | None, out_pdf: str) -> None:
    """``summary`` (learning curves, accuracy histogram, accuracy vs params) or ``fast_training``."""
    from trainfree.render import dtb_figures
    from trainfree.training.dtb_store import open_dtb

    dtb = open_dtb(dtb_dir, verify=False)
    if name == "summary":
        dtb_figures.summary(dtb.states, dtb.archs, out_pdf)
    else:
        dtb_figures.fast_training(pd.read_csv(table_csv), out_pdf)
