"""Checks of a study config against the registries, run when the Snakefile loads.

The JSON schema (``workflow/schemas/config.schema.yaml``) checks types, keys and
ranges; this module checks what only the package knows: the registered spaces,
datasets, metrics, downloadable assets, ground-truth fields, and the arch ids listed
in the config. Each failure is one :class:`TrainfreeError` line naming the key and the
valid choices, so a bad value stops ``snakemake -n`` before any job runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from trainfree.errors import TrainfreeError

#: ground-truth fields the benchmark readers and the training runs produce (best_acc: NDS)
GT_FIELDS: tuple[str, ...] = ("acc", "best_acc", "loss", "params_m", "flops_m", "latency_s", "train_time_s")


def _choice(key: str, value: object, choices: Iterable[str]) -> None:
    choices = list(choices)
    if value not in choices:
        raise TrainfreeError(f"config {key}: unknown value {value!r}; choose one of: {', '.join(choices)}")


def _positive(key: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TrainfreeError(f"config {key}: must be an integer >= 1, got {value!r}")


#: a study name is one folder name under results/: letters, digits, ``_ . -``, no leading dot or dash
STUDY_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def check_study_name(name: object) -> None:
    """``study`` names the folder ``results/<study>/`` that every output goes to: it must be one
    plain folder name, so that nothing is written outside it (no ``.``, ``..``, separators)."""
    if not isinstance(name, str) or not STUDY_NAME.fullmatch(name) or len(name) > 100:
        raise TrainfreeError(f"config study: {name!r} is not a plain folder name for results/<study>/; use "
                             f"letters, digits, '_', '.' and '-' (not first), up to 100 characters, e.g. my_study")


def check_model(space: str, defaults: dict, model: dict, where: str = "config model.") -> None:
    """Each ``model`` key must be a build option of the space (``defaults``: its MODEL_DEFAULTS),
    of the default's type (integers >= 1, booleans). ``where`` prefixes the key in the message
    (``"--model "`` on the command line)."""
    for key, value in model.items():
        if key not in defaults:
            raise TrainfreeError(f"{where}{key}: not an option of the {space} model; "
                                 f"the options are: {', '.join(defaults)}")
        if isinstance(defaults[key], bool):
            if not isinstance(value, bool):
                raise TrainfreeError(f"{where}{key}: must be true or false, got {value!r}")
        elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise TrainfreeError(f"{where}{key}: must be an integer >= 1, got {value!r}")


def check_config(cfg: dict) -> None:
    """Raise :class:`TrainfreeError` (one line: key, value, choices) for the first bad value."""
    from trainfree.data import DATASETS, SPLITS
    from trainfree.data.fetch import list_assets
    from trainfree.metrics import list_metrics
    from trainfree.spaces import get_space, list_spaces, space_choices

    if "study" in cfg:
        check_study_name(cfg["study"])
    if cfg["space"] not in list_spaces():
        raise TrainfreeError(f"config space: unknown value {cfg['space']!r}; choose one of: {space_choices()}")
    _choice("data.dataset", cfg["data"]["dataset"], DATASETS)
    metrics = cfg["scoring"]["metrics"]
    if not metrics:
        raise TrainfreeError(f"config scoring.metrics: empty; list one or more of: {', '.join(list_metrics())}")
    for i, m in enumerate(metrics):
        _choice(f"scoring.metrics[{i}]", m, list_metrics())
    dup = sorted({m for m in metrics if metrics.count(m) > 1})
    if dup:
        raise TrainfreeError(f"config scoring.metrics: {', '.join(dup)} listed twice; list each metric once")
    for key in ("scoring.batch_size",):
        sec, name = key.split(".")
        if name in cfg[sec]:
            _positive(key, cfg[sec][name])
    for i, a in enumerate(cfg["downloads"]["assets"]):
        _choice(f"downloads.assets[{i}]", a, list_assets())
    sp = get_space(cfg["space"])
    check_model(cfg["space"], sp.MODEL_DEFAULTS, cfg.get("model") or {})
    for i, a in enumerate(cfg["sample"].get("extra", [])):
        try:
            sp.canonical(a)
        except TrainfreeError as e:
            raise TrainfreeError(f"config sample.extra[{i}]: {e}") from None
    if cfg["sample"]["n"] + len(cfg["sample"].get("extra", [])) < 1:
        raise TrainfreeError("config sample: the sample is empty; set sample.n >= 1 or list archs in sample.extra")
    if "suitezero" in cfg.get("outputs", []):
        from trainfree.analysis.suitezero import PUBLISHED

        v = cfg.get("suitezero") or {}
        zs = v.get("space", "nb201")
        _choice("suitezero.space", zs, sorted(PUBLISHED))
        check_model(zs, get_space(zs).MODEL_DEFAULTS, v.get("model") or {})
    g = cfg["ground_truth"]
    if g["kind"] == "benchmark" and "study" in cfg.get("outputs", ["study"]):
        if not g.get("source"):
            raise TrainfreeError("config ground_truth.source: kind benchmark needs a source (benchmark file or folder)")
        if not g.get("targets"):
            raise TrainfreeError("config ground_truth.targets: kind benchmark needs at least one target field")
    datasets = [d for d in DATASETS if d != "npz"]
    for i, t in enumerate(g.get("targets", [])):
        _choice(f"ground_truth.targets[{i}].dataset", t["dataset"], datasets)
        _choice(f"ground_truth.targets[{i}].split", t["split"], SPLITS)
        _choice(f"ground_truth.targets[{i}].field", t.get("field", "acc"), GT_FIELDS)
        _positive(f"ground_truth.targets[{i}].epochs", t["epochs"])
