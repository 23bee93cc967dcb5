import csv
import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import ROOT, benchdata, write_swap_format_csv
from torch import nn

from trainfree.benchmarks import darts as darts_gt
from trainfree.benchmarks import load_ground_truth, select
from trainfree.cli import main
from trainfree.errors import TrainfreeError
from trainfree.spaces import darts, get_space

V2 = darts.DARTS_V2
V2_RANGE = V2.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=range(2, 6)").replace(
    "reduce_concat=[2, 3, 4, 5]", "reduce_concat=range(2, 6)")
# first key of the Suite-Zero NB301 file and its DARTS genotype (NASLib op order, hand-converted)
KEY = ("[[(1, 1), (0, 4), (1, 1), (2, 0), (2, 1), (0, 5), (4, 6), (0, 6)], "
       "[(0, 4), (1, 3), (0, 0), (1, 3), (3, 6), (0, 0), (3, 3), (2, 4)]]")
KEY_GENOTYPE = ("Genotype(normal=[('avg_pool_3x3', 1), ('sep_conv_5x5', 0), ('avg_pool_3x3', 1), "
                "('max_pool_3x3', 2), ('avg_pool_3x3', 2), ('dil_conv_3x3', 0), ('dil_conv_5x5', 4), "
                "('dil_conv_5x5', 0)], normal_concat=[2, 3, 4, 5], reduce=[('sep_conv_5x5', 0), "
                "('sep_conv_3x3', 1), ('max_pool_3x3', 0), ('sep_conv_3x3', 1), ('dil_conv_5x5', 3), "
                "('max_pool_3x3', 0), ('sep_conv_3x3', 3), ('sep_conv_5x5', 2)], reduce_concat=[2, 3, 4, 5])")
NONE_CELL = (("none", 0), ("none", 1)) * 4


def nb301() -> dict:
    return json.loads(benchdata("darts/nb301_suitezero_subset362.json").read_text())["cifar10"]


# --------------------------------------------------------------------------- codec


def test_forms_parse_to_one_canonical_id():
    assert get_space("darts") is darts and darts.NAME == "darts"
    cid = darts.canonical(V2)
    assert darts.canonical(V2_RANGE) == cid == darts.canonical(cid) == darts.spec(V2)
    g = darts.parse(V2)

    def cell(edges):
        return "[" + ", ".join(f"({op!r}, {i})" for op, i in edges) + "]"

    positional = f"Genotype({cell(g.normal)}, [2, 3, 4, 5], {cell(g.reduce)}, range(2, 6))"
    assert darts.canonical(positional) == cid
    # within a node edges sort by input: DARTS-V2's normal node 4 ('sep_conv_3x3', 1), ('skip_connect', 0)
    assert "('skip_connect', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), ('dil_conv_3x3', 2)" in cid
    # compact form (NASLib op order) <-> genotype, written back unchanged
    assert darts.format_genotype(darts.parse(KEY)) == KEY_GENOTYPE
    assert darts.to_compact(KEY_GENOTYPE) == KEY
    assert darts.canonical(KEY) == darts.canonical(KEY_GENOTYPE)
    assert darts.canonical(json.loads(KEY.replace("(", "[").replace(")", "]"))) == darts.canonical(KEY)


def test_canonical_merges_reorderings_only():
    g = darts.parse(V2)
    swapped = list(g.normal)
    swapped[0], swapped[1] = swapped[1], swapped[0]
    re_g = darts.Genotype(tuple(swapped), (5, 4, 3, 2), g.reduce, g.reduce_concat)
    assert darts.canonical(re_g) == darts.canonical(V2)
    # a different input or op is a different arch
    moved = list(g.normal)
    moved[7] = ("dil_conv_3x3", 3)
    assert darts.canonical(darts.Genotype(tuple(moved), g.normal_concat, g.reduce, g.reduce_concat)) \
        != darts.canonical(V2)
    other = darts.Genotype(g.normal, g.normal_concat, g.reduce, (2, 3, 4))
    assert darts.canonical(other) != darts.canonical(V2)


def test_benchmark_files_parse_and_round_trip():
    d = nb301()
    ids = {darts.canonical(k) for k in d}
    assert len(ids) == 362
    assert all(darts.to_compact(k) == k for k in d)  # the file's keys are NASLib's own spelling


