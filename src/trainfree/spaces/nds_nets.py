"""Networks of the NDS design spaces (Radosavovic et al., ICCV 2019), written from the
definitions in the authors' ``pycls`` code (the NAS cell network of ``pycls/models/nas``
and the stage/block network of ``pycls/models/anynet.py`` of the NDS era).

Cell spaces (DARTS, ENAS, PNAS, NASNet, Amoeba): a genotype lists, per cell, pairs
``[op, input]``; cell step ``i`` sums the ops of pairs ``2i`` and ``2i+1`` applied to
their inputs (0, 1 = the two previous cells, ``k >= 2`` = step ``k - 2``); the cell
output concatenates the states listed in ``*_concat``. ``depth`` cells in total, the
ones at ``depth // 3`` and ``2 * depth // 3`` are reduction cells (stride 2, channels
doubled); ``width`` is the first stage's cell channel count. CIFAR stem: 3x3 conv to
``3 * width`` + BN; ImageNet stem: three stride-2 3x3 convs. Head: global average pool,
linear. An auxiliary head (record ``aux: true``) is built, as the trained model had
one, but never called: forward returns the main logits only.

Block spaces (Vanilla, ResNet, ResNeXt): a stem, then stages ``i`` of ``ds[i]`` blocks
of width ``ws[i]`` (first block stride ``ss[i]``), global average pool, linear. Blocks:
``vanilla_block`` (``double_plain_block``) = [3x3 conv, BN, ReLU] x 2; ``res_basic_block``
= x + [3x3, BN, ReLU, 3x3, BN], then ReLU; ``res_bottleneck_block`` = x + [1x1 to
``round(w * bot_mul)``, BN, ReLU, grouped 3x3, BN, ReLU, 1x1, BN], then ReLU; a 1x1
conv + BN projects the shortcut whenever the shape changes. Groups: ``num_gs`` is the
number of groups (NDS-era pycls), ``gws`` a group width (later pycls: groups =
bottleneck width // gw). Weight init of the block networks is pycls's (He-normal
fan-out convs, BN 1/0, linear N(0, 0.01)); cell networks keep PyTorch's default init,
as pycls's NAS network does. Every ReLU is out-of-place so hooks see its true input.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from trainfree.errors import TrainfreeError
from trainfree.spaces import darts
from trainfree.spaces.darts import Zero
from trainfree.spaces.pooling import AvgPool2d, MaxPool2d

# ------------------------------------------------------------------------ cell ops


def _relu_conv_bn(c_in: int, c_out: int, k: int | tuple, stride, padding) -> nn.Sequential:
    return nn.Sequential(nn.ReLU(inplace=False),
                         nn.Conv2d(c_in, c_out, k, stride=stride, padding=padding, bias=False),
                         nn.BatchNorm2d(c_out))


def _sep_conv(c: int, k: int, stride: int, padding: int, dilation: int = 1) -> nn.Sequential:
    """Two stacked [ReLU, depthwise k x k, pointwise 1x1, BN] (stride on the first)."""
    layers: list[nn.Module] = []
    for s in (stride, 1):
        layers += [nn.ReLU(inplace=False),
                   nn.Conv2d(c, c, k, stride=s, padding=padding, dilation=dilation, groups=c, bias=False),
                   nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c)]
    return nn.Sequential(*layers)


def _dil_conv(c: int, k: int, stride: int, padding: int, dilation: int) -> nn.Sequential:
    return nn.Sequential(nn.ReLU(inplace=False),
                         nn.Conv2d(c, c, k, stride=stride, padding=padding, dilation=dilation, groups=c,
                                   bias=False),
                         nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c))


def _factorised(c: int, k: int, stride: int) -> nn.Sequential:
    """ReLU, 1 x k conv, k x 1 conv, BN (``conv_3x1_1x3``, ``conv_7x1_1x7``)."""
    p = k // 2
    return nn.Sequential(nn.ReLU(inplace=False),
                         nn.Conv2d(c, c, (1, k), stride=(1, stride), padding=(0, p), bias=False),
                         nn.Conv2d(c, c, (k, 1), stride=(stride, 1), padding=(p, 0), bias=False),
                         nn.BatchNorm2d(c))


class FactorizedReduce(darts.FactorizedReduce):
    """The DARTS reduction (``darts.FactorizedReduce``) with pycls's handling of odd sizes:
    the input is padded by one pixel before the one-pixel shift, so both halves agree."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        shifted = nn.functional.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:]
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(shifted)], dim=1))


def _pool(kind: str, k: int, stride: int) -> nn.Module:
    p = 0 if k == 2 else k // 2
    if kind == "avg":
        return AvgPool2d(k, stride=stride, padding=p, count_include_pad=False)
    return MaxPool2d(k, stride=stride, padding=p)


