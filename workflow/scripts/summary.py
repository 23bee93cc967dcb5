from trainfree.pipeline.common import run_logged
from trainfree.pipeline.report import summary

sm = snakemake  # noqa: F821
run_logged(sm.log[0], summary, sm.params.cfg, dict(sm.input.items()), sm.output[0])
