from trainfree.pipeline.common import run_logged
from trainfree.pipeline.dtb import dtb_sample

sm = snakemake  # noqa: F821
run_logged(sm.log[0], dtb_sample, sm.params.cfg, sm.output[0])
