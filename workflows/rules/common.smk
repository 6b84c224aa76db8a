# Shared by every rule file, and nothing else. The config's checks, what each job reads
# (its params: the one channel from config to job), the wildcard constraints, and every helper function the rules use (rule files
# hold rules only, as the snakemake-workflows catalog and `snakemake --lint` want).
# Included first by the Snakefile; the sections below follow the rule files.

import contextlib
import json
import os
import re
import sys

import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from bench.config_layers import layer
from bench.layout import CELL_PATTERN, run_record_path, shots_label
from bench.schema import SCHEMA_PATH, base_schema, explain
from bench.settings import ConfigError
from bench.settings import data_settings as bench_data_settings
from bench.sweep_check import checked_sweep

# ---------------------------------------------------------------- the config's checks

# Snakemake merged the --configfile files over config.yaml key by key, recursively. For
# `pairs` that would add the default pairs to every other config's pairs; a config that
# names its pairs means exactly those. bench.config_layers.layer is that merge with that
# exception, and `python -m bench --config FILE` layers with it too: a run of any sweep
# repeated by hand reads the config its job read.
config.update(layer(config, workflow.config_settings.overwrite_config))

try:
    validate(config, str(SCHEMA_PATH))
except WorkflowError as error:
    cause = error.__context__
    if cause is None or not hasattr(cause, "absolute_path"):
        raise
    raise WorkflowError(f"invalid config: {explain(cause, base_schema())}") from None

# The rest of the rules, each written once in bench.config: the strategies' settings
# (from the registry), names that refer to other entries, timm's models and the data
# sets. That check imports torch and timm; bench.sweep_check remembers a config that
# passed, so only the first command on a config and code pays for them. A cluster job's
# parse does not check (the main process did before submitting it).
try:
    CHECKED = checked_sweep(config, check=workflow.is_main_process)
except ConfigError as error:
    raise WorkflowError(f"invalid config: {error}") from None

RESULTS = config["results_dir"].rstrip("/")
DATA_CACHE = f"{RESULTS}/cache/data"

# ------------------------------------------------------------- wildcards, every rule

wildcard_constraints:
    dataset=r"[^/]+",
    pair=r"[^/]+",
    backbone=r"[A-Za-z0-9_.]+",  # a timm model name


# ------------------------------------------------------------- resources, every job rule

# What each job that trains or decodes asks of a scheduler, from the config's
# `resources`. Memory doubles with each retry (--retries N), for cluster executors that
# kill a job at its limit. prepare_data never uses an accelerator (gpu=False). `runtime`
# is per run: a job that trains `runs` runs one after another (a cell) asks for that many
# times it (`runs` a number, or a function of the job's wildcards: a pair cell's count
# depends on its pair); memory and threads are a run's, since its runs do not overlap.
def job_resources(gpu=True, runs=1):
    per_run = config["resources"]["runtime"]
    resources = {"mem_mb": lambda wildcards, attempt: config["resources"]["mem_mb"] * attempt,
                 "runtime": (lambda wildcards: per_run * runs(wildcards)) if callable(runs)
                 else per_run * runs}
    if gpu:
        resources["gpu"] = config["resources"]["gpu"]
    return resources


JOB_THREADS = config["resources"]["threads"]
# Every shell job writes its output to its log; on failure the log's tail goes to the
# terminal, so the job's own message (a missing data set, a bad value) is seen at once.
ON_FAILURE_SHOW_LOG = " > {log:q} 2>&1 || {{ tail -n 20 {log:q} >&2; exit 1; }}"


# ---------------------------------------------------------------------- the sweep's runs


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


# The source-model axis: `backbone` is the reference (every table but the backbone
# comparison is about it, and its runs are the main sweep's); each other model of
# `backbones` reruns the main sweep's runs (shots = all) below backbones/NAME/.
BACKBONES = list(dict.fromkeys([config["backbone"], *config.get("backbones", [])]))
OTHER_BACKBONES = BACKBONES[1:]


def backbone_records():
    """The records the backbone comparison reads; none when the sweep has one backbone."""
    if not OTHER_BACKBONES:
        return []
    main = [run for run in sweep_runs() if run[3] == "all"]
    return ([run_record(*run) for run in main]
            + [backbone_run_record(backbone, *run) for backbone in OTHER_BACKBONES
               for run in main])


