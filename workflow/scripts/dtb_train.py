from pathlib import Path

from trainfree.pipeline.common import run_logged
from trainfree.pipeline.dtb import dtb_train

sm = snakemake  # noqa: F821
work = Path(sm.output.states).parent.parent  # results/<study>/dtb_work; the DTB folder is its sibling dtb/
run_logged(sm.log[0], dtb_train, sm.params.cfg, sm.input.sample, int(sm.wildcards.i), str(work.parent / "dtb"),
           str(work), sm.output.states, sm.output.info, device=sm.params.device, threads=sm.threads)