def test_swap_csv_parses(tmp_path):
    """The SWAP CSV: the fetched file where it is in data/ (``trainfree fetch swap-darts``), else a
    file of the same format."""
    real = ROOT / "data" / "DARTS_archs_CIFAR10.csv"
    path = real if real.is_file() else write_swap_format_csv(tmp_path / "swap.csv", 200)
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    swap = [darts.parse(r[0]) for r in rows]
    assert len({darts.canonical(g) for g in swap}) == len(rows) == (1000 if path == real else 200)
    assert any(op == "none" for g in swap for op, _ in g.normal)
    with pytest.raises(TrainfreeError, match="uses 'none'"):
        darts.to_compact(next(g for g in swap if any(op == "none" for op, _ in g.normal)))
    gt = darts_gt.read(path)
    assert len(gt) == len(rows) and set(gt.epochs) == {200} and gt.source.str.contains("SWAP").all()


@pytest.mark.parametrize("bad, why", [
    ("Genotype(normal=[('sep_conv_3x3', 0)", "not a valid Genotype(...) expression"),
    ("genotype: sep_conv_3x3", "neither a Genotype(...) string nor a compact"),
    (V2.replace("'dil_conv_3x3'", "'conv_7x1_1x7'"), "unknown op 'conv_7x1_1x7' in normal"),
    (V2.replace("('max_pool_3x3', 0), ('max_pool_3x3', 1), ", "", 1), "reduce has 6 (op, input) pairs"),
    (V2.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)"), "normal node 5 takes input 5, out of range"),
    (V2.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=[2, 3, 4, 6]"), "bad normal_concat [2, 3, 4, 6]"),
    (V2.replace("reduce_concat=[2, 3, 4, 5]", "reduce_concat=[]"), "reduce_concat [] must be a non-empty"),
    (V2.replace("normal_concat=", "norm_concat="), "unknown Genotype field 'norm_concat'"),
    (V2.replace("('sep_conv_3x3', 0)", "('sep_conv_3x3', '0')", 1), "must be (op name, input index)"),
    (KEY.replace("(2, 4)]]", "(2, 7)]]"), "unknown op index 7 in compact reduce"),
    (KEY.replace("(0, 6)]", "(6, 6)]"), "normal node 5 takes input 6, out of range"),
    ("[[(1, 1), (0, 4)]]", "the compact form needs 2 cells"),
])
def test_bad_input_one_clear_line(bad, why):
    with pytest.raises(TrainfreeError) as e:
        darts.canonical(bad)
    msg = str(e.value)
    assert why in msg and "\n" not in msg and msg.startswith("malformed DARTS arch")
    assert "Genotype(normal=[(op, input) x8]" in msg  # names the expected forms


def test_sampler_seeded_distinct_uniform():
    a = darts.sample(300, 5)
    assert a == darts.sample(300, 5) and len(set(a)) == 300 and a != darts.sample(300, 6)
    assert all(darts.canonical(x) == x for x in a)
    gs = [darts.parse(x) for x in a]
    ops = [op for g in gs for op, _ in g.normal + g.reduce]
    assert "none" not in ops
    freq = np.array([ops.count(op) for op in darts.SAMPLE_OPS]) / len(ops)  # 4800 draws, sd ~0.005
    assert np.abs(freq - 1 / 7).max() < 0.025
    for g in gs:  # two distinct inputs per node
        for cell in (g.normal, g.reduce):
            assert all(cell[2 * k][1] != cell[2 * k + 1][1] for k in range(4))
    node5 = np.array([[g.normal[6][1], g.normal[7][1]] for g in gs]).ravel()  # inputs 0..4, each p = 2/5
    assert np.abs(np.bincount(node5, minlength=5) / len(gs) - 0.4).max() < 0.1
    with pytest.raises(TrainfreeError):
        darts.sample(0, 1)


# --------------------------------------------------------------------------- network


def test_darts_v2_published_3_3m_params():
    model = darts.build_model(V2, C=36, layers=20, auxiliary=True)
    n = darts.count_params(model)  # aux head excluded, as utils.count_parameters_in_MB
    assert n == 3349342 and round(n / 1e6, 1) == 3.3
    # official AuxiliaryHeadCIFAR on 4*144 = 576 channels, by hand
    aux = 576 * 128 + 2 * 128 + 128 * 768 * 4 + 2 * 768 + 768 * 10 + 10
    assert darts.count_params(model, include_auxiliary=True) == n + aux
    assert darts.count_params(darts.build_model(V2, C=36, layers=20)) == n


def test_nb301_params_all_362_exact():
    d = nb301()
    got = {k: darts.nb301_param_count(k) for k in d}
    want = {k: round(v["params"]["score"] * 1e6) for k, v in d.items()}
    assert got == want  # 362/362, the published values are exact integers / 1e6
    k = next(iter(d))
    official = darts.count_params(darts.build_model(k, C=32, layers=8))
    assert official == 924650 and want[k] == 915946  # affine edge BN: 8,704 more


def test_network_forward_every_op_both_strides():
    every = (("none", 0), ("max_pool_3x3", 1), ("avg_pool_3x3", 0), ("skip_connect", 1),
             ("sep_conv_3x3", 0), ("sep_conv_5x5", 2), ("dil_conv_3x3", 1), ("dil_conv_5x5", 3))
    g = darts.Genotype(every, (2, 3, 4, 5), every, (2, 3, 4, 5))
    model = darts.build_model(g, C=4, layers=3, auxiliary=True, num_classes=7)
    x = torch.randn(2, 3, 32, 32)
    assert model(x).shape == (2, 7) and model.logits_aux.shape == (2, 7)
    red = model.cells[1]
    assert red.reduction and isinstance(red._ops[3], darts.FactorizedReduce)  # skip_connect, stride 2
    assert isinstance(model.cells[1].preprocess0, darts.ReLUConvBN)  # after a normal cell
    assert isinstance(model.cells[2].preprocess0, darts.FactorizedReduce)  # after a reduction
    assert isinstance(model.cells[0]._ops[3], nn.Identity)
    model.eval()
    model(x)
    assert model.logits_aux is None
    assert all(not m.inplace for m in model.modules() if isinstance(m, nn.ReLU))
    assert model.drop_path_prob == 0.0
    with pytest.raises(TrainfreeError, match="unknown DARTS model option"):
        darts.build_model(V2, N=5)


def test_naslib_nb301_graph_options():
    """edge_affine=False / pool_bn=True rebuild NASLib's NB301 graph: same wiring and
    stem/preprocessing, edge BNs without affine weights, a non-affine BN after each pool."""
    every = (("max_pool_3x3", 0), ("avg_pool_3x3", 1), ("skip_connect", 0), ("sep_conv_3x3", 1),
             ("sep_conv_5x5", 2), ("dil_conv_3x3", 1), ("dil_conv_5x5", 3), ("none", 0))
    g = darts.Genotype(every, (2, 3, 4, 5), every, (2, 3, 4, 5))
    ours = darts.build_model(g, C=4, layers=3)
    nas = darts.build_model(g, C=4, layers=3, edge_affine=False, pool_bn=True)
    for m in (ours, nas):
        assert m(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    pool = nas.cells[0]._ops[0]
    assert isinstance(pool[0], nn.MaxPool2d) and isinstance(pool[1], nn.BatchNorm2d) and not pool[1].affine
    assert isinstance(ours.cells[0]._ops[0], nn.MaxPool2d)
    edge_bn = [b for c in nas.cells for op in c._ops for b in op.modules() if isinstance(b, nn.BatchNorm2d)]
    assert edge_bn and not any(b.affine for b in edge_bn)
    assert all(b.affine for c in nas.cells for b in (c.preprocess0.modules()) if isinstance(b, nn.BatchNorm2d))
    # the parameters differ by exactly the affine weights of the edge BNs of our network
    ours_edge = sum(p.numel() for c in ours.cells for op in c._ops for b in op.modules()
                    if isinstance(b, nn.BatchNorm2d) for p in b.parameters())
    assert darts.count_params(ours) - darts.count_params(nas) == ours_edge > 0
    # same seed, same weights: a BN after the pools changes the function (V2's reduce cell
    # pools), dropping the edge BNs' affine weights does not (they start at weight 1, bias 0)
    torch.manual_seed(0)
    a = darts.build_model(V2, C=4, layers=2, edge_affine=False)
    torch.manual_seed(0)
    b = darts.build_model(V2, C=4, layers=2, edge_affine=False, pool_bn=True)
    x = torch.randn(2, 3, 32, 32)
    assert not torch.equal(a(x), b(x))
    torch.manual_seed(0)
    c = darts.build_model(V2, C=4, layers=2)
    torch.manual_seed(0)
    d = darts.build_model(V2, C=4, layers=2, edge_affine=False)
    assert torch.allclose(c(x), d(x))


# --------------------------------------------------------------------------- ground truth


def test_ground_truth_tables(tmp_path):
    folder = benchdata("darts/nb301_suitezero_subset362.json").parent
    assert len(load_ground_truth("darts", folder)) == 362 * 3
    swap = write_swap_format_csv(tmp_path / "swap.csv", 200)
    gt = load_ground_truth("darts", [folder, swap])  # a list of sources: their tables in list order
    assert len(gt) == 362 * 3 + 200
    nb = select(gt, "cifar10", "valid", 100)
    sw = select(gt, "cifar10", "valid", 200)
    assert len(nb) == 362 and len(sw) == 200
    assert nb[darts.canonical(KEY)] == pytest.approx(92.71380239702151)
    assert select(gt, "cifar10", "cost", 100, field="params_m")[darts.canonical(KEY)] == 0.915946
    first_acc = float(swap.read_text().splitlines()[0].rsplit(",", 1)[1])
    assert sw.iloc[0] == pytest.approx(first_acc)
    assert gt.source.str.contains("surrogate").any() and gt.source.str.contains("SWAP").any()
    assert (gt.space == "darts").all() and set(gt.seed) == {"mean"}
    with pytest.raises(TrainfreeError, match="available: darts, nb101, nb201"):
        load_ground_truth("nb999", folder)


def test_suitezero_proxies_table():
    p = darts_gt.suitezero_proxies(benchdata("darts/nb301_suitezero_subset362.json"))
    assert list(p.columns[:3]) == ["arch_id", "proxy", "value"] and len(p) == 362 * 12
    assert set(p.proxy) == {"flops", "params", "synflow", "grasp", "fisher", "grad_norm", "l2_norm",
                            "plain", "nwot", "epe_nas", "jacov", "snip"}
    row = p[(p.arch_id == darts.canonical(KEY)) & (p.proxy == "nwot")]
    assert row.value.item() == pytest.approx(446.96456595071595)


# --------------------------------------------------------------------------- engine, CLI


def test_engine_scores_darts_unchanged():
    from trainfree.data import scoring_batch
    from trainfree.metrics import score_archs

    npz = benchdata("images/cifar10_partial_5506.npz")
    x, y = scoring_batch("cifar10", 8, 1, root=npz)
    g = darts.parse(V2)
    dead = darts.canonical(darts.Genotype(NONE_CELL, (2, 3, 4, 5), g.reduce, g.reduce_concat))
    archs = [V2, KEY, dead]
    metrics = ["naswot", "activation_units", "distinguishing_ability", "snip"]
    kw = {"C": 4, "layers": 4}  # cells: normal, reduce, reduce, normal
    df = score_archs("darts", archs, metrics, (x, y), dataset="cifar10", model_kwargs=kw, progress=False)
    w = df.pivot_table(index="arch_id", columns="metric", values="value", dropna=False)
    for a in (V2, KEY):
        r = w.loc[darts.canonical(a)]
        assert np.isfinite(r).all() and r.snip > 0
        assert r.naswot == pytest.approx(8 * math.log(r.activation_units) + r.distinguishing_ability)
    # an all-none normal cell: the last cell outputs zeros, so no gradient reaches any weight;
    # the ReLUs feeding the `none` edges stay on the backward path (x * 0), so NASWOT is finite
    r = w.loc[dead]
    assert r.snip == 0.0 and np.isfinite(r.naswot)
    # a batch of identical images makes K_H singular: NaN is stored and kept, never a crash
    same = (x[:1].repeat(8, 1, 1, 1), y[:1].repeat(8))
    nan = score_archs("darts", [V2], ["naswot"], same, dataset="cifar10", model_kwargs=kw, progress=False)
    assert len(nan) == 1 and math.isnan(nan.value.iloc[0])


def test_cli_score_prints_canonical_id(capsys):
    code = main(["score", "--space", "darts", "--arch", KEY, "--arch", V2_RANGE, "--metrics", "params",
                 "--model", "C=32", "--model", "layers=8"])
    df = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert code == 0 and list(df.arch_id) == [darts.canonical(KEY), darts.canonical(V2)]
    assert df.value.iloc[0] == 0.92465  # official count (affine edge BN) of the first NB301 arch
    code = main(["score", "--space", "darts", "--arch", V2, "--metrics", "params", "--N", "5"])
    err = capsys.readouterr().err
    assert code == 2 and "--N does not apply to space 'darts'" in err and err.count("\n") == 1
    code = main(["score", "--space", "darts", "--arch", "Genotype(normal=[]", "--metrics", "params"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: malformed DARTS arch") and err.count("\n") == 1
