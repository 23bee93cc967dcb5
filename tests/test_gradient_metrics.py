"""Gradient metrics: the engine (all metrics sharing passes) against plain, one-metric-at-a-time
reference implementations written here, plus determinism, dead networks and directions."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from trainfree.metrics import ScoringContext, get_metric, list_metrics, resolve, score_network
from trainfree.metrics.gradient import ALL
from trainfree.search.hnas import hnas_criterion, hnas_weights
from trainfree.spaces import nb201

ARCHS = [
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
    "|avg_pool_3x3~0|+|skip_connect~0|none~1|+|nor_conv_1x1~0|avg_pool_3x3~1|nor_conv_1x1~2|",
    "|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|",
]
DEAD = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
N = 12


def _model(arch: str, seed: int = 3) -> nn.Module:
    torch.manual_seed(seed)
    return nb201.build_model(arch, C=8, N=1)


def _batch(n: int = N, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, 16, 16, generator=g)  # small images keep the references fast
    y = torch.arange(n) % 5  # every class present at least twice
    return x, y


def _weights(m: nn.Module) -> list[nn.Module]:
    return [mod for mod in m.modules() if isinstance(mod, (nn.Conv2d, nn.Linear))]


# --------------------------------------------------------------------------- references


def _ce_backward(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> nn.Module:
    m = copy.deepcopy(model).train()
    m.zero_grad()
    F.cross_entropy(m(x), y).backward()
    return m


def ref_grad_norm(model, x, y):
    m = _ce_backward(model, x, y)
    return sum(float(mod.weight.grad.norm()) for mod in _weights(m))


def ref_snip(model, x, y):
    m = _ce_backward(model, x, y)
    return sum(float((mod.weight.detach() * mod.weight.grad).abs().sum()) for mod in _weights(m))


def ref_plain(model, x, y):
    m = _ce_backward(model, x, y)
    return sum(float((mod.weight.detach() * mod.weight.grad).sum()) for mod in _weights(m))


def ref_fisher_channel(model, x, y):
    m = copy.deepcopy(model).train()
    acts, grads = [], []

    def fwd(_mod, _i, o):
        acts.append(o.detach())
        o.register_hook(lambda g: grads.append(g.detach()))

    hooks = [mod.register_forward_hook(fwd) for mod in _weights(m)]
    F.cross_entropy(m(x), y).backward()
    for h in hooks:
        h.remove()
    grads = grads[::-1]  # backward visits layers in reverse order
    total = 0.0
    for a, g in zip(acts, grads):
        assert a.shape == g.shape
        s = (a * g).sum((2, 3)) if a.dim() == 4 else a * g
        total += float(s.pow(2).mean(0).mul(0.5).sum())
    return total


def ref_fisher(model, x, y):
    """zero-cost-nas: each channel's value broadcast to its fan-in weights, then summed."""
    m = copy.deepcopy(model).train()
    acts, grads, fans = [], [], []

    def fwd(mod, _i, o):
        acts.append(o.detach())
        fans.append(mod.weight.shape[1:].numel())
        o.register_hook(lambda g: grads.append(g.detach()))

    hooks = [mod.register_forward_hook(fwd) for mod in _weights(m)]
    F.cross_entropy(m(x), y).backward()
    for h in hooks:
        h.remove()
    total = 0.0
    for a, g, fan in zip(acts, grads[::-1], fans):
        s = (a * g).sum((2, 3)) if a.dim() == 4 else a * g
        per_channel = s.pow(2).mean(0).mul(0.5)
        # broadcast each channel's value to its fan_in weights, then sum
        total += float(per_channel[:, None].expand(-1, fan).sum())
    return total


def ref_grasp(model, x, y):
    m = copy.deepcopy(model).train()
    ws = [mod.weight for mod in _weights(m)]
    gw = torch.autograd.grad(F.cross_entropy(m(x), y), ws)
    gf = torch.autograd.grad(F.cross_entropy(m(x), y), ws, create_graph=True)
    z = sum((a * b).sum() for a, b in zip(gw, gf))
    z.backward()
    return sum(float((-w.detach() * w.grad).sum()) for w in ws)


def ref_synflow(model, x, y):
    m = copy.deepcopy(model)
    for mod in m.modules():  # bypass BN: output := input
        if isinstance(mod, nn.BatchNorm2d):
            mod.register_forward_hook(lambda _m, i, _o: i[0])
    m = m.double().train()
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(p.abs())
    m.zero_grad()
    m(torch.ones(1, *x.shape[1:], dtype=torch.float64)).sum().backward()
    return sum(float((mod.weight.detach() * mod.weight.grad).abs().sum()) for mod in _weights(m))


