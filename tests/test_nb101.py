import ast
import base64
import io
import json
import math
import struct
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pytest
import torch
from conftest import benchdata
from torch import nn

from trainfree.benchmarks import load_ground_truth, select
from trainfree.benchmarks import nb101 as gt101
from trainfree.cli import main
from trainfree.data.fetch import get_asset
from trainfree.errors import TrainfreeError
from trainfree.metrics import score_archs
from trainfree.spaces import get_space, nb101

SUITE = "nb101/nb101_suitezero_subset250.json"
C3, C1, MP = nb101.CONV3X3, nb101.CONV1X1, nb101.MAXPOOL3X3
# the Inception-like cell of the nasbench README; its trainable_parameters there: 2,694,282
INCEPTION = {"matrix": [[0, 1, 1, 1, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1],
                        [0, 0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1],
                        [0, 0, 0, 0, 0, 0, 0]],
             "ops": ["input", C1, C3, C3, C3, MP, "output"]}


# a record of the official nasbench_only108.tfrecord: its module hash and trainable_parameters
OFFICIAL = {"matrix": [[0, 1, 0, 0, 1, 1, 0], [0, 0, 1, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0, 1],
                       [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1],
                       [0, 0, 0, 0, 0, 0, 0]],
            "ops": ["input", C3, MP, C3, C3, C1, "output"]}
OFFICIAL_HASH, OFFICIAL_PARAMS = "00005c142e6f48ac74fdcf73e3439874", 8_555_530


def js(matrix, ops) -> str:
    return json.dumps({"matrix": [list(map(int, r)) for r in matrix], "ops": list(ops)})


def suite_cells() -> dict:
    return json.loads(benchdata(SUITE).read_text())["nasbench101"]["cifar10"]


# ----------------------------------------------------------------- independent parameter count

def analytic_params(matrix: np.ndarray, ops: list[str], stem: int = 128, classes: int = 10) -> int:
    """Parameters of the NB101 network computed from the pruned cell alone (no torch)."""
    v = len(ops)

    def channels(c_in: int, c_out: int) -> list[int]:
        ch = [0] * v
        ch[0], ch[-1] = c_in, c_out
        feeders = [t for t in range(1, v - 1) if matrix[t][v - 1]]
        for k, t in enumerate(feeders):  # even split, the first (c_out % fan-in) get one more
            ch[t] = c_out // len(feeders) + (1 if k < c_out % len(feeders) else 0)
        for t in range(v - 3, 0, -1):
            if not matrix[t][v - 1]:
                ch[t] = max([ch[d] for d in range(t + 1, v - 1) if matrix[t][d]] + [0])
        return ch

    def cbr(cin: int, cout: int, k: int) -> int:  # conv (no bias) + BN gamma/beta
        return k * k * cin * cout + 2 * cout

    total = cbr(3, stem, 3)
    c_in = c = stem
    for s in range(3):
        if s:
            c *= 2
        for _ in range(3):
            ch = channels(c_in, c)
            for t in range(1, v - 1):
                if matrix[0][t]:
                    total += cbr(c_in, ch[t], 1)
                total += {C3: cbr(ch[t], ch[t], 3), C1: cbr(ch[t], ch[t], 1), MP: 0}[ops[t]]
            if matrix[0][v - 1]:
                total += cbr(c_in, c, 1)
            c_in = c
    return total + c_in * classes + classes


def test_params_of_all_250_suitezero_cells_analytic():
    cells = suite_cells()
    assert len(cells) == 250
    for key, rec in cells.items():
        m, ops = nb101.cell(key)
        assert analytic_params(m.tolist(), list(ops)) == round(rec["params"] * 1e6), key


def test_params_of_built_networks_equal_benchmark():
    cells = suite_cells()
    keys = list(cells)[::12] + [max(cells, key=lambda k: cells[k]["params"])]
    for key in keys:
        assert nb101.count_params(nb101.build_model(key)) == round(cells[key]["params"] * 1e6), key
    assert nb101.count_params(nb101.build_model(json.dumps(INCEPTION))) == 2_694_282


def test_op_codes_are_naslib_order():
    # 2 maxpool3x3, 3 conv1x1, 4 conv3x3: only this order reproduces the file's params
    key = next(iter(suite_cells()))
    t = ast.literal_eval(key)
    assert nb101.spec(key) == nb101.to_json(*nb101.prune(
        np.array(t[:49]).reshape(7, 7), tuple(nb101.CODES[c] for c in t[49:])))
    assert nb101.CODES[2:] == (MP, C1, C3)


