"""trainfree.score_model: any nn.Module, functional/in-place ReLUs, output selectors, the
model left exactly as it came, one-line errors."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import trainfree
from trainfree.errors import TrainfreeError
from trainfree.metrics import ScoringContext, resolve, score_network
from trainfree.spaces import get_space

ACT = ["naswot", "activation_units", "distinguishing_ability", "swap", "tenas_linear_regions"]
GRAD = ["snip", "grad_norm", "gradsign", "meco"]


class SmallCNN(nn.Module):
    """Two conv-BN-ReLU stages and a linear head; ``relu`` picks how the ReLU is applied."""

    def __init__(self, relu: str = "module", out: str = "tensor"):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.c2, self.b2 = nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16)
        inplace = relu == "module_inplace"
        self.r1, self.r2 = nn.ReLU(inplace=inplace), nn.ReLU(inplace=inplace)
        self.fc = nn.Linear(16, 10)
        self.relu, self.out = relu, out

    def act(self, z: torch.Tensor, mod: nn.Module) -> torch.Tensor:
        if self.relu in ("module", "module_inplace"):
            return mod(z)
        if self.relu == "F.relu":
            return F.relu(z)
        if self.relu == "torch.relu":
            return torch.relu(z)
        if self.relu == "Tensor.relu":
            return z.relu()
        if self.relu == "F.relu(inplace)":
            F.relu(z, inplace=True)
            return z
        if self.relu == "relu_":
            z.relu_()
            return z
        raise ValueError(self.relu)

    def forward(self, x):
        z = self.act(self.b1(self.c1(x)), self.r1)
        z = self.act(self.b2(self.c2(z)), self.r2)
        feats = z.mean((2, 3))
        logits = self.fc(feats)
        if self.out == "tuple":
            return feats, logits
        if self.out == "dict":
            return {"features": feats, "logits": logits}
        return logits


def _cnn(relu: str = "module", out: str = "tensor") -> SmallCNN:
    torch.manual_seed(0)
    return SmallCNN(relu, out)


@pytest.fixture(scope="module")
def batch():
    g = torch.Generator().manual_seed(0)
    return torch.randn(16, 3, 16, 16, generator=g), torch.randint(0, 10, (16,), generator=g)


@pytest.fixture(scope="module")
def reference(batch):
    x, y = batch
    return trainfree.score_model(_cnn(), x, y, ACT + GRAD)


def test_readme_example(batch):
    x, y = batch
    # the example the README shows: a model with F.relu, scored by name
    scores = trainfree.score_model(_cnn("F.relu"), x, y, ["naswot", "snip", "swap"])
    assert set(scores) == {"naswot", "snip", "swap"}
    assert all(math.isfinite(v) for v in scores.values())


@pytest.mark.parametrize("relu", ["module_inplace", "F.relu", "torch.relu", "Tensor.relu", "F.relu(inplace)", "relu_"])
def test_functional_and_inplace_relus_score_as_modules(batch, reference, relu):
    x, y = batch
    got = trainfree.score_model(_cnn(relu), x, y, ACT + GRAD)
    for k in ACT + GRAD:
        assert math.isfinite(got[k]), (relu, k)
        assert got[k] == pytest.approx(reference[k], rel=1e-6), (relu, k)
    assert got["activation_units"] == 8 * 16 * 16 + 16 * 8 * 8  # units per sample of the two ReLUs


def test_matches_the_engine_on_an_nb201_network(batch):
    x, y = batch
    torch.manual_seed(3)
    net = get_space("nb201").build_model(
        "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|skip_connect~2|", C=8, N=1)
    names = ["naswot", "snip", "meco", "swap", "az_trainability", "tenas_ntk_condnum", "zico", "ntk_trace"]
    ours = trainfree.score_model(net, x, y, names)
    eng = score_network(ScoringContext(copy.deepcopy(net), x, y), resolve(names))
    for k in names:
        assert ours[k] == pytest.approx(eng[k][0], rel=1e-6), k


def test_output_selectors(batch, reference):
    x, y = batch
    with pytest.raises(TrainfreeError, match=r"output is a tuple.*output=") as e:
        trainfree.score_model(_cnn(out="tuple"), x, y, ["snip"])
    assert "\n" not in str(e.value)
    for out, sel in (("tuple", 1), ("tuple", -1), ("dict", "logits"), ("dict", lambda o: o["logits"])):
        got = trainfree.score_model(_cnn(out=out), x, y, ["snip", "naswot"], output=sel)
        assert got["snip"] == pytest.approx(reference["snip"], rel=1e-6)
        assert got["naswot"] == pytest.approx(reference["naswot"], rel=1e-6)
    with pytest.raises(TrainfreeError, match="output='nope' does not select"):
        trainfree.score_model(_cnn(out="dict"), x, y, ["snip"], output="nope")


def _state(model: nn.Module) -> dict:
    return {
        "modes": [m.training for m in model.modules()],
        "tensors": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "grads": [None if p.grad is None else p.grad.clone() for p in model.parameters()],
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "hooks": [(len(m._forward_hooks), len(m._forward_pre_hooks), len(m._backward_hooks))
                  for m in model.modules()],
        "inplace": [m.inplace for m in model.modules() if isinstance(m, nn.ReLU)],
    }


def test_model_left_exactly_as_it_came(batch):
    x, y = batch
    model = _cnn("module_inplace")
    model.eval()
    model.b2.train()  # mixed modes survive too
    model.c1.weight.requires_grad_(False)
    model.fc(torch.randn(2, 16)).sum().backward()  # a gradient on the head only
    seen = []
    model.r1.register_forward_hook(lambda *_: seen.append(1))
    before = _state(model)
    rng = torch.get_rng_state()
    trainfree.score_model(model, x, y, ACT + GRAD + ["zen", "synflow", "fisher"])
    after = _state(model)
    assert after["modes"] == before["modes"]
    assert after["tensors"].keys() == before["tensors"].keys()
    for k in before["tensors"]:  # weights and BN running statistics
        assert torch.equal(after["tensors"][k], before["tensors"][k]), k
    for a, b in zip(after["grads"], before["grads"]):
        assert (a is None and b is None) or torch.equal(a, b)
    assert after["requires_grad"] == before["requires_grad"]
    assert after["hooks"] == before["hooks"] and after["inplace"] == before["inplace"]
    assert seen == []  # the user's hook did not fire on the scoring copy
    assert torch.equal(torch.get_rng_state(), rng)


def test_one_line_errors(batch):
    x, y = batch
    no_relu = nn.Sequential(nn.Flatten(), nn.Linear(3 * 16 * 16, 10))
    with pytest.raises(TrainfreeError, match=r"^metric 'naswot' cannot score Sequential: no ReLU"):
        trainfree.score_model(no_relu, x, y, ["naswot"])
    with pytest.raises(TrainfreeError, match=r"^metric 'snip' cannot score SmallCNN: it needs targets"):
        trainfree.score_model(_cnn(), x, None, ["snip"])
    with pytest.raises(TrainfreeError, match=r"^metric 'az_expressivity' cannot score SmallCNN: .*feature blocks"):
        trainfree.score_model(_cnn(), x, y, ["az_expressivity"])
    seq1d = nn.Sequential(nn.Flatten(), nn.Linear(3 * 16 * 16, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 10))
    with pytest.raises(TrainfreeError, match=r"^metric 'gradsign' cannot score Sequential: ValueError"):
        trainfree.score_model(seq1d, x, y, ["gradsign"])  # one sample through BatchNorm1d
    with pytest.raises(TrainfreeError, match="unknown metric 'nope'"):
        trainfree.score_model(_cnn(), x, y, ["nope"])
    with pytest.raises(TrainfreeError) as err:
        trainfree.score_model(no_relu, x, y, ["swap"])
    assert "\n" not in str(err.value)


def test_sequential_models_get_az_nas(batch):
    x, y = batch
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU()),
                        nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU()),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))
    got = trainfree.score_model(seq, x, y, ["az_expressivity", "az_progressivity", "az_trainability"])
    assert all(math.isfinite(v) for v in got.values())
