"""Config values as the workflow reads them: command-line overrides and the input files they name.

**Overrides.**
``snakemake --config 'suitezero={space: nb101, n: 20}'`` hands the workflow the nested
mapping with every value a string (``'20'``); top-level values (``study=x``, ``device=cuda``)
arrive typed. :func:`coerce_cli_values` reads each string inside a nested mapping as YAML,
so ``'20'`` becomes 20 and ``'[10, 30]'`` a list, exactly as in a config file.

**Bundled data.** A path value ``benchdata:<rel>`` names a file of the benchmark data that
travels with the package (``trainfree.benchdata``), wherever the package is installed and
whatever the working directory: :func:`resolve_bundled_paths` makes it absolute.

**Input files.** A config value that names an input file or folder which does not exist
stops the run before any job (``snakemake -n`` included): :func:`missing_input_message` is
the one line naming the key, the file and the command that brings it.
"""

from __future__ import annotations

from pathlib import Path

import yaml

#: prefix of a config path into the bundled benchmark data
BUNDLED_PREFIX = "benchdata:"


def _yaml_value(text: str) -> object:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text  # not YAML: kept as the string it is (the schema then names the key)


def _coerce(value: object) -> object:
    if isinstance(value, str):
        return _yaml_value(value)
    if isinstance(value, dict):
        return {k: _coerce(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_coerce(v) for v in value]
    return value


def coerce_cli_values(config: dict, overrides: dict) -> dict:
    """Replace, in ``config``, every string below a nested mapping of ``overrides`` by its YAML value.

    ``overrides``: the ``--config`` values only (``workflow.config_settings.config``), never a
    config file's, whose strings are strings (``version: "1.0"``). Only those keys are touched;
    a top-level string stays a string (``study=007`` keeps its name). Returns ``config``.
    """
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            for sub, sv in value.items():
                if sub in config[key]:
                    config[key][sub] = _coerce(sv)
    return config


def missing_input_message(key: str, path: str) -> str:
    """One line for a config input ``path`` (under ``key``) that does not exist, with the fix."""
    from trainfree.data.fetch import ASSETS

    name = Path(path).name
    asset = next((a for a in ASSETS.values() if a.filename == name), None)
    if asset is not None:
        how = (f"fetch it with `trainfree fetch {asset.name} --root {Path(path).parent}`, or list "
               f"{asset.name} in downloads.assets with downloads.root: {Path(path).parent}")
    elif "benchdata" in Path(path).parts:
        how = ("the bundled benchmark data lives in src/trainfree/benchdata (see its manifest.json); "
               "check the file name there")
    else:
        how = "correct the path in your config (a relative path is read from the working directory, `-d`)"
    return f"config {key}: {path!r} does not exist; {how}"


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def study_config(path: str | Path, overrides: dict) -> dict:
    """The config of one study of a multi-study run: the study file ``path``, then the command
    line's ``overrides`` merged over it (a ``model`` section replaces the study's). The schema
    fills in every key neither sets."""
    with open(path) as f:
        cfg = yaml.safe_load(f) or {}
    over = dict(overrides)
    cfg = _merge(cfg, {k: v for k, v in over.items() if k != "model"})
    if "model" in over:
        cfg["model"] = dict(over["model"])
    return cfg


def default_run_studies(path: str | Path, override: object = None) -> tuple[str, ...]:
    """The studies of the default run: ``default_run`` of ``path`` (config/config.yaml), or the
    command line's ``--config 'default_run=[...]'``; an unknown name is one line with the choices."""
    from trainfree.errors import TrainfreeError

    with open(path) as f:
        known = list((yaml.safe_load(f) or {}).get("default_run", []))
    chosen = known if override is None else override
    if isinstance(chosen, str):
        chosen = _yaml_value(chosen)
    if isinstance(chosen, str):
        chosen = [chosen]
    bad = [c for c in chosen or [] if c not in known] if isinstance(chosen, list) else [chosen]
    if bad or not chosen:
        raise TrainfreeError(f"config default_run: {bad or chosen!r} is not a list of studies of the default run; "
                             f"choose among {', '.join(known)}")
    return tuple(chosen)


#: config keys (section, key) whose values name input files or folders
PATH_KEYS = (("data", "root"), ("ground_truth", "source"), ("search", "external", "path"),
             ("suitezero", "bench_root"))


def resolve_bundled(value: object) -> object:
    """``"benchdata:<rel>"`` -> the absolute path of the bundled file (:func:`trainfree.benchdata.path`);
    lists element-wise; any other value unchanged."""
    if isinstance(value, list):
        return [resolve_bundled(v) for v in value]
    if isinstance(value, str) and value.startswith(BUNDLED_PREFIX):
        from trainfree.benchdata import path

        return str(path(value[len(BUNDLED_PREFIX):].lstrip("/")))
    return value


def resolve_bundled_paths(config: dict) -> dict:
    """Replace every ``benchdata:`` value of the :data:`PATH_KEYS` of ``config`` by its absolute path."""
    for keys in PATH_KEYS:
        node = config
        for k in keys[:-1]:
            node = node.get(k) if isinstance(node, dict) else None
        if isinstance(node, dict) and keys[-1] in node:
            node[keys[-1]] = resolve_bundled(node[keys[-1]])
    return config