def _input_jacobian(model, x):
    m = copy.deepcopy(model).train()
    xx = x.clone().requires_grad_(True)
    out = m(xx)
    out.backward(torch.ones_like(out))
    return xx.grad.reshape(len(x), -1).double().numpy()


def ref_jacob_cov(model, x, y):
    c = np.corrcoef(_input_jacobian(model, x))
    v = np.linalg.eig(c)[0].real
    return float(-np.sum(np.log(v + 1e-5) + 1.0 / (v + 1e-5)))


def ref_epe_nas(model, x, y):
    j = _input_jacobian(model, x)
    score = 0.0
    for c in sorted(set(y.tolist())):
        rows = np.vstack([j[i] for i in range(len(y)) if int(y[i]) == c])
        corr = np.corrcoef(rows)
        score += abs(float(np.sum(np.log(np.abs(corr) + 1e-5))))
    return score


def ref_l2_norm(model, x, y):
    return sum(float(mod.weight.detach().norm()) for mod in _weights(model))


def ref_zico(model, x, y):
    m = copy.deepcopy(model).train()
    half = len(x) // 2
    per = {i: [] for i in range(len(_weights(m)))}
    for lo, hi in ((0, half), (half, len(x))):
        m.zero_grad()
        F.cross_entropy(m(x[lo:hi]), y[lo:hi]).backward()
        for i, mod in enumerate(_weights(m)):
            per[i].append(mod.weight.grad.reshape(-1).double().numpy().copy())
    total = 0.0
    for g in per.values():
        g = np.array(g)
        sd = g.std(0)
        nz = np.nonzero(sd)[0]
        s = np.sum(np.mean(np.abs(g), 0)[nz] / sd[nz])
        if s != 0:
            total += math.log(s)
    return total


def ref_zen(model, x, y):
    m = copy.deepcopy(model)
    gen = torch.Generator().manual_seed(0)
    for mod in m.modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            mod.weight.data = torch.randn(mod.weight.shape, generator=gen)
            if mod.bias is not None:
                mod.bias.data.zero_()
        elif isinstance(mod, nn.BatchNorm2d):
            mod.running_mean.zero_()
            mod.running_var.fill_(1.0)
            mod.num_batches_tracked.zero_()
            mod.weight.data.fill_(1.0)
            mod.bias.data.zero_()
    a = torch.randn(x.shape, generator=gen)
    b = torch.randn(x.shape, generator=gen)
    m.train()
    with torch.no_grad():
        def pre_gap(inp):
            return m.lastact(m.cells(m.stem(inp)))
        f1, f2 = pre_gap(a), pre_gap(a + 1e-2 * b)
    s = math.log(float(torch.abs(f1.double() - f2.double()).sum((1, 2, 3)).mean()))
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            s += math.log(math.sqrt(float(mod.running_var.double().mean())))
    return s


def _ref_ntk_bnfixed(model, x, y):
    """Variant, per-sample loop: BN normalises with the (constant) batch statistics."""
    m = copy.deepcopy(model).train()
    stats = {}
    hooks = [mod.register_forward_hook(
        lambda mod, i, _o: stats.__setitem__(mod, (i[0].mean((0, 2, 3)), i[0].var((0, 2, 3), unbiased=False))))
        for mod in m.modules() if isinstance(mod, nn.BatchNorm2d)]
    with torch.no_grad():
        m(x)
    for h in hooks:
        h.remove()
    for mod, (mu, var) in stats.items():
        mod.running_mean.copy_(mu)
        mod.running_var.copy_(var)
    m.eval()
    params = [p for mod in _weights(m) for p in mod.parameters(recurse=False)]
    rows = []
    for i in range(len(x)):
        out = m(x)[i, int(y[i])]
        g = torch.autograd.grad(out, params)
        rows.append(torch.cat([t.reshape(-1) for t in g]).double())
    gmat = torch.stack(rows)
    theta = (gmat @ gmat.T).numpy()
    lam = np.linalg.eigvalsh(theta)
    return math.sqrt(np.trace(theta) / len(x)), lam[-1] / lam[0]


