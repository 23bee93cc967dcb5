from trainfree.pipeline import make_batch, run_logged

run_logged(snakemake.log[0], make_batch, snakemake.config, snakemake.output[0])  # noqa: F821
