"""The spaces' pooling layers (channels-last on the CPU) equal torch.nn's bit for bit."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from trainfree.spaces import get_space, pooling

# every pooling configuration the spaces build (kernel, stride, padding[, count_include_pad])
AVG = [(3, 1, 1, False), (2, 2, 0, True), (5, 3, 0, False), (5, 2, 0, False), (3, 2, 1, False)]
MAX = [(3, 1, 1), (2, 2, 0), (3, 2, 1)]
SHAPES = [(8, 16, 32, 32), (5, 7, 9, 11), (1, 1, 8, 8), (3, 4, 5, 5)]


def _pairs():
    for k, s, p, cip in AVG:
        yield (nn.AvgPool2d(k, stride=s, padding=p, count_include_pad=cip),
               pooling.AvgPool2d(k, stride=s, padding=p, count_include_pad=cip))
    for k, s, p in MAX:
        yield nn.MaxPool2d(k, stride=s, padding=p), pooling.MaxPool2d(k, stride=s, padding=p)


@pytest.mark.parametrize("shape", SHAPES)
def test_pooling_equals_torch_nn_forward_and_backward(shape):
    gen = torch.Generator().manual_seed(sum(shape))
    for ref, ours in _pairs():
        x = torch.randn(*shape, generator=gen)
        with torch.no_grad():
            want, got = ref(x), ours(x)
        assert got.is_contiguous() and torch.equal(got, want), ref
        xa, xb = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
        ya, yb = ref(xa), ours(xb)
        g = torch.randn(ya.shape, generator=gen)
        ya.backward(g)
        yb.backward(g)
        assert torch.equal(ya, yb) and torch.equal(xa.grad, xb.grad), ref


def test_gradient_reaches_the_pooling_kernel_channels_last():
    # the output is handed back contiguous through a function whose backward turns the
    # incoming gradient channels-last, so the pooling backward runs its channels-last kernel
    # (with a contiguous gradient against a channels-last input it took ~5x longer)
    x = torch.randn(4, 16, 8, 8, requires_grad=True)
    for _ref, ours in _pairs():
        y = ours(x)
        assert y.is_contiguous() and type(y.grad_fn).__name__ == "_ToContiguousBackward", ours
        pool_node = y.grad_fn.next_functions[0][0]
        assert "Pool" in type(pool_node).__name__, ours


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # raised inside torch.func itself
def test_pooling_works_under_forward_mode_and_torch_func():
    gen = torch.Generator().manual_seed(7)
    x, t = torch.randn(4, 8, 9, 9, generator=gen), torch.randn(4, 8, 9, 9, generator=gen)
    for ref, ours in _pairs():
        (y0, t0), (y1, t1) = torch.func.jvp(ref, (x,), (t,)), torch.func.jvp(ours, (x,), (t,))
        assert torch.equal(y0, y1) and torch.equal(t0, t1), ref
        g0, g1 = (torch.func.grad(lambda v, m=m: m(v).square().sum())(x) for m in (ref, ours))
        assert torch.equal(g0, g1), ref


def test_pooling_keeps_torch_nn_behaviour_elsewhere():
    # 3-D input (unbatched) and a non-contiguous view go through torch.nn's path unchanged
    x = torch.randn(4, 9, 9)
    assert torch.equal(pooling.AvgPool2d(3, 1, 1)(x), nn.AvgPool2d(3, 1, 1)(x))
    v = torch.randn(2, 4, 9, 9).transpose(2, 3)
    assert torch.equal(pooling.MaxPool2d(3, 1, 1)(v), nn.MaxPool2d(3, 1, 1)(v))
    y, idx = pooling.MaxPool2d(2, 2, return_indices=True)(torch.randn(2, 3, 4, 4))
    assert y.shape == idx.shape == (2, 3, 2, 2)
    assert isinstance(pooling.AvgPool2d(2), nn.AvgPool2d) and isinstance(pooling.MaxPool2d(2), nn.MaxPool2d)


def test_benchmark_networks_pool_with_these_layers():
    arch = "|avg_pool_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|skip_connect~0|avg_pool_3x3~1|none~2|"
    net = get_space("nb201").build_model(arch)
    pools = [m for m in net.modules() if isinstance(m, (nn.AvgPool2d, nn.MaxPool2d))]
    assert len(pools) == 3 * 15 + 2  # three pooling edges in each of 15 cells, two reduction shortcuts
    for space in ("nb101", "darts"):
        sp = get_space(space)
        for a in sp.sample(3, 0):
            pools += [m for m in sp.build_model(a).modules() if isinstance(m, (nn.AvgPool2d, nn.MaxPool2d))]
    assert all(type(m) in (pooling.AvgPool2d, pooling.MaxPool2d) for m in pools)


def _with_torch_nn_pooling(net: nn.Module) -> nn.Module:
    """A copy of ``net`` whose pooling layers are torch.nn's own."""
    import copy

    ref = copy.deepcopy(net)
    for m in list(ref.modules()):
        for child_name, child in list(m.named_children()):
            if type(child) is pooling.AvgPool2d:
                setattr(m, child_name, nn.AvgPool2d(child.kernel_size, child.stride, child.padding,
                                                    count_include_pad=child.count_include_pad))
            elif type(child) is pooling.MaxPool2d:
                setattr(m, child_name, nn.MaxPool2d(child.kernel_size, child.stride, child.padding))
    return ref


def test_whole_network_gradients_and_hessian_products_are_bit_identical():
    # A channels-last gradient reaching the convolutions upstream would change their
    # backward's rounding: compare every parameter's gradient and a GraSP-style H g.
    arch = "|avg_pool_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|"
    torch.manual_seed(0)
    ours = get_space("nb201").build_model(arch, C=8, N=1)
    ref = _with_torch_nn_pooling(ours)
    assert not any(type(m) in (pooling.AvgPool2d, pooling.MaxPool2d) for m in ref.modules())
    x = torch.randn(6, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([0, 1, 2, 3, 4, 5])
    results = []
    for net in (ours, ref):
        ws = [p for p in net.parameters()]
        loss = nn.functional.cross_entropy(net(x), y)
        g = torch.autograd.grad(loss, ws, create_graph=True)
        z = sum((gi.detach() * gi).sum() for gi in g)
        hg = torch.autograd.grad(z, ws)
        results.append(([t.detach() for t in g], hg))
    for a, b in zip(results[0][0] + list(results[0][1]), results[1][0] + list(results[1][1])):
        assert torch.equal(a, b)
