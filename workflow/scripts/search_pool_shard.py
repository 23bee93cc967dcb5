from trainfree.pipeline.common import run_logged
from trainfree.pipeline.search import search_pool_shard

sm = snakemake  # noqa: F821
run_logged(sm.log[0], search_pool_shard, sm.params.cfg, int(sm.wildcards.shard), sm.output[0],
           cache_dir=sm.params.cache, device=sm.params.device, threads=sm.threads)
