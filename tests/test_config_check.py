"""Registry-backed config values fail before any job; CLI sizes/counts/seeds fail in one line."""

import copy

import pytest
from conftest import ROOT, resolved_config, run_snakemake

from trainfree.cli import main
from trainfree.config_check import check_config
from trainfree.errors import TrainfreeError

BASE = resolved_config(ROOT / "config" / "digits.yaml")
GOOD_TARGET = {"dataset": "cifar10", "split": "test", "epochs": 200, "seed": "mean", "field": "acc"}


def _with(path: str, value) -> dict:
    cfg = copy.deepcopy(BASE)
    *head, last = path.split(".")
    d = cfg
    for k in head:
        d = d[k]
    d[last] = value
    return cfg


def test_shipped_default_config_passes():
    check_config(copy.deepcopy(BASE))


@pytest.mark.parametrize("path, value, needle", [
    ("space", "nb999", "config space: unknown value 'nb999'; choose one of: darts, nb101, nb201, nds_<release file>"),
    ("data.dataset", "mnist", "config data.dataset: unknown value 'mnist'"),
    ("scoring.metrics", ["naswot", "nosuch"], "config scoring.metrics[1]: unknown value 'nosuch'; choose one of:"),
    ("scoring.metrics", [], "config scoring.metrics: empty"),
    ("scoring.metrics", ["naswot", "naswot"], "naswot listed twice"),
    ("scoring.batch_size", 0, "config scoring.batch_size: must be an integer >= 1, got 0"),
    ("model.C", -4, "config model.C: must be an integer >= 1, got -4"),
    ("downloads.assets", ["cifar11"], "config downloads.assets[0]: unknown value 'cifar11'"),
    ("sample.extra", ["|bogus~0|"], "config sample.extra[0]:"),
    ("sample.n", 0, "the sample is empty"),
])
def test_bad_value_names_key_and_choices(path, value, needle):
    with pytest.raises(TrainfreeError) as e:
        check_config(_with(path, value))
    assert needle in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("target, needle", [
    ({**GOOD_TARGET, "field": "accuracy"}, "ground_truth.targets[0].field: unknown value 'accuracy'; choose one of: acc"),
    ({**GOOD_TARGET, "split": "val"}, "ground_truth.targets[0].split: unknown value 'val'"),
    ({**GOOD_TARGET, "dataset": "imagenet"}, "ground_truth.targets[0].dataset: unknown value 'imagenet'"),
    ({**GOOD_TARGET, "epochs": 0}, "ground_truth.targets[0].epochs: must be an integer >= 1"),
])
def test_bad_ground_truth_target(target, needle):
    cfg = _with("ground_truth", {"kind": "benchmark", "source": "x", "targets": [target]})
    with pytest.raises(TrainfreeError, match=None) as e:
        check_config(cfg)
    assert needle in str(e.value)


def test_benchmark_kind_needs_source_and_targets():
    with pytest.raises(TrainfreeError, match="ground_truth.source"):
        check_config(_with("ground_truth", {"kind": "benchmark", "source": None, "targets": [GOOD_TARGET]}))
    with pytest.raises(TrainfreeError, match="ground_truth.targets"):
        check_config(_with("ground_truth", {"kind": "benchmark", "source": "x", "targets": []}))


def test_unknown_metric_stops_dry_run_before_any_job(tmp_path):
    r = run_snakemake(tmp_path, {"scoring": {"metrics": ["naswot", "nosuch"]}}, "-n", timeout=300)
    assert r.returncode != 0
    assert "config scoring.metrics[1]: unknown value 'nosuch'; choose one of:" in r.stdout + r.stderr
    assert "score_shard" not in r.stdout


