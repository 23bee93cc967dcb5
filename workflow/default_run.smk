# The default run: the studies listed in config/config.yaml in one DAG, each a Snakemake module
# of workflow/study.smk with its own config (config/default/<name>.yaml, then the command line's
# --config). Rules are prefixed by the study's module name (nb201_score_shard, dtb_dtb_train,
# ...); outputs go to results/default_<name>/ as the study files say.


include: "default_run_common.smk"


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


rule glance:
    input:
        **{table: f"results/{GLANCE_STUDY[table]}/tables/{GLANCE_TABLES[table][1]}.csv" for table in GLANCE_STUDY},
    output:
        md="results/default_run/glance.md",
        csv="results/default_run/glance.csv",
    conda:
        "envs/trainfree.yaml"
    log:
        "results/default_run/logs/glance.log",
    params:
        studies=GLANCE_STUDY,
        code=GLANCE_CODE,
    localrule: True
    script:
        "scripts/glance.py"
