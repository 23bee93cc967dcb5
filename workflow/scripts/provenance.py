from trainfree.pipeline.analysis import provenance
from trainfree.pipeline.common import run_logged

run_logged(snakemake.log[0], provenance, snakemake.params.cfg, snakemake.output[0])  # noqa: F821
