"""One contract, every registered search space: codec, sampler, builder, parameters, reader.

The tests are parametrized over ``trainfree.spaces.SPACES``, so a newly registered space is
checked as soon as it is registered; it fails here until :func:`case` knows its ground-truth
fixture (a bundled file, or a fixture written in the benchmark's own format), the builder's
options of a quick network and those of the network whose parameters the benchmark gives.

- codec: ``canonical`` is idempotent, ``spec`` rebuilds the same id, a malformed string is a
  one-line ``TrainfreeError`` quoting it;
- sampler: seeded, the right count, distinct ids, same seed same sample, another seed another
  one; a space sampled from its benchmark's records refuses with the config key to use;
- builder: a network in train mode whose forward gives (batch, classes) finite logits;
- parameters: ``count_params`` of the benchmark-size network equals the benchmark's
  ``params_m`` (NDS: the fixture's hand count);
- reader: the registered reader turns the fixture into the tidy table of that space.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch
from conftest import benchdata
from nds_release import write_release
from test_nds import hand_params

from trainfree.benchmarks import GT_COLUMNS, get_reader, load_ground_truth, select
from trainfree.errors import TrainfreeError
from trainfree.spaces import SPACES, get_space, list_spaces
from trainfree.spaces import nds as nds_space

N_SAMPLE = 4


@dataclass(frozen=True)
class Case:
    """What the contract needs to know about one space."""

    source: str | None  # bundled ground truth (benchdata path); None: the NDS fixture release
    n_archs: int  # distinct archs in that ground truth
    small: dict  # builder options of a quick network
    bench: dict = field(default_factory=dict)  # builder options of the network the benchmark's params count
    samples: bool = True  # False: sampled from the benchmark's records (sample.pool: ground_truth)


CASES = {
    "nb201": Case("nb201/nb201_cifar10_v1_1.csv.xz", 15625, {"C": 4, "N": 1}),
    "nb101": Case("nb101/nb101_suitezero_subset250.json", 162,  # 250 keys, 162 distinct pruned cells
                  {"stem_channels": 8, "num_stacks": 2, "num_modules_per_stack": 1}),
    # NB301's params count NASLib's graph: C=32, 8 cells, edge BatchNorms without affine weights
    "darts": Case("darts/nb301_suitezero_subset362.json", 362, {"C": 4, "layers": 3},
                  {"C": 32, "layers": 8, "auxiliary": False, "edge_affine": False, "pool_bn": True}),
}
#: records per NDS sweep in the fixture release (its params are hand counts at 10 classes)
NDS_RECORDS = 3


def case(space: str) -> Case:
    if space in CASES:
        return CASES[space]
    if space.startswith(nds_space.PREFIX):
        return Case(None, NDS_RECORDS, {"C": 4, "N": 1}, {"num_classes": 10}, samples=False)
    pytest.fail(f"space {space!r} is registered but has no contract case: add its fixture to CASES")


@pytest.fixture(scope="module")
def nds_release(tmp_path_factory) -> Path:
    """One release zip with every NDS sweep (params: the hand counts of test_nds)."""
    return write_release(tmp_path_factory.mktemp("nds"), dict.fromkeys(nds_space.FILES, NDS_RECORDS), hand_params)


@pytest.fixture(scope="module")
def _read() -> dict:
    return {}


@pytest.fixture
def ground_truth(request, nds_release, _read):
    """The space's tidy ground truth read from its fixture (read once per module)."""
    space = request.node.callspec.params["space"]
    if space not in _read:
        c = case(space)
        _read[space] = load_ground_truth(space, benchdata(c.source) if c.source else nds_release)
    return _read[space]


def _first_archs(gt, k: int = 2) -> list[str]:
    return gt.sort_values("bench_index", kind="stable").arch_id.drop_duplicates().head(k).tolist()


pytestmark = pytest.mark.usefixtures("one_thread")


def test_every_space_has_a_case_and_a_reader():
    assert list_spaces() == SPACES.names() and len(list_spaces()) == 3 + len(nds_space.FILES)
    for space in list_spaces():
        case(space)
        assert get_reader(space).read is not None


@pytest.mark.parametrize("space", list_spaces())
def test_reader_gives_the_tidy_table(space, ground_truth):
    gt = ground_truth
    assert list(gt.columns) == GT_COLUMNS
    assert (gt.space == space).all() and gt.seed.map(type).eq(str).all()
    assert gt.arch_id.nunique() == case(space).n_archs
    assert (gt.bench_index >= 0).all()
    acc = gt[gt.field == "acc"]
    assert len(acc) and acc.value.between(0, 100).all()
    r = acc.iloc[0]
    s = select(gt, r.dataset, r.split, int(r.epochs), seed=r.seed)
    assert s.index.is_unique and len(s) == case(space).n_archs


@pytest.mark.parametrize("space", list_spaces())
def test_codec_round_trip(space, ground_truth):
    sp = get_space(space)
    assert sp.NAME == space
    archs = _first_archs(ground_truth, 3)
    if case(space).samples:
        archs += sp.sample(2, 0)
    for a in archs:
        aid = sp.canonical(a)
        assert sp.canonical(aid) == aid
        form = sp.spec(aid)
        assert isinstance(form, str) and sp.canonical(form) == aid
    for bad in ("not-an-arch", "|bogus~0|+"):
        with pytest.raises(TrainfreeError) as e:
            sp.canonical(bad)
        assert bad in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("space", list_spaces())
def test_sampler(space):
    sp = get_space(space)
    if not case(space).samples:
        with pytest.raises(TrainfreeError, match="sample.pool: ground_truth"):
            sp.sample(N_SAMPLE, 0)
        return
    a = sp.sample(N_SAMPLE, 0)
    assert len(a) == N_SAMPLE and len({sp.canonical(x) for x in a}) == N_SAMPLE
    assert sp.sample(N_SAMPLE, 0) == a
    assert sp.sample(N_SAMPLE, 1) != a
    with pytest.raises(TrainfreeError):
        sp.sample(0, 0)


@pytest.mark.parametrize("space", list_spaces())
def test_builder_gives_logits(space, ground_truth):
    sp = get_space(space)
    c = case(space)
    assert set(c.small) <= set(sp.MODEL_DEFAULTS), f"{space}: options not in MODEL_DEFAULTS"
    archs = _first_archs(ground_truth, 1) + (sp.sample(1, 3) if c.samples else [])
    torch.manual_seed(0)
    x = torch.randn(2, 3, 32, 32)
    for a in archs:
        model = sp.build_model(sp.spec(a), num_classes=7, **c.small)
        assert model.training
        with torch.no_grad():
            out = model(x)
        out = out[0] if isinstance(out, tuple) else out
        assert out.shape == (2, 7) and torch.isfinite(out).all()


@pytest.mark.parametrize("space", list_spaces())
def test_params_equal_the_benchmark(space, ground_truth):
    sp = get_space(space)
    gt = ground_truth
    params = gt[(gt.field == "params_m") & (gt.seed == "mean")].drop_duplicates("arch_id").set_index("arch_id")
    archs = _first_archs(gt, 2)
    assert set(archs) <= set(params.index), f"{space}: the fixture gives no params_m for {archs}"
    for a in archs:
        ours = sp.count_params(sp.build_model(sp.spec(a), **case(space).bench))
        assert ours == round(params.value[a] * 1e6) and ours > 0 and not math.isnan(ours), a
