# trainfree: training-free NAS replication workflow (DAS + HNAS).
# Default study: `snakemake --cores all` (offline, CPU, minutes).
# Another study: `snakemake --cores all --configfile config/nb201.yaml`.
from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, validate

min_version("8.0")


configfile: "config/config.yaml"


# `--config 'suitezero={space: nb101, n: 20}'`: Snakemake passes the values of a nested
# mapping as strings; each is read as YAML (20 -> int, [a, b] -> list), as in a config file.
from trainfree.workflow_config import coerce_cli_values  # noqa: E402

coerce_cli_values(config, workflow.config_settings.overwrite_config or {})

# The model options are the space's own (its MODEL_DEFAULTS): a study file's `model`
# section replaces the default config's instead of being merged into it.
_cli_model = (workflow.config_settings.overwrite_config or {}).get("model")
if _cli_model is not None:
    config["model"] = dict(_cli_model)

# The study name is the folder results/<study>/: checked first, with a one-line message.
from trainfree.config_check import check_study_name  # noqa: E402
from trainfree.errors import TrainfreeError  # noqa: E402

try:
    if "study" in config:
        check_study_name(config["study"])
except TrainfreeError as e:
    raise WorkflowError(str(e)) from None

validate(config, "workflow/schemas/config.schema.yaml")

# Registry-backed values (space, dataset, metrics, assets, ground-truth fields, arch ids)
# are checked here, before any job: one line naming the key and the choices.
from trainfree.config_check import check_config  # noqa: E402

try:
    check_config(config)
except TrainfreeError as e:
    raise WorkflowError(str(e)) from None


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/benchmarks.smk"
include: "workflow/rules/sample.smk"
include: "workflow/rules/score.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/search.smk"
include: "workflow/rules/dtb.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/render.smk"


rule all:
    input:
        all_targets(),
    default_target: True
