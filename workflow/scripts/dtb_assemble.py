from pathlib import Path

from trainfree.pipeline.common import run_logged
from trainfree.training.dtb_workflow import assemble_stage

sm = snakemake  # noqa: F821
run_logged(sm.log[0], assemble_stage, sm.config, sm.input.sample, list(sm.input.states), list(sm.input.info),
           str(Path(sm.output.manifest).parent))
