from trainfree.pipeline.analysis import suitezero
from trainfree.pipeline.common import run_logged

sm = snakemake  # noqa: F821
run_logged(sm.log[0], suitezero, sm.params.cfg, sm.output.table[0], sm.output.scores, sm.params.cache,
           device=sm.params.device, threads=sm.threads)
