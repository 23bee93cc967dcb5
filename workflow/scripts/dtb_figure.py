from pathlib import Path

from trainfree.pipeline.common import run_logged
from trainfree.training.dtb_workflow import figure_stage

sm = snakemake  # noqa: F821
run_logged(sm.log[0], figure_stage, sm.config, sm.wildcards.name, str(Path(sm.input.manifest).parent),
           sm.input.table[0] if len(sm.input.table) else None, sm.output.pdf)
