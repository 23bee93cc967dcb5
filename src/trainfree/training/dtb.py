"""DTB construction: train sampled archs of any space with one fixed, resumable protocol.

One job per arch (:func:`train_job`) trains the network for ``Protocol.epochs`` epochs and
records, per epoch, loss and accuracy on the train, valid and test splits and the
cumulative training wall time (rows ``arch_id, epoch, split, loss, acc, seconds``, the
training-states format of :mod:`trainfree.training.fast`). Epoch 0 is the untrained
network, evaluated in eval mode on all three splits; for later epochs the ``train`` row
is the running mean over that epoch's augmented mini-batches (train mode), ``valid`` and
``test`` full evaluations in eval mode.

Protocol (every number a config key; defaults in ``Protocol``): SGD with momentum, weight
decay and a cosine learning rate stepped per mini-batch (:func:`~trainfree.training.fast.sgd_cosine`,
the same SGD protocol as fast training), gradient-norm clipping, standard CIFAR
augmentation for training only (random 32x32 crop of the image zero-padded by 4 pixels,
horizontal flip with probability 1/2). The data order and the augmentation draws depend
only on (seed, epoch), the same for every arch; the initial weights on (arch id, seed).

Resumability: after every epoch the job writes ``resume.pt`` (weights, optimizer,
scheduler, RNG states, rows so far) atomically; a killed job restarts from it and ends
with exactly the numbers of an uninterrupted run (on the CPU; ``seconds`` excepted, as it
is wall time). Checkpoints at the chosen epochs (``epoch_{e:03d}.pt``) hold the same
state without the rows.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from trainfree.data import load_dataset, norm_stats, num_classes
from trainfree.errors import TrainfreeError
from trainfree.metrics.cost import count_macs
from trainfree.seeding import derive_seed, seed_everything, torch_generator
from trainfree.spaces import get_space
from trainfree.training.fast import (
    STATE_COLUMNS,
    TrainConfig,
    atomic_save,
    batches,
    evaluate,
    logits,
    sgd_cosine,
)

CHECKPOINT_FORMAT = 1
SPLIT_NAMES = ("train", "valid", "test")


#: the order of a protocol's fields in a DTB's manifest (``Protocol.as_dict``)
_PROTOCOL_ORDER = ("epochs", "batch_size", "lr", "momentum", "weight_decay", "grad_clip", "augment", "drop_path_prob",
                   "seed", "valid_size", "max_train", "max_test", "eval_batch_size", "checkpoint_epochs")


@dataclass(frozen=True)
class Protocol(TrainConfig):
    """[choice] The one training protocol of a DTB: the SGD protocol (:class:`TrainConfig`, with
    a DTB's defaults) plus clipping, augmentation, drop-path, seed, held-out split and
    checkpoints (units: epochs, images, learning-rate units)."""

    epochs: int = 50
    batch_size: int = 96
    lr: float = 0.025
    momentum: float = 0.9
    weight_decay: float = 3e-4
    grad_clip: float | None = 5.0     # max global gradient L2 norm (None: no clipping)
    augment: bool = True              # random crop (pad 4) + horizontal flip, training only
    drop_path_prob: float = 0.0       # final drop-path rate, for networks with ``drop_path_prob``
    seed: int = 0                     # data order, augmentation and (with the arch id) init
    valid_size: int = 5000            # images held out of the training set as ``valid``
    checkpoint_epochs: tuple[int, ...] = field(default=(0, 1, 2, 5, 10, 20, 50))

    def __post_init__(self) -> None:
        bad = [e for e in self.checkpoint_epochs if e < 0 or e > self.epochs]
        if bad:
            raise TrainfreeError(f"checkpoint epochs {bad} outside 0..{self.epochs}; fix dtb.checkpoint_epochs")
        if 0 not in self.checkpoint_epochs:
            raise TrainfreeError("dtb.checkpoint_epochs must include 0 (the untrained network)")

    def as_dict(self) -> dict:
        d = asdict(self)
        d["checkpoint_epochs"] = sorted(set(self.checkpoint_epochs))
        return {k: d[k] for k in _PROTOCOL_ORDER}

    def digest(self) -> str:
        """SHA-256 (hex, 16 chars) of the protocol; a resume file of another protocol is ignored."""
        return hashlib.sha256(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class DTBData:
    """Tensors of one DTB: training images un-normalised in [0, 1] (N,3,H,W) for augmentation,
    valid and test images normalised; ``info`` says where each split came from."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_valid: torch.Tensor
    y_valid: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor
    num_classes: int
    info: dict

    def to(self, device: str | torch.device) -> DTBData:
        moved = {k: (v.to(device) if isinstance(v, torch.Tensor) else v) for k, v in vars(self).items()}
        return DTBData(**moved)

    def normalise(self, x01: torch.Tensor) -> torch.Tensor:
        return (x01 - self.mean) / self.std


def _to01(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x)).permute(0, 3, 1, 2).float().div_(255.0)


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_data(dataset: str, root: str | None, protocol: Protocol) -> DTBData:
    """The three splits of a DTB. A dataset with its own validation part (``cifar10-valid``)
    uses it; otherwise the last ``valid_size`` training images (file order) are ``valid``
    and the rest ``train``; ``max_train`` / ``max_test`` then keep the first N."""
    ds = load_dataset(dataset, root)
    xtr, ytr = ds.x_train, ds.y_train
    if ds.x_valid is not None:
        xva, yva, how = ds.x_valid, ds.y_valid, f"the dataset's own validation part ({len(ds.y_valid)} images)"
    else:
        v = protocol.valid_size
        if v >= len(ytr):
            raise TrainfreeError(f"dtb.valid_size {v} leaves no training image of {len(ytr)}; lower it")
        xva, yva = xtr[len(ytr) - v:], ytr[len(ytr) - v:]
        xtr, ytr = xtr[: len(ytr) - v], ytr[: len(ytr) - v]
        how = f"last {v} training images in file order"
    if protocol.max_train:
        xtr, ytr = xtr[: protocol.max_train], ytr[: protocol.max_train]
    xte, yte = ds.x_test, ds.y_test
    if protocol.max_test:
        xte, yte = xte[: protocol.max_test], yte[: protocol.max_test]
    mean_, std_ = norm_stats(dataset)
    mean, std = torch.tensor(mean_).view(1, 3, 1, 1), torch.tensor(std_).view(1, 3, 1, 1)
    info = {"dataset": dataset, "source": str(root) if root else None,
            "source_sha256": file_sha256(root) if root and Path(root).is_file() else None,
            "n_train": len(ytr), "n_valid": len(yva), "n_test": len(yte), "valid": how,
            "normalisation": {"mean": list(mean_), "std": list(std_)}}
    classes = num_classes(dataset) or ds.num_classes
    return DTBData(_to01(xtr), torch.from_numpy(ytr), (_to01(xva) - mean) / std, torch.from_numpy(yva),
                   (_to01(xte) - mean) / std, torch.from_numpy(yte), mean, std, classes, info)


