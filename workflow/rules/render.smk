# Figures: one per file, PDF + PNG; each is a target of its own.


rule figure:
    input:
        unpack(figure_inputs),
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
    script:
        "../scripts/figure.py"
