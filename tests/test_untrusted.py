"""Untrusted inputs: files a user may receive never run code, and nothing is written outside
``results/<study>/`` and the data root.

Each loader gets a hostile file whose payload creates a marker file when it is unpickled.
``_live`` first proves the payload works (plain unpickling does create the marker), then the
loader under test must refuse the file with one :class:`TrainfreeError` line naming it, and
the marker must not exist.
"""

import bz2
import io
import json
import os
import pickle
import shlex
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from trainfree.errors import TrainfreeError

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|"


class Payload:
    """Unpickling this object runs ``touch marker``."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {shlex.quote(str(self.marker))}",))


def _live(marker: Path, obj: object) -> None:
    """Plain unpickling of ``obj`` creates ``marker``: the payload is real. The marker is removed."""
    pickle.loads(pickle.dumps(obj))
    assert marker.exists(), "the payload did not run under plain unpickling"
    marker.unlink()


def _refused(exc: pytest.ExceptionInfo, path: Path, marker: Path) -> None:
    msg = str(exc.value)
    assert path.name in msg, msg
    assert "\n" not in msg, msg
    assert not marker.exists(), "code from the file ran"


# ---------------------------------------------------------------------------- DTB checkpoints

def _dtb_with_checkpoint(root: Path, write) -> Path:
    """A DTB folder of one nb201 arch whose epoch-0 checkpoint is written by ``write(path)``;
    the manifest's SHA-256s match, as they would in a folder crafted by its sender."""
    from trainfree.training.dtb_store import assemble

    ck = root / "checkpoints" / "arch_0000" / "epoch_000.pt"
    ck.parent.mkdir(parents=True)
    write(ck)
    archs = pd.DataFrame([{"arch_index": 0, "arch_id": ARCH, "spec": ARCH, "params_m": 0.1, "flops_m": 1.0,
                           "train_seconds": 1.0}])
    states = pd.DataFrame([{"arch_id": ARCH, "epoch": e, "split": s, "loss": 1.0, "acc": 10.0, "seconds": 0.0}
                           for e in (0, 1) for s in ("train", "valid", "test")])
    assemble(root, "nb201", {"C": 4, "N": 1}, {"epochs": 1, "checkpoint_epochs": [0]}, {"num_classes": 10},
             archs, states, 0, "# DTB\n")
    return ck


def test_dtb_checkpoint_with_code_is_refused(tmp_path):
    import trainfree.dtb

    marker = tmp_path / "ran"
    _live(marker, Payload(marker))
    ck = _dtb_with_checkpoint(tmp_path / "dtb", lambda p: torch.save({"model": Payload(marker)}, p))
    d = trainfree.dtb.open(tmp_path / "dtb")  # the checksums match: the folder is accepted
    for load in (lambda: d.checkpoint(0, 0), lambda: d.checkpoint_state(ARCH, 0)):
        with pytest.raises(TrainfreeError, match="refusing to load the object") as e:
            load()
        _refused(e, ck, marker)


def test_dtb_checkpoint_zero_bytes_or_foreign_is_one_line(tmp_path):
    import trainfree.dtb

    for name, content in (("empty", b""), ("text", b"not a checkpoint\n")):
        ck = _dtb_with_checkpoint(tmp_path / name, lambda p, c=content: p.write_bytes(c))
        with pytest.raises(TrainfreeError, match="cannot read .* as a torch checkpoint") as e:
            trainfree.dtb.open(tmp_path / name).checkpoint(0, 0)
        _refused(e, ck, tmp_path / "never")
    # a torch file that is not a checkpoint (no weights)
    ck = _dtb_with_checkpoint(tmp_path / "list", lambda p: torch.save([1, 2], p))
    with pytest.raises(TrainfreeError, match="not a trainfree checkpoint") as e:
        trainfree.dtb.open(tmp_path / "list").checkpoint(0, 0)
    _refused(e, ck, tmp_path / "never")


def test_checkpoints_written_by_training_load_without_pickled_objects(tmp_path):
    """What ``train_job`` writes holds only tensors, containers, numbers and strings."""
    from trainfree.training.dtb import Protocol, load_state, train_job

    data = _tiny_data()
    protocol = Protocol(epochs=1, batch_size=8, valid_size=4, checkpoint_epochs=(0, 1))
    states, _ = train_job(ARCH, ARCH, "nb201", {"C": 4, "N": 1}, data, protocol, tmp_path / "ck", tmp_path / "w",
                          progress=False)
    assert len(states) == 6
    for p in (tmp_path / "ck" / "epoch_000.pt", tmp_path / "ck" / "epoch_001.pt", tmp_path / "w" / "resume.pt"):
        raw = torch.load(p, map_location="cpu", weights_only=True)  # raises on any pickled object
        assert load_state(p)["epoch"] == raw["epoch"]


