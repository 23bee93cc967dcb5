"""Config values as the workflow reads them: command-line overrides and the input files they name.

**Overrides.**
``snakemake --config 'suitezero={space: nb101, n: 20}'`` hands the workflow the nested
mapping with every value a string (``'20'``); top-level values (``study=x``, ``device=cuda``)
arrive typed. :func:`coerce_cli_values` reads each string inside a nested mapping as YAML,
so ``'20'`` becomes 20 and ``'[10, 30]'`` a list, exactly as in a config file.

**Input files.** A config value that names an input file or folder which does not exist
stops the run before any job (``snakemake -n`` included): :func:`missing_input_message` is
the one line naming the key, the file and the command that brings it.
"""

from __future__ import annotations

from pathlib import Path

import yaml


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

    Only the keys given on the command line are touched; a top-level string stays a string
    (``study=007`` keeps its name). Returns ``config``.
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
