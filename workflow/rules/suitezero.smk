# Suite-Zero validation (our scores of published NAS-Bench-Suite-Zero archs vs the published
# proxies) and the HNAS unification analysis on them (built when `outputs` lists suitezero).
from trainfree.analysis.suitezero import published_files
from trainfree.io import benchdata_root

SUITEZERO_ROOT = Path(config.get("suitezero", {}).get("bench_root") or benchdata_root())
SUITEZERO_FILES = (files_read("suitezero.bench_root", *published_files(config.get("suitezero", {}).get("space", "nb201"),
                                                                         SUITEZERO_ROOT))
                   if "suitezero" in config["outputs"] else [])
# what `rule all` builds of this file (gathered in report.smk)
SUITEZERO_TARGETS = (
    [f"{R}/tables/suitezero_validation.csv", f"{R}/tables/unification_matrix.csv",
     f"{R}/figures/unification_heatmap.pdf", f"{R}/tables/unification_accuracy.csv"]
    if "suitezero" in config["outputs"] else []
)


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
        code=script_code("suitezero_validation.py"),
    # one job scores the whole sample: it takes every core it is given (torch intra-op threads)
    threads: all_cores()
    resources:
        gpu=1 if DEVICE.startswith("cuda") else 0,
    script:
        "../scripts/suitezero_validation.py"


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
