from trainfree.pipeline.benchmarks import ground_truth
from trainfree.pipeline.common import run_logged

sm = snakemake  # noqa: F821
states = sm.input.states if sm.input.states else None
run_logged(sm.log[0], ground_truth, sm.params.cfg, sm.output[0], states_path=states)
