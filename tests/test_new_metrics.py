"""SWAP, MeCo, AZ-NAS, GradSign and TE-NAS metrics: hand-computable cases, references, registry."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from trainfree.metrics import ScoringContext, get_metric, list_metrics, resolve, score_network
from trainfree.metrics.az_nas import (
    AZ_COMPONENTS,
    az_nas_aggregate,
    block_trainability,
    feature_blocks,
    feature_entropy,
)
from trainfree.metrics.cost import count_macs
from trainfree.metrics.meco import meco_score
from trainfree.metrics.swap import (
    SWAP_MU,
    SWAP_SIGMA,
    count_unique_rows,
    relu_output_codes,
    swap_count,
)
from trainfree.metrics.tenas import condition_number, linear_regions, tenas_ntk
from trainfree.spaces import get_space

NEW = ("swap", "swap_reg", "meco", "gradsign", "tenas_linear_regions", "tenas_ntk_condnum", *AZ_COMPONENTS)
ARCH = "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|skip_connect~2|"
DEAD = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"


def _small(arch: str = ARCH, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return get_space("nb201").build_model(arch, C=8, N=1)


def _batch(n: int = 16, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 32, 32, generator=g), torch.randint(0, 10, (n,), generator=g)


# --------------------------------------------------------------------------- registry


def test_registered_with_docs_and_directions():
    names = list_metrics()
    assert set(NEW) <= set(names)
    for n in NEW:
        m = get_metric(n)
        assert m.doc, n
        assert m.higher_is_better == (n != "tenas_ntk_condnum"), n
    assert get_metric("gradsign").needs_labels
    assert not get_metric("swap").uses_weights and not get_metric("az_expressivity").uses_weights
    assert get_metric("meco").uses_weights and get_metric("tenas_ntk_condnum").uses_weights


def test_new_metrics_do_not_change_existing_values():
    x, y = _batch()
    old = [n for n in list_metrics() if n not in NEW]
    model = _small()
    a = score_network(ScoringContext(copy.deepcopy(model), x, y), resolve(old))
    b = score_network(ScoringContext(copy.deepcopy(model), x, y), resolve(list(NEW) + old))
    for n in old:
        va, vb = a[n][0], b[n][0]
        assert (math.isnan(va) and math.isnan(vb)) or va == vb, n


def test_deterministic_and_finite():
    x, y = _batch()
    runs = [score_network(ScoringContext(_small(), x, y), resolve(list(NEW))) for _ in range(2)]
    for n in NEW:
        assert runs[0][n][0] == runs[1][n][0], n
        assert math.isfinite(runs[0][n][0]), n


# --------------------------------------------------------------------------- SWAP / linear regions


def test_swap_counts_distinct_columns_and_regions_distinct_rows():
    codes = torch.tensor([[1, 0, 1, 1, 0],
                          [0, 0, 1, 1, 0],
                          [1, 0, 1, 1, 0]], dtype=torch.bool)
    # columns (1,0,1), (0,0,0), (1,1,1), (1,1,1), (0,0,0) -> 3 distinct
    assert swap_count(codes) == 3
    # rows: sample 0 == sample 2 -> 2 distinct patterns
    assert count_unique_rows(codes.numpy()) == 2
    rng = np.random.default_rng(0)
    for n in (5, 16, 17, 70):  # each packing path against a set of tuples
        c = rng.random((n, 300)) < 0.5
        c[:, 150:] = c[:, :1]
        assert swap_count(torch.from_numpy(c)) == len({tuple(col) for col in c.T})
        assert count_unique_rows(c.T) == len({tuple(col) for col in c.T})


def _three_lines() -> nn.Module:
    """ReLU(W p + b) for p in the plane: the lines x = 0, y = 0 and x + y = 1 cut it into 7 regions."""
    conv = nn.Conv2d(2, 3, 1)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]).view(3, 2, 1, 1))
        conv.bias.copy_(torch.tensor([0.0, 0.0, -1.0]))
    return nn.Sequential(conv, nn.ReLU())


def test_linear_regions_of_three_lines_in_the_plane():
    g = torch.linspace(-3, 3, 41)
    pts = torch.cartesian_prod(g, g + 0.01)  # off the lines
    x = pts.view(-1, 2, 1, 1)
    assert linear_regions(_three_lines(), x) == 7.0
    # only a corner of the plane: x > 0, y > 0 holds 2 regions (below and above x + y = 1)
    assert linear_regions(_three_lines(), x[(pts > 0).all(1)]) == 2.0
    # the metric: Gaussian inputs of the batch's shape (2,000 points reach all 7 regions)
    ctx = ScoringContext(_three_lines(), torch.zeros(2000, 2, 1, 1), None)
    assert score_network(ctx, resolve(["tenas_linear_regions"]))["tenas_linear_regions"][0] == 7.0


def test_swap_on_the_three_line_net_counts_its_units():
    g = torch.linspace(-3, 3, 41)
    x = torch.cartesian_prod(g, g + 0.01).view(-1, 2, 1, 1)
    net = _three_lines()
    assert swap_count(relu_output_codes(net, x)) == 3  # three units, three different patterns
    conv = nn.Conv2d(2, 4, 1)  # a fourth unit that repeats the first: still 3 patterns
    with torch.no_grad():
        conv.weight.copy_(torch.cat([net[0].weight, net[0].weight[:1]]))
        conv.bias.copy_(torch.cat([net[0].bias, net[0].bias[:1]]))
    assert swap_count(relu_output_codes(nn.Sequential(conv, nn.ReLU()), x)) == 3
    # the metric (Gaussian re-initialisations, 16 samples): at most 3, and the regulariser
    s = score_network(ScoringContext(_three_lines(), x[::50], None), resolve(["swap", "swap_reg"]))
    assert 1.0 < s["swap"][0] <= 3.0
    n_params = 9  # 6 weights + 3 biases
    assert s["swap_reg"][0] == pytest.approx(s["swap"][0] * math.exp(-((n_params / 1e3 - SWAP_MU) ** 2) / SWAP_SIGMA))
    dead = nn.Sequential(nn.Conv2d(2, 3, 1), nn.ReLU())
    dead[0].forward = lambda t: torch.zeros(t.shape[0], 3, 1, 1)
    assert score_network(ScoringContext(dead, x[::50], None), resolve(["swap"]))["swap"][0] == 1.0


# --------------------------------------------------------------------------- MeCo


def test_meco_two_channels_by_hand():
    # one module (Identity) inside a Sequential: both hooks see the same (1, 2, 3) output;
    # rows a, b of sample 0 have correlation r, eigenvalues 1 ± |r|, so meco = 2 (1 − |r|)
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0])
    r = np.sum((a - a.mean()) * (b - b.mean())) / math.sqrt(np.sum((a - a.mean()) ** 2) * np.sum((b - b.mean()) ** 2))
    x = torch.tensor(np.stack([a, b])[None], dtype=torch.float32)
    assert meco_score(nn.Sequential(nn.Identity()), x) == pytest.approx(2 * (1 - abs(r)), rel=1e-6)
    # a constant channel: NaN correlations set to 0 -> matrix [[0, 0], [0, 1]] (NaN diagonal too) -> 0
    xc = torch.tensor([[[1.0, 1.0, 1.0], [1.0, 2.0, 5.0]]])
    assert meco_score(nn.Sequential(nn.Identity()), xc) == pytest.approx(0.0, abs=1e-12)


def test_meco_uses_the_first_image_alone():
    x, y = _batch()
    s = score_network(ScoringContext(_small(), x, y), resolve(["meco"]))["meco"][0]
    assert s == meco_score(_small(), x[:1])


# --------------------------------------------------------------------------- GradSign


def test_gradsign_matches_per_sample_signs_by_hand():
    torch.manual_seed(0)
    lin = nn.Linear(3, 2, bias=False)
    x = torch.randn(5, 3)
    y = torch.tensor([0, 1, 1, 0, 1])
    W = lin.weight.detach().numpy().astype(np.float64)
    total = np.zeros_like(W)
    for xi, yi in zip(x.numpy().astype(np.float64), y.numpy()):
        z = W @ xi
        p = np.exp(z - z.max())
        p /= p.sum()
        p[yi] -= 1.0
        total += np.sign(np.outer(p, xi))  # dCE/dW for one sample
    ctx = ScoringContext(lin, x, y)
    assert score_network(ctx, resolve(["gradsign"]))["gradsign"][0] == np.abs(total).sum()


# --------------------------------------------------------------------------- TE-NAS NTK


def test_tenas_ntk_without_bn_equals_separate_per_sample_gradients():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 5))
    x = torch.randn(6, 3, 8, 8)
    gram = tenas_ntk(net, x)
    params = [p for n, p in net.named_parameters() if "weight" in n]  # biases excluded
    rows = []
    for i in range(6):
        g = torch.autograd.grad(net(x[i:i + 1]).sum(), params)
        rows.append(torch.cat([t.reshape(-1) for t in g]).double())
    G = torch.stack(rows)
    np.testing.assert_allclose(gram, (G @ G.T).numpy(), rtol=1e-5)
    lam = np.linalg.eigvalsh(gram)
    assert condition_number(gram) == pytest.approx(lam[-1] / lam[0])
    assert condition_number(np.zeros((3, 3))) == 1e5  # 0/0 of a dead network: the official 1e5


def test_tenas_ntk_includes_bn_weights():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                        nn.Linear(4 * 6 * 6, 5))
    x = torch.randn(6, 3, 8, 8)
    full = tenas_ntk(net, x)
    bn_w = net[1].weight
    logits = net(x)
    g_bn = torch.stack([torch.autograd.grad(logits[i].sum(), bn_w, retain_graph=True)[0] for i in range(6)]).double()
    assert np.abs(g_bn.numpy()).sum() > 0
    # removing BN γ's contribution leaves a different kernel: it is part of Θ
    assert not np.allclose(full, full - (g_bn @ g_bn.T).numpy())


# --------------------------------------------------------------------------- AZ-NAS


def test_feature_entropy_of_two_orthogonal_channels_is_log2():
    ch0 = torch.tensor([1.0, -1.0, 1.0, -1.0])
    ch1 = torch.tensor([1.0, 1.0, -1.0, -1.0])
    f = torch.stack([ch0, ch1]).view(1, 2, 2, 2)  # b=1, c=2, h=w=2: covariance = I
    assert feature_entropy(f) == pytest.approx(math.log(2), abs=1e-7)
    # one channel carries everything: entropy 0
    assert feature_entropy(torch.stack([ch0, 0 * ch1]).view(1, 2, 2, 2)) == pytest.approx(0.0, abs=1e-6)


def test_block_trainability_by_hand():
    gen = torch.Generator().manual_seed(0)
    f_in = torch.randn(2, 1, 4, 4, requires_grad=True)
    # a block that scales by a: g_in = a g_out, M = a · mean(g_out²) = a (one channel), σ = a
    assert block_trainability(f_in, 2.0 * f_in, gen) == pytest.approx(2 - 2 - 1 / (2 + 1e-6))
    f_in = torch.randn(2, 1, 4, 4, requires_grad=True)
    assert block_trainability(f_in, f_in * 1.0, gen) == -math.inf  # an identity block


def test_feature_blocks_of_nb201_are_stem_and_cells():
    net = _small()
    blocks = feature_blocks(net)
    assert blocks[0] is net.stem and blocks[1:] == list(net.cells)
    with pytest.raises(NotImplementedError, match="no feature blocks"):
        feature_blocks(nn.Linear(2, 2))


def test_az_complexity_is_the_benchmark_flops():
    net = _small()
    x, y = _batch()
    s = score_network(ScoringContext(net, x, y), resolve(["az_complexity", "flops"]))
    # our ``flops`` counts no biases; the benchmark's count adds the classifier's 10
    assert s["az_complexity"][0] == pytest.approx(s["flops"][0] + 10 / 1e6)
    assert s["flops"][0] == count_macs(net) / 1e6


def test_az_nas_aggregate_by_hand():
    t = pd.DataFrame({"az_complexity": [1.0, 2.0, 3.0], "az_expressivity": [3.0, 2.0, 1.0],
                      "az_progressivity": [1.0, 1.0, 2.0], "az_trainability": [np.nan, 0.0, -np.inf]},
                     index=["a", "b", "c"])
    got = az_nas_aggregate(t)
    # ranks: complexity 1,2,3; expressivity 3,2,1; progressivity 1.5,1.5,3;
    # trainability: NaN and -inf tie lowest (1.5, 1.5), 0.0 -> 3
    want = np.log(np.array([1, 2, 3]) / 3) + np.log(np.array([3, 2, 1]) / 3) \
        + np.log(np.array([1.5, 1.5, 3]) / 3) + np.log(np.array([1.5, 3, 1.5]) / 3)
    np.testing.assert_allclose(got.to_numpy(), want)
    assert list(got.index) == ["a", "b", "c"]
    with pytest.raises(KeyError, match="az_trainability"):
        az_nas_aggregate(t.drop(columns="az_trainability"))


def test_dead_network():
    x, y = _batch()
    s = score_network(ScoringContext(_small(DEAD), x, y), resolve(list(NEW)))
    assert s["swap"][0] == 1.0 and s["tenas_linear_regions"][0] == 1.0
    assert s["gradsign"][0] == 0.0
    assert s["tenas_ntk_condnum"][0] == 1e5
    assert math.isnan(s["az_expressivity"][0])  # zero features: 0/0, the official -inf

