# One study: config validation, then every stage's rules. The Snakefile includes it for a
# single study (`--configfile config/<study>.yaml`) and loads it as a Snakemake module once per
# study of the default run (workflow/default_run.smk).
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate
# `--config 'suitezero={space: nb101, n: 20}'`: Snakemake passes the values of a nested
# mapping as strings; each is read as YAML (20 -> int, [a, b] -> list), as in a config file.
from trainfree.workflow_config import coerce_cli_values  # noqa: E402

coerce_cli_values(config, dict(workflow.config_settings.config or {}))

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

validate(config, "schemas/config.schema.yaml")

# `benchdata:<file>` values name the benchmark data bundled with the package: made absolute.
from trainfree.workflow_config import resolve_bundled_paths  # noqa: E402

try:
    resolve_bundled_paths(config)
except TrainfreeError as e:
    raise WorkflowError(str(e)) from None

# Registry-backed values (space, dataset, metrics, assets, ground-truth fields, arch ids)
# are checked here, before any job: one line naming the key and the choices.
from trainfree.config_check import check_config  # noqa: E402

try:
    check_config(config)
except TrainfreeError as e:
    raise WorkflowError(str(e)) from None


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/benchmarks.smk"
include: "rules/sample.smk"
include: "rules/score.smk"
include: "rules/train.smk"
include: "rules/search.smk"
include: "rules/dtb.smk"
include: "rules/analysis.smk"
include: "rules/suitezero.smk"
include: "rules/render.smk"
include: "rules/report.smk"


rule study_all:
    input:
        ALL_TARGETS,