def augment(x01: torch.Tensor, gen: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Random crop of the zero-padded images and horizontal flip (p = 1/2), per image.

    ``x01``: (B, C, H, W) in [0, 1]; draws come from ``gen`` only (CPU generator).
    """
    b, c, h, w = x01.shape
    padded = nn.functional.pad(x01, (pad, pad, pad, pad))
    oy = torch.randint(0, 2 * pad + 1, (b,), generator=gen).to(x01.device)
    ox = torch.randint(0, 2 * pad + 1, (b,), generator=gen).to(x01.device)
    flip = (torch.rand(b, generator=gen) < 0.5).to(x01.device)
    rows = (oy[:, None] + torch.arange(h, device=x01.device))[:, None, :, None]
    cols = (ox[:, None] + torch.arange(w, device=x01.device))[:, None, None, :]
    out = padded[torch.arange(b, device=x01.device)[:, None, None, None],
                 torch.arange(c, device=x01.device)[None, :, None, None], rows, cols]
    return torch.where(flip[:, None, None, None], out.flip(3), out)


def build(space: str, spec: str, model_kwargs: dict, classes: int, init_seed: int | None = None) -> nn.Module:
    """The space's network for ``spec``; with ``init_seed`` its weights are drawn from that seed."""
    sp = get_space(space)
    unknown = set(model_kwargs) - set(sp.MODEL_DEFAULTS)
    if unknown:
        raise TrainfreeError(f"dtb.model keys {sorted(unknown)} are not arguments of the {space} network; "
                             f"use {sorted(sp.MODEL_DEFAULTS)}")
    if init_seed is not None:
        seed_everything(init_seed)
    return sp.build_model(spec, num_classes=classes, **model_kwargs)


def cost(model: nn.Module, image_shape: tuple[int, int, int]) -> dict[str, float]:
    """Parameters and multiply-adds of one forward of one image, in millions."""
    return {"params_m": sum(p.numel() for p in model.parameters()) / 1e6,
            "flops_m": count_macs(model, image_shape) / 1e6}


def _rng_state() -> dict:
    np_state = np.random.get_state()
    return {"torch": torch.get_rng_state(), "python": random.getstate(),
            "numpy": [np_state[0], np_state[1].tolist(), *np_state[2:]]}


def _set_rng_state(s: dict) -> None:
    torch.set_rng_state(s["torch"])
    random.setstate(tuple(x if not isinstance(x, list) else tuple(x) for x in s["python"]))
    n = s["numpy"]
    np.random.set_state((n[0], np.asarray(n[1], dtype=np.uint32), *n[2:]))


def checkpoint_name(epoch: int) -> str:
    return f"epoch_{epoch:03d}.pt"


def load_state(path: str | Path, fix: str = "replace the DTB folder with a trusted copy or rebuild it") -> dict:
    """A checkpoint or resume file (tensors on the CPU), read without running code from it.

    The file is read by torch's ``weights_only`` unpickler: tensors, containers, numbers
    and strings only, which is all a checkpoint written by :func:`train_job` holds. A file
    that names any other object (a function, a class) is refused before anything from it
    runs, as is a file that is not a torch checkpoint; ``fix`` ends the one-line message.
    """
    import pickle

    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        m = re.search(r"GLOBAL (\S+)", str(e))
        if m:
            raise TrainfreeError(f"{path}: refusing to load the object {m.group(1)} (a checkpoint holds only "
                                 f"tensors, numbers and strings); {fix}") from None
        why = re.search(r"WeightsUnpickler error:\s*(\S[^\n]*)", str(e))
        raise TrainfreeError(f"cannot read {path} as a torch checkpoint (UnpicklingError: "
                             f"{why.group(1)[:200] if why else 'not a torch file'}); {fix}") from None
    except Exception as e:  # empty, truncated or foreign file: one line, no traceback
        msg = str(e).splitlines()[0][:200] if str(e) else ""
        raise TrainfreeError(f"cannot read {path} as a torch checkpoint ({e.__class__.__name__}: {msg}); "
                             f"{fix}") from None
    if not isinstance(state, dict) or "model" not in state:
        raise TrainfreeError(f"{path} is not a trainfree checkpoint (no 'model' entry); {fix}")
    return state


def train_job(arch_id: str, spec: str, space: str, model_kwargs: dict, data: DTBData, protocol: Protocol,
              checkpoint_dir: str | Path, work_dir: str | Path, device: str = "cpu",
              progress: bool = True) -> tuple[pd.DataFrame, dict]:
    """Train one arch (resuming from ``work_dir/resume.pt`` when present) -> (states, info).

    ``states`` has ``STATE_COLUMNS`` (splits train/valid/test, epochs 0..E); ``info`` the
    arch's params/FLOPs, total training seconds and whether the run resumed. Checkpoints go
    to ``checkpoint_dir/epoch_{e:03d}.pt``. Delete ``resume.pt`` once the outputs are safe.
    """
    ckdir, work = Path(checkpoint_dir), Path(work_dir)
    resume_path = work / "resume.pt"
    steps = len(data.y_train) // protocol.batch_size
    if steps == 0:
        raise TrainfreeError(f"{len(data.y_train)} training images make no batch of {protocol.batch_size}; "
                             f"lower dtb.batch_size or raise dtb.max_train")
    model = build(space, spec, model_kwargs, data.num_classes, derive_seed(arch_id, protocol.seed, "init"))
    info = {"arch_id": arch_id, "spec": spec, **cost(model, tuple(data.x_test.shape[1:]))}
    model = model.to(device)
    opt, sched = sgd_cosine(model, protocol, protocol.epochs * steps)
    rows: list[tuple] = []
    elapsed, start, resumed_from = 0.0, 1, None
    state = load_state(resume_path, f"delete {resume_path} to train the arch from epoch 0") \
        if resume_path.is_file() else None
    if state is not None and state.get("digest") == protocol.digest() and state.get("arch_id") == arch_id:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        _set_rng_state(state["rng"])
        rows, elapsed = [tuple(r) for r in state["rows"]], float(state["seconds"])
        start = resumed_from = int(state["epoch"]) + 1
    else:
        seed_everything(derive_seed(arch_id, protocol.seed, "train"))

    def snapshot(epoch: int) -> dict:
        return {"format": CHECKPOINT_FORMAT, "arch_id": arch_id, "spec": spec, "space": space,
                "model_kwargs": model_kwargs, "num_classes": data.num_classes, "epoch": epoch,
                "digest": protocol.digest(), "protocol": protocol.as_dict(), "seconds": elapsed,
                "model": model.state_dict(), "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(), "rng": _rng_state()}

    def record(epoch: int, train: tuple[float, float] | None) -> None:
        if train is None:
            train = evaluate(model, data.normalise(data.x_train), data.y_train, protocol.eval_batch_size)
        rows.append((arch_id, epoch, "train", *train, elapsed))
        for split, x, y in (("valid", data.x_valid, data.y_valid), ("test", data.x_test, data.y_test)):
            if len(y):
                rows.append((arch_id, epoch, split, *evaluate(model, x, y, protocol.eval_batch_size), elapsed))
        snap = snapshot(epoch)
        if epoch in protocol.checkpoint_epochs:
            atomic_save(snap, ckdir / checkpoint_name(epoch))
        atomic_save({**snap, "rows": list(rows)}, resume_path)

    if resumed_from is None:
        record(0, None)
    model.train()
    bar = tqdm(range(start, protocol.epochs + 1), desc=f"dtb {arch_id[:40]}", disable=not progress,
               mininterval=5)
    for epoch in bar:
        if hasattr(model, "drop_path_prob"):
            model.drop_path_prob = protocol.drop_path_prob * (epoch - 1) / protocol.epochs
        gen = torch_generator(derive_seed("augment", protocol.seed, epoch))
        t0 = time.perf_counter()
        loss_sum, correct, seen = 0.0, 0, 0
        for idx in batches(len(data.y_train), protocol.batch_size, protocol.seed, epoch):
            x = data.x_train[idx]
            if protocol.augment:
                x = augment(x, gen)
            x, y = data.normalise(x), data.y_train[idx]
            opt.zero_grad(set_to_none=True)
            out = logits(model, x)
            loss = nn.functional.cross_entropy(out, y)
            loss.backward()
            if protocol.grad_clip:
                nn.utils.clip_grad_norm_(model.parameters(), protocol.grad_clip)
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += (out.argmax(1) == y).sum().item()
            seen += len(idx)
        if str(device).startswith("cuda"):
            torch.cuda.synchronize()
        elapsed += time.perf_counter() - t0
        record(epoch, (loss_sum / seen, 100.0 * correct / seen))
    info.update({"train_seconds": elapsed, "resumed_from_epoch": resumed_from, "epochs": protocol.epochs,
                 "seconds_per_epoch": elapsed / max(protocol.epochs, 1)})
    return pd.DataFrame(rows, columns=STATE_COLUMNS), info
