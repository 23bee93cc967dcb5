"""NDS design spaces: the release reader and one network per space, on fixture sweeps."""

import json

import numpy as np
import pytest
import torch
from nds_release import BLOCK_NETS, GENOTYPES, family_net, record, write_release

from trainfree.analysis.published import paper_vs_ours
from trainfree.benchmarks import GT_COLUMNS, load_ground_truth, select
from trainfree.errors import TrainfreeError
from trainfree.spaces import get_space, list_spaces
from trainfree.spaces import nds as nds_space

NC = 10


#: tiny networks: one intra-op thread is faster than two on a shared CPU
pytestmark = pytest.mark.usefixtures("one_thread")

# ----------------------------------------------------------- parameter counts by hand
# Conv weights have no bias; BN has 2 parameters per channel; Linear has a bias.


def op_params(op: str, c: int, stride: int) -> int:
    """Parameters of one cell op on c channels."""
    bn = 2 * c
    sep = lambda k: 2 * (k * k * c + c * c + bn)  # noqa: E731  two [depthwise kxk, pointwise, BN]
    table = {
        "sep_conv_3x3": sep(3), "sep_conv_5x5": sep(5), "sep_conv_7x7": sep(7), "dil_sep_conv_3x3": sep(3),
        "dil_conv_3x3": 9 * c + c * c + bn, "dil_conv_5x5": 25 * c + c * c + bn,
        "conv_1x1": c * c + bn, "conv_3x3": 9 * c * c + bn,
        "conv_3x1_1x3": 3 * c * c + 3 * c * c + bn, "conv_7x1_1x7": 7 * c * c + 7 * c * c + bn,
        # stride-2 skip = factorised reduce: two 1x1 convs to c/2 channels each, BN
        "skip_connect": 0 if stride == 1 else c * c + bn,
    }
    return table.get(op, 0)  # pools and none have no parameters


