# DTB, the benchmark of training states: a seeded sample of archs, one resumable training
# job per arch (killed jobs restart from their last epoch), one assemble job writing the
# checksummed folder (manifest, states, archs, datasheet); then the fast-training study on
# it (metrics on the checkpoint at epoch k and after k SGD steps vs the final accuracy).
# Built only when the study's `outputs` lists dtb (see config/dtb_mini.yaml).
DTB = f"{R}/dtb"
DTBW = f"{R}/dtb_work"
DTB_ARCHS = [f"{i:04d}" for i in range(config["dtb"]["n"])]
DTB_KINDS = ["fast_training"]
if {"naswot", "distinguishing_ability", "activation_units"} <= set(config["scoring"]["metrics"]):
    DTB_KINDS.append("das_ablation")
# what `rule all` builds of this file (gathered in report.smk)
DTB_TARGETS = (
    [f"{DTB}/manifest.json", f"{R}/figures/dtb/summary.pdf", f"{R}/figures/dtb/fast_training.pdf"]
    + [f"{R}/tables/dtb/{kind}.csv" for kind in DTB_KINDS]
    if "dtb" in config["outputs"] else []
)


rule dtb_sample:
    output:
        f"{DTBW}/sample.csv",
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/dtb_sample.log",
    params:
        cfg=cfg_view("space", "dtb.n", "dtb.seed"),
        code=script_code("dtb_sample.py"),
    script:
        "../scripts/dtb_sample.py"


rule dtb_train:
    input:
        sample=f"{DTBW}/sample.csv",
        data=DATA_ROOT,
    output:
        states=f"{DTBW}/arch_{{i}}/states.parquet",
        info=f"{DTBW}/arch_{{i}}/info.json",
    wildcard_constraints:
        i=r"\d{4}",
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/dtb_train_{{i}}.log",
    benchmark:
        f"{R}/benchmarks/dtb_train_{{i}}.tsv"
    params:
        device=DEVICE,
        cfg=cfg_view("space", "data", "dtb"),
        code=script_code("dtb_train.py"),
    resources:
        gpu=1 if DEVICE.startswith("cuda") else 0,
    script:
        "../scripts/dtb_train.py"


rule dtb_assemble:
    input:
        sample=f"{DTBW}/sample.csv",
        states=expand(f"{DTBW}/arch_{{i}}/states.parquet", i=DTB_ARCHS),
        info=expand(f"{DTBW}/arch_{{i}}/info.json", i=DTB_ARCHS),
    output:
        manifest=f"{DTB}/manifest.json",
        states=f"{DTB}/states.csv",
        archs=f"{DTB}/archs.csv",
        datasheet=report(f"{DTB}/DATASHEET.md", caption="../report/dtb.rst", category="DTB"),
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/dtb_assemble.log",
    params:
        cfg=cfg_view("study", "space", "data", "dtb"),
        code=script_code("dtb_assemble.py"),
    script:
        "../scripts/dtb_assemble.py"


rule dtb_score_shard:
    input:
        manifest=f"{DTB}/manifest.json",
        batch=f"{R}/data/scoring_batch.npz",
    output:
        f"{R}/dtb_scores/shard{{scatteritem}}.parquet",
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/dtb_score_shard{{scatteritem}}.log",
    benchmark:
        f"{R}/benchmarks/dtb_score_shard{{scatteritem}}.tsv"
    threads: 1
    params:
        shard=scatter_shard,
        n_shards=scatter_count,
        device=DEVICE,
        cfg=cfg_view("scoring", "fast_training"),
        code=script_code("dtb_score_shard.py"),
    resources:
        gpu=1 if DEVICE.startswith("cuda") else 0,
    script:
        "../scripts/dtb_score_shard.py"


rule dtb_gather_scores:
    input:
        gather.score(f"{R}/dtb_scores/shard{{scatteritem}}.parquet"),
    output:
        f"{R}/dtb_scores.parquet",
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/dtb_gather_scores.log",
    params:
        code=script_code("dtb_gather_scores.py"),
    localrule: True
    script:
        "../scripts/dtb_gather_scores.py"


rule dtb_table:
    input:
        manifest=f"{DTB}/manifest.json",
        scores=f"{R}/dtb_scores.parquet",
    output:
        report(
            multiext(f"{R}/tables/dtb/{{kind}}", ".csv", ".md", ".tex"),
            caption="../report/dtb.rst",
            category="DTB",
        ),
    wildcard_constraints:
        kind="fast_training|das_ablation",
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/dtb_table_{{kind}}.log",
    params:
        cfg=cfg_view("study", "analysis"),
        code=script_code("dtb_table.py"),
    script:
        "../scripts/dtb_table.py"


rule dtb_figure:
    input:
        manifest=f"{DTB}/manifest.json",
        table=lambda w: [f"{R}/tables/dtb/fast_training.csv"] if w.name == "fast_training" else [],
    output:
        pdf=report(f"{R}/figures/dtb/{{name}}.pdf", caption="../report/dtb.rst", category="DTB"),
        png=f"{R}/figures/dtb/{{name}}.png",
    wildcard_constraints:
        name="summary|fast_training",
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/dtb_figure_{{name}}.log",
    params:
        code=script_code("dtb_figure.py"),
    localrule: True
    script:
        "../scripts/dtb_figure.py"
