from trainfree.pipeline.common import run_logged
from trainfree.pipeline.train import gather_states

sm = snakemake  # noqa: F821
run_logged(sm.log[0], gather_states, list(sm.input), sm.output[0])
