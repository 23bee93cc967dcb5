# Short, seeded training runs recording training states (the DTB table format), sharded
# (scatter "train"). Shard count: `--set-scatter train=N`; threads: `--set-threads train_shard=T`.


rule train_shard:
    input:
        sample=f"{R}/sample.parquet",
        data=DATA_ROOT,
    output:
        f"{R}/training/shard{{scatteritem}}.parquet",
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/train_shard{{scatteritem}}.log",
    benchmark:
        f"{R}/benchmarks/train_shard{{scatteritem}}.tsv"
    threads: 1
    params:
        shard=scatter_shard,
        n_shards=scatter_count,
        device=DEVICE,
        checkpoints=f"{R}/training/checkpoints",
        cfg=cfg_view("space", "model", "data", "training"),
        code=script_code("train_shard.py"),
    resources:
        gpu=1 if DEVICE.startswith("cuda") else 0,
    script:
        "../scripts/train_shard.py"


rule gather_states:
    input:
        gather.train(f"{R}/training/shard{{scatteritem}}.parquet"),
    output:
        f"{R}/training_states.parquet",
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/gather_states.log",
    params:
        code=script_code("gather_states.py"),
    localrule: True
    script:
        "../scripts/gather_states.py"
