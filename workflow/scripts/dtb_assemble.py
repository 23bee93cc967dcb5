from pathlib import Path

from trainfree.pipeline.common import run_logged
from trainfree.pipeline.dtb import dtb_assemble

sm = snakemake  # noqa: F821
run_logged(sm.log[0], dtb_assemble, sm.params.cfg, sm.input.sample, list(sm.input.states), list(sm.input.info),
           str(Path(sm.output.manifest).parent))
