# The default run: the studies listed in config/config.yaml in one DAG, each a Snakemake module
# of workflow/study.smk with its own config (config/default/<name>.yaml, then the command line's
# --config). Rules are prefixed by the study's module name (nb201_score_shard, dtb_dtb_train,
# ...); outputs go to results/default_<name>/ as the study files say.
from pathlib import Path

from trainfree.closure import code_hash
from trainfree.workflow_config import default_run_studies, study_config

DEFAULT_RUN = default_run_studies(Path(workflow.basedir) / "config" / "config.yaml", config.get("default_run"))


def _cfg(name):
    return study_config(Path(workflow.basedir) / "config" / "default" / f"{name}.yaml",
                        {k: v for k, v in config.items() if k != "default_run"})


if "nb201" in DEFAULT_RUN:

    module nb201:
        snakefile: "study.smk"
        config: _cfg("nb201")

    use rule * from nb201 as nb201_*


if "fast" in DEFAULT_RUN:

    module fast:
        snakefile: "study.smk"
        config: _cfg("fast")

    use rule * from fast as fast_*


if "search" in DEFAULT_RUN:

    module search:
        snakefile: "study.smk"
        config: _cfg("search")

    use rule * from search as search_*


if "hnas" in DEFAULT_RUN:

    module hnas:
        snakefile: "study.smk"
        config: _cfg("hnas")

    use rule * from hnas as hnas_*


if "dtb" in DEFAULT_RUN:

    module dtb:
        snakefile: "study.smk"
        config: _cfg("dtb")

    use rule * from dtb as dtb_*


if "darts_search" in DEFAULT_RUN:

    module darts_search:
        snakefile: "study.smk"
        config: _cfg("darts_search")

    use rule * from darts_search as darts_search_*


#: the glance table's inputs: table name -> (study of the default run, CSV under results/<study>/tables/)
GLANCE_TABLES = {
    "paper_vs_ours": ("nb201", "paper_vs_ours"),
    "das_ablation": ("nb201", "das_ablation"),
    "fast_training": ("fast", "fast_training"),
    "search_best_of_n": ("search", "search_best_of_n"),
    "search_hnas": ("search", "search_hnas"),
    "suitezero_validation": ("hnas", "suitezero_validation"),
    "unification_accuracy": ("hnas", "unification_accuracy"),
    "dtb_fast_training": ("dtb", "dtb/fast_training"),
    "darts_search_hnas": ("darts_search", "search_hnas"),
}
GLANCE_STUDY = {table: _cfg(name)["study"] for table, (name, _) in GLANCE_TABLES.items() if name in DEFAULT_RUN}


rule glance:
    input:
        **{table: f"results/{GLANCE_STUDY[table]}/tables/{GLANCE_TABLES[table][1]}.csv" for table in GLANCE_STUDY},
    output:
        md="results/default_run/glance.md",
        csv="results/default_run/glance.csv",
    log:
        "results/default_run/logs/glance.log",
    params:
        studies=GLANCE_STUDY,
        code=code_hash(Path(workflow.basedir) / "workflow" / "scripts" / "glance.py"),
    script:
        "scripts/glance.py"


localrules:
    glance,


def default_run_targets():
    """Every target of every study of the default run, and the glance table."""
    return [t for name in DEFAULT_RUN for t in getattr(rules, f"{name}_study_all").input] + [
        "results/default_run/glance.md"]
