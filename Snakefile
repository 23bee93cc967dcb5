# trainfree: training-free NAS replication workflow (DAS + HNAS).
# The default run: `snakemake --cores all` runs every study of workflow/default_run.smk
# (NB201 at benchmark size on real CIFAR-10 images and ground truth, offline, CPU, minutes).
# One study: `snakemake --cores all --configfile config/nb201.yaml` (any config that names a study).
from snakemake.utils import min_version

min_version("8.0")

#: a study named on the command line (a --configfile or --config that sets `study`) runs alone;
#: otherwise the default run (config/config.yaml) runs
SINGLE_STUDY = "study" in config


rule all:
    input:
        lambda wc: ALL_TARGETS if SINGLE_STUDY else default_run_targets(),
    default_target: True


if SINGLE_STUDY:

    include: "workflow/study.smk"

else:

    include: "workflow/default_run.smk"
