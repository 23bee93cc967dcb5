from trainfree.pipeline.common import run_logged
from trainfree.pipeline.search import search_best_of_n

sm = snakemake  # noqa: F821
run_logged(sm.log[0], search_best_of_n, sm.params.cfg, sm.input.scores or None, sm.input.gt, sm.output.table[0])
