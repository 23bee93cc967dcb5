from trainfree.pipeline.common import run_logged
from trainfree.pipeline.data import fetch_assets

sm = snakemake  # noqa: F821
run_logged(sm.log[0], fetch_assets, list(sm.params.assets), sm.params.root, sm.output[0])
