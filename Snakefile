"""tlbench sweep: pairs x strategies x seeds (x target-data budgets) -> tables and figures.

    snakemake --cores 2                                         # default sweep (config.yaml)
    snakemake --cores 2 --configfile workflows/configs/ci.yaml  # what to sweep
    snakemake --profile workflows/profiles/default              # where to run it

The config is checked against workflows/schemas/config.schema.yaml, then against what a
schema cannot say, before any job starts. Everything that trains or measures lives in
the `bench` package; this file only maps runs to files.
"""

import copy
import hashlib
import json
import os

import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

# The repository's config.yaml, wherever --directory puts the working directory.
configfile: os.path.join(workflow.basedir, "config.yaml")

# Snakemake merges a --configfile over config.yaml key by key, recursively. For `pairs`
# that would add the default pairs to every other config's pairs; a config that names
# its pairs means exactly those, so its map replaces the default one. The same holds for
# `search_space`: a config that names a search space means exactly that one.
REPLACED_KEYS = ("pairs", "search_space")
for _key in REPLACED_KEYS:
    if _key in workflow.config_settings.overwrite_config:
        config[_key] = copy.deepcopy(workflow.config_settings.overwrite_config[_key])

SCHEMA = "workflows/schemas/config.schema.yaml"


def _config_key(path):
    """['train', 'lr'] -> 'train.lr'; list indices as [i]."""
    key = ""
    for part in path:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key or "(top level)"


def _allowed_keys(schema, root):
    """Property names a (sub)schema declares, following one local $ref."""
    names = list(schema.get("properties", {}))
    ref = schema.get("$ref", "")
    if ref.startswith("#/"):
        target = root
        for part in ref[2:].split("/"):
            target = target[part]
        names += list(target.get("properties", {}))
    return names


def _explain(error, root):
    """One line that names the config key, the value and what is allowed."""
    key = _config_key(list(error.absolute_path))
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        unexpected = sorted(set(error.instance) - set(_allowed_keys(error.schema, root)))
        where = f"under `{key}`" if error.absolute_path else "at the top level"
        return (f"unknown config key(s) {', '.join(map(repr, unexpected))} {where}; "
                f"allowed: {', '.join(_allowed_keys(error.schema, root))}")
    if error.validator == "enum":
        return (f"config key `{key}` = {error.instance!r} is not allowed; "
                f"allowed: {', '.join(map(str, error.validator_value))}")
    if error.validator == "required":
        return f"config key `{key}`: {error.message}"
    allowed = error.schema.get("description", "")
    return (f"config key `{key}` = {error.instance!r}: {error.message}"
            + (f" ({allowed.strip()})" if allowed else ""))


try:
    validate(config, SCHEMA)
except WorkflowError as error:
    cause = error.__context__
    if cause is None or not hasattr(cause, "absolute_path"):
        raise
    with open(os.path.join(workflow.basedir, SCHEMA)) as handle:
        raise WorkflowError("invalid config: " + _explain(cause, yaml.safe_load(handle))) from None


def _check_semantics(config):
    """What the schema cannot express: names that must refer to other config entries."""
    pairs = config["pairs"]
    efficiency = config["data_efficiency"]
    for index, pair in enumerate(efficiency["pairs"]):
        if pair not in pairs:
            raise WorkflowError(f"invalid config: `data_efficiency.pairs[{index}]` = {pair!r} "
                                f"is not a pair of this config; allowed: {', '.join(pairs)}")
        if not pairs[pair]["target_labels"]:
            raise WorkflowError(f"invalid config: `data_efficiency.pairs[{index}]` = {pair!r} "
                                f"has target_labels: false, and shots counts labelled target "
                                f"examples; allowed: pairs with target_labels: true")
    if efficiency["pairs"] and not (efficiency["strategies"] and efficiency["shots"]):
        raise WorkflowError("invalid config: `data_efficiency.pairs` is set but "
                            "`data_efficiency.strategies` or `data_efficiency.shots` is empty")
    # search_space keys name a strategy and a key it takes; tuning.pairs are config pairs.
    from bench.tuning import check_tuning_config

    try:
        check_tuning_config(config)
    except ValueError as error:
        raise WorkflowError(f"invalid config: {error}") from None


