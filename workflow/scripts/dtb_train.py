from trainfree.pipeline import run_logged
from trainfree.training.dtb_workflow import train_stage

sm = snakemake  # noqa: F821
run_logged(sm.log[0], train_stage, sm.config, sm.input.sample, int(sm.wildcards.i), sm.params.dtb,
           sm.params.work, sm.output.states, sm.output.info, device=sm.params.device, threads=sm.threads)
