"""NAS-Bench-201 topology space: arch string codec, sampler and network builder.

A cell has 4 nodes; node j (1..3) sums one operation applied to every earlier node i.
The canonical id is the benchmark's string, one ``op~i`` per edge, nodes joined by ``+``::

    |nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|

Edges are ordered (0->1), (0->2), (1->2), (0->3), (1->3), (2->3). The network built
here is the benchmark's own (stem, 3 stages of N cells joined by stride-2 ResNet basic
blocks, BN+ReLU, global pool, linear), so parameter counts equal the benchmark's.
All ReLUs are out-of-place, so forward hooks see the true pre-activation input.

The benchmark *index* of an arch is not computable from the string: it is the row
order of the loaded ground-truth source (see ``trainfree.benchmarks``).
"""

from __future__ import annotations

import itertools

import numpy as np
import torch
from torch import nn

from trainfree.errors import TrainfreeError
from trainfree.spaces.pooling import AvgPool2d

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
NAME = "nb201"
MODEL_DEFAULTS: dict = {"C": 16, "N": 5}
N_ARCHS = len(OPS) ** len(EDGES)  # 15,625
EXAMPLE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
_FORM = "'|op~0|+|op~0|op~1|+|op~0|op~1|op~2|' with op in " + "{" + ", ".join(OPS) + "}"


def _bad(arch: object, why: str) -> TrainfreeError:
    return TrainfreeError(f"malformed NB201 arch {arch!r}: {why}; expected {_FORM}, e.g. {EXAMPLE}")


def parse(arch: str) -> tuple[str, ...]:
    """Arch string -> tuple of the 6 edge ops in canonical edge order."""
    if not isinstance(arch, str):
        raise _bad(arch, "not a string")
    nodes = arch.strip().split("+")
    if len(nodes) != 3:
        raise _bad(arch, f"{len(nodes)} node groups separated by '+', need 3")
    ops: list[str] = []
    for j, node in enumerate(nodes, start=1):
        if not (node.startswith("|") and node.endswith("|")) or len(node) < 3:
            raise _bad(arch, f"node {j} group {node!r} must start and end with '|'")
        entries = node[1:-1].split("|")
        if len(entries) != j:
            raise _bad(arch, f"node {j} has {len(entries)} inputs, needs {j}")
        for i, entry in enumerate(entries):
            op, sep, src = entry.partition("~")
            if not sep or src != str(i):
                raise _bad(arch, f"entry {entry!r} of node {j} must read 'op~{i}'")
            if op not in OPS:
                raise _bad(arch, f"unknown op {op!r}")
            ops.append(op)
    # string order is (0->1), (0->2), (1->2), (0->3), (1->3), (2->3) == EDGES
    return tuple(ops)


def format_arch(ops: tuple[str, ...] | list[str]) -> str:
    """Tuple of 6 edge ops (canonical edge order) -> arch string."""
    if len(ops) != len(EDGES) or any(op not in OPS for op in ops):
        raise TrainfreeError(f"need 6 ops from {OPS}, got {ops!r}")
    a = list(ops)
    return f"|{a[0]}~0|+|{a[1]}~0|{a[2]}~1|+|{a[3]}~0|{a[4]}~1|{a[5]}~2|"


def canonical(arch: str) -> str:
    """Validate ``arch`` and return its canonical string (whitespace stripped)."""
    return format_arch(parse(arch))


def spec(arch: str) -> str:
    """The rebuildable form of ``arch``: for NB201 the canonical string itself."""
    return canonical(arch)


def all_archs() -> list[str]:
    """All 15,625 arch strings in lexicographic op-index order (not benchmark order)."""
    return [format_arch(ops) for ops in itertools.product(OPS, repeat=len(EDGES))]


def sample(n: int, seed: int) -> list[str]:
    """``n`` distinct arch strings drawn uniformly from the 15,625 cells with ``seed``."""
    if not 0 < n <= N_ARCHS:
        raise TrainfreeError(f"sample size must be in 1..{N_ARCHS}, got {n}")
    rng = np.random.default_rng(seed)
    codes = rng.choice(N_ARCHS, size=n, replace=False)
    digits = [np.unravel_index(c, (len(OPS),) * len(EDGES)) for c in codes]
    return [format_arch(tuple(OPS[k] for k in d)) for d in digits]


# --------------------------------------------------------------------------- network


class ReLUConvBN(nn.Sequential):
    """ReLU -> Conv(k, stride, no bias) -> BN: the benchmark's ``nor_conv_kxk``."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int, padding: int):
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, k, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(c_out),
        )


class Zero(nn.Module):
    """``none``: output zeros but stay in the autograd graph (as the benchmark does)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def make_op(op: str, c: int) -> nn.Module:
    """One cell edge on ``c`` channels, stride 1 (the only case inside NB201 cells)."""
    if op == "none":
        return Zero()
    if op == "skip_connect":
        return nn.Identity()
    if op == "nor_conv_1x1":
        return ReLUConvBN(c, c, 1, 1, 0)
    if op == "nor_conv_3x3":
        return ReLUConvBN(c, c, 3, 1, 1)
    if op == "avg_pool_3x3":
        return AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise TrainfreeError(f"unknown NB201 op {op!r}; choose one of {OPS}")


class Cell(nn.Module):
    def __init__(self, ops: tuple[str, ...], c: int):
        super().__init__()
        self.edges = nn.ModuleList(make_op(op, c) for op in ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        k = 0
        for j in range(1, 4):
            total = None
            for i in range(j):
                y = self.edges[k](nodes[i])
                total = y if total is None else total + y
                k += 1
            nodes.append(total)
        return nodes[3]


class ResBlock(nn.Module):
    """Stride-2 ResNet basic block joining two stages (avg-pool + 1x1 conv shortcut)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.downsample = nn.Sequential(
            AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class NB201Network(nn.Module):
    """The NB201 network: returns logits of shape (batch, num_classes)."""

    def __init__(self, arch: str, C: int = 16, N: int = 5, num_classes: int = 10):
        super().__init__()
        ops = parse(arch)
        self.arch = format_arch(ops)
        self.stem = nn.Sequential(nn.Conv2d(3, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))
        cells: list[nn.Module] = []
        c_prev = C
        for stage, c in enumerate((C, 2 * C, 4 * C)):
            if stage > 0:
                cells.append(ResBlock(c_prev, c))
            cells.extend(Cell(ops, c) for _ in range(N))
            c_prev = c
        self.cells = nn.Sequential(*cells)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=False))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.lastact(self.cells(self.stem(x)))
        return self.classifier(torch.flatten(self.pool(x), 1))


def build_model(arch: str, C: int = 16, N: int = 5, num_classes: int = 10) -> NB201Network:
    """Benchmark network for ``arch`` with default PyTorch init (C=16, N=5 is NB201's)."""
    return NB201Network(arch, C=C, N=N, num_classes=num_classes)


def count_params(model: nn.Module) -> int:
    """Number of parameters (BN affine included), as the benchmark counts them."""
    return sum(p.numel() for p in model.parameters())
