"""tlbench sweep: pairs x strategies x seeds (x target-data budgets) -> tables and figures.

    snakemake --cores 2                                         # default sweep (config.yaml)
    snakemake --cores 2 --configfile workflows/configs/ci.yaml  # what to sweep
    snakemake --profile workflows/profiles/default              # where to run it

The config is checked against workflows/schemas/config.schema.yaml, then against what a
schema cannot say, before any job starts (workflows/rules/common.smk, included first).
Everything that trains or measures lives in the `bench` package; this file only maps
runs to files. Layout after the snakemake-workflows catalog: helpers in common.smk,
rules in workflows/rules/*.smk, software in workflows/envs/ (`--sdm conda` or
`--sdm apptainer`), and `snakemake --lint` reports nothing (.ci/run checks it).
"""

import os

from snakemake.utils import min_version

# Snakemake 8's API: workflow.config_settings, workflow.is_main_process, --sdm
# (pyproject.toml: snakemake>=8.0).
min_version("8.0")


# The repository's config.yaml, wherever --directory puts the working directory.
configfile: os.path.join(workflow.basedir, "config.yaml")


# The image every job runs in with `--sdm apptainer`: workflows/envs/tlbench.def, built
# at the checkout's root (docs/ENVIRONMENT.md). Without --sdm apptainer it is ignored.
container: os.path.join(workflow.basedir, "tlbench.sif")


# First: checks the config (schema, then what only the code knows), and holds every
# helper the rules use and the wildcard constraints.
include: "workflows/rules/common.smk"
include: "workflows/rules/data.smk"
include: "workflows/rules/runs.smk"
include: "workflows/rules/report.smk"
include: "workflows/rules/regress.smk"
include: "workflows/rules/tuning.smk"


report: "workflows/report/workflow.rst"

# Cheap, and they read every run's record: they run where snakemake runs (the head
# node of a cluster), never as a submitted job.
localrules: all, aggregate, figures, backbone_report, regress, refresh_baseline, tuning_report, tuning_figures


rule all:
    default_target: True
    input:
        rules.aggregate.output,
        rules.figures.output,
        tuning_targets(),  # nothing when tuning.trials is 0
        backbone_targets(),  # nothing with one backbone
