from trainfree.pipeline.analysis import published_beside
from trainfree.pipeline.common import run_logged

run_logged(snakemake.log[0], published_beside, snakemake.params.cfg, snakemake.input[0], snakemake.output[0])  # noqa: F821
