# The fixed, un-augmented scoring batch: built once, read by every scoring shard.


rule scoring_batch:
    output:
        f"{R}/data/scoring_batch.npz",
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/scoring_batch.log",
    script:
        "../scripts/scoring_batch.py"
