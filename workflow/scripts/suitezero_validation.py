from trainfree.pipeline.common import run_logged
from trainfree.pipeline.suitezero import suitezero_validation

sm = snakemake  # noqa: F821
run_logged(sm.log[0], suitezero_validation, sm.params.cfg, sm.output.table[0], sm.output.scores, sm.params.cache,
           device=sm.params.device, threads=sm.threads)