def cell_net_params(net: dict, imagenet: bool) -> int:
    g, c, depth = net["genotype"], net["width"], net["depth"]
    if imagenet:  # 3x3 s2 conv to c/2 + BN, 3x3 s2 conv to c + BN; then ReLU, 3x3 s2 conv c->c + BN
        total = 27 * (c // 2) + c + 9 * (c // 2) * c + 2 * c + 9 * c * c + 2 * c
        c_pp = c_p = c
    else:  # 3x3 conv to 3c + BN
        total = 27 * 3 * c + 6 * c
        c_pp = c_p = 3 * c
    reductions = {depth // 3, 2 * depth // 3}
    c_aux = None
    for i in range(depth):
        red = i in reductions
        if red:
            c *= 2
        kind = "reduce" if red else "normal"
        total += c_pp * c + 2 * c  # preprocess0: 1x1 conv (or two 1x1 to c/2 when reducing) + BN
        total += c_p * c + 2 * c   # preprocess1: 1x1 conv + BN
        total += sum(op_params(op, c, 2 if red and j < 2 else 1) for op, j in g[kind])
        c_pp, c_p = c_p, len(g[f"{kind}_concat"]) * c
        if i == 2 * depth // 3:
            c_aux = c_p
    if net.get("aux"):  # 1x1 conv to 128 + BN, 2x2 conv to 768 (+ BN on CIFAR only), linear
        total += c_aux * 128 + 256 + 128 * 768 * 4 + (0 if imagenet else 2 * 768) + 768 * NC + NC
    return total + c_p * NC + NC


def block_net_params(net: dict, imagenet: bool) -> int:
    stem_w = 64 if imagenet else 16
    total = (49 if imagenet else 9) * 3 * stem_w + 2 * stem_w
    w_prev = stem_w
    n = len(net["ds"])
    bms = net["bot_muls"] or [1.0] * n
    gs = net["num_gs"] or [1] * n
    for d, w, s, bm, g in zip(net["ds"], net["ws"], net["ss"], bms, gs):
        for j in range(d):
            w_in, stride = (w_prev, s) if j == 0 else (w, 1)
            if net["block_type"] == "double_plain_block":
                total += 9 * w_in * w + 2 * w + 9 * w * w + 2 * w
                continue
            if w_in != w or stride != 1:
                total += w_in * w + 2 * w  # projection shortcut
            if net["block_type"] == "res_basic_block":
                total += 9 * w_in * w + 2 * w + 9 * w * w + 2 * w
            else:
                b = round(w * bm)
                total += w_in * b + 2 * b + 9 * b * (b // g) + 2 * b + b * w + 2 * w
        w_prev = w
    return total + w_prev * NC + NC


def hand_params(stem: str, net: dict) -> int:
    imagenet = stem.endswith("_in")
    fam = stem.split("_")[0]
    return cell_net_params(net, imagenet) if fam in GENOTYPES else block_net_params(net, imagenet)


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# --------------------------------------------------------------------------- networks

NETWORK_SWEEPS = ["DARTS", "ENAS", "PNAS", "NASNet", "Amoeba", "DARTS_in", "ENAS_in", "PNAS_in", "NASNet_in",
                  "Amoeba_in", "DARTS_fix-w-d", "ENAS_fix-w-d", "PNAS_fix-w-d", "DARTS_lr-wd", "DARTS_lr-wd_in",
                  "ResNet", "ResNet-B", "ResNeXt-A", "ResNeXt-B", "Vanilla", "ResNeXt-A_in", "ResNeXt-B_in",
                  "ResNet_lr-wd", "Vanilla_lr-wd_in", "ResNet_reruns", "Vanilla_rng1"]


@pytest.mark.parametrize("stem", NETWORK_SWEEPS)
def test_network_of_each_space_has_the_hand_counted_parameters(stem):
    sp = get_space(f"nds_{stem}")
    rec = record(stem, 1, params=0)
    arch = sp.canonical(rec)
    model = sp.build_model(sp.spec(arch), num_classes=NC)
    assert model.training
    assert n_params(model) == hand_params(stem, rec["net"])
    x = torch.randn(2, 3, 32, 32)
    assert model(x).shape == (2, NC)


def test_hand_counts_match_known_totals():
    # the formula itself, checked on two nets counted on paper:
    # Vanilla, stem 16, one stage of one 8-wide block: 3*9*16+32 + (9*16*8+16 + 9*8*8+16) + 8*10+10
    net = {"block_type": "double_plain_block", "ds": [1], "ws": [8], "ss": [1], "bot_muls": [], "num_gs": []}
    assert block_net_params(net, False) == 464 + 1168 + 592 + 90
    # one 3x3 conv op on c=4 channels: 9*16 weights + 8 BN
    assert op_params("conv_3x3", 4, 1) == 152 and op_params("skip_connect", 4, 2) == 24


def test_shrunk_networks_and_family_kinds():
    sp = get_space("nds_DARTS")
    arch = sp.canonical(family_net("DARTS", 0))
    small = sp.build_model(arch, C=4, N=1)
    assert len(small.cells) == 5
    net = dict(family_net("DARTS", 0), width=4, depth=5)
    assert n_params(small) == cell_net_params(net, False)
    blocks = get_space("nds_ResNet").build_model(json.dumps(BLOCK_NETS["ResNet"]), C=8, N=1)
    assert [len(s) for s in blocks.stages] == [1, 1, 1] and blocks.stem[0].out_channels == 8
    assert nds_space.family("nds_DARTS_lr-wd_in") == "DARTS" and nds_space.is_imagenet("nds_DARTS_lr-wd_in")
    assert "nds_ResNeXt-A" in list_spaces() and "nb201" in list_spaces()


def test_arch_ids_and_bad_archs():
    sp = get_space("nds_ENAS")
    rec = record("ENAS", 0, 0)
    a = sp.canonical(rec)
    assert a == sp.canonical(json.dumps(rec["net"])) == sp.canonical(a)
    assert json.loads(a) == {**rec["net"], "genotype": GENOTYPES["ENAS"]}
    lr = get_space("nds_DARTS_lr-wd")
    ids = {lr.canonical(record("DARTS_lr-wd", i, 0)) for i in (0, 2)}
    assert len(ids) == 2 and all('"optim":{"base_lr"' in i for i in ids)
    with pytest.raises(TrainfreeError, match="optim.base_lr"):
        lr.canonical(rec["net"])
    bad = json.loads(json.dumps(rec["net"]))
    bad["genotype"]["normal"][0] = ["conv_9x9", 0]
    with pytest.raises(TrainfreeError, match="unknown op 'conv_9x9'"):
        sp.canonical(bad)
    bad["genotype"]["normal"][0] = ["sep_conv_3x3", 3]
    with pytest.raises(TrainfreeError, match="not yet computed"):
        sp.canonical(bad)
    with pytest.raises(TrainfreeError, match="missing ds"):
        get_space("nds_ResNet").canonical({"block_type": "res_basic_block", "ws": [8], "ss": [1]})
    with pytest.raises(TrainfreeError, match="not JSON"):
        sp.canonical("{genotype")
    with pytest.raises(TrainfreeError, match="sample.pool: ground_truth"):
        sp.sample(3, 0)
    with pytest.raises(TrainfreeError, match="unknown search space"):
        get_space("nds_Foo")


# ----------------------------------------------------------------------------- reader


def test_reader_plain_list_from_zip(tmp_path):
    path = write_release(tmp_path, {"DARTS": 5, "ResNet": 4}, hand_params)
    gt = load_ground_truth("nds_DARTS", path)
    assert list(gt.columns) == GT_COLUMNS and set(gt.space) == {"nds_DARTS"} and set(gt.dataset) == {"cifar10"}
    recs = [record("DARTS", i, hand_params("DARTS", family_net("DARTS", i))) for i in range(5)]
    sp = get_space("nds_DARTS")
    # records 0..5 differ in width/depth/aux only through i % 6: all 5 ids distinct
    acc = select(gt, "cifar10", "test", 3)
    for i, r in enumerate(recs):
        aid = sp.canonical(r)
        assert acc[aid] == pytest.approx(100.0 - r["test_ep_top1"][-1])
        row = gt[(gt.arch_id == aid) & (gt.field == "params_m") & (gt.seed == "mean")]
        assert row.value.iloc[0] == pytest.approx(r["params"] / 1e6) and row.bench_index.iloc[0] == i
        assert row.split.iloc[0] == "cost"
    best = select(gt, "cifar10", "test", 3, field="best_acc")
    train = select(gt, "cifar10", "train", 3)
    r0 = sp.canonical(recs[0])
    assert best[r0] == pytest.approx(100.0 - recs[0]["min_test_top1"])
    assert train[r0] == pytest.approx(100.0 - recs[0]["train_ep_top1"][-1])
    assert select(gt, "cifar10", "test", 3, seed="1")[r0] == acc[r0]  # rng_seed rows beside the mean
    flops = select(gt, "cifar10", "cost", 3, field="flops_m")
    assert flops[r0] == pytest.approx(recs[0]["flops"] / 1e6)
    assert set(gt.source) == {"NDS DARTS.json"}
    # the release's params field equals our network's count where the record says it (fixture convention)
    model = sp.build_model(r0)
    assert n_params(model) == recs[0]["params"]


def test_reader_top_mid_file_folder_and_duplicates(tmp_path):
    root = write_release(tmp_path, {"Vanilla_reruns": 6}, as_zip=False)
    gt = load_ground_truth("nds_Vanilla_reruns", root)
    assert {"NDS Vanilla_reruns.json [top]", "NDS Vanilla_reruns.json [mid]"} <= set(gt.source)
    acc = gt[(gt.field == "acc") & (gt.split == "test") & (gt.seed == "mean")]
    # family_net repeats with period 6 in i for block nets (i % 2, i % 3): ids of records 0..5 are distinct
    assert sorted(acc.bench_index) == [0, 1, 2, 3, 4, 5]
    top_idx = acc[acc.source.str.endswith("[top]")].bench_index
    assert sorted(top_idx) == [0, 1, 2]
    # the same file read directly as JSON gives the same table
    direct = load_ground_truth("nds_Vanilla_reruns", root / "data" / "Vanilla_reruns.json")
    assert direct.equals(gt)


def test_reader_means_repeated_archs(tmp_path):
    recs = [record("ResNet", 0, 0), record("ResNet", 6, 0)]  # same net (period 6), two runs
    recs[1]["rng_seed"] = 2
    (tmp_path / "ResNet.json").write_text(json.dumps(recs))
    gt = load_ground_truth("nds_ResNet", tmp_path)
    acc = gt[(gt.field == "acc") & (gt.split == "test")]
    assert acc.arch_id.nunique() == 1
    by_seed = acc.set_index("seed").value
    expect = [100.0 - r["test_ep_top1"][-1] for r in recs]
    assert by_seed["1"] == pytest.approx(expect[0]) and by_seed["2"] == pytest.approx(expect[1])
    assert by_seed["mean"] == pytest.approx(np.mean(expect))
    assert set(load_ground_truth("nds_ResNet", tmp_path, seeds=False).seed) == {"mean"}


def test_reader_errors_name_the_release(tmp_path):
    with pytest.raises(TrainfreeError, match=r"cannot provide nds: .*dl\.fbaipublicfiles\.com/nds/data\.zip"):
        load_ground_truth("nds_DARTS", tmp_path / "data.zip")
    path = write_release(tmp_path, {"ENAS": 2})
    with pytest.raises(TrainfreeError, match="holds no DARTS.json"):
        load_ground_truth("nds_DARTS", path)
    (tmp_path / "DARTS.json").write_text(json.dumps({"top": []}))
    with pytest.raises(TrainfreeError, match="'top' and 'mid'"):
        load_ground_truth("nds_DARTS", tmp_path / "DARTS.json")
    (tmp_path / "DARTS.json").write_text(json.dumps([{"net": {}}]))
    with pytest.raises(TrainfreeError, match="record 0: not an NDS record"):
        load_ground_truth("nds_DARTS", tmp_path / "DARTS.json")


def test_ground_truth_archs_rebuild_through_spec(tmp_path):
    """A sample drawn from the release's records (sample.pool: ground_truth) keeps spec();
    it must give back the same canonical id and the same network."""
    for name, n in (("ResNet", 3), ("DARTS_lr-wd", 3)):
        sp = get_space(f"nds_{name}")
        gt = load_ground_truth(sp.NAME, write_release(tmp_path / name, {name: n}))
        ids = gt.drop_duplicates("arch_id").arch_id.tolist()
        assert len(ids) == n
        for a in ids:
            assert sp.canonical(sp.spec(a)) == a
        count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
        assert count(sp.build_model(sp.spec(ids[0]))) == count(sp.build_model(ids[0]))


def test_paper_vs_ours_uses_the_space_published_tau():
    import pandas as pd

    corr = pd.DataFrame({"metric": ["naswot", "naswot", "activation_units"],
                         "ground_truth": ["cifar10 test acc @100ep (seed mean)", "cifar10 test best_acc @100ep",
                                          "cifar10 test acc @100ep (seed mean)"],
                         "kendall": [0.40, 0.41, 0.2], "kendall_nan_last": [0.40, 0.41, 0.2], "kendall_lo": [0.3] * 3, "kendall_hi": [0.5] * 3, "n": [50] * 3})
    t = paper_vs_ours(corr, space="nds_PNAS")
    assert t.paper_kendall.iloc[0] == 0.382 and t.difference.iloc[0] == pytest.approx(0.40 - 0.382)
    assert t.paper_kendall.iloc[1:].isna().all()
    assert paper_vs_ours(corr, space="nds_ResNet").paper_kendall.isna().all()
    nb201 = corr.assign(ground_truth=["cifar10-valid test acc @200ep (seed mean)"] * 3)
    assert paper_vs_ours(nb201, "nb201").paper_kendall.iloc[0] == 0.574  # NB201 default unchanged
    assert paper_vs_ours(corr, space="nb201").paper_kendall.isna().all()  # NB201: cifar10 is another field


def test_params_check_against_the_release_field(tmp_path):
    from trainfree.benchmarks.nds import params_check

    path = write_release(tmp_path, {"PNAS": 4, "ResNeXt-B": 4}, hand_params)  # params = hand count (10 classes)
    for space in ("nds_PNAS", "nds_ResNeXt-B"):
        t = params_check(space, path, n=3)
        assert len(t) == 3 and (t.difference == 0).all() and (t.our_params > 0).all()
    off = write_release(tmp_path / "off", {"ENAS": 2}, lambda s, net: hand_params(s, net) + 5)
    assert (params_check("nds_ENAS", off).difference == -5).all()


def test_release_is_a_fetch_asset_accepted_when_placed(tmp_path):
    from trainfree.data.fetch import fetch, get_asset

    asset = get_asset("nds")
    assert asset.urls == ("https://dl.fbaipublicfiles.com/nds/data.zip",) and asset.filename == "data.zip"
    placed = write_release(tmp_path, {"Amoeba": 2})
    assert fetch("nds", tmp_path) == placed
