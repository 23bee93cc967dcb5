"""Config values as the workflow reads them: nested --config overrides and declared inputs."""

import pytest
from conftest import benchdata, run_snakemake

from trainfree.workflow_config import coerce_cli_values, missing_input_message


def test_nested_cli_values_read_as_yaml():
    cfg = {"study": "007", "suitezero": {"space": "nb201", "n": 300}, "scoring": {"fast_steps": [10]}}
    over = {"study": "007", "suitezero": {"space": "nb101", "n": "20"}, "scoring": {"fast_steps": "[2, 5]"}}
    cfg["suitezero"].update(over["suitezero"])
    cfg["scoring"].update(over["scoring"])
    coerce_cli_values(cfg, over)
    assert cfg["suitezero"] == {"space": "nb101", "n": 20}
    assert cfg["scoring"]["fast_steps"] == [2, 5] and cfg["study"] == "007"


def test_missing_input_message_names_the_fix():
    m = missing_input_message("ground_truth.source", "data/NAS-Bench-201-v1_1-096897.pth")
    assert m.count("\n") == 0 and "`trainfree fetch nb201-v1_1 --root data`" in m
    m = missing_input_message("data.root", "mine/x.npz")
    assert m.startswith("config data.root: 'mine/x.npz' does not exist; correct the path")


@pytest.mark.parametrize("override, says", [
    ({"data": {"dataset": "npz", "root": "nope/x.npz"}}, "config data.root: 'nope/x.npz' does not exist"),
    ({"ground_truth": {"kind": "benchmark", "source": "nope/nb201", "targets": [
        {"dataset": "cifar10", "split": "test", "epochs": 200, "seed": "mean", "field": "acc"}]},
      "data": {"dataset": "cifar10", "root": str(benchdata("images/cifar10_partial_5506.npz"))}},
     "config ground_truth.source: 'nope/nb201' does not exist"),
])
def test_dry_run_stops_on_a_missing_input(tmp_path, override, says):
    r = run_snakemake(tmp_path, {"study": "dry", **override}, "-n", "--cores", "1")
    assert r.returncode != 0 and says in r.stdout + r.stderr
    assert not (tmp_path / "results").exists()


def test_nested_cli_override_passes_validation(tmp_path):
    """The README's `--config 'suitezero={space: nb101, n: 20}'` form reaches the schema typed."""
    from conftest import ROOT

    r = run_snakemake(tmp_path, ROOT / "config" / "suitezero_nb101.yaml", "-n", "--cores", "1",
                      "--config", "suitezero={space: nb101, n: 20}")
    assert r.returncode == 0, (r.stdout + r.stderr)[-2000:]
    assert "suitezero_validation" in r.stdout


def test_bundled_paths_resolve_anywhere():
    from trainfree.benchdata import BUNDLED
    from trainfree.errors import TrainfreeError
    from trainfree.workflow_config import resolve_bundled_paths

    cfg = {"data": {"root": "benchdata:images/cifar10_partial_5506.npz"},
           "ground_truth": {"source": ["benchdata:darts/nb301_suitezero_subset362.json", "data/x.csv"]},
           "search": {"external": {"path": None}}}
    resolve_bundled_paths(cfg)
    assert cfg["data"]["root"] == str(BUNDLED / "images" / "cifar10_partial_5506.npz")
    assert cfg["ground_truth"]["source"] == [str(BUNDLED / "darts" / "nb301_suitezero_subset362.json"), "data/x.csv"]
    assert cfg["search"]["external"]["path"] is None
    with pytest.raises(TrainfreeError, match="'nb201/nope.csv' is not in the bundled benchmark data"):
        resolve_bundled_paths({"data": {"root": "benchdata:nb201/nope.csv"}})


def test_shipped_study_runs_from_another_working_directory(tmp_path):
    """`-d elsewhere`: a study's `benchdata:` inputs still resolve (a dry run plans its jobs)."""
    from conftest import ROOT

    r = run_snakemake(tmp_path, ROOT / "config" / "nb201.yaml", "-n", "--cores", "1")
    assert r.returncode == 0, (r.stdout + r.stderr)[-2000:]
    assert "ground_truth" in r.stdout and "score_shard" in r.stdout
