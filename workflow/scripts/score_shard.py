from trainfree.pipeline.common import run_logged
from trainfree.pipeline.score import score_shard

sm = snakemake  # noqa: F821
run_logged(sm.log[0], score_shard, sm.params.cfg, sm.input.sample, sm.input.batch, int(sm.wildcards.k),
           sm.params.shard, sm.params.n_shards, sm.output[0], device=sm.params.device, threads=sm.threads)