def _tiny_data():
    from trainfree.training.dtb import DTBData

    g = torch.Generator().manual_seed(0)
    x = lambda n: torch.rand(n, 3, 8, 8, generator=g)  # noqa: E731
    y = lambda n: torch.randint(0, 10, (n,), generator=g)  # noqa: E731
    return DTBData(x(16), y(16), x(4), y(4), x(4), y(4), torch.zeros(1, 3, 1, 1), torch.ones(1, 3, 1, 1), 10,
                   {"dataset": "synthetic"})


def test_dtb_resume_with_code_is_refused(tmp_path):
    from trainfree.training.dtb import Protocol, train_job

    marker = tmp_path / "ran"
    _live(marker, Payload(marker))
    work = tmp_path / "work"
    work.mkdir()
    resume = work / "resume.pt"
    torch.save({"model": Payload(marker), "digest": "x"}, resume)
    protocol = Protocol(epochs=1, batch_size=8, valid_size=4, checkpoint_epochs=(0, 1))
    with pytest.raises(TrainfreeError, match="refusing to load the object .*delete .*resume.pt") as e:
        train_job(ARCH, ARCH, "nb201", {"C": 4, "N": 1}, _tiny_data(), protocol, tmp_path / "ck", work,
                  progress=False)
    _refused(e, resume, marker)
    assert not (tmp_path / "ck").exists()


# ---------------------------------------------------------------------------- npz files

def _evil_npz(path: Path, marker: Path, keys: tuple[str, ...], evil: str) -> Path:
    arrays = {k: np.zeros((2, 3, 4, 4), np.float32) if k == "x" else np.zeros(2, np.int64) for k in keys}
    arrays[evil] = np.array([Payload(marker), 1], dtype=object)
    np.savez(path, **arrays)
    return path


def test_scoring_batch_with_pickled_objects_is_refused(tmp_path):
    from trainfree.io import write_parquet
    from trainfree.pipeline.score import score_shard

    marker = tmp_path / "ran"
    _live(marker, Payload(marker))
    batch = _evil_npz(tmp_path / "scoring_batch.npz", marker, ("x", "y"), "y")
    write_parquet(pd.DataFrame({"arch_id": [ARCH]}), tmp_path / "sample.parquet")
    cfg = {"space": "nb201", "scoring": {"metrics": ["naswot"], "seed": 0}, "data": {"dataset": "cifar10"}}
    with pytest.raises(TrainfreeError, match="holds pickled Python objects, which are never loaded") as e:
        score_shard(cfg, str(tmp_path / "sample.parquet"), str(batch), 0, 0, 1, str(tmp_path / "out.parquet"))
    _refused(e, batch, marker)
    assert not (tmp_path / "out.parquet").exists()


def test_dtb_scoring_batch_with_pickled_objects_is_refused(tmp_path):
    from trainfree.pipeline.dtb import dtb_score_shard

    marker = tmp_path / "ran"
    _live(marker, Payload(marker))
    _dtb_with_checkpoint(tmp_path / "dtb", lambda p: torch.save({"model": {}}, p))
    batch = _evil_npz(tmp_path / "batch.npz", marker, ("x", "y"), "x")
    cfg = {"fast_training": {"batch_size": 8, "lr": 0.1, "momentum": 0.9, "weight_decay": 0.0},
           "scoring": {"metrics": ["naswot"], "fast_steps": [0], "seed": 0}}
    with pytest.raises(TrainfreeError, match="pickled Python objects") as e:
        dtb_score_shard(cfg, str(tmp_path / "dtb"), str(batch), 0, 1, str(tmp_path / "out.parquet"))
    _refused(e, batch, marker)


def test_npz_dataset_with_pickled_objects_is_refused(tmp_path):
    from trainfree.data import load_dataset

    marker = tmp_path / "ran"
    _live(marker, Payload(marker))
    path = tmp_path / "images.npz"
    np.savez(path, x_train=np.zeros((2, 4, 4, 3), np.uint8), y_train=np.array([Payload(marker), 0], dtype=object),
             x_test=np.zeros((2, 4, 4, 3), np.uint8), y_test=np.zeros(2, np.int64))
    for name in ("npz", "cifar10"):
        with pytest.raises(TrainfreeError, match="array 'y_train' holds pickled Python objects") as e:
            load_dataset(name, path)
        _refused(e, path, marker)


