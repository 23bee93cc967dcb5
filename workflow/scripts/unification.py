from trainfree.pipeline.common import run_logged
from trainfree.pipeline.suitezero import unification

sm = snakemake  # noqa: F821
run_logged(sm.log[0], unification, sm.params.cfg, sm.input[0], sm.output.matrix[0], sm.output.accuracy[0],
           sm.output.heatmap[0])
