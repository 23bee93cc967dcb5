from pathlib import Path

from trainfree.pipeline.common import run_logged
from trainfree.pipeline.dtb import dtb_score_shard

sm = snakemake  # noqa: F821
run_logged(sm.log[0], dtb_score_shard, sm.params.cfg, str(Path(sm.input.manifest).parent), sm.input.batch,
           sm.params.shard, sm.params.n_shards, sm.output[0], device=sm.params.device, threads=sm.threads)