# ----------------------------------------------------------------- hash, pruning, forms

def test_official_hash_and_params_of_a_benchmark_record():
    spec = json.dumps(OFFICIAL)
    assert nb101.canonical(spec) == OFFICIAL_HASH
    assert nb101.count_params(nb101.build_model(spec)) == OFFICIAL_PARAMS


def test_hash_invariant_under_relabelling_and_distinguishes_ops():
    m = np.array(INCEPTION["matrix"])
    ops = INCEPTION["ops"]
    h = nb101.canonical(js(m, ops))
    rng = np.random.default_rng(0)
    n_perm = 0
    while n_perm < 10:
        perm = np.concatenate([[0], rng.permutation(np.arange(1, 6)), [6]])
        pm = m[np.ix_(perm, perm)]
        if np.tril(pm).any():
            continue  # not a topological order: not an upper-triangular labelling
        n_perm += 1
        assert nb101.canonical(js(pm, [ops[i] for i in perm])) == h
    other = list(ops)
    other[5] = C3
    assert nb101.canonical(js(m, other)) != h
    assert len(h) == 32 and int(h, 16) >= 0


def test_hash_invariant_under_pruning():
    core = [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    ops = ["input", C3, MP, "output"]
    h = nb101.canonical(js(core, ops))
    # add a vertex 1 fed by the input but feeding nothing, and a vertex 4 feeding the output
    # with no input: both are off every input->output path
    big = np.zeros((6, 6), dtype=int)
    big[0, 1] = 1
    big[np.ix_([0, 2, 3, 5], [0, 2, 3, 5])] = core
    big[4, 5] = 1
    big_ops = ["input", C1, C3, MP, C1, "output"]
    assert nb101.canonical(js(big, big_ops)) == h
    assert nb101.spec(js(big, big_ops)) == nb101.to_json(np.array(core), tuple(ops))
    # limits apply after pruning (official API): 8 vertices with one dangling is a valid 7-vertex cell
    m8 = np.zeros((8, 8), dtype=int)
    m8[:7, :7] = INCEPTION["matrix"]
    m8[:7, 7], m8[:7, 6] = m8[:7, 6], 0
    m8[0, 6] = 1  # vertex 6 (maxpool) now fed by the input and feeding nothing: pruned
    ops8 = INCEPTION["ops"][:6] + [MP, "output"]
    assert nb101.canonical(js(m8, ops8)) == nb101.canonical(json.dumps(INCEPTION))


def test_forms_agree_and_hash_round_trips():
    key = next(iter(suite_cells()))
    h = nb101.canonical(key)
    assert nb101.canonical(nb101.spec(key)) == h
    assert nb101.canonical(h) == h and nb101.spec(h) == nb101.spec(key)
    assert get_space("nb101") is nb101
    with pytest.raises(TrainfreeError, match="pass the cell"):
        nb101.canonical("0123456789abcdef0123456789abcdef")


BAD = [
    (js([[0, 1, 0], [1, 0, 1], [0, 0, 0]], ["input", C3, "output"]), "not upper-triangular"),
    (js(np.triu(np.ones((7, 7), dtype=int), 1), ["input", C3, C3, C3, C3, C3, "output"]), "edges after pruning"),
    (js(np.eye(8, k=1, dtype=int), ["input"] + [C3] * 6 + ["output"]), "8 vertices after pruning, at most 7"),
    (js([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv5x5", "output"]), "unknown op 'conv5x5'"),
    ("(" + ", ".join(["0"] * 49 + ["0", "7", "2", "2", "2", "2", "1"]) + ")", "unknown op code 7"),
    ("(0, 1, 0)", "has 3 entries, need 56"),
    ("(0, 1, x)", "not a comma-separated list"),
    ('{"matrix": [[0, 1], [0, 0]], "ops": ["input", "output"]', "invalid JSON"),
    ('{"matrix": [[0, 1], [0, 0]]}', 'exactly the keys "matrix" and "ops"'),
    (js([[0, 1], [0, 0]], ["output", "input"]), "first op must be 'input'"),
    ("resnet", "not a tuple, a JSON object"),
]


@pytest.mark.parametrize("arch,needle", BAD)
def test_bad_input_one_clear_line(arch, needle):
    with pytest.raises(TrainfreeError) as e:
        nb101.canonical(arch)
    msg = str(e.value)
    assert needle in msg and "\n" not in msg and "NB101" in msg


# ----------------------------------------------------------------- sampler, network

def test_sampler_seeded_distinct_valid():
    a, b = nb101.sample(20, seed=3), nb101.sample(20, seed=3)
    assert a == b and a != nb101.sample(20, seed=4)
    hashes = [nb101.canonical(s) for s in a]
    assert len(set(hashes)) == 20 and not any(h.startswith("unreachable") for h in hashes)
    for s in a:
        m, ops = nb101.cell(s)
        assert len(ops) <= 7 and m.sum() <= 9 and nb101.spec(s) == s


def test_network_shapes_bn_and_out_of_place_relus():
    model = nb101.build_model(json.dumps(INCEPTION), stem_channels=16)
    y = model(torch.randn(2, 3, 32, 32))
    assert y.shape == (2, 10) and torch.isfinite(y).all()
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert relus and not any(r.inplace for r in relus)
    assert all(abs(b.momentum - 0.003) < 1e-12 and b.eps == 1e-5 for b in bns)
    assert nb101.compute_vertex_channels(128, 128, np.array(INCEPTION["matrix"])) == [128, 32, 32, 32, 32, 32, 128]
    # 3 feeders of 128: 43, 43, 42; an interior vertex takes the max of what it feeds
    m = np.array([[0, 1, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]])
    m[1, 4] = 1
    assert nb101.compute_vertex_channels(64, 128, m) == [64, 43, 43, 42, 128]


UNREACHABLE = js([[0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]], ["input", C3, C1, "output"])


def test_engine_scores_nb101_cells_and_unreachable_is_nan():
    specs = [json.dumps(INCEPTION), nb101.sample(1, seed=0)[0], UNREACHABLE]
    x, y = torch.randn(6, 3, 32, 32), torch.randint(0, 10, (6,))
    names = ["naswot", "activation_units", "distinguishing_ability", "snip", "params"]
    df = score_archs("nb101", specs, names, (x, y), dataset="random", progress=False,
                     model_kwargs={"stem_channels": 16})
    wide = df.pivot_table(index="arch_id", columns="metric", values="value", dropna=False)
    ids = [nb101.canonical(s) for s in specs]
    assert ids[2].startswith("unreachable-") and set(wide.index) == set(ids)
    for h in ids[:2]:
        r = wide.loc[h]
        assert all(math.isfinite(r[k]) for k in names)
        assert r.naswot == pytest.approx(6 * math.log(r.activation_units) + r.distinguishing_ability, rel=1e-9)
    dead = wide.loc[ids[2]]
    assert math.isnan(dead.naswot) and math.isnan(dead.snip) and math.isnan(dead.distinguishing_ability)


def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_cli_score_accepts_tuple_and_json_prints_hash():
    cells = suite_cells()
    key = next(iter(cells))
    code, out, err = run_cli("score", "--space", "nb101", "--arch", key, "--arch", nb101.spec(key),
                             "--metrics", "params,flops", "--format", "json")
    rows = json.loads(out)
    assert code == 0, err
    assert {r["arch_id"] for r in rows} == {nb101.canonical(key)}
    assert [r["value"] for r in rows if r["metric"] == "params"] == [cells[key]["params"]] * 2
    assert all(r["value"] > 0 for r in rows if r["metric"] == "flops")
    code, out, err = run_cli("score", "--space", "nb101", "--arch", key, "--metrics", "params", "--C", "8")
    assert code == 2 and "--C does not apply" in err and err.count("\n") == 1
    code, out, err = run_cli("score", "--space", "nb101", "--arch", "(1, 2)", "--metrics", "params")
    assert code == 2 and "malformed NB101 cell" in err and err.count("\n") == 1


# ----------------------------------------------------------------- ground truth

def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def _double(num: int, x: float) -> bytes:
    return _varint(num << 3 | 1) + struct.pack("<d", x)


def _ld(num: int, payload: bytes) -> bytes:
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def encode_metrics(evals: list[tuple[float, float, float, float, float]], params: int) -> bytes:
    """ModelMetrics wire format: evaluation_data (epoch, time, train, valid, test), params, total."""
    msg = b""
    for ev in evals:
        body = b"".join(_double(i + 1, v) for i, v in enumerate(ev)) + _ld(6, b"/ckpt/model.ckpt-1")
        msg += _ld(1, body)
    return msg + _varint(2 << 3 | 0) + _varint(params) + _double(3, 1234.5)


def tfrecord_frame(data: bytes) -> bytes:
    n = struct.pack("<Q", len(data))
    return n + struct.pack("<I", gt101.masked_crc(n)) + data + struct.pack("<I", gt101.masked_crc(data))


def test_crc32c_known_vectors():
    assert gt101.crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    assert gt101.crc32c(b"\x00" * 32) == 0x8A9136AA  # RFC 3720 B.4
    assert gt101._crc32c_py(b"123456789") == 0xE3069283  # the pure-Python path whatever is installed


@pytest.fixture
def tfrecord(tmp_path):
    cells = [(json.dumps(INCEPTION), 2_694_282), (nb101.sample(1, seed=5)[0], 1_234_567)]
    recs = []
    for ci, (spec, params) in enumerate(cells):
        m, ops = nb101.cell(spec)
        for r in range(3):
            acc = 0.80 + 0.01 * r + 0.1 * ci
            evals = [(0.0, 0.0, 0.1, 0.1, 0.1), (54.0, 500.0 + r, acc - 0.2, acc - 0.25, acc - 0.26),
                     (108.0, 1000.0 + 10 * r, acc + 0.1, acc, acc - 0.01)]
            b64 = base64.b64encode(encode_metrics(evals, params)).decode()
            row = [nb101.canonical(spec), 108, "".join(str(v) for v in m.flatten()), ",".join(ops), b64]
            recs.append(tfrecord_frame(json.dumps(row).encode()))
    p = tmp_path / "nasbench_only108.tfrecord"
    p.write_bytes(b"".join(recs))
    return p, [nb101.canonical(s) for s, _ in cells]


def test_tfrecord_reader(tfrecord):
    path, ids = tfrecord
    gt = load_ground_truth("nb101", path)
    valid = select(gt, "cifar10", "valid", 108)
    assert list(valid.index) == ids
    assert valid[ids[0]] == pytest.approx(81.0) and valid[ids[1]] == pytest.approx(91.0)
    assert select(gt, "cifar10", "test", 108)[ids[0]] == pytest.approx(80.0)
    assert select(gt, "cifar10", "train", 108, seed="repeat3")[ids[0]] == pytest.approx(92.0)
    assert select(gt, "cifar10", "cost", 108, field="params_m")[ids[0]] == 2.694282
    assert select(gt, "cifar10", "cost", 108, seed="repeat2", field="train_time_s")[ids[1]] == 1010.0
    assert set(gt.seed) == {"mean", "repeat1", "repeat2", "repeat3"} and set(gt.space) == {"nb101"}
    assert list(gt.bench_index.drop_duplicates()) == [0, 1]


def test_tfrecord_corrupt_and_truncated(tfrecord, tmp_path):
    path, _ = tfrecord
    raw = bytearray(path.read_bytes())
    bad = tmp_path / "bad.tfrecord"
    raw[40] ^= 0xFF
    bad.write_bytes(bytes(raw))
    with pytest.raises(TrainfreeError, match="data CRC mismatch"):
        load_ground_truth("nb101", bad)
    short = tmp_path / "short.tfrecord"
    short.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(TrainfreeError, match="truncated"):
        load_ground_truth("nb101", short)
    junk = tmp_path / "junk.tfrecord"
    junk.write_bytes(b"not a tfrecord at all")
    with pytest.raises(TrainfreeError, match="length CRC mismatch"):
        load_ground_truth("nb101", junk)


def test_suitezero_reader_and_proxies():
    path = benchdata(SUITE)
    cells = suite_cells()
    gt = load_ground_truth("nb101", path)
    acc = select(gt, "cifar10", "valid", 108, seed="single")
    key = next(iter(cells))
    h = nb101.canonical(key)
    # 250 keys, 162 distinct cells after pruning and hashing
    assert len(acc) == 162 and acc[h] == cells[key]["val_accuracy"]
    assert select(gt, "cifar10", "cost", 108, field="params_m")[h] == cells[key]["params"]
    prox = gt101.read_suitezero_proxies(path)
    assert prox.shape[0] == 250 and prox.arch_id.nunique() == 162
    assert prox.synflow.iloc[0] == cells[key]["synflow"] and prox.spec.iloc[0] == nb101.spec(key)
    # keys sharing a hash share params exactly (same network) but not val_accuracy (one repeat each)
    by = prox.groupby("arch_id")
    assert (by.params.nunique() == 1).all() and (by.val_accuracy.nunique() > 1).any()


def test_official_file_is_a_fetch_asset():
    a = get_asset("nb101-only108")
    assert a.filename == "nasbench_only108.tfrecord"
    assert a.urls == ("https://storage.googleapis.com/nasbench/nasbench_only108.tfrecord",)
    assert a.sha256 == "4c39c3936e36a85269881d659e44e61a245babcb72cb374eacacf75d0e5f4fd1"