def backbone_run_record(backbone, pair, strategy, seed, shots):
    return run_record_path(f"{RESULTS}/backbones/{backbone}", pair, strategy, seed, shots)


def run_settings(pair, strategy, backbone=None):
    """The config one run reads, and nothing else, as stable JSON.

    The run rule's params, and so both what `python -m bench run --config-json` reads
    and what reruns a finished run when it changes (e.g. a new step budget, or new DAN
    settings rerun only the DAN runs; other pairs or strategies leave it alone): one channel.
    """
    spec = config["pairs"][pair]
    settings = {key: config[key] for key in ("backbone", "resolution", "device", "train")}
    settings["backbone"] = backbone or config["backbone"]
    settings["pairs"] = {pair: spec}
    settings["strategy_params"] = {strategy: config["strategy_params"].get(strategy, {})}
    settings["data"] = data_settings(spec["source"], spec["target"])
    return json.dumps(settings, sort_keys=True)


def data_settings(*datasets):
    """The config's `data` section, with what it says of ``datasets`` only.

    Their builder options, and those of them the config defines (`data.sets`) or
    gives a folder of their own (`data.roots`): editing another data set's entry
    reruns no job of these.
    """
    data = config["data"]
    return {"root": data["root"], "split_seed": data["split_seed"],
            "options": {name: dataset_options(name) for name in datasets},
            "sets": {name: data["sets"][name] for name in datasets if name in data["sets"]},
            "roots": {name: data["roots"][name] for name in datasets if name in data["roots"]}}


def dataset_options(name):
    """Builder options of one data set (config data.options.NAME), {} when none."""
    return config["data"]["options"].get(name, {})


def prepare_arguments(name):
    """The folder data set ``name`` is read from, and its load_dataset keywords as JSON.

    What `bench data prepare` takes as --root and --options: the data set's own root
    (data.roots.NAME, else data.root), its builder options and, for a set the config
    defines, its definition; bench.settings folds them as a run does.
    """
    kwargs = bench_data_settings({"data": data_settings(name)}).load_kwargs(name)
    root = kwargs.pop("root")
    kwargs.pop("split_seed")
    return root, json.dumps(kwargs, sort_keys=True)


# ------------------------------------------------------------------------------ data.smk


def prepared_marker(dataset):
    """Marker of one prepared data set; its name carries what the cache depends on."""
    return (f"{DATA_CACHE}/{dataset}-r{config['resolution']}"
            f"-split{config['data']['split_seed']}.prepared")


def prepared_in_a_job(dataset):
    """True for a data set read from files (real, or defined in the config): decoding it
    is a job of its own (prepare_data), which also fails first when its files are missing.

    An offline set (generated, or bundled with a package) is built by the first pair cell
    that reads it: a second process start would cost more than building it (docs/PERFORMANCE.md).
    """
    return dataset not in CHECKED["offline_datasets"]


# ------------------------------------------------------------------------------ runs.smk


CELL = CELL_PATTERN
# Finished records, kept across cells (bench/cell.py): what a rerun cell restores instead
# of training again -- a killed cell's finished runs, and every run whose config and code
# are unchanged when one strategy's settings change or a seed is added. One folder for
# every cell and backbone: an entry is named by the code's fingerprint and the hash of
# the run's whole config. Deleting it makes every rerun cell train all of its runs.
STORE = f"{RESULTS}/cache/records"


def cell_plan(budgets, main_only=False):
    """A pair cell's runs as (strategy, seed, shots label), in sweep_runs()' order: every
    main strategy x seed at shots=all, then, with `budgets` (a pair of
    `data_efficiency.pairs`), the data-efficiency strategies x shots x seeds; a budget
    the main runs have appears once. `main_only`: the main runs alone (the source-model
    axis reruns only those)."""
    runs = [(strategy, seed, "all") for strategy in config["strategies"]
            for seed in config["seeds"]]
    efficiency = config["data_efficiency"]
    if budgets and not main_only:
        runs += [(strategy, seed, shots_label(shots)) for strategy in efficiency["strategies"]
                 for shots in efficiency["shots"] for seed in config["seeds"]]
    return list(dict.fromkeys(runs))


