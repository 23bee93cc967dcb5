# The study's provenance record and summary, over every final target the other rule files
# export: included last, it gathers them into ALL_TARGETS (`rule all`).

#: every final target of the study except provenance.json and summary.md (which read them)
FINAL_OUTPUTS = SEARCH_TARGETS + SUITEZERO_TARGETS + DTB_TARGETS + ANALYSIS_TARGETS + FIGURE_TARGETS
REPORT_TARGETS = [f"{R}/provenance.json", f"{R}/summary.md"] if FINAL_OUTPUTS else []


#: every target of the study (`rule all`)
ALL_TARGETS = FINAL_OUTPUTS + REPORT_TARGETS
#: name -> CSV of the final tables the summary quotes (those this study makes)
SUMMARY_TABLES = {k: f"{R}/tables/{n}.csv" for k, n in {
    **{n: n for n in ("correlations", "das_ablation", "fast_training", "paper_vs_ours", "published_beside",
                      "suitezero_validation",
                      "unification_accuracy", "search_best_of_n", "search_hnas")},
    "dtb_fast_training": "dtb/fast_training", "dtb_das_ablation": "dtb/das_ablation",
}.items() if f"{R}/tables/{n}.csv" in FINAL_OUTPUTS}


rule provenance:
    input:
        FINAL_OUTPUTS,
    output:
        report(f"{R}/provenance.json", caption="../report/provenance.rst", category="Provenance"),
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/provenance.log",
    params:
        cfg=config,
        code=script_code("provenance.py"),
    localrule: True
    script:
        "../scripts/provenance.py"


rule summary:
    input:
        **SUMMARY_TABLES,
    output:
        report(f"{R}/summary.md", caption="../report/summary.rst", category="Provenance"),
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/summary.log",
    params:
        cfg=cfg_view("study"),
        code=script_code("summary.py"),
    localrule: True
    script:
        "../scripts/summary.py"
