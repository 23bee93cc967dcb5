# trainfree: training-free NAS replication workflow (DAS + HNAS).
# Default study: `snakemake --cores all` (offline, CPU, minutes).
# Another study: `snakemake --cores all --configfile config/nb201.yaml`.
from snakemake.utils import min_version, validate

min_version("8.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/benchmarks.smk"
include: "workflow/rules/sample.smk"
include: "workflow/rules/score.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/render.smk"
include: "workflow/rules/dtb.smk"


rule all:
    input:
        all_targets(),
    default_target: True