def test_cached_scoring_batch_with_pickled_objects_is_refused(tmp_path):
    from trainfree.data import scoring_batch

    marker = tmp_path / "ran"
    _live(marker, Payload(marker))
    cache = tmp_path / "cache"
    x, y = scoring_batch("digits", 4, 0, cache_dir=cache)
    (cached,) = cache.glob("*.npz")
    _evil_npz(cached, marker, ("x", "y"), "y")
    with pytest.raises(TrainfreeError, match=r"pickled Python objects.*delete .* to draw the batch again") as e:
        scoring_batch("digits", 4, 0, cache_dir=cache)
    _refused(e, cached, marker)


def test_npz_header_claiming_a_huge_array_is_refused_before_allocating(tmp_path):
    from trainfree.data.npz import load_npz

    path = tmp_path / "huge.npz"
    np.savez(path, x=np.zeros(4, np.float64))
    # rewrite the member with a header that claims 10^13 float64 values (80 TB)
    small = path.read_bytes()
    with zipfile.ZipFile(path) as z:
        member = z.read("x.npy")
    header = member.replace(b"(4,)", b"(10000000000000,)")
    header = header[:10] + header[10:].replace(b" " * 13, b"", 1)  # keep the header length
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("x.npy", header)
    assert path.read_bytes() != small
    with pytest.raises(TrainfreeError, match=r"claims shape \(10000000000000,\)") as e:
        load_npz(path, ["x"])
    _refused(e, path, tmp_path / "never")


# ---------------------------------------------------------------------------- pickles and .pth files

def test_nb201_pth_with_code_is_refused(tmp_path):
    from trainfree.benchmarks.nb201_official import load_pth

    marker = tmp_path / "ran"
    _live(marker, Payload(marker))
    path = tmp_path / "NAS-Bench-201-v1_1-096897.pth"
    torch.save({"meta_archs": [ARCH], "arch2infos": {0: Payload(marker)}}, path)
    with pytest.raises(TrainfreeError, match="safe loader refused the object") as e:
        load_pth(path)
    _refused(e, path, marker)


def test_nb201_pth_of_zero_bytes_is_one_line(tmp_path):
    from trainfree.benchmarks import load_ground_truth

    path = tmp_path / "NAS-Bench-201-v1_1-096897.pth"
    path.write_bytes(b"")
    with pytest.raises(TrainfreeError, match="cannot read") as e:
        load_ground_truth("nb201", path)
    _refused(e, path, tmp_path / "never")


@pytest.mark.parametrize("dataset, folder, files, keys", [
    ("cifar10", "cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"], (b"data", b"labels")),
    ("ImageNet16-120", "ImageNet16", [f"train_data_batch_{i}" for i in range(1, 11)] + ["val_data"], ("data", "labels")),
])
def test_dataset_pickle_with_code_is_refused(tmp_path, dataset, folder, files, keys):
    from trainfree.data import load_dataset

    marker = tmp_path / "ran"
    _live(marker, Payload(marker))
    d = tmp_path / folder
    d.mkdir()
    for name in files:
        (d / name).write_bytes(pickle.dumps({keys[0]: Payload(marker), keys[1]: [1]}))
    with pytest.raises(TrainfreeError, match="refusing to unpickle posix.system") as e:
        load_dataset(dataset, tmp_path)
    _refused(e, d / files[0], marker)


def test_nats_pickle_with_code_is_refused(tmp_path):
    from trainfree.benchmarks.nb201_official import read_nats

    marker = tmp_path / "ran"
    _live(marker, Payload(marker))
    folder = tmp_path / "NATS-tss-v1_0-3ffb9-simple"
    folder.mkdir()
    with bz2.BZ2File(folder / "meta.pickle.pbz2", "wb") as f:
        pickle.dump({"meta_archs": [ARCH], "x": Payload(marker)}, f)
    with pytest.raises(TrainfreeError, match="refusing to unpickle posix.system") as e:
        read_nats(folder)
    _refused(e, folder / "meta.pickle.pbz2", marker)


# ---------------------------------------------------------------------------- JSON and CSV

def test_dtb_manifest_nested_too_deep_is_one_line(tmp_path):
    import trainfree.dtb

    (tmp_path / "manifest.json").write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(TrainfreeError, match="not a valid DTB manifest") as e:
        trainfree.dtb.open(tmp_path)
    _refused(e, tmp_path / "manifest.json", tmp_path / "never")


