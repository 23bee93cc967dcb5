from trainfree.pipeline.common import run_logged
from trainfree.pipeline.search import search_budget

sm = snakemake  # noqa: F821
run_logged(sm.log[0], search_budget, sm.params.cfg, sm.input.best, sm.input.runs or None, sm.input.scores,
           sm.output.pdf)
