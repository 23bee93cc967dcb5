# Seeded uniform sample of architectures from the search space.


rule sample:
    input:
        fetched=FETCHED,  # the ground-truth pool may be a downloaded release (NDS)
        source=GT_SOURCE,
    output:
        f"{R}/sample.parquet",
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/sample.log",
    params:
        cfg=cfg_view("space", "sample", "ground_truth.kind", "ground_truth.source"),
        code=script_code("sample.py"),
    script:
        "../scripts/sample.py"
