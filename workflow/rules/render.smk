# Figures: one per file, PDF + PNG; each is a target of its own.

# what `rule all` builds of this file (gathered in report.smk)
FIGURE_TARGETS = (
    [f"{R}/figures/scatter_{m}.pdf" for m in config["scoring"]["metrics"]]
    + [f"{R}/figures/correlation_bars.pdf"]
    + ([f"{R}/figures/atoms.pdf"] if DAS_METRICS else [])
    + ([f"{R}/figures/fast_training.pdf"] if len(FAST_STEPS) > 1 else [])
    + ([f"{R}/figures/learning_curves.pdf"] if TRAINING else [])
    if "study" in config["outputs"] else []
)


#: inputs of the figures that read a table; the others read the scores and the ground truth
FIGURE_INPUTS = {"learning_curves": {"states": f"{R}/training_states.parquet"},
                 "fast_training": {"table": f"{R}/tables/fast_training.csv"},
                 "correlation_bars": {"table": f"{R}/tables/correlations.csv"}}
FIGURE_SCORES = {"scores": f"{R}/scores.parquet", "gt": f"{R}/ground_truth.parquet"}


rule figure:
    input:
        unpack(lambda wc: FIGURE_INPUTS.get(wc.name, FIGURE_SCORES)),
    output:
        pdf=report(
            f"{R}/figures/{{name}}.pdf",
            caption="../report/figure.rst",
            category="Figures",
        ),
        png=f"{R}/figures/{{name}}.png",
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/figure_{{name}}.log",
    wildcard_constraints:
        name="[a-z_0-9]+",
    params:
        cfg=cfg_view(*TARGET_KEYS),
        code=script_code("figure.py"),
    localrule: True
    script:
        "../scripts/figure.py"
