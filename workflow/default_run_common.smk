# Settings and helpers of the default run (workflow/default_run.smk): its studies, each study's
# config, the glance table's inputs and the run's targets.
from pathlib import Path

from trainfree.analysis.glance import GLANCE_TABLES
from trainfree.closure import code_hash
from trainfree.workflow_config import default_run_studies, study_config

DEFAULT_RUN = default_run_studies(Path(workflow.basedir) / "config" / "config.yaml", config.get("default_run"))


def _cfg(name):
    """The config of the default run's study ``name``: its file, then the command line's values."""
    return study_config(Path(workflow.basedir) / "config" / "default" / f"{name}.yaml",
                        {k: v for k, v in config.items() if k != "default_run"})


GLANCE_STUDY = {table: _cfg(name)["study"] for table, (name, _) in GLANCE_TABLES.items() if name in DEFAULT_RUN}
GLANCE_CODE = code_hash(Path(workflow.basedir) / "workflow" / "scripts" / "glance.py")


def default_run_targets():
    """Every target of every study of the default run, and the glance table."""
    return [t for name in DEFAULT_RUN for t in getattr(rules, f"{name}_study_all").input] + [
        "results/default_run/glance.md"]
