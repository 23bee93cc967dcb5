"""Checks of a study config against the registries, run when the Snakefile loads.

The JSON schema (``workflow/schemas/config.schema.yaml``) checks types, keys and
ranges; this module checks what only the package knows: the registered spaces,
datasets, metrics, combinations, downloadable assets, ground-truth fields, and the arch
ids listed in the config. Each failure is one :class:`TrainfreeError` line naming the key and the
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


#: every seed key of the config (section path, key); seeds are integers in 0..SEED_MAX
SEED_KEYS: tuple[str, ...] = (
    "sample.seed", "scoring.seed", "training.seed", "analysis.seed", "suitezero.seed", "search.pool.seed",
    "search.pool.score_seed", "search.best_of_n.seed", "search.hnas.observe.seed", "dtb.seed", "dtb.train_seed",
)
#: the largest seed: NumPy's legacy seeding (``seed_everything``) takes 32-bit seeds
SEED_MAX = 2**32 - 1

_MISSING = object()


def _get(cfg: dict, key: str, default: object = _MISSING) -> object:
    """``cfg["a"]["b"]`` for ``key`` ``"a.b"``; ``default`` where a section or the key is absent
    (the config may come without the schema's defaults)."""
    d: object = cfg
    for part in key.split("."):
        if not isinstance(d, dict) or part not in d:
            return default
        d = d[part]
    return d


def check_seed(key: str, value: object) -> None:
    """A seed is an integer in 0..SEED_MAX (NumPy refuses negative seeds inside the job)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= SEED_MAX:
        raise TrainfreeError(f"config {key}: a seed must be an integer in 0..{SEED_MAX}, got {value!r}; "
                             f"e.g. {key.rsplit('.', 1)[-1]}: 0")


def _batch_fits(section: str, max_train: object, batch_size: object) -> None:
    """``max_train`` images must make at least one mini-batch of ``batch_size``."""
    if isinstance(max_train, int) and isinstance(batch_size, int) and 0 < max_train < batch_size:
        raise TrainfreeError(f"config {section}.max_train: {max_train} training images make no mini-batch of "
                             f"{section}.batch_size {batch_size}; raise max_train to at least {batch_size} "
                             f"or lower batch_size")


def _epochs_in_range(key: str, epochs_list: object, epochs: object, need_zero: bool = False) -> None:
    if not isinstance(epochs_list, list) or not isinstance(epochs, int):
        return
    bad = [e for e in epochs_list if not isinstance(e, int) or isinstance(e, bool) or not 0 <= e <= epochs]
    if bad:
        raise TrainfreeError(f"config {key}: epochs {bad} lie outside 0..{epochs} (the section's epochs); "
                             f"list epochs in 0..{epochs} or raise epochs")
    if need_zero and 0 not in epochs_list:
        raise TrainfreeError(f"config {key}: must include 0 (the untrained network); add 0 to the list")


def _space_size(key: str, n: object, space: str, sp: object) -> None:
    """A sample without replacement of ``n`` archs must fit a space of finite known size."""
    size = getattr(sp, "N_ARCHS", None)
    if isinstance(size, int) and isinstance(n, int) and n > size:
        raise TrainfreeError(f"config {key}: {n} archs drawn without replacement, but the {space} space has "
                             f"{size:,}; set {key} to at most {size}")


def _bounds(key: str, value: object) -> None:
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int | float) for v in value) \
            and not value[0] < value[1]:
        raise TrainfreeError(f"config {key}: lower bound {value[0]} is not below upper bound {value[1]}; "
                             f"give [lower, upper] with lower < upper")


def check_cross_fields(cfg: dict) -> None:
    """Seeds and the constraints between fields that the schema cannot state (sample sizes
    against the space's size, max_train against the batch, checkpoint epochs against epochs,
    search settings against the pool), each one line naming the key and the fix."""
    from trainfree.metrics import list_metrics
    from trainfree.spaces import get_space, nds

    for key in SEED_KEYS:
        value = _get(cfg, key)
        if value is not _MISSING:
            check_seed(key, value)
    space = cfg["space"]
    sp = get_space(space)
    outputs = cfg.get("outputs", ["study"])
    pool = _get(cfg, "sample.pool", "space")
    if pool == "space":
        _space_size("sample.n", _get(cfg, "sample.n", None), space, sp)
        if space in nds.SPACES and "study" in outputs:
            raise TrainfreeError(f"config sample.pool: {space} is sampled from the NDS release's records, not "
                                 f"generated; set sample.pool: ground_truth and ground_truth.source to the NDS "
                                 f"release (its zip, folder or {nds.file_stem(space)}.json)")
    elif pool == "ground_truth" and (_get(cfg, "ground_truth.kind", None) != "benchmark"
                                     or not _get(cfg, "ground_truth.source", None)):
        raise TrainfreeError("config sample.pool: ground_truth needs ground_truth.kind: benchmark and a "
                             "ground_truth.source to draw from; or set sample.pool: space")
    _batch_fits("training", _get(cfg, "training.max_train", None), _get(cfg, "training.batch_size", 64))
    _epochs_in_range("training.checkpoint_epochs", _get(cfg, "training.checkpoint_epochs", None),
                     _get(cfg, "training.epochs", 3))
    if "dtb" in outputs:
        dtb = cfg.get("dtb") or {}
        _space_size("dtb.n", dtb.get("n"), space, sp)
        _batch_fits("dtb", dtb.get("max_train"), dtb.get("batch_size", 96))
        _epochs_in_range("dtb.checkpoint_epochs", dtb.get("checkpoint_epochs", [0, 1, 2, 5, 10, 20, 50]),
                         dtb.get("epochs", 50), need_zero=True)
        check_model(space, sp.MODEL_DEFAULTS, dtb.get("model") or {}, "config dtb.model.")
    if "search" in outputs:
        _check_search(cfg.get("search") or {}, space, sp, list_metrics())
    hnas = _get(cfg, "suitezero.hnas", None)
    if "suitezero" in outputs and isinstance(hnas, dict):
        t, c = hnas.get("t", 0.5), hnas.get("c", -2.0)
        if isinstance(t, int | float) and not 0 < t < 1:
            raise TrainfreeError(f"config suitezero.hnas.t: {t} is outside (0, 1); give a value between 0 and 1")
        if isinstance(c, int | float) and not -4 < c < 0:
            raise TrainfreeError(f"config suitezero.hnas.c: {c} is outside (-4, 0); give a value between -4 and 0")


def _check_search(s: dict, space: str, sp: object, metrics: list[str]) -> None:
    pool = s.get("pool") or {}
    pool_n = pool.get("n", 3000)
    pool_metrics = pool.get("metrics", ["naswot", "ntk_trace", "ntk_condnum"])
    _space_size("search.pool.n", pool_n, space, sp)
    for i, m in enumerate(pool_metrics):
        _choice(f"search.pool.metrics[{i}]", m, metrics)
    for i, m in enumerate(_get(s, "best_of_n.metrics", [])):
        if pool_n and m not in pool_metrics:
            raise TrainfreeError(f"config search.best_of_n.metrics[{i}]: {m!r} is not scored on the pool; "
                                 f"choose one of search.pool.metrics: {', '.join(pool_metrics)}")
    h = s.get("hnas") or {}
    trace, cond = h.get("trace_metric", "ntk_trace"), h.get("cond_metric", "ntk_condnum")
    _choice("search.hnas.trace_metric", trace, metrics)
    _choice("search.hnas.cond_metric", cond, metrics)
    n_evals = h.get("n_probes", 5) + h.get("n_steps", 15)
    if pool_n and {trace, cond} <= set(pool_metrics) and pool_n < n_evals:
        raise TrainfreeError(f"config search.pool.n: a pool of {pool_n} archs is smaller than the {n_evals} HNAS "
                             f"evaluations (search.hnas.n_probes + n_steps); raise pool.n or lower n_steps")
    _bounds("search.hnas.t_bounds", h.get("t_bounds"))
    _bounds("search.hnas.c_bounds", h.get("c_bounds"))
    probe_c, c_bounds = h.get("probe_c"), h.get("c_bounds", [-4.0, 0.0])
    if isinstance(probe_c, int | float) and isinstance(c_bounds, list) and len(c_bounds) == 2 \
            and not c_bounds[0] <= probe_c <= c_bounds[1]:
        raise TrainfreeError(f"config search.hnas.probe_c: {probe_c} lies outside c_bounds {c_bounds}; "
                             f"give a value inside them or null (their middle)")
    obs = h.get("observe") or {}
    if obs.get("kind", "benchmark") == "train":
        _batch_fits("search.hnas.observe", obs.get("max_train"), obs.get("batch_size", 96))
        check_model(space, sp.MODEL_DEFAULTS, obs.get("model") or {}, "config search.hnas.observe.model.")


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
    from trainfree.analysis.combine import check_combinations

    check_combinations(_get(cfg, "analysis.combinations", []) or [], metrics)
    check_cross_fields(cfg)
