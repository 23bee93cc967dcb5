from trainfree.pipeline.common import run_logged
from trainfree.pipeline.glance import glance

sm = snakemake  # noqa: F821
run_logged(sm.log[0], glance, dict(sm.input.items()), sm.params.studies, sm.output.md, sm.output.csv)
