# Correlations (signed, bootstrap CIs), the DAS ablation and the fast-training curve.

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
        step="correlations",
        cfg=cfg_view(*TARGET_KEYS, "analysis"),
        code=script_code("analysis.py"),
    script:
        "../scripts/analysis.py"


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
        step="ablation",
        cfg=cfg_view(*TARGET_KEYS, "analysis"),
        code=script_code("analysis.py"),
    script:
        "../scripts/analysis.py"


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
        step="fast_training",
        cfg=cfg_view(*TARGET_KEYS, "analysis"),
        code=script_code("analysis.py"),
    script:
        "../scripts/analysis.py"


rule provenance:
    input:
        final_outputs(),
    output:
        report(f"{R}/provenance.json", caption="../report/provenance.rst", category="Provenance"),
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/provenance.log",
    params:
        cfg=config,
        code=script_code("provenance.py"),
    script:
        "../scripts/provenance.py"


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


rule suitezero_validation:
    input:
        SUITEZERO_FILES,
    output:
        table=report(
            multiext(f"{R}/tables/suitezero_validation", ".csv", ".md", ".tex"),
            caption="../report/suitezero_validation.rst",
            category="Validation",
        ),
        scores=f"{R}/suitezero_scores.csv",
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/suitezero_validation.log",
    benchmark:
        f"{R}/benchmarks/suitezero_validation.tsv"
    params:
        cache=f"{R}/cache/suitezero_scores_partial.csv",
        device=DEVICE,
        cfg=cfg_view("suitezero"),
        code=script_code("suitezero.py"),
    # one job scores the whole sample: it takes every core it is given (torch intra-op threads)
    threads: all_cores()
    resources:
        gpu=1 if DEVICE.startswith("cuda") else 0,
    script:
        "../scripts/suitezero.py"


rule unification:
    input:
        f"{R}/suitezero_scores.csv",
        SUITEZERO_FILES,
    output:
        matrix=report(
            multiext(f"{R}/tables/unification_matrix", ".csv", ".md", ".tex"),
            caption="../report/unification.rst",
            category="HNAS unification",
        ),
        accuracy=report(
            multiext(f"{R}/tables/unification_accuracy", ".csv", ".md", ".tex"),
            caption="../report/unification.rst",
            category="HNAS unification",
        ),
        heatmap=report(
            multiext(f"{R}/figures/unification_heatmap", ".pdf", ".png"),
            caption="../report/unification.rst",
            category="HNAS unification",
        ),
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/unification.log",
    params:
        cfg=cfg_view("suitezero"),
        code=script_code("unification.py"),
    script:
        "../scripts/unification.py"


rule summary:
    input:
        unpack(lambda wc: summary_tables()),
    output:
        report(f"{R}/summary.md", caption="../report/summary.rst", category="Provenance"),
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/summary.log",
    params:
        cfg=cfg_view("study"),
        code=script_code("summary.py"),
    script:
        "../scripts/summary.py"
