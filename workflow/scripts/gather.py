from trainfree.pipeline.common import gather, run_logged

run_logged(snakemake.log[0], gather, list(snakemake.input), snakemake.output[0])  # noqa: F821
