from trainfree.pipeline.common import run_logged
from trainfree.pipeline.search import search_hnas

sm = snakemake  # noqa: F821
run_logged(sm.log[0], search_hnas, sm.params.cfg, sm.input.scores, sm.input.gt, sm.output.table[0], sm.output.runs)
