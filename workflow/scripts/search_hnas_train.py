from trainfree.pipeline.common import run_logged
from trainfree.pipeline.search import search_hnas_train

sm = snakemake  # noqa: F821
run_logged(sm.log[0], search_hnas_train, sm.params.cfg, sm.input.scores, sm.output.table[0], sm.output.runs,
           sm.output.evals, sm.params.work, device=sm.params.device, threads=sm.threads)
