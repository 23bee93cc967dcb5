# Shared paths and helpers. Every output lives under results/<study>/.
#
# Reruns track config and code: each rule passes the config keys it reads as
# `params.cfg` (its scripts read nothing else) and, as `params.code`, a hash of its
# script and of every package module the script imports, directly or not (found by
# trainfree.closure, not listed by hand); Snakemake reruns a job when either changes
# (rerun trigger "params"), and every file a rule reads is one of its inputs.
#
# A rule, its script (workflow/scripts/<rule>.py) and its stage function
# (trainfree.pipeline.<rule file>.<rule>) share one name. Each rule file exports the targets it
# adds to `rule all` (ANALYSIS_TARGETS, FIGURE_TARGETS, ...); report.smk, included last, gathers
# them: no file reads a name defined in a file included after it.
import json
from pathlib import Path

from trainfree.closure import code_hash
from trainfree.workflow_config import missing_input_message


R = f"results/{config['study']}"

# Shards are a run setting, not science: `--set-scatter score=8 train=8` on the command
# line or `set-scatter:` in a profile. Results do not depend on the shard counts.
scattergather:
    score=2,
    train=2,


if "shards" in config["scoring"]:
    from trainfree.errors import TrainfreeError

    raise TrainfreeError(
        "config key scoring.shards was removed: drop it and set the shard counts when running, "
        "e.g. `snakemake --set-scatter score=4 train=4` (or `set-scatter:` in a profile)"
    )


def scatter_shard(wildcards) -> int:
    """0-based shard index of a scatter item `i-of-n`."""
    return int(wildcards.scatteritem.split("-of-")[0]) - 1


def scatter_count(wildcards) -> int:
    """Number of shards n of a scatter item `i-of-n`."""
    return int(wildcards.scatteritem.split("-of-")[1])

FAST_STEPS = sorted(set([0] + list(config["scoring"]["fast_steps"])))
TRAINING = config["ground_truth"]["kind"] == "training"
DEVICE = config.get("device", "cpu")
FETCHED = [f"{R}/data/fetched.json"] if config["downloads"]["assets"] else []


def all_cores() -> int:
    """The cores ``--cores`` gives, for a rule that runs alone and should use them all; 1 where
    the invocation names none (``--unlock``, ``--report``, a cluster executor's ``--jobs``)."""
    try:
        return workflow.cores
    except WorkflowError:
        return 1


SCRIPTS = Path(workflow.basedir) / "workflow" / "scripts"


def script_code(name):
    """Hash of the script ``workflow/scripts/<name>`` and of the import closure of the package
    modules it runs (``trainfree.closure.code_hash``): a rule's ``params.code``."""
    return code_hash(SCRIPTS / name)


def cfg_view(*keys):
    """The config restricted to ``keys`` (``section`` or ``section.key``), nested as in the config."""
    out = {}
    for key in keys:
        sec, _, name = key.partition(".")
        if sec not in config:
            continue
        if name:
            out.setdefault(sec, {})[name] = config[sec].get(name)
        else:
            out[sec] = config[sec]
    return out


def files_read(key, *paths):
    """The local files/folders ``paths`` that config ``key`` names as inputs. A path that does
    not exist stops the run before any job (dry runs included), naming the key, the file and how
    to get it; paths under ``downloads.root`` are made by the fetch job when assets are listed."""
    out = []
    fetched_root = Path(config["downloads"]["root"]).resolve() if config["downloads"]["assets"] else None
    for p in paths:
        if not p:
            continue
        if Path(p).exists():
            out.append(str(p))
        elif fetched_root is None or fetched_root not in (Path(p).resolve(), *Path(p).resolve().parents):
            raise WorkflowError(missing_input_message(key, str(p)))
    return out


_GT = config["ground_truth"].get("source")
GT_SOURCE = files_read("ground_truth.source", *(_GT if isinstance(_GT, list) else [_GT])) if not TRAINING else []
DATA_ROOT = files_read("data.root", config["data"].get("root"))
# config keys the ground-truth targets depend on (targets() in trainfree.pipeline.common)
TARGET_KEYS = ("study", "space", "data.dataset", "training.epochs", "training.seed", "ground_truth")
