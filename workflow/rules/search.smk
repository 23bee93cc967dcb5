# Search (config `search`, built when `outputs` lists `search`): score a pool of archs in
# shards, best-of-N by every metric (and by a published score table), HNAS's Bayesian
# optimisation over the pool, the error-vs-budget figure.

SEARCH = config["search"]
SEARCH_POOL = SEARCH["pool"]["n"] > 0
SEARCH_SHARDS = list(range(-(-SEARCH["pool"]["n"] // SEARCH["pool"]["shard_size"]))) if SEARCH_POOL else []
SEARCH_HNAS = SEARCH_POOL and {SEARCH["hnas"]["trace_metric"], SEARCH["hnas"]["cond_metric"]} <= set(
    SEARCH["pool"]["metrics"]
)
# HNAS observing a short training run (DARTS space): no ground truth, so no best-of-N
SEARCH_TRAIN = SEARCH["hnas"]["observe"]["kind"] == "train"
if SEARCH_TRAIN and not SEARCH_HNAS:
    raise WorkflowError(f"search.hnas.observe.kind is train but the pool (search.pool.n = {SEARCH['pool']['n']}, "
                        f"metrics {SEARCH['pool']['metrics']}) lacks {SEARCH['hnas']['trace_metric']} and "
                        f"{SEARCH['hnas']['cond_metric']}; add them or use kind benchmark")
# what `rule all` builds of this file (gathered in report.smk)
SEARCH_TARGETS = (
    ([] if SEARCH_TRAIN else [f"{R}/tables/search_best_of_n.csv"])
    + ([f"{R}/figures/search_budget.pdf"] if SEARCH_POOL and not SEARCH_TRAIN else [])
    + ([f"{R}/tables/search_hnas.csv"] if SEARCH_HNAS else [])
    if "search" in config["outputs"] else []
)


ruleorder: search_budget > figure


rule search_pool_shard:
    output:
        f"{R}/search/pool/shard_{{shard}}.parquet",
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/search_pool_{{shard}}.log",
    benchmark:
        f"{R}/benchmarks/search_pool_{{shard}}.tsv"
    params:
        cfg=cfg_view("space", "search.pool", "data", "model"),
        code=script_code("search_pool_shard.py"),
        cache=f"{R}/cache",
        device=DEVICE,
    threads: 1
    resources:
        gpu=1 if DEVICE.startswith("cuda") else 0,
    wildcard_constraints:
        shard="[0-9]+",
    script:
        "../scripts/search_pool_shard.py"


rule search_scores:
    input:
        expand(f"{R}/search/pool/shard_{{shard}}.parquet", shard=SEARCH_SHARDS),
    output:
        f"{R}/search/scores.parquet",
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/search_scores.log",
    params:
        cfg=cfg_view("space", "search.pool", "data", "model"),
        code=script_code("search_scores.py"),
    localrule: True
    script:
        "../scripts/search_scores.py"


rule search_best_of_n:
    input:
        scores=f"{R}/search/scores.parquet" if SEARCH_POOL else [],
        gt=f"{R}/ground_truth.parquet",
    output:
        table=report(
            multiext(f"{R}/tables/search_best_of_n", ".csv", ".md", ".tex"),
            caption="../report/search.rst",
            category="Search",
        ),
        raw=f"{R}/tables/search_best_of_n_raw.csv",
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/search_best_of_n.log",
    benchmark:
        f"{R}/benchmarks/search_best_of_n.tsv"
    params:
        cfg=cfg_view("space", "search", "data", "model", "ground_truth"),
        code=script_code("search_best_of_n.py"),
    script:
        "../scripts/search_best_of_n.py"


if SEARCH_TRAIN:

    ruleorder: search_hnas_train > search_hnas

    rule search_hnas_train:
        input:
            scores=f"{R}/search/scores.parquet",
            data=DATA_ROOT,
        output:
            table=report(
                multiext(f"{R}/tables/search_hnas", ".csv", ".md", ".tex"),
                caption="../report/search.rst",
                category="Search",
            ),
            runs=f"{R}/search/hnas_runs.csv",
            evals=f"{R}/search/hnas_evaluations.csv",
        conda:
            "../envs/trainfree.yaml"
        log:
            f"{R}/logs/search_hnas.log",
        benchmark:
            f"{R}/benchmarks/search_hnas.tsv"
        params:
            cfg=cfg_view("space", "search", "data"),
            code=script_code("search_hnas_train.py"),
            work=f"{R}/search/observations",
            device=DEVICE,
        threads: 1
        resources:
            gpu=1 if DEVICE.startswith("cuda") else 0,
        script:
            "../scripts/search_hnas_train.py"


rule search_hnas:
    input:
        scores=f"{R}/search/scores.parquet",
        gt=f"{R}/ground_truth.parquet",
    output:
        table=report(
            multiext(f"{R}/tables/search_hnas", ".csv", ".md", ".tex"),
            caption="../report/search.rst",
            category="Search",
        ),
        runs=f"{R}/search/hnas_runs.csv",
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/search_hnas.log",
    benchmark:
        f"{R}/benchmarks/search_hnas.tsv"
    params:
        cfg=cfg_view("space", "search", "data", "model", "ground_truth"),
        code=script_code("search_hnas.py"),
    script:
        "../scripts/search_hnas.py"


rule search_budget:
    input:
        best=f"{R}/tables/search_best_of_n_raw.csv",
        runs=f"{R}/search/hnas_runs.csv" if SEARCH_HNAS else [],
        scores=f"{R}/search/scores.parquet",
    output:
        pdf=report(f"{R}/figures/search_budget.pdf", caption="../report/search.rst", category="Search"),
        png=f"{R}/figures/search_budget.png",
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/search_budget.log",
    params:
        cfg=cfg_view("space", "search", "data", "model", "ground_truth"),
        code=script_code("search_budget.py"),
    localrule: True
    script:
        "../scripts/search_budget.py"
