from trainfree.pipeline.common import run_logged
from trainfree.pipeline.score import gather_scores

sm = snakemake  # noqa: F821
run_logged(sm.log[0], gather_scores, list(sm.input), sm.output[0])
