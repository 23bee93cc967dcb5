from pathlib import Path

from trainfree.pipeline.common import run_logged
from trainfree.training.dtb_workflow import table_stage

sm = snakemake  # noqa: F821
run_logged(sm.log[0], table_stage, sm.config, str(Path(sm.input.manifest).parent), sm.input.scores, sm.output[0], sm.wildcards.kind)
