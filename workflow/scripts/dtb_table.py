from pathlib import Path

from trainfree.pipeline.common import run_logged
from trainfree.pipeline.dtb import dtb_table

sm = snakemake  # noqa: F821
run_logged(sm.log[0], dtb_table, sm.params.cfg, str(Path(sm.input.manifest).parent), sm.input.scores, sm.output[0],
           sm.wildcards.kind)
