from trainfree.pipeline.common import run_logged
from trainfree.pipeline.render import figure

sm = snakemake  # noqa: F821
run_logged(sm.log[0], figure, sm.params.cfg, sm.wildcards.name, dict(sm.input.items()), sm.output.pdf)
