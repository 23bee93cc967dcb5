# Short, seeded training runs recording training states (the DTB table format).


rule train_shard:
    input:
        sample=f"{R}/sample.parquet",
        data=DATA_ROOT,
    output:
        f"{R}/training/shard{{shard}}.parquet",
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/train_shard{{shard}}.log",
    benchmark:
        f"{R}/benchmarks/train_shard{{shard}}.tsv"
    params:
        n_shards=len(SHARDS),
        device=DEVICE,
        checkpoints=f"{R}/training/checkpoints",
        cfg=cfg_view("space", "model", "data", "training"),
        code=code_version("spaces", "training", "data", "seeding.py", "pipeline/train.py", "pipeline/common.py"),
    resources:
        gpu=1 if DEVICE.startswith("cuda") else 0,
    script:
        "../scripts/train_shard.py"


rule gather_states:
    input:
        expand(f"{R}/training/shard{{shard}}.parquet", shard=SHARDS),
    output:
        f"{R}/training_states.parquet",
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/gather_states.log",
    params:
        code=code_version("pipeline/common.py"),
    script:
        "../scripts/gather.py"