CELL_OPS: dict = {
    "none": lambda c, s: Zero(s),
    "avg_pool_2x2": lambda c, s: _pool("avg", 2, s),
    "avg_pool_3x3": lambda c, s: _pool("avg", 3, s),
    "avg_pool_5x5": lambda c, s: _pool("avg", 5, s),
    "max_pool_2x2": lambda c, s: _pool("max", 2, s),
    "max_pool_3x3": lambda c, s: _pool("max", 3, s),
    "max_pool_5x5": lambda c, s: _pool("max", 5, s),
    "max_pool_7x7": lambda c, s: _pool("max", 7, s),
    "skip_connect": lambda c, s: nn.Identity() if s == 1 else FactorizedReduce(c, c),
    "conv_1x1": lambda c, s: _relu_conv_bn(c, c, 1, s, 0),
    "conv_3x3": lambda c, s: _relu_conv_bn(c, c, 3, s, 1),
    "sep_conv_3x3": lambda c, s: _sep_conv(c, 3, s, 1),
    "sep_conv_5x5": lambda c, s: _sep_conv(c, 5, s, 2),
    "sep_conv_7x7": lambda c, s: _sep_conv(c, 7, s, 3),
    "dil_conv_3x3": lambda c, s: _dil_conv(c, 3, s, 2, 2),
    "dil_conv_5x5": lambda c, s: _dil_conv(c, 5, s, 4, 2),
    "dil_sep_conv_3x3": lambda c, s: _sep_conv(c, 3, s, 2, 2),
    "conv_3x1_1x3": lambda c, s: _factorised(c, 3, s),
    "conv_7x1_1x7": lambda c, s: _factorised(c, 7, s),
}


# ------------------------------------------------------------------- cell network


class Cell(nn.Module):
    """One NAS cell on ``c`` channels; output has ``len(concat) * c`` channels."""

    def __init__(self, pairs: list, concat: list, c_pp: int, c_p: int, c: int, reduction: bool,
                 reduction_prev: bool):
        super().__init__()
        self.preprocess0 = FactorizedReduce(c_pp, c) if reduction_prev else _relu_conv_bn(c_pp, c, 1, 1, 0)
        self.preprocess1 = _relu_conv_bn(c_p, c, 1, 1, 0)
        self.indices = [int(i) for _, i in pairs]
        self.concat = [int(i) for i in concat]
        self.ops = nn.ModuleList(CELL_OPS[op](c, 2 if reduction and i < 2 else 1) for op, i in pairs)
        self.steps = len(pairs) // 2

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for i in range(self.steps):
            a, b = 2 * i, 2 * i + 1
            states.append(self.ops[a](states[self.indices[a]]) + self.ops[b](states[self.indices[b]]))
        return torch.cat([states[i] for i in self.concat], dim=1)


