"""Short, fully seeded training runs that record training states.

One protocol for every arch: SGD (momentum 0.9, Nesterov off, weight decay 5e-4),
learning rate 0.1 with a cosine schedule over the whole run, cross-entropy, batch 64,
no augmentation. The data order depends only on ``seed`` (the same for every arch);
the initial weights on (arch id, seed). Each epoch appends rows
``arch_id, epoch, split, loss, acc, seconds`` (``seconds`` = cumulative training time,
evaluation excluded). Epoch 0 is the untrained network, evaluated in eval mode on both
splits; for later epochs the ``train`` row is the running mean over that epoch's
mini-batches (train mode, as NB201 records it) and the ``test`` row a full evaluation.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np
import pandas as pd
import torch
from torch import nn

from trainfree.contracts import STATE_COLUMNS
from trainfree.io import atomic_path
from trainfree.seeding import derive_seed, seed_everything, torch_generator


@dataclass(frozen=True)
class TrainConfig:
    """The SGD training protocol (units: epochs, images, learning-rate units): the study's short
    runs (``training``), fast-training steps (``fast_training``) and, extended by
    :class:`trainfree.training.dtb.Protocol`, a DTB's and an HNAS observation's runs."""

    epochs: int = 3
    batch_size: int = 64
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    eval_batch_size: int = 256
    max_train: int | None = None  # use only the first N training images (None: all)
    max_test: int | None = None

    @classmethod
    def from_config(cls, d: dict) -> Self:
        """The protocol of a config section: its keys that are fields (others, e.g. a seed that
        is not part of the protocol, are left out); omitted fields keep their defaults."""
        kw = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        if "checkpoint_epochs" in kw:
            kw["checkpoint_epochs"] = tuple(sorted(set(int(e) for e in kw["checkpoint_epochs"])))
        return cls(**kw)


def sgd_cosine(model: nn.Module, cfg: TrainConfig, total_steps: int):
    """The one SGD protocol: (SGD with ``cfg``'s lr/momentum/weight decay, cosine schedule
    stepped once per mini-batch over ``total_steps`` steps down to 0)."""
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                          weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(total_steps, 1))
    return opt, sched


def logits(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The network's class scores for ``x`` (the first output of a network with an auxiliary head)."""
    out = model(x)
    return out[0] if isinstance(out, tuple) else out


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 256) -> tuple[float, float]:
    """(mean cross-entropy, accuracy in percent) in eval mode; the mode is restored."""
    was = model.training
    model.eval()
    loss, correct = 0.0, 0
    for i in range(0, len(x), batch_size):
        out = logits(model, x[i:i + batch_size])
        loss += nn.functional.cross_entropy(out, y[i:i + batch_size], reduction="sum").item()
        correct += (out.argmax(1) == y[i:i + batch_size]).sum().item()
    model.train(was)
    return loss / len(x), 100.0 * correct / len(x)


def batches(n: int, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    """Index arrays of the full mini-batches of one epoch; the order depends only on (seed, epoch)."""
    g = torch_generator(derive_seed("data-order", seed, epoch))
    perm = torch.randperm(n, generator=g).numpy()
    return [perm[i:i + batch_size] for i in range(0, n - batch_size + 1, batch_size)]


def check_device(model: nn.Module, device: torch.device, *tensors: torch.Tensor) -> None:
    """Raise ``RuntimeError`` unless every parameter of ``model`` and every tensor is on ``device``."""
    for name, p in model.named_parameters():
        if p.device.type != device.type or (device.index is not None and p.device.index != device.index):
            raise RuntimeError(f"training step: parameter {name} is on {p.device}, expected {device}")
    for t in tensors:
        if t.device.type != device.type:
            raise RuntimeError(f"training step: a data batch is on {t.device}, expected {device}")


def fast_train_steps(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int,
                     cfg: TrainConfig, seed: int, device: str | torch.device | None = None) -> nn.Module:
    """Train ``model`` in place for ``steps`` SGD steps (cosine over ``steps``), fixed order.

    ``x`` (N, C, H, W) float32, ``y`` (N,) int64. With ``device`` the model and the data
    move there before the first step (default: the device of the model's parameters);
    every step checks that the parameters and the batch are on it.
    """
    if steps <= 0:
        return model
    dev = torch.device(device) if device is not None else next(model.parameters()).device
    model.to(dev)
    x, y = x.to(dev), y.to(dev)
    model.train()
    opt, sched = sgd_cosine(model, cfg, steps)
    done, epoch = 0, 0
    while done < steps:
        for idx in batches(len(x), cfg.batch_size, seed, epoch):
            opt.zero_grad(set_to_none=True)
            xb, yb = x[idx], y[idx]
            check_device(model, dev, xb, yb)
            nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()
            sched.step()
            done += 1
            if done == steps:
                break
        epoch += 1
    opt.zero_grad(set_to_none=True)
    return model


def atomic_save(obj: object, path: Path) -> None:
    """``torch.save`` to a temporary name in the same folder, then rename (``trainfree.io``)."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def train_arch(
    model: nn.Module,
    arch_id: str,
    data: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    cfg: TrainConfig,
    seed: int,
    checkpoint_dir: str | os.PathLike | None = None,
    checkpoint_epochs: tuple[int, ...] = (),
) -> pd.DataFrame:
    """Train for ``cfg.epochs`` epochs and return the training states (``STATE_COLUMNS``).

    ``data`` = (x_train, y_train, x_test, y_test), already normalised tensors. Checkpoints
    (``state_dict``) at ``checkpoint_epochs`` go to ``checkpoint_dir/epoch_{e}.pt``.
    """
    xtr, ytr, xte, yte = data
    if cfg.max_train:
        xtr, ytr = xtr[: cfg.max_train], ytr[: cfg.max_train]
    if cfg.max_test:
        xte, yte = xte[: cfg.max_test], yte[: cfg.max_test]
    seed_everything(derive_seed(arch_id, seed, "train"))
    steps_per_epoch = len(xtr) // cfg.batch_size
    opt, sched = sgd_cosine(model, cfg, cfg.epochs * steps_per_epoch)
    rows = []
    elapsed = 0.0

    def record(epoch: int, train: tuple[float, float] | None) -> None:
        if train is None:
            train = evaluate(model, xtr, ytr, cfg.eval_batch_size)
        rows.append((arch_id, epoch, "train", *train, elapsed))
        rows.append((arch_id, epoch, "test", *evaluate(model, xte, yte, cfg.eval_batch_size), elapsed))
        if checkpoint_dir is not None and epoch in checkpoint_epochs:
            atomic_save(model.state_dict(), Path(checkpoint_dir) / f"epoch_{epoch}.pt")

    record(0, None)
    model.train()
    for epoch in range(1, cfg.epochs + 1):
        t0 = time.perf_counter()
        loss_sum, correct, seen = 0.0, 0, 0
        for idx in batches(len(xtr), cfg.batch_size, seed, epoch):
            opt.zero_grad(set_to_none=True)
            out = model(xtr[idx])
            loss = nn.functional.cross_entropy(out, ytr[idx])
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += (out.argmax(1) == ytr[idx]).sum().item()
            seen += len(idx)
        elapsed += time.perf_counter() - t0
        record(epoch, (loss_sum / seen, 100.0 * correct / seen))
    return pd.DataFrame(rows, columns=STATE_COLUMNS)