EFFICIENCY_PAIRS = config["data_efficiency"]["pairs"]
# The pairs of each cell rule: `cell_budgets` has the data-efficiency pairs (more
# outputs), `cell` every pair, the ruleorder in runs.smk giving a pair with budgets to
# `cell_budgets`. "(?!)" matches nothing: no pair has budgets.
BUDGET_PAIRS = "|".join(map(re.escape, EFFICIENCY_PAIRS)) or "(?!)"


def cell_runs(wildcards):
    """The runs of the cell job of `wildcards` (a backbone's cell: the main runs only)."""
    return cell_plan(wildcards.pair in EFFICIENCY_PAIRS, main_only="backbone" in wildcards.keys())


def cell_size(wildcards):
    """A cell job's number of runs: its runtime resource, and its priority. Snakemake
    starts ready jobs of higher priority first, so the largest cells start first instead
    of last, when a lone cell would leave every other core idle until the sweep ends
    (longest processing time first; docs/PERFORMANCE.md, "The default sweep")."""
    return len(cell_runs(wildcards))


def cell_records(results, budgets=False, main_only=False):
    """A pair cell's outputs below ``results``: one record per run of cell_plan, each at
    the path of bench.layout.RUN_PATTERN (run_record_path), the pair a wildcard."""
    return [run_record_path(results, "{pair}", strategy, seed, shots)
            for strategy, seed, shots in cell_plan(budgets, main_only)]


def cell_run_arguments(wildcards):
    """`--runs` of a pair cell: STRATEGY:SHOTS:SEED per run, in the outputs' order."""
    return " ".join(f"{strategy}:{shots}:{seed}"
                    for strategy, seed, shots in cell_runs(wildcards))


def cell_settings(wildcards):
    """`--strategy-configs` of a pair cell: each strategy's run_settings, as one JSON
    mapping. A param: editing one strategy's settings reruns the pair's cell, whose store
    restores the other strategies' runs (bench/cell.py)."""
    strategies = [strategy for strategy, _, _ in cell_runs(wildcards)]
    return strategy_settings(wildcards.pair, strategies, wildcards.get("backbone"))


def strategy_settings(pair, strategies, backbone=None):
    """{strategy: run_settings of the pair} for `strategies`, as stable JSON."""
    return json.dumps({strategy: json.loads(run_settings(pair, strategy, backbone))
                       for strategy in dict.fromkeys(strategies)}, sort_keys=True)


def run_record(pair, strategy, seed, shots):
    return run_record_path(RESULTS, pair, strategy, seed, shots)


def run_inputs(wildcards):
    """The prepared data of the pair that a job of its own decodes (prepare_data).

    Feature extraction's features and every other activation cache are made by the first
    run that reads them (bench/activations.py), inside its cell.
    """
    spec = config["pairs"][wildcards.pair]
    return [prepared_marker(name) for name in dict.fromkeys((spec["source"], spec["target"]))
            if prepared_in_a_job(name)]


# ---------------------------------------------------------------------------- report.smk

TABLES = {
    "accuracy": "Accuracy",
    "ntg": "Negative transfer gap",
    "source_gain": "Gain over source only",
    "cost": "Cost",
    "data_efficiency": "Data efficiency",
    "aggregates": "Aggregates over pairs",
}
FIGURES = {
    "accuracy": "Accuracy by strategy",
    "ntg_heatmap": "Negative transfer gap",
    "source_gain_heatmap": "Gain over source only",
    "accuracy_vs_time": "Accuracy vs training time",
    "accuracy_vs_memory": "Accuracy vs peak memory",
    "data_efficiency": "Data efficiency",
    "critical_difference": "Critical difference of average ranks",
}
# Absolute: Snakemake resolves a caption from the file of each rule that names the
# output, and `rule all` (in the Snakefile) names the tuning outputs too.
CAPTIONS = os.path.join(workflow.basedir, "workflows", "report")


