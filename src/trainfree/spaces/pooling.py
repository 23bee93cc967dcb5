"""Pooling layers of the benchmark networks, run in channels-last memory on the CPU.

PyTorch's CPU pooling kernels for contiguous (N, C, H, W) tensors handle one output
element at a time; its channels-last kernels vectorise over the channels. On the NB201
network at batch 128 a 3x3 average pool of a (128, 16, 32, 32) map takes about 9 ms in
the first layout and 3 ms in the second, conversions included (a 3x3 convolution of the
same map: about 3 ms), so the pooling edges were a third of a typical NB201 forward.

``AvgPool2d`` and ``MaxPool2d`` here are ``torch.nn``'s (same arguments, same
``isinstance``), with one change: on the CPU a 4-D input is pooled in channels-last
memory and the result handed back contiguous, and the gradient it passes back to its
input is contiguous too (a channels-last gradient would send the convolutions' backward
upstream through their channels-last kernels, which round differently). Both conversions
are autograd functions, so the gradient arriving at the output is turned channels-last
before the pooling backward runs: given a contiguous gradient for a channels-last input,
the CPU backward kernel takes its slow path (3x3 average pool of (64, 16, 32, 32), 2
threads: 4.8 ms against 1.0 ms, the conversion about 0.3 ms). The functions also define
forward-mode derivatives, so ``torch.func.jvp`` and ``torch.func.grad`` go through these
layers (no vmap rule is defined). Each output is
the same window reduced in the same order, so outputs and gradients are bit-identical to
``torch.nn``'s (``tests/test_pooling.py`` checks every configuration the spaces use, and
whole networks); elsewhere, and for other inputs, they are ``torch.nn``'s layers unchanged.
"""

from __future__ import annotations

import torch
from torch import nn


def _channels_last(x: torch.Tensor) -> bool:
    return x.dim() == 4 and x.device.type == "cpu" and x.is_contiguous()


class _ToChannelsLast(torch.autograd.Function):
    """``x`` in channels-last memory; its gradient goes back contiguous (and so on, for
    higher derivatives: the backward is built of differentiable operations)."""

    @staticmethod
    def forward(x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        pass

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return _ToContiguous.apply(grad)

    @staticmethod
    def jvp(ctx, tangent: torch.Tensor) -> torch.Tensor:
        return tangent.contiguous(memory_format=torch.channels_last)


class _ToContiguous(torch.autograd.Function):
    """``x`` in contiguous memory; its gradient goes back channels-last."""

    @staticmethod
    def forward(x: torch.Tensor) -> torch.Tensor:
        return x.contiguous()

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        pass

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return _ToChannelsLast.apply(grad)

    @staticmethod
    def jvp(ctx, tangent: torch.Tensor) -> torch.Tensor:
        return tangent.contiguous()


class AvgPool2d(nn.AvgPool2d):
    """``torch.nn.AvgPool2d``, pooled in channels-last memory on the CPU (same values)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if _channels_last(x):
            return _ToContiguous.apply(super().forward(_ToChannelsLast.apply(x)))
        return super().forward(x)


class MaxPool2d(nn.MaxPool2d):
    """``torch.nn.MaxPool2d``, pooled in channels-last memory on the CPU (same values)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if _channels_last(x) and not self.return_indices:
            return _ToContiguous.apply(super().forward(_ToChannelsLast.apply(x)))
        return super().forward(x)