@pytest.mark.parametrize("argv, needle", [
    (["score", "--arch", "x", "--metrics", "naswot", "--batch-size", "0"], "--batch-size: must be an integer >= 1, got 0"),
    (["score", "--arch", "x", "--metrics", "naswot", "--batch-size", "-3"], "--batch-size: must be an integer >= 1, got -3"),
    (["score", "--arch", "x", "--metrics", "naswot", "--seed", "-1"], "--seed: must be an integer >= 0, got -1"),
    (["score", "--arch", "x", "--metrics", "naswot", "--C", "0"], "--C: must be an integer >= 1, got 0"),
    (["timing", "--archs", "0"], "--archs: must be an integer >= 1, got 0"),
    (["fetch", "cifar10", "--retries", "0"], "--retries: must be an integer >= 1, got 0"),
])
def test_cli_zero_or_negative_is_one_line(argv, needle, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def _set(changes: dict) -> dict:
    """The default config with ``{"a.b": value}`` changes, creating absent sections."""
    cfg = copy.deepcopy(BASE)
    for path, value in changes.items():
        *head, last = path.split(".")
        d = cfg
        for k in head:
            d = d.setdefault(k, {})
        d[last] = value
    return cfg


@pytest.mark.parametrize("changes, msg", [
    ({"sample.seed": -1}, "config sample.seed: a seed must be an integer in 0..4294967295, got -1; e.g. seed: 0"),
    ({"scoring.seed": -3}, "config scoring.seed: a seed must be an integer in 0..4294967295, got -3"),
    ({"training.seed": 2**40}, "config training.seed: a seed must be an integer in 0..4294967295, got 1099511627776"),
    ({"analysis.seed": -1}, "config analysis.seed: a seed must be an integer in 0..4294967295"),
    ({"search.pool.score_seed": -2}, "config search.pool.score_seed: a seed must be an integer in 0..4294967295"),
    ({"dtb.train_seed": -1}, "config dtb.train_seed: a seed must be an integer in 0..4294967295"),
    ({"sample.n": 15626}, "config sample.n: 15626 archs drawn without replacement, but the nb201 space has 15,625; "
                          "set sample.n to at most 15625"),
    ({"training.max_train": 10}, "config training.max_train: 10 training images make no mini-batch of "
                                 "training.batch_size 64; raise max_train to at least 64 or lower batch_size"),
    ({"training.checkpoint_epochs": [0, 5]}, "config training.checkpoint_epochs: epochs [5] lie outside 0..3"),
    ({"space": "nds_DARTS", "model": {}}, "config sample.pool: nds_DARTS is sampled from the NDS release's records"),
    ({"sample.pool": "ground_truth"}, "config sample.pool: ground_truth needs ground_truth.kind: benchmark"),
    ({"outputs": ["dtb"], "dtb.max_train": 50, "dtb.batch_size": 96}, "config dtb.max_train: 50 training images "
                                                                       "make no mini-batch of dtb.batch_size 96"),
    ({"outputs": ["dtb"], "dtb.epochs": 3, "dtb.checkpoint_epochs": [0, 1, 5]},
     "config dtb.checkpoint_epochs: epochs [5] lie outside 0..3"),
    ({"outputs": ["dtb"], "dtb.epochs": 3, "dtb.checkpoint_epochs": [1, 3]},
     "config dtb.checkpoint_epochs: must include 0 (the untrained network)"),
    ({"outputs": ["dtb"], "dtb.model": {"layers": 5}}, "config dtb.model.layers: not an option of the nb201 model"),
    ({"outputs": ["search"], "search.pool.metrics": ["naswot", "nosuch"]},
     "config search.pool.metrics[1]: unknown value 'nosuch'"),
    ({"outputs": ["search"], "search.best_of_n.metrics": ["synflow"]},
     "config search.best_of_n.metrics[0]: 'synflow' is not scored on the pool"),
    ({"outputs": ["search"], "search.pool.n": 12}, "config search.pool.n: a pool of 12 archs is smaller than the 20 "
                                                   "HNAS evaluations"),
    ({"outputs": ["search"], "search.pool.n": 16000}, "config search.pool.n: 16000 archs drawn without replacement"),
    ({"outputs": ["search"], "search.hnas.t_bounds": [1.0, 0.0]},
     "config search.hnas.t_bounds: lower bound 1.0 is not below upper bound 0.0"),
    ({"outputs": ["search"], "search.hnas.probe_c": 3.0}, "config search.hnas.probe_c: 3.0 lies outside c_bounds"),
    ({"outputs": ["search"], "search.hnas.observe": {"kind": "train", "max_train": 10, "batch_size": 96}},
     "config search.hnas.observe.max_train: 10 training images make no mini-batch"),
    ({"outputs": ["suitezero"], "suitezero.hnas": {"t": 1.5}}, "config suitezero.hnas.t: 1.5 is outside (0, 1)"),
])
def test_cross_field_constraints_are_one_line(changes, msg):
    with pytest.raises(TrainfreeError) as e:
        check_config(_set(changes))
    assert msg in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("changes", [
    {"sample.seed": 0, "scoring.seed": 4294967295},
    {"sample.n": 15625},
    {"training.max_train": 64},
    {"outputs": ["dtb"], "dtb.epochs": 3, "dtb.checkpoint_epochs": [0, 3]},
    {"outputs": ["search"], "search.pool.n": 20},
    {"outputs": ["search"], "search.pool.n": 5, "search.pool.metrics": ["naswot"]},
])
def test_cross_field_values_at_the_limit_pass(changes):
    check_config(_set(changes))


@pytest.mark.parametrize("changes, needle", [
    ({"sample": {"seed": -1}}, "config sample.seed: a seed must be an integer in 0..4294967295, got -1"),
    ({"sample": {"n": 20000}}, "config sample.n: 20000 archs drawn without replacement, but the nb201 space has"),
    ({"training": {"max_train": 10}}, "config training.max_train: 10 training images make no mini-batch"),
])
def test_cross_field_errors_stop_the_dry_run(tmp_path, changes, needle):
    r = run_snakemake(tmp_path, changes, "-n", "--cores", "1", timeout=300)
    out = r.stdout + r.stderr
    assert r.returncode != 0 and needle in out and "Traceback" not in out
    assert "score_shard" not in r.stdout
