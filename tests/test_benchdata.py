"""The benchmark data bundled with the package: manifest, integrity, and that nothing reads outside it."""

import re

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

import trainfree.benchdata as bd
from trainfree.errors import TrainfreeError


def test_manifest_lists_every_bundled_file_and_they_match():
    m = bd.manifest()
    listed = {e["file"] for e in m["files"]}
    on_disk = {str(p.relative_to(bd.BUNDLED)) for p in bd.BUNDLED.rglob("*")
               if p.is_file() and p.parent != bd.BUNDLED}
    assert listed == on_disk
    assert bd.verify() == []
    for e in m["files"]:
        assert e["licence"] and re.fullmatch(r"[0-9a-f]{64}", e["sha256"])
        assert e["source"]["repository"].startswith("github.com/") and e["source"]["commit"]
    total = sum(e["bytes"] for e in m["files"])
    assert total < 16e6  # compact enough to travel with the package


def test_bundled_files_hold_what_the_manifest_says():
    rows = {e["file"]: e["rows"] for e in bd.manifest()["files"]}
    v11 = pd.read_csv(bd.path("nb201/nb201_cifar10_v1_1.csv.xz"))
    assert len(v11) == rows["nb201/nb201_cifar10_v1_1.csv.xz"] == 15625
    # NB201's best cifar10 ori-test accuracy (v1_1, mean over seeds) and the CIFAR-10 network's params
    assert v11.test_acc.max() == pytest.approx(94.373333)
    nats = pd.read_csv(bd.path("nb201/nb201_test_acc_nats_tss_200ep.csv.xz"))
    assert nats.CIFAR100TestAccuracy200Epochs.max() == pytest.approx(73.51, abs=0.01)
    z = np.load(bd.path("images/cifar10_partial_5506.npz"))
    assert z["x_train"].shape == (4660, 32, 32, 3) and z["x_test"].shape == (846, 32, 32, 3)
    assert z["x_train"].dtype == np.uint8 and set(np.unique(z["y_train"])) == set(range(10))


def test_missing_file_and_env_override(tmp_path, monkeypatch):
    with pytest.raises(TrainfreeError, match="'nb201/nope.csv' is not in the bundled benchmark data"):
        bd.path("nb201/nope.csv")
    monkeypatch.setenv(bd.ENV, str(tmp_path))
    assert bd.root() == tmp_path
    with pytest.raises(TrainfreeError, match="TRAINFREE_BENCHDATA"):
        bd.path("images/cifar10_partial_5506.npz")


def test_nothing_reads_outside_the_project():
    pattern = re.compile(r"\.\./shared|shared/benchdata")
    hits = [f"{p.relative_to(ROOT)}:{i}" for folder in ("src", "workflow", "config")
            for p in sorted((ROOT / folder).rglob("*")) if p.is_file() and p.suffix in (".py", ".smk", ".yaml", ".md")
            and "egg-info" not in str(p)
            for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert hits == []
