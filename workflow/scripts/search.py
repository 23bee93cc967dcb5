from trainfree.pipeline.common import run_logged
from trainfree.search import stage

sm = snakemake  # noqa: F821
step = sm.params.step
if step == "pool_shard":
    run_logged(sm.log[0], stage.pool_shard, sm.params.cfg, int(sm.wildcards.shard), sm.output[0],
               cache_dir=sm.params.cache, device=sm.params.device, threads=sm.threads)
elif step == "gather":
    run_logged(sm.log[0], stage.gather, list(sm.input), sm.output[0])
elif step == "best_of_n":
    run_logged(sm.log[0], stage.best_of_n, sm.params.cfg, sm.input.scores or None, sm.input.gt, sm.output.table[0])
elif step == "hnas":
    run_logged(sm.log[0], stage.hnas, sm.params.cfg, sm.input.scores, sm.input.gt, sm.output.table[0], sm.output.runs)
elif step == "hnas_train":
    run_logged(sm.log[0], stage.hnas_trained, sm.params.cfg, sm.input.scores, sm.output.table[0], sm.output.runs,
               sm.output.evals, sm.params.work, device=sm.params.device, threads=sm.threads)
elif step == "budget":
    run_logged(sm.log[0], stage.budget, sm.params.cfg, sm.input.best, sm.input.runs or None, sm.input.scores,
               sm.output.pdf)
else:
    raise ValueError(f"unknown search step {step!r}")
