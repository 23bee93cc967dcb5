from trainfree.pipeline.analysis import fast_training_table
from trainfree.pipeline.common import run_logged

sm = snakemake  # noqa: F821
run_logged(sm.log[0], fast_training_table, sm.params.cfg, sm.input.scores, sm.input.gt, sm.output[0])
