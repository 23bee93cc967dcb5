# Scoring with every configured metric, sharded (scatter "score"); k = fast-training steps
# before scoring. Shard count: `--set-scatter score=N`; torch threads: `--set-threads score_shard=T`.

SCORE_KEYS = ("space", "model", "data", "scoring.metrics", "scoring.seed")


rule score_shard:
    input:
        sample=f"{R}/sample.parquet",
        batch=f"{R}/data/scoring_batch.npz",
        data=lambda wc: DATA_ROOT if int(wc.k) > 0 else [],
    output:
        f"{R}/scores/k{{k}}/shard{{scatteritem}}.parquet",
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/score_k{{k}}_shard{{scatteritem}}.log",
    benchmark:
        f"{R}/benchmarks/score_k{{k}}_shard{{scatteritem}}.tsv"
    threads: 1
    params:
        shard=scatter_shard,
        n_shards=scatter_count,
        device=DEVICE,
        cfg=lambda wc: cfg_view(*SCORE_KEYS, *(("fast_training",) if int(wc.k) > 0 else ())),
        code=script_code("score_shard.py"),
    resources:
        gpu=1 if DEVICE.startswith("cuda") else 0,
    script:
        "../scripts/score_shard.py"


rule gather_scores:
    input:
        # k outer, shard inner: the gathered rows keep the sample's order for any shard count
        [p for k in FAST_STEPS for p in gather.score(f"{R}/scores/k{k}/shard{{scatteritem}}.parquet")],
    output:
        f"{R}/scores.parquet",
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/gather_scores.log",
    params:
        code=script_code("gather_scores.py"),
    localrule: True
    script:
        "../scripts/gather_scores.py"
