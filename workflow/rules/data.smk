# External files (datasets, benchmark files): fetched and verified once, or accepted
# when already placed in `downloads.root`; offline, the job fails with one line naming
# the file, its checksum and where to put it.


rule fetch_assets:
    output:
        f"{R}/data/fetched.json",
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/fetch_assets.log",
    params:
        assets=config["downloads"]["assets"],
        root=config["downloads"]["root"],
        code=script_code("fetch_assets.py"),
    script:
        "../scripts/fetch_assets.py"


# The fixed, un-augmented scoring batch: built once, read by every scoring shard.


rule scoring_batch:
    input:
        FETCHED,
        DATA_ROOT,
    output:
        f"{R}/data/scoring_batch.npz",
    conda:
        "../envs/trainfree.yaml"
    log:
        f"{R}/logs/scoring_batch.log",
    params:
        cfg=cfg_view("data", "scoring.batch_size", "scoring.seed"),
        code=script_code("scoring_batch.py"),
    script:
        "../scripts/scoring_batch.py"
