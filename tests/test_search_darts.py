"""HNAS with training observations (its DARTS-space search): the observation is the DTB's
training of the chosen genotype, stored once per arch; the run is deterministic; the chosen
genotype comes out in the DARTS string form; the workflow runs it end to end."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT, benchdata, run_snakemake

from trainfree.search.hnas import DARTS_SETTINGS, hnas_criterion, hnas_weights
from trainfree.search.hnas_train import hnas_train, observation_key, train_report
from trainfree.spaces import darts
from trainfree.training.dtb import Protocol, load_data

MODEL = {"C": 2, "layers": 2}


def _pool(n: int = 8) -> pd.DataFrame:
    """n DARTS genotypes with NTK values chosen by hand (M = 10·(i+1), κ = 100 + i)."""
    genos = [darts.canonical(g) for g in darts.sample(n, 3)]
    rows = []
    for i, g in enumerate(genos):
        rows += [{"arch_id": g, "metric": "ntk_trace", "value": 10.0 * (i + 1), "seconds": 0.5},
                 {"arch_id": g, "metric": "ntk_condnum", "value": 100.0 + i, "seconds": 0.0}]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def small():
    npz = benchdata("images/cifar10_partial_5506.npz")
    protocol = Protocol(epochs=1, batch_size=32, lr=0.05, valid_size=64, max_train=64, max_test=32,
                        checkpoint_epochs=(0,))
    return load_data("cifar10", str(npz), protocol), protocol


def test_observations_are_the_dtb_training_and_stored_once(small, tmp_path, monkeypatch):
    data, protocol = small
    settings = dataclasses.replace(DARTS_SETTINGS, n_probes=2, n_steps=1)
    scores = _pool()
    runs, evals = hnas_train(scores, "darts", data, protocol, MODEL, [0, 1], tmp_path, settings=settings)
    assert list(runs.seed) == [0, 1] and (runs.n_evals == 3).all() and (runs.n_pool == 8).all()
    # the first probe (t = 0, c = mean of (-4, 1)): nu = 0, so the criterion is mu*M^2 + kappa/M
    pool = sorted(scores.arch_id.unique())
    wide = scores.pivot(index="arch_id", columns="metric", values="value").loc[pool]
    mu, nu = hnas_weights(0.0, -1.5, DARTS_SETTINGS.scale)
    first = pool[int(np.argmin(hnas_criterion(wide, mu, nu).to_numpy()))]
    assert evals[(evals.seed == 0) & (evals.step == 0)].arch_id.item() == first
    # every observation is the stored training result of that arch under this protocol
    for r in evals.itertuples():
        rec = json.loads((tmp_path / f"{observation_key(r.arch_id, protocol.digest(), MODEL)}.json").read_text())
        assert rec["valid_acc"] == r.observed and rec["epochs"] == 1 and rec["arch_id"] == r.arch_id
        assert 0.0 <= rec["valid_acc"] <= 100.0 and 0.0 <= rec["test_acc"] <= 100.0
    assert not [p for p in tmp_path.iterdir() if p.is_dir()]  # resume files and checkpoints removed
    # the best run arch is the best observation of its seed, written as a DARTS genotype string
    for r in runs.itertuples():
        mine = evals[evals.seed == r.seed]
        assert r.observed == mine.observed.max()
        assert r.genotype.startswith("Genotype(normal=") and darts.canonical(r.genotype) == r.genotype
        assert r.train_seconds == pytest.approx(mine.train_seconds.sum())
        assert r.score_seconds == pytest.approx(0.5 * 8) and r.cost_s == pytest.approx(4.0 + r.train_seconds)
    # a rerun reads the stored observations (no training) and repeats the search exactly
    import trainfree.training.dtb as dtb

    def no_training(*a, **k):
        raise AssertionError("an observation was trained twice")

    monkeypatch.setattr(dtb, "train_job", no_training)
    again, evals2 = hnas_train(scores, "darts", data, protocol, MODEL, [0, 1], tmp_path, settings=settings)
    pd.testing.assert_frame_equal(again, runs)
    pd.testing.assert_frame_equal(evals2, evals)
    t = train_report(runs)
    assert t.seeds.item() == 2 and t.n_evals.item() == 3 and t.n_pool.item() == 8


def test_needs_both_ntk_metrics(small, tmp_path):
    from trainfree.errors import TrainfreeError

    data, protocol = small
    scores = _pool()
    with pytest.raises(TrainfreeError, match="ntk_condnum"):
        hnas_train(scores[scores.metric == "ntk_trace"], "darts", data, protocol, MODEL, [0], tmp_path)


@pytest.mark.slow
def test_darts_search_workflow_tiny_end_to_end(tmp_path):
    npz = benchdata("images/cifar10_partial_5506.npz")
    cfg = yaml.safe_load((ROOT / "config" / "search_darts_mini.yaml").read_text())
    cfg["study"] = "tiny_darts_search"
    cfg["model"] = {"C": 2, "layers": 2, "auxiliary": False}
    cfg["data"]["root"] = str(npz)
    cfg["search"]["pool"].update(n=10, shard_size=5, batch_size=16)
    cfg["search"]["hnas"].update(seeds=1, n_probes=2, n_steps=1)
    cfg["search"]["hnas"]["observe"].update(model={"C": 2, "layers": 2}, epochs=1, valid_size=64, max_train=64,
                                            max_test=32, batch_size=32)
    r = run_snakemake(tmp_path, cfg, "--cores", "2", "-q", timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    out = tmp_path / "results" / "tiny_darts_search"
    runs = pd.read_csv(out / "search" / "hnas_runs.csv")
    evals = pd.read_csv(out / "search" / "hnas_evaluations.csv")
    assert len(runs) == 1 and len(evals) == 3 and runs.observed.item() == evals.observed.max()
    assert darts.canonical(runs.genotype.item()) == runs.genotype.item()
    assert not (out / "tables" / "search_best_of_n.csv").exists()  # no ground truth in the DARTS space
    summary = (out / "summary.md").read_text()
    assert "HNAS with training observations (1 seeds, pool of 10, 3 evaluations" in summary


def test_train_observation_without_ntk_stops_dry_run(tmp_path):
    cfg = yaml.safe_load((ROOT / "config" / "search_darts_mini.yaml").read_text())
    cfg["search"]["pool"]["metrics"] = ["naswot"]
    r = run_snakemake(tmp_path, cfg, "-n", "--cores", "1", timeout=300)
    assert r.returncode != 0
    assert "search.hnas.observe.kind is train but the pool" in r.stdout + r.stderr
