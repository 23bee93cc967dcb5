# Seeded uniform sample of architectures from the search space.


rule sample:
    output:
        f"{R}/sample.parquet",
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/sample.log",
    script:
        "../scripts/sample.py"
