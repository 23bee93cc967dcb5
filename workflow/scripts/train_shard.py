from trainfree.pipeline.common import run_logged
from trainfree.pipeline.train import train_shard

sm = snakemake  # noqa: F821
run_logged(sm.log[0], train_shard, sm.params.cfg, sm.input.sample, sm.params.shard,
           sm.params.n_shards, sm.output[0], checkpoint_root=sm.params.checkpoints,
           device=sm.params.device, threads=sm.threads)