def test_dtb_tables_without_their_columns_are_one_line(tmp_path):
    import trainfree.dtb
    from trainfree.training.dtb import file_sha256
    from trainfree.training.dtb_store import MANIFEST

    _dtb_with_checkpoint(tmp_path, lambda p: torch.save({"model": {}}, p))
    (tmp_path / "archs.csv").write_text("a,b\n1,2\n")
    m = json.loads((tmp_path / MANIFEST).read_text())
    m["files"]["archs.csv"] = {"sha256": file_sha256(tmp_path / "archs.csv"),
                               "bytes": (tmp_path / "archs.csv").stat().st_size}
    (tmp_path / MANIFEST).write_text(json.dumps(m))
    with pytest.raises(TrainfreeError, match="archs.csv lacks column") as e:
        trainfree.dtb.open(tmp_path)
    _refused(e, tmp_path / "archs.csv", tmp_path / "never")


# ---------------------------------------------------------------------------- writes stay under results/<study>/

BAD_STUDIES = [".", "..", "", ".hidden", "a/b", "../x", "/tmp/x", "a\\b", "-x", "a b", "x" * 101]


def test_study_name_must_be_one_plain_folder_name():
    import re

    import yaml
    from conftest import ROOT

    from trainfree.config_check import check_study_name

    pattern = re.compile(yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
                         ["properties"]["study"]["pattern"])
    for bad in [*BAD_STUDIES, None, 3]:
        with pytest.raises(TrainfreeError, match="config study: .* is not a plain folder name") as e:
            check_study_name(bad)
        assert "\n" not in str(e.value)
        assert not isinstance(bad, str) or not pattern.search(bad), f"the schema accepts {bad!r}"
    for good in ("default", "nds_DARTS", "dtb_mini", "a.b-c_1", "_x"):
        check_study_name(good)
        assert pattern.search(good)


@pytest.mark.parametrize("how", ["configfile", "command line"])
def test_dry_run_with_a_study_outside_results_fails_in_one_line(tmp_path, how):
    from conftest import run_snakemake

    work = tmp_path / "w"
    work.mkdir()
    if how == "configfile":
        r = run_snakemake(work, {"study": ".."}, "-n", "--cores", "1", timeout=300)
        needle = "config study: '..' is not a plain folder name for results/<study>/"
    else:
        r = run_snakemake(work, {}, "-n", "--cores", "1", "--config", "study=a/../../b", timeout=300)
        needle = "config study: 'a/../../b' is not a plain folder name for results/<study>/"
    out = r.stdout + r.stderr
    assert r.returncode != 0
    lines = [ln for ln in out.splitlines() if needle in ln]
    assert len(lines) == 1 and lines[0].strip().startswith("config study:"), out[-2000:]
    assert "Traceback" not in out and "ValidationError" not in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w"]
    assert not (work / "results").exists()


@pytest.mark.parametrize("argv", [
    ["ground-truth", "nb201", "--source", "gt.csv", "--out", "{d}"],
    ["ground-truth", "nb201", "--source", "gt.csv", "--out", "{d}/"],
    ["search", "convert", "--wide", "w.csv", "--out", "{d}"],
    ["search", "convert", "--wide", "w.csv", "--out", "{f}/out.csv"],
    ["timing", "--out", "{d}"],
])
def test_cli_out_naming_a_folder_is_one_line(tmp_path, capsys, argv):
    from trainfree.cli import main

    (tmp_path / "file").write_text("x")
    argv = [a.format(d=tmp_path, f=tmp_path / "file") for a in argv]
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "argument --out:" in err and "Traceback" not in err, err
    assert ("is a folder" in err) or ("is a file, not a folder" in err), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


# ---------------------------------------------------------------------------- options and data files

NB101_CELL = ('{"matrix":[[0,1,1,0],[0,0,0,1],[0,0,0,1],[0,0,0,0]],'
              '"ops":["input","conv3x3-bn-relu","maxpool3x3","output"]}')
DARTS_GENO = ("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
              "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], "
              "normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), "
              "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), "
              "('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])")


def _cli_error(capsys, argv: list[str]) -> str:
    from trainfree.cli import main

    try:
        code = main(argv)
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("space, arch, model, needle", [
    ("nb101", NB101_CELL, "stem_channels=0", "--model stem_channels: must be an integer >= 1, got 0"),
    ("nb101", NB101_CELL, "num_stacks=2.5", "--model num_stacks: must be an integer >= 1, got 2.5"),
    ("darts", DARTS_GENO, "auxiliary=no", "--model auxiliary: must be true or false, got 'no'"),
    ("darts", DARTS_GENO, "layers=true", "--model layers: must be an integer >= 1, got True"),
    ("nb201", ARCH, "C=-4", "--model C: must be an integer >= 1, got -4"),
])
def test_cli_model_values_get_the_config_checks(capsys, space, arch, model, needle):
    err = _cli_error(capsys, ["score", "--space", space, "--arch", arch, "--metrics", "params", "--model", model])
    assert needle in err