def table_outputs():
    files = {}
    for name, title in TABLES.items():
        files[f"{name}_html"] = report(f"{RESULTS}/tables/{name}.html",
                                       caption=f"{CAPTIONS}/table_{name}.rst",
                                       category="Tables", labels={"table": title})
        for extension in ("csv", "md", "tex"):
            files[f"{name}_{extension}"] = f"{RESULTS}/tables/{name}.{extension}"
    return files


def figure_outputs():
    files = {}
    for name, title in FIGURES.items():
        files[f"{name}_png"] = report(f"{RESULTS}/figures/{name}.png",
                                      caption=f"{CAPTIONS}/figure_{name}.rst",
                                      category="Figures", labels={"figure": title})
        files[f"{name}_pdf"] = f"{RESULTS}/figures/{name}.pdf"
    return files


def backbone_outputs():
    """The backbone comparison's table and figure; report() puts them in the report."""
    files = {"table_html": report(f"{RESULTS}/tables/backbones.html",
                                  caption=f"{CAPTIONS}/table_backbones.rst",
                                  category="Tables", labels={"table": "Source models"}),
             "figure_png": report(f"{RESULTS}/figures/backbones.png",
                                  caption=f"{CAPTIONS}/figure_backbones.rst",
                                  category="Figures", labels={"figure": "Source models"}),
             "figure_pdf": f"{RESULTS}/figures/backbones.pdf"}
    files.update({f"table_{ext}": f"{RESULTS}/tables/backbones.{ext}"
                  for ext in ("csv", "md", "tex")})
    return files


def backbone_targets():
    """The source-model axis's targets of the default target; none with one backbone."""
    return list(backbone_outputs().values()) if OTHER_BACKBONES else []


# --------------------------------------------------------------------------- regress.smk


def baseline_path():
    configured = (config.get("regression") or {}).get("baseline")
    if configured is None:
        files = workflow.config_settings.configfiles
        name = os.path.splitext(os.path.basename(files[-1]))[0] if files else "config"
        configured = f"results/baseline/{name}.csv"
    return os.path.join(workflow.basedir, configured)


def existing_baseline(wildcards):
    path = baseline_path()
    if not os.path.exists(path):
        raise WorkflowError(
            f"no regression baseline at {path}; make one from this sweep with\n"
            "  snakemake refresh_baseline --cores 2 --forcerun cell cell_budgets --configfile <this config>\n"
            "or set `regression.baseline` in the config (docs/REGRESSION.md)")
    return path


class _Tee:
    """A text stream that writes to several: the terminal and a log file."""

    def __init__(self, *streams):
        self.streams = streams

    def write(self, text):
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self):
        for stream in self.streams:
            stream.flush()


def refresh_baseline_logged(summary, baseline, log):
    """bench.regress.refresh_baseline with this sweep's config files and overrides as
    the baseline's provenance. What it prints goes to the terminal, as ever, and to log."""
    from bench.regress import refresh_baseline

    # What the sweep was: the sidecar records it with the baseline's provenance.
    settings = workflow.config_settings
    with (open(log, "w") as handle,
          contextlib.redirect_stdout(_Tee(sys.stdout, handle)),
          contextlib.redirect_stderr(_Tee(sys.stderr, handle))):
        refresh_baseline(summary, baseline,
                         configfiles=[os.path.relpath(path, workflow.basedir)
                                      for path in settings.configfiles],
                         config_overrides=list(settings.config_args or []))


# ---------------------------------------------------------------------------- tuning.smk
# Trials 0..N-1 (0 = the defaults) at the selection seed, selection and tuned runs at the
# config's seeds (one `tune` job per pair), and the report are tuning.smk's rules (its
# header has the whole picture).

TUNING_DIR = f"{RESULTS}/tuning"
TUNING = {"trials": 0, "seed": 0, "selection_seed": None, "pairs": []}
SEARCH_SPACE, TRIAL_HPARAMS = {}, {}
# The search spaces are the strategy classes' (their registry is read without torch).
if config["tuning"]["trials"] > 0:
    from bench.tuning import search_space, set_arguments, trial_hparams, tuning_settings

    TUNING = tuning_settings(config)
    # The resolved selection seed (default max(seeds) + 1), for the report's captions
    # (workflows/report/), which see the config but not the rules' params.
    config["tuning"]["selection_seed"] = TUNING["selection_seed"]
    SEARCH_SPACE = search_space(config)
    # Draws of trials 1..N-1 per strategy, the same for every pair (trial 0, the
    # defaults, is the config as it is and needs no draw).
    TRIAL_HPARAMS = {strategy: {k: trial_hparams(config, strategy, k)
                                for k in range(1, TUNING["trials"])}
                     for strategy in config["strategies"]}


