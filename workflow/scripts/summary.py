from trainfree.pipeline.analysis import summary
from trainfree.pipeline.common import run_logged

sm = snakemake  # noqa: F821
run_logged(sm.log[0], summary, sm.params.cfg, dict(sm.input.items()), sm.output[0])
