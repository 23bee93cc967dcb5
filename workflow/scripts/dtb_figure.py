from pathlib import Path

from trainfree.pipeline.common import run_logged
from trainfree.pipeline.dtb import dtb_figure

sm = snakemake  # noqa: F821
run_logged(sm.log[0], dtb_figure, sm.wildcards.name, str(Path(sm.input.manifest).parent),
           sm.input.table[0] if len(sm.input.table) else None, sm.output.pdf)