def hnas_per_sample_grads(model, x, y):
    """HNAS's per-sample gradients by brute force: (n, P) float64.

    The official code (autograd hacks) takes one train-mode backward of Σ_j z_j and forms
    G[i] = δ_i ⊗ a_i per Conv/Linear layer. Here G[i] is obtained without that algebra:
    for each sample i a forward in which every layer's row i also goes through a private
    copy W'_i of the layer's parameters (adding F(sg(a_i); W'_i) − its detached value, zero
    in value), and one backward of Σ_j z_j to the copies. n forwards, n backwards.
    """
    m = copy.deepcopy(model).train()
    mods = _weights(m)
    rows = []
    for i in range(len(x)):
        copies = {mod: [p.detach().clone().requires_grad_(True) for p in mod.parameters(recurse=False)]
                  for mod in mods}

        def hook(mod, inp, out, i=i, copies=copies):
            w = copies[mod]
            a = inp[0][i:i + 1].detach()  # the copy's only path is its own term
            b = w[1] if len(w) > 1 else None
            extra = mod._conv_forward(a, w[0], b) if isinstance(mod, nn.Conv2d) else F.linear(a, w[0], b)
            delta = extra - extra.detach()
            return out + torch.cat([torch.zeros_like(out[:i]), delta, torch.zeros_like(out[i + 1:])])

        hooks = [mod.register_forward_hook(hook) for mod in mods]
        z = m(x).gather(1, y.view(-1, 1)).sum()
        for h in hooks:
            h.remove()
        g = torch.autograd.grad(z, [p for mod in mods for p in copies[mod]])
        rows.append(torch.cat([t.reshape(-1) for t in g]).double())
    return torch.stack(rows)


def true_jacobian(model, x, y):
    """∂z_i/∂θ for every i by n separate backwards of the train-mode forward: (n, P) float64."""
    m = copy.deepcopy(model).train()
    params = [p for mod in _weights(m) for p in mod.parameters(recurse=False)]
    out = m(x)
    rows = []
    for i in range(len(x)):
        g = torch.autograd.grad(out[i, int(y[i])], params, retain_graph=True)
        rows.append(torch.cat([t.reshape(-1) for t in g]).double())
    return torch.stack(rows)


def _m_kappa(gmat):
    theta = (gmat @ gmat.T).numpy()
    lam = np.linalg.eigvalsh(theta)
    return math.sqrt(np.trace(theta) / len(gmat)), lam[-1] / lam[0]


_NTK_CACHE: dict = {}


def _cached(fn, model, x, y):
    key = (fn.__name__, id(model), id(x))
    if key not in _NTK_CACHE:
        _NTK_CACHE[key] = fn(model, x, y)
    return _NTK_CACHE[key]


def _ref_ntk(model, x, y):
    return _m_kappa(hnas_per_sample_grads(model, x, y))


def ref_ntk_trace(model, x, y):
    return _cached(_ref_ntk, model, x, y)[0]


def ref_ntk_condnum(model, x, y):
    return _cached(_ref_ntk, model, x, y)[1]


def ref_ntk_trace_bnfixed(model, x, y):
    return _cached(_ref_ntk_bnfixed, model, x, y)[0]


def ref_ntk_condnum_bnfixed(model, x, y):
    return _cached(_ref_ntk_bnfixed, model, x, y)[1]


REFERENCES = {
    "grad_norm": ref_grad_norm, "snip": ref_snip, "grasp": ref_grasp, "fisher": ref_fisher,
    "synflow": ref_synflow, "jacob_cov": ref_jacob_cov, "plain": ref_plain,
    "l2_norm": ref_l2_norm, "epe_nas": ref_epe_nas, "zen": ref_zen, "zico": ref_zico,
    "ntk_trace": ref_ntk_trace, "ntk_condnum": ref_ntk_condnum, "fisher_channel": ref_fisher_channel,
    "ntk_trace_bnfixed": ref_ntk_trace_bnfixed, "ntk_condnum_bnfixed": ref_ntk_condnum_bnfixed,
}


# --------------------------------------------------------------------------- tests


def test_every_metric_has_a_reference_and_is_registered():
    assert set(REFERENCES) == set(ALL)
    assert set(ALL) <= set(list_metrics())
    for name in ALL:
        assert get_metric(name).doc, f"{name} lacks a docstring"


