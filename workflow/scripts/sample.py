from trainfree.pipeline.common import run_logged
from trainfree.pipeline.sample import sample

run_logged(snakemake.log[0], sample, snakemake.params.cfg, snakemake.output[0])  # noqa: F821