def _aux_head(c: int, num_classes: int, imagenet: bool) -> nn.Module:
    """The auxiliary classifier of the trained model (built for its parameters, never called)."""
    layers: list[nn.Module] = [
        nn.ReLU(inplace=False),
        AvgPool2d(5, stride=2 if imagenet else 3, padding=0, count_include_pad=False),
        nn.Conv2d(c, 128, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(inplace=False),
        nn.Conv2d(128, 768, 2, bias=False),
    ]
    if not imagenet:  # pycls's ImageNet auxiliary head has no BN after its 2x2 conv
        layers.append(nn.BatchNorm2d(768))
    layers.append(nn.ReLU(inplace=False))
    return nn.ModuleDict({"features": nn.Sequential(*layers), "classifier": nn.Linear(768, num_classes)})


class CellNetwork(nn.Module):
    """NDS cell network (CIFAR or ImageNet stem); forward returns (batch, num_classes) logits."""

    def __init__(self, genotype: dict, width: int, depth: int, aux: bool = False, imagenet: bool = False,
                 num_classes: int = 10):
        super().__init__()
        c = width
        if imagenet:
            self.stem0 = nn.Sequential(
                nn.Conv2d(3, c // 2, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c // 2),
                nn.ReLU(inplace=False), nn.Conv2d(c // 2, c, 3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(c))
            self.stem1 = nn.Sequential(nn.ReLU(inplace=False),
                                       nn.Conv2d(c, c, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c))
            c_pp, c_p, reduction_prev = c, c, True
        else:
            self.stem = nn.Sequential(nn.Conv2d(3, 3 * c, 3, padding=1, bias=False), nn.BatchNorm2d(3 * c))
            c_pp, c_p, reduction_prev = 3 * c, 3 * c, False
        self.imagenet = imagenet
        cells = []
        c_aux = c_p
        for i in range(depth):
            reduction = i in (depth // 3, 2 * depth // 3)
            if reduction:
                c *= 2
            kind = "reduce" if reduction else "normal"
            cell = Cell(genotype[kind], genotype[f"{kind}_concat"], c_pp, c_p, c, reduction, reduction_prev)
            cells.append(cell)
            reduction_prev = reduction
            c_pp, c_p = c_p, len(cell.concat) * c
            if i == 2 * depth // 3:
                c_aux = c_p
        self.cells = nn.ModuleList(cells)
        self.auxiliary_head = _aux_head(c_aux, num_classes, imagenet) if aux else None
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_p, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.imagenet:
            s0 = self.stem0(x)
            s1 = self.stem1(s0)
        else:
            s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(torch.flatten(self.pool(s1), 1))


# ------------------------------------------------------------------ block network


def _conv_bn(c_in: int, c_out: int, k: int, stride: int, groups: int = 1) -> list[nn.Module]:
    conv = nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, groups=groups, bias=False)
    return [conv, nn.BatchNorm2d(c_out)]


class VanillaBlock(nn.Sequential):
    """[3x3 conv, BN, ReLU] x 2, no shortcut."""

    def __init__(self, w_in: int, w_out: int, stride: int):
        super().__init__(*_conv_bn(w_in, w_out, 3, stride), nn.ReLU(inplace=False),
                         *_conv_bn(w_out, w_out, 3, 1), nn.ReLU(inplace=False))


class ResidualBlock(nn.Module):
    """x + F(x) (projected shortcut when the shape changes), then ReLU."""

    def __init__(self, w_in: int, w_out: int, stride: int, bottleneck: bool, bot_mul: float = 1.0,
                 groups: int = 1):
        super().__init__()
        self.proj = nn.Sequential(*_conv_bn(w_in, w_out, 1, stride)) if (w_in != w_out or stride != 1) else None
        if bottleneck:
            w_b = int(round(w_out * bot_mul))
            if w_b % groups:
                raise TrainfreeError(f"bottleneck width {w_b} is not divisible by {groups} groups")
            self.f = nn.Sequential(*_conv_bn(w_in, w_b, 1, 1), nn.ReLU(inplace=False),
                                   *_conv_bn(w_b, w_b, 3, stride, groups), nn.ReLU(inplace=False),
                                   *_conv_bn(w_b, w_out, 1, 1))
        else:
            self.f = nn.Sequential(*_conv_bn(w_in, w_out, 3, stride), nn.ReLU(inplace=False),
                                   *_conv_bn(w_out, w_out, 3, 1))
        self.relu = nn.ReLU(inplace=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.proj is None else self.proj(x)
        return self.relu(shortcut + self.f(x))


STEMS = ("res_stem_cifar", "res_stem_in", "simple_stem_in")
BLOCKS = ("vanilla_block", "double_plain_block", "res_basic_block", "res_bottleneck_block")


def _stem(kind: str, w: int) -> nn.Sequential:
    if kind == "res_stem_cifar":
        return nn.Sequential(*_conv_bn(3, w, 3, 1), nn.ReLU(inplace=False))
    if kind == "res_stem_in":
        return nn.Sequential(nn.Conv2d(3, w, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(w),
                             nn.ReLU(inplace=False), MaxPool2d(3, stride=2, padding=1))
    if kind == "simple_stem_in":
        return nn.Sequential(*_conv_bn(3, w, 3, 2), nn.ReLU(inplace=False))
    raise TrainfreeError(f"unknown NDS stem type {kind!r}; choose one of {STEMS}")


def _init_pycls(m: nn.Module) -> None:
    if isinstance(m, nn.Conv2d):
        fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
        nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / fan_out))
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)
    elif isinstance(m, nn.Linear):
        nn.init.normal_(m.weight, 0.0, 0.01)
        nn.init.zeros_(m.bias)


class BlockNetwork(nn.Module):
    """NDS block network: stem, stages of blocks, pool, linear -> (batch, num_classes) logits.

    ``groups[i]`` is the group count of stage ``i``'s 3x3 conv (bottleneck blocks only).
    """

    def __init__(self, block_type: str, ds: list[int], ws: list[int], ss: list[int],
                 bot_muls: list[float], groups: list[int], stem_type: str, stem_w: int,
                 num_classes: int = 10):
        super().__init__()
        if block_type not in BLOCKS:
            raise TrainfreeError(f"unknown NDS block type {block_type!r}; choose one of {BLOCKS}")
        self.stem = _stem(stem_type, stem_w)
        stages = []
        w_prev = stem_w
        for d, w, s, bm, g in zip(ds, ws, ss, bot_muls, groups):
            blocks = []
            for j in range(d):
                w_in, stride = (w_prev, s) if j == 0 else (w, 1)
                if block_type in ("vanilla_block", "double_plain_block"):
                    blocks.append(VanillaBlock(w_in, w, stride))
                else:
                    blocks.append(ResidualBlock(w_in, w, stride, block_type == "res_bottleneck_block", bm, g))
            stages.append(nn.Sequential(*blocks))
            w_prev = w
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(w_prev, num_classes)
        self.apply(_init_pycls)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.stages(self.stem(x))), 1))
