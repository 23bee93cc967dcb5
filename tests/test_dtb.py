"""DTB: a tiny benchmark built in the test, its loader, kill-and-resume, checksum refusal."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
from conftest import ROOT, benchdata, run_snakemake

import trainfree.dtb
from trainfree.errors import TrainfreeError
from trainfree.pipeline.dtb import dtb_assemble, dtb_sample, dtb_train, protocol_of
from trainfree.training.dtb import augment, build, evaluate, load_data

NPZ = benchdata("images/cifar10_partial_5506.npz")


def tiny_cfg(**dtb) -> dict:
    d = {"n": 2, "seed": 0, "version": "test", "model": {"C": 4, "N": 1}, "epochs": 2, "batch_size": 32,
         "lr": 0.05, "valid_size": 64, "max_train": 128, "max_test": 64, "checkpoint_epochs": [0, 2]}
    d.update(dtb)
    return {"space": "nb201", "data": {"dataset": "cifar10", "root": str(NPZ)}, "dtb": d}


@pytest.fixture(scope="module")
def tiny_dtb(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("dtb")
    cfg = tiny_cfg()
    dtb_sample(cfg, root / "w" / "sample.csv")
    n = len(pd.read_csv(root / "w" / "sample.csv"))
    for i in range(n):
        dtb_train(cfg, root / "w" / "sample.csv", i, root / "dtb", root / "w", root / "w" / f"s{i}.parquet",
                    root / "w" / f"i{i}.json")
    dtb_assemble(cfg, root / "w" / "sample.csv", [root / "w" / f"s{i}.parquet" for i in range(n)],
                   [root / "w" / f"i{i}.json" for i in range(n)], root / "dtb")
    return root / "dtb", cfg


def test_loader_opens_and_checkpoints_reproduce_the_states(tiny_dtb):
    path, cfg = tiny_dtb
    d = trainfree.dtb.open(path)
    assert len(d.archs) == 2 and d.space == "nb201" and d.checkpoint_epochs == [0, 2]
    assert list(d.states.columns) == ["arch_id", "epoch", "split", "loss", "acc", "seconds"]
    assert len(d.states) == 2 * 3 * 3  # archs x epochs 0..2 x splits
    assert set(d.states.split) == {"train", "valid", "test"}
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["protocol"]["epochs"] == 2 and "states.csv" in manifest["files"]
    assert all(k in (path / "DATASHEET.md").read_text() for k in ("## Motivation", "## Limits"))
    # the final checkpoint evaluated again gives the table's final test and valid numbers exactly
    data = load_data("cifar10", str(NPZ), protocol_of(cfg))
    for arch in d.archs.arch_id:
        net = d.checkpoint(arch, 2)
        st = d.states[(d.states.arch_id == arch) & (d.states.epoch == 2)].set_index("split")
        loss, acc = evaluate(net, data.x_test, data.y_test)
        assert acc == pytest.approx(st.loc["test", "acc"], abs=1e-9)
        assert loss == pytest.approx(st.loc["test", "loss"], rel=1e-6)
        # epoch 0 is the untrained network: weights of a fresh seeded build
        from trainfree.seeding import derive_seed

        fresh = build("nb201", arch, {"C": 4, "N": 1}, 10, derive_seed(arch, 0, "init"))
        w0 = d.checkpoint(arch, 0).state_dict()
        assert all(torch.equal(v, w0[k]) for k, v in fresh.state_dict().items())
        assert not torch.equal(net.state_dict()["classifier.weight"], w0["classifier.weight"])
    with pytest.raises(TrainfreeError, match="keeps epochs"):
        d.checkpoint(0, 1)


def _flip_byte(p: Path, offset: int) -> bytes:
    b = bytearray(p.read_bytes())
    old = bytes(b)
    b[offset] ^= 0x01
    p.write_bytes(bytes(b))
    return old


def test_edited_files_are_refused_by_name(tiny_dtb):
    path, _ = tiny_dtb
    for rel, off in (("checkpoints/arch_0001/epoch_002.pt", 200), ("states.csv", 60)):
        p = path / rel
        old = _flip_byte(p, off)
        try:
            with pytest.raises(TrainfreeError, match=rel.replace(".", r"\.")):
                trainfree.dtb.open(path)
        finally:
            p.write_bytes(old)
    trainfree.dtb.open(path)  # restored: accepted again


def test_augment_is_seeded_crop_and_flip():
    x = torch.rand(5, 3, 32, 32)
    a = augment(x, torch.Generator().manual_seed(3))
    b = augment(x, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and a.shape == x.shape
    g = torch.Generator().manual_seed(3)
    oy, ox = torch.randint(0, 9, (5,), generator=g), torch.randint(0, 9, (5,), generator=g)
    flip = torch.rand(5, generator=g) < 0.5
    pad = torch.nn.functional.pad(x, (4, 4, 4, 4))
    for i in range(5):
        ref = pad[i, :, oy[i]:oy[i] + 32, ox[i]:ox[i] + 32]
        assert torch.equal(a[i], ref.flip(2) if flip[i] else ref)


RUN = """
import sys, torch
torch.set_num_threads(1)
sys.path.insert(0, {src!r})
from trainfree.pipeline.dtb import dtb_sample, dtb_train
cfg = {cfg!r}
out = sys.argv[1]
dtb_sample(cfg, out + "/sample.csv")
dtb_train(cfg, out + "/sample.csv", 0, out + "/dtb", out + "/work", out + "/states.parquet", out + "/info.json")
"""


def _job(cfg: dict, out: Path) -> subprocess.Popen:
    script = RUN.format(src=str(ROOT / "src"), cfg=cfg)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.Popen([sys.executable, "-c", script, str(out)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def test_killed_job_resumes_to_identical_numbers(tmp_path):
    cfg = tiny_cfg(epochs=4, max_train=384, checkpoint_epochs=[0, 1, 4])
    ref, cut = tmp_path / "ref", tmp_path / "cut"
    p = _job(cfg, ref)
    assert p.wait(timeout=600) == 0, p.stderr.read()
    # a second job killed with SIGKILL as soon as its epoch-1 checkpoint exists
    p = _job(cfg, cut)
    ck1 = cut / "dtb" / "checkpoints" / "arch_0000" / "epoch_001.pt"
    t0 = time.time()
    while not ck1.exists() and p.poll() is None and time.time() - t0 < 600:
        time.sleep(0.01)
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert p.returncode == -signal.SIGKILL, "the job ended before it could be killed"
    assert not (cut / "states.parquet").exists() and (cut / "work" / "arch_0000" / "resume.pt").exists()
    p = _job(cfg, cut)
    assert p.wait(timeout=600) == 0, p.stderr.read()
    info = json.loads((cut / "info.json").read_text())
    assert info["resumed_from_epoch"] is not None and info["resumed_from_epoch"] >= 1
    a, b = pd.read_parquet(ref / "states.parquet"), pd.read_parquet(cut / "states.parquet")
    pd.testing.assert_frame_equal(a.drop(columns="seconds"), b.drop(columns="seconds"), check_exact=True)
    wa = torch.load(ref / "dtb/checkpoints/arch_0000/epoch_004.pt", weights_only=False)
    wb = torch.load(cut / "dtb/checkpoints/arch_0000/epoch_004.pt", weights_only=False)
    assert all(torch.equal(v, wb["model"][k]) for k, v in wa["model"].items())
    assert not (cut / "work" / "arch_0000" / "resume.pt").exists()


@pytest.mark.parametrize("name", ["dtb_mini.yaml", "dtb_paper.yaml", "nb201_fast.yaml"])
def test_dtb_configs_validate_and_build_their_dag(tmp_path, name):
    r = run_snakemake(tmp_path, ROOT / "config" / name, "-n", "--cores", "1", timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    if name.startswith("dtb"):
        n = {"dtb_mini.yaml": 24, "dtb_paper.yaml": 500}[name]
        assert f"dtb_train {n}" in " ".join(r.stdout.split())  # one training job per arch
        assert "summary 1" in " ".join(r.stdout.split()) and "provenance 1" in " ".join(r.stdout.split())


def test_study_scores_checkpoints_and_fast_steps(tiny_dtb):
    import math

    from trainfree.data import scoring_batch
    from trainfree.training.dtb_study import fast_training_table, paired_delta, score_states
    from trainfree.training.fast import TrainConfig

    path, _ = tiny_dtb
    batch = scoring_batch("cifar10", 8, 1, root=str(NPZ))
    metrics = ["naswot", "distinguishing_ability", "activation_units"]
    s = score_states(str(path), trainfree.dtb.open(path).archs.arch_id.tolist(), metrics, batch, [2],
                     TrainConfig(batch_size=16), seed=1)
    assert set(zip(s.unit, s.k, strict=True)) == {("epoch", 0), ("epoch", 2), ("step", 0), ("step", 2)}
    w = s.pivot_table(index=["arch_id", "unit", "k"], columns="metric", values="value")
    # the DAS identity holds on trained states too: log|K_H| = n log N_A + D
    for _, r in w.iterrows():
        assert r.naswot == pytest.approx(8 * math.log(r.activation_units) + r.distinguishing_ability, abs=1e-6)
    # k = 0 is the same untrained network on both axes; training changes the codes
    a, b = w.xs(("epoch", 0), level=("unit", "k")), w.xs(("step", 0), level=("unit", "k"))
    pd.testing.assert_frame_equal(a, b)
    assert not w.xs(("epoch", 2), level=("unit", "k")).naswot.equals(a.naswot)
    assert (s[(s.unit == "epoch") & (s.k == 2)].train_seconds > 0).all()
    truth = pd.Series([1.0, 2.0, 3.0, 4.0], index=list("abcd"))
    score = pd.Series([1.0, 3.0, 2.0, 4.0], index=list("abcd"))
    assert paired_delta(score, score, truth, n_boot=50) == (0.0, 0.0, 0.0)
    d, lo, hi = paired_delta(truth, score, truth, n_boot=200)
    assert d == pytest.approx(1 - 2 / 3) and lo <= d <= hi  # tau 1 vs tau 4/6
    t = fast_training_table(s, trainfree.dtb.open(path).final_accuracy(), "acc", n_boot=10)
    assert set(t.unit) == {"epoch", "step"} and (t[t.k == 0].delta_vs_k0 == 0).all()
    # the study's summary.md quotes this table row by row
    from trainfree.pipeline.report import _fmt, summary

    t.to_csv(path.parent / "ft.csv", index=False)
    text = summary({"study": "tiny"}, {"dtb_fast_training": str(path.parent / "ft.csv")}, path.parent / "s.md")
    r = t[(t.metric == "naswot") & (t.unit == "epoch") & (t.k == 2)].iloc[0]
    assert f"- naswot, epoch 2: τ = {_fmt(r.kendall)} [" in text and (path.parent / "s.md").read_text() == text