def test_cli_model_values_that_pass_are_used(capsys):
    from trainfree.cli import main

    assert main(["score", "--space", "darts", "--arch", DARTS_GENO, "--metrics", "params",
                 "--model", "auxiliary=false", "--model", "C=4", "--model", "layers=2"]) == 0
    small = capsys.readouterr().out
    assert main(["score", "--space", "darts", "--arch", DARTS_GENO, "--metrics", "params",
                 "--model", "auxiliary=true", "--model", "C=4", "--model", "layers=2"]) == 0
    aux = capsys.readouterr().out
    value = lambda out: float(pd.read_csv(io.StringIO(out)).value.iloc[0])  # noqa: E731
    assert value(aux) > value(small)  # the auxiliary head is on only when asked for


@pytest.mark.parametrize("argv, needle", [
    (["--device", "nosuch"], "argument --device: unknown device 'nosuch'"),
    (["--device", "cuda:99"], "argument --device: device 'cuda:99'"),
    (["--threads", "100000"], "argument --threads: 100000 threads is more than"),
    (["--threads", "-1"], "argument --threads: must be an integer >= 0"),
    (["--cache-dir", "{file}"], "argument --cache-dir: '{file}' is a file"),
])
def test_cli_device_threads_and_cache_dir_are_one_line(tmp_path, capsys, argv, needle):
    (tmp_path / "f").write_text("x")
    argv = [a.format(file=tmp_path / "f") for a in argv]
    err = _cli_error(capsys, ["score", "--arch", ARCH, "--metrics", "naswot", "--dataset", "digits", *argv])
    assert needle.format(file=tmp_path / "f") in err
    for cmd in (["timing", "--space", "nb201", "--archs", "1"],):
        if argv[0] != "--cache-dir":
            assert needle.split(":")[0] in _cli_error(capsys, [*cmd, *argv])


def _images(n: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (n, 4, 4, 3), dtype=np.uint8)


@pytest.mark.parametrize("change, needle", [
    ({"y_train": np.array([0, 1, 255, 1])}, "classes 2, 3, 4, 5, 6 ... of 0..255 have no training image"),
    ({"y_train": np.array([0, 1, 2])}, "y_train has 3 labels for 4 images in x_train"),
    ({"y_test": np.array([0, 1, 1])}, "y_test has 3 labels for 2 images in x_test"),
    ({"y_train": np.array([0, 1, -1, 1])}, "negative label -1"),
    ({"y_train": np.array([0.0, 1.0, 1.0, 0.0])}, "y_train must be a 1-D integer array"),
    ({"y_train": np.zeros((4, 1), np.int64)}, "y_train must be a 1-D integer array"),
    ({"x_test": _images(2)[:, :2]}, "x_train images are (4, 4) but x_test images (2, 4)"),
    ({"x_train": _images(4).astype(np.float32)}, "images must be uint8 NHWC"),
])
def test_npz_dataset_labels_and_shapes_are_checked(tmp_path, change, needle):
    from trainfree.data import load_dataset

    arrays = {"x_train": _images(4), "y_train": np.array([0, 1, 1, 0]), "x_test": _images(2),
              "y_test": np.array([1, 0]), **change}
    path = tmp_path / "d.npz"
    np.savez(path, **arrays)
    with pytest.raises(TrainfreeError) as e:
        load_dataset("npz", path)
    assert needle in str(e.value) and path.name in str(e.value) and "\n" not in str(e.value)


def test_npz_labels_outside_a_named_dataset_are_refused(tmp_path):
    from trainfree.data import load_dataset

    path = tmp_path / "d.npz"
    np.savez(path, x_train=_images(4), y_train=np.array([0, 1, 10, 0]), x_test=_images(2), y_test=np.array([1, 0]))
    with pytest.raises(TrainfreeError, match="labels range 0..10 but cifar10 has classes 0..9"):
        load_dataset("cifar10", path)
    ok = tmp_path / "ok.npz"
    np.savez(ok, x_train=_images(4), y_train=np.array([0, 1, 9, 0]), x_test=_images(2), y_test=np.array([1, 0]))
    assert load_dataset("cifar10", ok).num_classes == 10  # labels within the named dataset's classes


