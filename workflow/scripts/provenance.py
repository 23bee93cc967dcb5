from trainfree.pipeline.common import run_logged
from trainfree.pipeline.report import provenance

run_logged(snakemake.log[0], provenance, snakemake.params.cfg, snakemake.output[0])  # noqa: F821
