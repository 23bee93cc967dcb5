from trainfree.pipeline import analysis
from trainfree.pipeline.common import run_logged

sm = snakemake  # noqa: F821
step = getattr(analysis, sm.params.step)
run_logged(sm.log[0], step, sm.params.cfg, sm.input.scores, sm.input.gt, sm.output[0])