def test_cached_batch_is_not_reused_after_its_npz_changed(tmp_path):
    from trainfree.data import scoring_batch

    path, cache = tmp_path / "d.npz", tmp_path / "cache"
    np.savez(path, x_train=_images(8), y_train=np.arange(8) % 2, x_test=_images(2), y_test=np.array([1, 0]))
    x1, _ = scoring_batch("npz", 4, 0, root=path, cache_dir=cache)
    assert torch.equal(scoring_batch("npz", 4, 0, root=path, cache_dir=cache)[0], x1)
    np.savez(path, x_train=255 - _images(8), y_train=np.arange(8) % 2, x_test=_images(2), y_test=np.array([1, 0]))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    x2, _ = scoring_batch("npz", 4, 0, root=path, cache_dir=cache)
    assert not torch.equal(x2, x1)
    assert len(list(cache.glob("*.npz"))) == 2
    with pytest.raises(TrainfreeError, match="is a file; give a folder"):
        scoring_batch("npz", 4, 0, root=path, cache_dir=path)


# ---------------------------------------------------------------------------- ground-truth CSV rows

ARCH2 = "|none~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|"
V11_HEADER = "index,arch_str,params_m,test_acc,valid_acc,valid_test_acc\n"


def _v11(tmp_path: Path, *rows: str) -> Path:
    p = tmp_path / "gt.csv"
    p.write_text(V11_HEADER + "".join(r + "\n" for r in rows))
    return p


def _gt_error(path: Path) -> str:
    from trainfree.benchmarks import load_ground_truth

    with pytest.raises(TrainfreeError) as e:
        load_ground_truth("nb201", path)
    msg = str(e.value)
    assert str(path) in msg and "\n" not in msg, msg
    return msg


def test_ground_truth_csv_with_an_arch_twice_and_conflicting_values_is_refused(tmp_path):
    p = _v11(tmp_path, f"0,{ARCH},1.0,90.0,80.0,85.0", f"1,{ARCH2},0.5,70.0,60.0,65.0",
             f"2,{ARCH},1.0,91.5,80.0,85.0")
    msg = _gt_error(p)
    assert f"lines 2, 4: arch {ARCH} is listed 2 times with different cifar10 test acc values (90, 91.5); " \
           "keep one row per arch" in msg


def test_ground_truth_csv_with_an_arch_twice_and_equal_values_is_read(tmp_path):
    from trainfree.benchmarks import load_ground_truth

    p = _v11(tmp_path, f"0,{ARCH},1.0,90.0,80.0,85.0", f"1,{ARCH},1.0,90.0,80.0,85.0")
    gt = load_ground_truth("nb201", p)
    assert set(gt.arch_id) == {ARCH} and len(gt) == 8


@pytest.mark.parametrize("row, needle", [
    ("1,|conv~0|+|skip_connect~0|none~1|+|none~0|none~1|none~2|,0.5,70.0,60.0,65.0",
     "line 3, column arch_str: malformed NB201 arch '|conv~0|"),
    ("1,not an arch,0.5,70.0,60.0,65.0", "line 3, column arch_str: malformed NB201 arch 'not an arch'"),
    (f"1,{ARCH2},0.5,seventy,60.0,65.0", "line 3, column test_acc: 'seventy' is not a number; fix the value"),
    (f"1,{ARCH2},0.5,70.0,60.0,6O.5", "line 3, column valid_test_acc: '6O.5' is not a number"),
    (f"x,{ARCH2},0.5,70.0,60.0,65.0", "line 3, column index: 'x' is not an integer"),
])
def test_ground_truth_csv_malformed_arch_or_value_names_the_line(tmp_path, row, needle):
    p = _v11(tmp_path, f"0,{ARCH},1.0,90.0,80.0,85.0", row)
    assert needle in _gt_error(p)


def _tidy(tmp_path: Path, rows: list[dict]) -> Path:
    base = {"space": "nb201", "arch_id": ARCH, "bench_index": 0, "dataset": "cifar10", "split": "test",
            "epochs": 200, "seed": "mean", "field": "acc", "value": 90.0, "source": "mine"}
    p = tmp_path / "tidy.csv"
    pd.DataFrame([{**base, **r} for r in rows]).to_csv(p, index=False)
    return p


@pytest.mark.parametrize("rows, needle", [
    ([{}, {"arch_id": ARCH2, "value": 70.0}, {"value": 93.0}],
     f"lines 2, 4: arch {ARCH} is listed 2 times with different cifar10 test acc values (90, 93)"),
    ([{}, {"arch_id": "|nor_conv_3x3~0|+|"}], "line 3, column arch_id: malformed NB201 arch"),
    ([{}, {"value": "ninety"}], "line 3, column value: 'ninety' is not a number"),
    ([{}, {"epochs": "twelve"}], "line 3, column epochs: 'twelve' is not an integer"),
    ([{}, {"epochs": 12.5}], "line 3, column epochs: '12.5' is not an integer"),
    ([{}, {"space": "nb101"}], "line 3, column space: 'nb101' is not nb201"),
])
def test_tidy_ground_truth_csv_rows_are_checked(tmp_path, rows, needle):
    assert needle in _gt_error(_tidy(tmp_path, rows))


