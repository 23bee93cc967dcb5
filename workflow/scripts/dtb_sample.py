from trainfree.pipeline.common import run_logged
from trainfree.training.dtb_workflow import sample_stage

sm = snakemake  # noqa: F821
run_logged(sm.log[0], sample_stage, sm.config, sm.output[0])
