"""Registry-backed config values fail before any job; CLI sizes/counts/seeds fail in one line."""

import copy

import pytest
import yaml
from conftest import ROOT, run_snakemake

from trainfree.cli import main
from trainfree.config_check import check_config
from trainfree.errors import TrainfreeError

BASE = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
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
    (["bench", "--archs", "0"], "--archs: must be an integer >= 1, got 0"),
    (["fetch", "cifar10", "--retries", "0"], "--retries: must be an integer >= 1, got 0"),
])
def test_cli_zero_or_negative_is_one_line(argv, needle, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err
