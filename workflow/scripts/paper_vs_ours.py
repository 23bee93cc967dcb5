from trainfree.pipeline.analysis import paper_vs_ours
from trainfree.pipeline.common import run_logged

run_logged(snakemake.log[0], paper_vs_ours, snakemake.params.cfg, snakemake.input[0], snakemake.output[0])  # noqa: F821
