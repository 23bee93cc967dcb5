from trainfree.pipeline.analysis import correlations
from trainfree.pipeline.common import run_logged

sm = snakemake  # noqa: F821
run_logged(sm.log[0], correlations, sm.params.cfg, sm.input.scores, sm.input.gt, sm.output[0])