def trial_record(pair, strategy, trial):
    """Record of one trial, trial 0 (the defaults) included: all at the selection seed."""
    return f"{TUNING_DIR}/trials/{pair}/{strategy}/trial{trial}.json"


TRIALS = max(TUNING["trials"], 1)
# A tune job's runs (trials, then tuned runs, per strategy): its runtime and priority.
TUNE_RUNS = (TRIALS + len(config["seeds"])) * len(config["strategies"])


def selected_file(pair, strategy):
    return f"{TUNING_DIR}/selected/{pair}/{strategy}.json"


def tuned_record(pair, strategy, seed):
    return f"{TUNING_DIR}/runs/{pair}/{strategy}/seed{seed}.json"


def tuning_cells():
    return [(pair, strategy) for pair in TUNING["pairs"] for strategy in config["strategies"]]


# The outputs of a pair's tune job, each list strategy by strategy in config order (the
# order of its --strategies): every trial's record, every selection, every tuned run.


def trial_records(pair):
    return [trial_record(pair, strategy, k) for strategy in config["strategies"]
            for k in range(TRIALS)]


def selected_files(pair):
    return [selected_file(pair, strategy) for strategy in config["strategies"]]


def tuned_records(pair):
    return [tuned_record(pair, strategy, seed) for strategy in config["strategies"]
            for seed in config["seeds"]]


def default_records(wildcards):
    """The tune job's --default: the pair's default runs, ordered as its tuned runs."""
    return [run_record(wildcards.pair, strategy, seed, "all") for strategy in config["strategies"]
            for seed in config["seeds"]]


def tune_trials(wildcards):
    """`--trials` of a pair's tune job, as JSON: per strategy, each trial's `KEY=VALUE`
    draws (none for trial 0, the defaults). The same for every pair."""
    return json.dumps({strategy: [[] if trial == 0
                                  else set_arguments(strategy, TRIAL_HPARAMS[strategy][trial])
                                  for trial in range(TRIALS)]
                       for strategy in config["strategies"]})


def tune_searched(wildcards):
    """`--searched` of a pair's tune job, as JSON: each strategy's search-space keys."""
    return json.dumps({strategy: sorted(SEARCH_SPACE[strategy])
                       for strategy in config["strategies"]})


TUNING_TABLES = {
    "tuning_selected": "Selected hyper-parameters",
    "accuracy_default_vs_tuned": "Accuracy: defaults vs tuned",
}
# HTML tables and the PNG figure go into `snakemake --report` (report.smk's convention).
TUNING_OUTPUTS = {
    "summary": f"{TUNING_DIR}/summary.csv",
    **{f"{name}_{extension}": (report(f"{TUNING_DIR}/tables/{name}.{extension}",
                                      caption=f"{CAPTIONS}/table_{name}.rst",
                                      category="Tuning", labels={"table": title})
                               if extension == "html" else f"{TUNING_DIR}/tables/{name}.{extension}")
       for name, title in TUNING_TABLES.items() for extension in ("csv", "md", "tex", "html")},
}
TUNING_FIGURES = {
    "tuning_spread_png": report(f"{TUNING_DIR}/figures/tuning_spread.png",
                                caption=f"{CAPTIONS}/figure_tuning_spread.rst",
                                category="Tuning", labels={"figure": "Validation accuracy per trial"}),
    "tuning_spread_pdf": f"{TUNING_DIR}/figures/tuning_spread.pdf",
}


def tuning_targets():
    """What `all` asks for: the tuning report when tuning is on, nothing when it is off."""
    if TUNING["trials"] < 1:
        return []
    return [*TUNING_OUTPUTS.values(), *TUNING_FIGURES.values()]
