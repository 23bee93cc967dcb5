from pathlib import Path

from trainfree.pipeline.common import run_logged
from trainfree.training.dtb_workflow import score_stage

sm = snakemake  # noqa: F821
run_logged(sm.log[0], score_stage, sm.config, str(Path(sm.input.manifest).parent), sm.input.batch, sm.params.shard,
           sm.params.n_shards, sm.output[0], device=sm.params.device, threads=sm.threads)
