# Correlations (signed, bootstrap CIs), the DAS ablation, the fast-training table and NASWOT's
# published numbers beside ours (built when `outputs` lists study).
from trainfree.analysis.combine import label as combination_label
from trainfree.analysis.published import has_published, has_published_beside

DAS_METRICS = {"naswot", "distinguishing_ability", "activation_units"} <= set(config["scoring"]["metrics"])
# what `rule all` builds of this file (gathered in report.smk)
ANALYSIS_TARGETS = (
    [f"{R}/tables/correlations.csv"]
    + ([f"{R}/tables/das_ablation.csv"] if DAS_METRICS else [])
    + ([f"{R}/tables/fast_training.csv"] if len(FAST_STEPS) > 1 else [])
    + ([f"{R}/tables/paper_vs_ours.csv"]
       if not TRAINING and has_published(config["space"]) and "naswot" in config["scoring"]["metrics"] else [])
    + ([f"{R}/tables/published_beside.csv"]
       if not TRAINING and has_published_beside(
           config["space"], config["scoring"]["metrics"],
           [combination_label(c) for c in config["analysis"].get("combinations", [])]) else [])
    if "study" in config["outputs"] else []
)

rule correlations:
    input:
        scores=f"{R}/scores.parquet",
        gt=f"{R}/ground_truth.parquet",
    output:
        report(
            multiext(f"{R}/tables/correlations", ".csv", ".md", ".tex"),
            caption="../report/correlations.rst",
            category="Tables",
        ),
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/correlations.log",
    params:
        cfg=cfg_view(*TARGET_KEYS, "analysis"),
        code=script_code("correlations.py"),
    script:
        "../scripts/correlations.py"


rule das_ablation:
    input:
        scores=f"{R}/scores.parquet",
        gt=f"{R}/ground_truth.parquet",
    output:
        report(
            multiext(f"{R}/tables/das_ablation", ".csv", ".md", ".tex"),
            caption="../report/das_ablation.rst",
            category="Tables",
        ),
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/das_ablation.log",
    params:
        cfg=cfg_view(*TARGET_KEYS, "analysis"),
        code=script_code("das_ablation.py"),
    script:
        "../scripts/das_ablation.py"


rule fast_training_table:
    input:
        scores=f"{R}/scores.parquet",
        gt=f"{R}/ground_truth.parquet",
    output:
        report(
            multiext(f"{R}/tables/fast_training", ".csv", ".md", ".tex"),
            caption="../report/fast_training.rst",
            category="Tables",
        ),
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/fast_training.log",
    params:
        cfg=cfg_view(*TARGET_KEYS, "analysis"),
        code=script_code("fast_training_table.py"),
    script:
        "../scripts/fast_training_table.py"


rule paper_vs_ours:
    input:
        f"{R}/tables/correlations.csv",
    output:
        report(
            multiext(f"{R}/tables/paper_vs_ours", ".csv", ".md", ".tex"),
            caption="../report/paper_vs_ours.rst",
            category="Tables",
        ),
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/paper_vs_ours.log",
    params:
        cfg=cfg_view("study", "space"),
        code=script_code("paper_vs_ours.py"),
    script:
        "../scripts/paper_vs_ours.py"


rule published_beside:
    input:
        f"{R}/tables/correlations.csv",
    output:
        report(
            multiext(f"{R}/tables/published_beside", ".csv", ".md", ".tex"),
            caption="../report/published_beside.rst",
            category="Tables",
        ),
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/published_beside.log",
    params:
        cfg=cfg_view("study", "space"),
        code=script_code("published_beside.py"),
    localrule: True
    script:
        "../scripts/published_beside.py"