_check_semantics(config)

# Names that only the code knows (timm's models, the data set registry). The check
# imports torch and timm, so only the main process does it, not every cluster job.
if workflow.is_main_process:
    from bench.config import ConfigError, check_names

    try:
        check_names(config)
    except ConfigError as error:
        raise WorkflowError(f"invalid config: {error}") from None

RESULTS = config["results_dir"].rstrip("/")
DATA_CACHE = f"{RESULTS}/cache/data"


def _resolved_config():
    """Write the merged config where jobs read it; returns its path.

    The file is named by its content, so it is written once and never changed: a dry
    run or report with another config, started beside a running sweep, cannot change
    what that sweep's remaining jobs read.
    """
    text = yaml.safe_dump(config, sort_keys=False)
    path = f"{RESULTS}/config/resolved-{hashlib.sha256(text.encode()).hexdigest()[:12]}.yaml"
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temporary = f"{path}.tmp{os.getpid()}"
        with open(temporary, "w") as handle:
            handle.write(text)
        os.replace(temporary, path)  # atomic: a reader sees the whole file or none
    return path


RESOLVED_CONFIG = _resolved_config()
# Jobs get the path through the environment, not as a rule parameter: a parameter that
# changes with any config edit would rerun every finished run. What a run's result
# depends on is its params.settings (run_settings) instead.
os.environ["TLBENCH_CONFIG"] = RESOLVED_CONFIG


def shots_label(shots):
    """Config shots (int or 'all') -> the label used in file names."""
    return "all" if shots in (None, "all") else str(int(shots))


def sweep_runs():
    """Every run of the sweep as (pair, strategy, seed, shots label), in config order.

    pairs x strategies x seeds at shots=all, then the data-efficiency budgets;
    a budget the main sweep already runs (`all` of a main strategy) appears once.
    """
    runs = [(pair, strategy, seed, "all") for pair in config["pairs"]
            for strategy in config["strategies"] for seed in config["seeds"]]
    efficiency = config["data_efficiency"]
    runs += [(pair, strategy, seed, shots_label(shots)) for pair in efficiency["pairs"]
             for strategy in efficiency["strategies"] for shots in efficiency["shots"]
             for seed in config["seeds"]]
    return list(dict.fromkeys(runs))


def run_settings(pair, strategy):
    """Every config value one run's result depends on, as stable JSON.

    Used as the run rule's params: Snakemake reruns a finished run when this changes
    (e.g. new epochs, or new DAN settings rerun only the DAN runs), and leaves it alone
    when only other pairs or strategies change.
    """
    spec = config["pairs"][pair]
    relevant = {key: config[key] for key in ("backbone", "resolution", "device", "train")}
    relevant["pair"] = spec
    relevant["strategy_params"] = config["strategy_params"].get(strategy, {})
    relevant["data"] = {"root": config["data"]["root"],
                        "split_seed": config["data"]["split_seed"],
                        "options": {name: dataset_options(name)
                                    for name in (spec["source"], spec["target"])}}
    return json.dumps(relevant, sort_keys=True)


def dataset_options(name):
    """Builder options of one data set (config data.options.NAME), {} when none."""
    return config["data"]["options"].get(name, {})


include: "workflows/rules/data.smk"
include: "workflows/rules/runs.smk"
include: "workflows/rules/report.smk"
include: "workflows/rules/regress.smk"
include: "workflows/rules/tuning.smk"


report: "workflows/report/workflow.rst"

# Cheap, and they read every run's record: they run where snakemake runs (the head
# node of a cluster), never as a submitted job.
localrules: all, aggregate, figures, regress, refresh_baseline, tuning_select, tuning_report, tuning_figures


rule all:
    default_target: True
    input:
        rules.aggregate.output,
        rules.figures.output,
        tuning_targets(),  # nothing when tuning.trials is 0
