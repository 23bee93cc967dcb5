from trainfree.pipeline import run_logged, sample

run_logged(snakemake.log[0], sample, snakemake.config, snakemake.output[0])  # noqa: F821
