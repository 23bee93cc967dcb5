# Ground truth as one tidy table: from the study's own training runs, or from a
# benchmark source (official file, NATS folder, or CSV mirror such as benchdata).


rule ground_truth:
    input:
        states=f"{R}/training_states.parquet" if TRAINING else [],
        fetched=FETCHED,
        source=GT_SOURCE,
    output:
        f"{R}/ground_truth.parquet",
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/ground_truth.log",
    benchmark:
        f"{R}/benchmarks/ground_truth.tsv"
    params:
        cfg=cfg_view("space", "data.dataset", "training.seed", "ground_truth"),
        code=script_code("ground_truth.py"),
    script:
        "../scripts/ground_truth.py"
