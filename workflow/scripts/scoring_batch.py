from trainfree.pipeline.common import run_logged
from trainfree.pipeline.data import scoring_batch

run_logged(snakemake.log[0], scoring_batch, snakemake.params.cfg, snakemake.output[0])  # noqa: F821