@pytest.fixture(scope="module")
def engine_scores():
    x, y = _batch()
    out = {}
    for arch in ARCHS:
        model = _model(arch)
        ctx = ScoringContext(copy.deepcopy(model), x, y)
        scores = score_network(ctx, resolve(list(ALL)))
        assert all(p.grad is None for p in ctx.model.parameters()), "a pass left .grad behind"
        for (a, b) in zip(model.state_dict().items(), ctx.model.state_dict().items()):
            if "running" not in a[0] and "num_batches" not in a[0]:
                assert torch.equal(a[1], b[1]), f"weights changed: {a[0]}"
        out[arch] = (model, {k: v for k, (v, _s) in scores.items()})
    return x, y, out


@pytest.mark.parametrize("metric", list(ALL))
def test_engine_matches_reference(engine_scores, metric):
    x, y, out = engine_scores
    for arch, (model, scores) in out.items():
        ref = REFERENCES[metric](model, x, y)
        ours = scores[metric]
        assert math.isfinite(ours), f"{metric} on {arch}: {ours}"
        assert ours == pytest.approx(ref, rel=1e-5, abs=1e-12), f"{metric} on {arch}: {ours} vs {ref}"


def test_order_of_metrics_does_not_matter():
    x, y = _batch()
    model = _model(ARCHS[0])
    a = score_network(ScoringContext(copy.deepcopy(model), x, y), resolve(list(ALL)))
    b = score_network(ScoringContext(copy.deepcopy(model), x, y), resolve(list(reversed(ALL))))
    for k in ALL:
        assert a[k][0] == pytest.approx(b[k][0], rel=1e-6), k


def test_deterministic():
    x, y = _batch()
    vals = []
    for _ in range(2):
        model = _model(ARCHS[1], seed=11)
        s = score_network(ScoringContext(model, x, y), resolve(list(ALL)))
        vals.append(np.array([s[k][0] for k in ALL]))
    np.testing.assert_array_equal(vals[0], vals[1])


def test_dead_architecture_scores_without_crash():
    x, y = _batch()
    names = list_metrics()  # every family: activation, cost, gradient, ...
    s = score_network(ScoringContext(_model(DEAD), x, y), resolve(names))
    assert set(s) == set(names)
    for k, (v, sec) in s.items():
        assert isinstance(v, float) and (math.isfinite(v) or math.isnan(v)), k
        assert sec >= 0
    # zero Jacobian -> undefined correlations -> NaN, kept as NaN
    assert math.isnan(s["jacob_cov"][0]) and math.isnan(s["epe_nas"][0])
    assert s["grad_norm"][0] == 0.0 and s["snip"][0] == 0.0


def test_directions():
    lower = {"ntk_condnum", "ntk_condnum_bnfixed"}
    for name in ALL:
        assert get_metric(name).higher_is_better == (name not in lower), name
    assert not get_metric("synflow").needs_data and not get_metric("l2_norm").needs_data
    for name in ("grad_norm", "snip", "grasp", "fisher", "fisher_channel", "plain", "ntk_trace", "zico", "epe_nas"):
        assert get_metric(name).needs_labels, name


def test_hnas_criterion():
    m = np.array([1.0, 2.0, 4.0])
    k = np.array([10.0, 10.0, 100.0])
    mu, nu = 0.1, 2.0
    want = mu * np.abs(m ** 2 - nu ** 2) + k / (m + 1e-6)
    np.testing.assert_allclose(hnas_criterion({"ntk_trace": m, "ntk_condnum": k}, mu, nu), want)
    import pandas as pd

    df = pd.DataFrame({"ntk_trace": m, "ntk_condnum": k, "grad_norm": m * 2}, index=list("abc"))
    got = hnas_criterion(df, mu, nu)
    assert list(got.index) == list("abc")
    np.testing.assert_allclose(got.to_numpy(), want)
    np.testing.assert_allclose(hnas_criterion(df, mu, nu, trace_metric="grad_norm").to_numpy(),
                               mu * np.abs((2 * m) ** 2 - nu ** 2) + k / (2 * m + 1e-6))
    # the official code's guards: non-finite κ -> 1e5, M = 0 -> κ / 1e-6
    got = hnas_criterion((np.array([0.0, 1.0]), np.array([np.nan, np.inf])), 1.0, 0.0)
    np.testing.assert_allclose(got, [1e5 / 1e-6, 1.0 + 1e5 / (1.0 + 1e-6)])
    assert hnas_weights(0.5, -2, 5e3) == pytest.approx((0.01, 2500.0))


