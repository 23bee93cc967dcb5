from trainfree.pipeline.common import run_logged
from trainfree.pipeline.search import search_scores

sm = snakemake  # noqa: F821
run_logged(sm.log[0], search_scores, list(sm.input), sm.output[0])