def test_tidy_ground_truth_csv_same_key_in_another_seed_is_read(tmp_path):
    from trainfree.benchmarks import load_ground_truth

    gt = load_ground_truth("nb201", _tidy(tmp_path, [{}, {"seed": "seed1", "value": 93.0}]))
    assert sorted(gt.value) == [90.0, 93.0]


def test_ground_truth_cli_with_conflicting_rows_is_one_line(tmp_path, capsys):
    from trainfree.cli import main

    p = _v11(tmp_path, f"0,{ARCH},1.0,90.0,80.0,85.0", f"1,{ARCH},1.0,91.0,80.0,85.0")
    code = main(["ground-truth", "nb201", "--source", str(p), "--out", str(tmp_path / "gt.parquet")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "lines 2, 3" in err
    assert not (tmp_path / "gt.parquet").exists()


# ---------------------------------------------------------------------------- search best-of-n tables

def _search_files(tmp_path: Path) -> tuple[Path, Path]:
    """A score table with rows after k = 0 and k = 2 fast-training steps (k = 2 reverses the
    order of k = 0) and a ground truth of the same 40 archs."""
    from trainfree.spaces import nb201

    archs = nb201.sample(40, 0)
    scores = pd.DataFrame([{"arch_id": a, "metric": "naswot", "value": float(i if k == 0 else -i),
                            "fast_steps": k} for k in (0, 2) for i, a in enumerate(archs)])
    gt = pd.DataFrame([{"space": "nb201", "arch_id": a, "bench_index": i, "dataset": ds, "split": "test",
                        "epochs": 200, "seed": "mean", "field": "acc", "value": float(i), "source": "t"}
                       for ds in ("cifar10", "cifar100", "ImageNet16-120") for i, a in enumerate(archs)])
    s, g = tmp_path / "scores.csv", tmp_path / "gt.csv"
    scores.to_csv(s, index=False)
    gt.to_csv(g, index=False)
    return s, g


def _best_of_n(capsys, *argv: str) -> tuple[int, str, str]:
    from trainfree.cli import main

    try:
        code = main(["search", "best-of-n", *argv])
    except SystemExit as e:
        code = e.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_best_of_n_with_several_fast_steps_per_arch_is_refused(tmp_path, capsys):
    s, g = _search_files(tmp_path)
    code, _, err = _best_of_n(capsys, "--scores", str(s), "--ground-truth", str(g), "--metric", "naswot",
                              "--n", "5", "--repeats", "20")
    assert code == 2 and err.count("\n") == 1
    assert f"score table {str(s)!r}: metric 'naswot' has rows after fast_steps k = 0, 2 (several rows per arch); " \
           "pick one k with --fast-steps K" in err


def test_best_of_n_fast_steps_picks_the_rows(tmp_path, capsys):
    s, g = _search_files(tmp_path)
    common = ["--scores", str(s), "--ground-truth", str(g), "--metric", "naswot", "--n", "5", "--repeats", "50"]
    res = {}
    for k in ("0", "2"):
        code, out, err = _best_of_n(capsys, *common, "--fast-steps", k)
        assert code == 0, err
        res[k] = pd.read_csv(io.StringIO(out))
    # k = 0 ranks the archs as their accuracy, k = 2 in reverse: best-of-5 finds the best and the worst
    assert (res["0"]["mean"] > res["2"]["mean"]).all()
    code, _, err = _best_of_n(capsys, *common, "--fast-steps", "7")
    assert code == 2 and "has no rows after fast_steps k = 7; it has k = 0, 2" in err


def test_best_of_n_with_conflicting_rows_per_arch_is_refused(tmp_path, capsys):
    s, g = _search_files(tmp_path)
    pd.read_csv(s).drop(columns="fast_steps").to_csv(s, index=False)
    code, _, err = _best_of_n(capsys, "--scores", str(s), "--ground-truth", str(g), "--metric", "naswot",
                              "--n", "5", "--repeats", "20")
    assert code == 2 and err.count("\n") == 1
    assert "rows with different 'naswot' scores (39 such arch(s)); keep one row per arch and metric" in err


@pytest.mark.parametrize("argv, needle", [
    (["best-of-n", "--repeats", "0"], "argument --repeats: must be an integer >= 1, got 0"),
    (["best-of-n", "--seed", "-1"], "argument --seed: must be an integer >= 0, got -1"),
    (["best-of-n", "--seed", str(2**32)], "argument --seed: a seed must be an integer in 0..4294967295"),
    (["best-of-n", "--n", "10,0"], "argument --n: '10,0': give one or more sample sizes >= 1"),
    (["best-of-n", "--n", "ten"], "argument --n: 'ten': give comma-separated integers"),
    (["best-of-n", "--fast-steps", "-2"], "argument --fast-steps: must be an integer >= 0, got -2"),
    (["hnas", "--seeds", "0"], "argument --seeds: must be an integer >= 1, got 0"),
    (["hnas", "--seeds", "-3"], "argument --seeds: must be an integer >= 1, got -3"),
    (["hnas", "--seed-start", "-1"], "argument --seed-start: must be an integer >= 0, got -1"),
])
def test_search_cli_integers_are_checked(tmp_path, capsys, argv, needle):
    from trainfree.cli import main

    files = ["--scores", str(tmp_path / "s.csv"), "--ground-truth", str(tmp_path / "g.csv")]
    with pytest.raises(SystemExit) as e:
        main(["search", argv[0], *files, *(["--metric", "naswot"] if argv[0] == "best-of-n" else []), *argv[1:]])
    err = capsys.readouterr().err
    assert e.value.code == 2 and needle in err and "Traceback" not in err


def test_best_of_n_repeats_beyond_memory_are_one_line(tmp_path, capsys):
    s, g = _search_files(tmp_path)
    code, _, err = _best_of_n(capsys, "--scores", str(s), "--ground-truth", str(g), "--metric", "naswot",
                              "--n", "5", "--repeats", str(10**8), "--fast-steps", "0")
    assert code == 2 and err.count("\n") == 1
    assert "100000000 repeats over a pool of 40 archs need 4,000,000,000 random keys" in err


# ---------------------------------------------------------------------------- deeply nested JSON

DEEP = "[" * 200_000 + "]" * 200_000


def _one_line(call, path: Path, needle: str = "is not valid JSON (nested too deeply)") -> str:
    with pytest.raises(TrainfreeError) as e:
        call()
    msg = str(e.value)
    assert str(path) in msg and needle in msg and "\n" not in msg, msg
    return msg


def test_nb201_split_file_nested_too_deep_is_one_line(tmp_path):
    from trainfree.data.datasets import split_indices

    p = tmp_path / "cifar-split.txt"
    p.write_text('{"train": ' + DEEP + "}")
    msg = _one_line(lambda: split_indices("cifar10-valid", 100, tmp_path), p)
    assert "replace it with the official split file" in msg
    p.write_text('{"train": [1, 2')
    _one_line(lambda: split_indices("cifar10-valid", 100, tmp_path), p, "is not valid JSON (JSONDecodeError: ")


def test_benchmark_json_nested_too_deep_is_one_line(tmp_path):
    from trainfree.benchmarks import darts, nb101, nds

    p = tmp_path / "nb301.json"
    p.write_text('{"cifar10": ' + DEEP + "}")
    assert "give the Suite-Zero NB301 JSON" in _one_line(lambda: darts.read_nb301(p), p)
    p = tmp_path / "nb101.json"
    p.write_text('{"nasbench101": ' + DEEP + "}")
    assert "give the NAS-Bench-Suite-Zero NB101 JSON" in _one_line(lambda: nb101.read_suitezero(p), p)
    p = tmp_path / "DARTS.json"
    p.write_text(DEEP)
    assert "replace it with the NDS release's DARTS.json" in _one_line(lambda: nds.load_records(p, "DARTS"), p)
    z = tmp_path / "data.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("data/DARTS.json", DEEP)
    _one_line(lambda: nds.load_records(z, "DARTS"), z)


@pytest.mark.parametrize("space, arch", [
    ("nb101", '{"matrix": ' + DEEP + "}"),
    ("nds_DARTS", '{"a": ' * 100_000 + "1" + "}" * 100_000),
])
def test_arch_json_nested_too_deep_is_one_line(space, arch):
    from trainfree.spaces import get_space

    with pytest.raises(TrainfreeError) as e:
        get_space(space).canonical(arch)
    assert "nested too deeply" in str(e.value) and "\n" not in str(e.value)


def test_hnas_refuses_several_rows_per_arch():
    """HNAS on a score table with rows after several fast-training steps k per arch: one line, not
    the first row of each arch."""
    from trainfree.search.hnas import hnas_nb201

    rows = [{"arch_id": a, "metric": m, "value": v + k, "fast_steps": k, "seconds": 0.1}
            for a, v in (("a", 1.0), ("b", 2.0)) for m in ("ntk_trace", "ntk_condnum") for k in (0, 2)]
    with pytest.raises(TrainfreeError, match=r"several rows per arch\); pick one k"):
        hnas_nb201(pd.DataFrame(rows), pd.DataFrame(columns=["arch_id"]), seeds=[0])
