from trainfree.pipeline.common import run_logged
from trainfree.pipeline.data import make_batch

run_logged(snakemake.log[0], make_batch, snakemake.params.cfg, snakemake.output[0])  # noqa: F821