def test_grasp_after_a_pass_without_its_graph():
    """Scoring grad_norm first (no grasp requested: cheaper pass) and grasp later on the
    same context gives grasp's value from a fresh context."""
    arch = nb201.EXAMPLE
    x = torch.randn(8, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    y = torch.arange(8) % 10

    def model():
        torch.manual_seed(0)
        return nb201.build_model(arch, C=4, N=1)

    ctx = ScoringContext(model(), x, y)
    g1 = score_network(ctx, resolve("grad_norm"))["grad_norm"][0]
    late = score_network(ctx, resolve("grasp"))["grasp"][0]
    both = score_network(ScoringContext(model(), x, y), resolve("grad_norm,grasp"))
    assert late == pytest.approx(both["grasp"][0], rel=1e-6)
    assert g1 == pytest.approx(both["grad_norm"][0], rel=1e-9)


class _TinyNet(nn.Module):
    """conv 3->4 (3x3) -> [BN] -> ReLU -> GAP -> linear 4->3: small enough for brute force."""

    def __init__(self, bn: bool):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(4) if bn else nn.Identity()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(F.relu(self.bn(self.conv(x))).mean((2, 3)))


def test_ntk_hnas_definition_small_case():
    """The HNAS NTK on a hand-checkable net: the engine's Θ equals the brute-force per-sample
    gradients of one train-mode backward (BN couples the samples), which are NOT the true
    per-sample Jacobian ∂z_i/∂θ; without BN all three coincide."""
    from trainfree.metrics.ntk import ntk_gram
    from trainfree.metrics.passes import forward_pass

    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(5, 3, 6, 6, generator=g), torch.tensor([0, 1, 2, 0, 1])
    for bn in (True, False):
        torch.manual_seed(0)
        net = _TinyNet(bn)
        hnas = hnas_per_sample_grads(net, x, y)
        jac = true_jacobian(net, x, y)
        gram = ntk_gram(net, forward_pass(copy.deepcopy(net).train(), x), y).gram
        ours = ntk_gram(net, forward_pass(net, x), y).gram
        np.testing.assert_allclose(ours, gram, rtol=1e-12)
        np.testing.assert_allclose(ours, (hnas @ hnas.T).numpy(), rtol=1e-5, atol=1e-9)
        # the per-sample rows sum to the full-batch gradient in both constructions
        np.testing.assert_allclose(hnas.sum(0).numpy(), jac.sum(0).numpy(), rtol=1e-4, atol=1e-7)
        gap = float((hnas - jac).norm() / jac.norm())
        if bn:
            assert gap > 0.05, gap  # BN coupling: HNAS's G[i] differs from ∂z_i/∂θ
        else:
            assert gap < 1e-5, gap
        ctx = ScoringContext(copy.deepcopy(net), x, y)
        m_eng = score_network(ctx, resolve("ntk_trace"))["ntk_trace"][0]
        assert m_eng == pytest.approx(_m_kappa(hnas)[0], rel=1e-5)


def test_epe_nas_more_than_100_classes_skips_singletons():
    """Above 100 classes the reference skips a class seen once; the score is Σ|s_c − s_c'|/#kept."""
    from trainfree.metrics.jacobian import epe_nas_score

    j = np.array([[1.0, 2, 3], [1, 2, 4], [3, 1, 0], [0, 1, 3], [2, 2, 1], [5, 0, 1]])
    y = np.array([0, 0, 7, 4, 4, 4])  # class 7 has a single sample
    eps = 1e-5

    def s(rows):
        r = np.corrcoef(rows)
        return np.log(np.abs(r) + eps).sum()

    s0, s4 = s(j[:2]), s(j[3:])
    assert epe_nas_score(j, y, 10) == pytest.approx(abs(s0) + abs(s4) + abs(math.log(1 + eps)))
    s0n, s4n = s0 / 2, s4 / 3
    assert epe_nas_score(j, y, 120) == pytest.approx(2 * abs(s0n - s4n) / 2)
    # and through the engine on a 120-class network, with singleton classes in the batch
    torch.manual_seed(0)
    net = nb201.build_model(ARCHS[0], C=8, N=1, num_classes=120)
    x = torch.randn(8, 3, 16, 16, generator=torch.Generator().manual_seed(2))
    yy = torch.tensor([0, 0, 5, 5, 5, 9, 17, 3])
    jac = _input_jacobian(net, x)
    got = score_network(ScoringContext(copy.deepcopy(net), x, yy), resolve("epe_nas"))["epe_nas"][0]
    assert got == pytest.approx(epe_nas_score(jac, yy.numpy(), 120), rel=1e-6)
    assert got != pytest.approx(epe_nas_score(jac, yy.numpy(), 10), rel=1e-3)
