# Hyper-parameter tuning (bench.tuning; docs/TUNING.md): every strategy of every tuned
# pair gets the same N trials, the one with the best validation accuracy is selected,
# and the final runs at every seed use it. Off when tuning.trials is 0 (config.yaml).
#
#   trial 0      = the main sweep's run at seeds[0] (runs/PAIR/STRATEGY/seedS-shotsall.json),
#                  reused, never trained again
#   trial 1..N-1 -> tuning/trials/PAIR/STRATEGY/trialK.json    (one job each, seeds[0])
#   select       -> tuning/selected/PAIR/STRATEGY.json          (validation accuracy only)
#   tuned run    -> tuning/runs/PAIR/STRATEGY/seedS.json        (every seed of the config)
#   report       -> tuning/summary.csv, tuning/tables/*, tuning/figures/tuning_spread.*
#
# A tuned run that already exists is copied rather than trained again (bench.tuning
# tuned-run): at seeds[0] it is the selected trial's record, and with trial 0 selected
# it is the default run at that seed. Same config and seed, same run: copying saves
# (pairs x strategies) runs at seeds[0] and every run of a strategy whose defaults win.

from bench.tuning import set_arguments, trial_hparams, tuning_settings

TUNING = tuning_settings(config)
TUNING_DIR = f"{RESULTS}/tuning"
TRIAL_SEED = config["seeds"][0]
# Draws of trials 1..N-1 per strategy, the same for every pair (trial 0, the defaults,
# is the default run's record and needs no draw).
TRIAL_HPARAMS = {strategy: {k: trial_hparams(config, strategy, k) for k in range(1, TUNING["trials"])}
                 for strategy in config["strategies"]}


def trial_record(pair, strategy, trial):
    """Record of one trial: trial 0 is the main sweep's default run at seeds[0]."""
    if int(trial) == 0:
        return run_record(pair, strategy, TRIAL_SEED, "all")
    return f"{TUNING_DIR}/trials/{pair}/{strategy}/trial{trial}.json"


def trial_records(wildcards):
    return [trial_record(wildcards.pair, wildcards.strategy, k) for k in range(TUNING["trials"])]


def selected_file(pair, strategy):
    return f"{TUNING_DIR}/selected/{pair}/{strategy}.json"


def tuned_record(pair, strategy, seed):
    return f"{TUNING_DIR}/runs/{pair}/{strategy}/seed{seed}.json"


def tuning_cells():
    return [(pair, strategy) for pair in TUNING["pairs"] for strategy in config["strategies"]]


def searched_keys(strategy):
    return sorted((config.get("search_space") or {}).get(strategy) or {})


def trial_sets(wildcards):
    """`--set KEY=VALUE ...` of one trial, each shell-quoted."""
    hparams = TRIAL_HPARAMS[wildcards.strategy][int(wildcards.trial)]
    return " ".join(f"--set '{argument}'" for argument in set_arguments(wildcards.strategy, hparams))


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


rule tuning_trial:
    wildcard_constraints:
        pair=r"[^/]+",
        strategy=r"[a-z_]+",
        trial=r"[1-9]\d*",  # trial 0 is the default run
    input:
        run_inputs,
    output:
        f"{TUNING_DIR}/trials/{{pair}}/{{strategy}}/trial{{trial}}.json",
    log:
        f"{RESULTS}/logs/tuning/trials/{{pair}}/{{strategy}}/trial{{trial}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/tuning/trials/{{pair}}/{{strategy}}/trial{{trial}}.tsv"
    params:
        cache_dir=lambda wildcards, input: os.path.dirname(input[0]),
        seed=TRIAL_SEED,
        sets=trial_sets,
        # Reruns a trial when what it trains changes: the run's settings or its draw.
        settings=lambda wildcards: run_settings(wildcards.pair, wildcards.strategy)
        + json.dumps(TRIAL_HPARAMS[wildcards.strategy][int(wildcards.trial)], sort_keys=True),
    threads: config["resources"]["threads"]
    resources:
        mem_mb=lambda wildcards, attempt: config["resources"]["mem_mb"] * attempt,
        gpu=config["resources"]["gpu"],
        runtime=config["resources"]["runtime"],
    shell:
        "OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads}"
        " python -m bench run --config \"$TLBENCH_CONFIG\" --pair {wildcards.pair}"
        " --strategy {wildcards.strategy} --seed {params.seed} {params.sets}"
        " --threads {threads} --cache-dir {params.cache_dir:q} --out {output:q} > {log:q} 2>&1"
        " || {{ tail -n 20 {log:q} >&2; exit 1; }}"


rule tuning_select:
    wildcard_constraints:
        pair=r"[^/]+",
        strategy=r"[a-z_]+",
    input:
        trial_records,
    output:
        selected_file("{pair}", "{strategy}"),
    log:
        f"{RESULTS}/logs/tuning/selected/{{pair}}/{{strategy}}.log",
    params:
        searched=lambda wildcards: " ".join(searched_keys(wildcards.strategy)),
    shell:
        "python -m bench.tuning select --pair {wildcards.pair} --strategy {wildcards.strategy}"
        " --searched {params.searched} --out {output:q} {input:q} > {log:q} 2>&1"
        " || {{ tail -n 20 {log:q} >&2; exit 1; }}"


rule tuned_run:
    wildcard_constraints:
        pair=r"[^/]+",
        strategy=r"[a-z_]+",
        seed=r"\d+",
    input:
        # Every trial's record: the selected one is copied at seeds[0]. The default run
        # at this seed is copied when trial 0 is selected; the data for training otherwise.
        selection=selected_file("{pair}", "{strategy}"),
        trials=trial_records,
        default=lambda wildcards: run_record(wildcards.pair, wildcards.strategy,
                                             wildcards.seed, "all"),
        data=run_inputs,
    output:
        tuned_record("{pair}", "{strategy}", "{seed}"),
    log:
        f"{RESULTS}/logs/tuning/runs/{{pair}}/{{strategy}}/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/tuning/runs/{{pair}}/{{strategy}}/seed{{seed}}.tsv"
    params:
        cache_dir=lambda wildcards, input: os.path.dirname(input.data[0]),
        settings=lambda wildcards: run_settings(wildcards.pair, wildcards.strategy),
    threads: config["resources"]["threads"]
    resources:
        mem_mb=lambda wildcards, attempt: config["resources"]["mem_mb"] * attempt,
        gpu=config["resources"]["gpu"],
        runtime=config["resources"]["runtime"],
    shell:
        "OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads}"
        " python -m bench.tuning tuned-run --selection {input.selection:q} --seed {wildcards.seed}"
        " --default {input.default:q} --out {output:q} --"
        " --config \"$TLBENCH_CONFIG\" --pair {wildcards.pair} --strategy {wildcards.strategy}"
        " --threads {threads} --cache-dir {params.cache_dir:q} > {log:q} 2>&1"
        " || {{ tail -n 20 {log:q} >&2; exit 1; }}"


rule tuning_report:
    input:
        selected=[selected_file(pair, strategy) for pair, strategy in tuning_cells()],
        tuned=[tuned_record(pair, strategy, seed) for pair, strategy in tuning_cells()
               for seed in config["seeds"]],
        default=[run_record(pair, strategy, seed, "all") for pair, strategy in tuning_cells()
                 for seed in config["seeds"]],
    output:
        **TUNING_OUTPUTS,
    log:
        f"{RESULTS}/logs/tuning/report.log",
    params:
        out_dir=TUNING_DIR,
    shell:
        "python -m bench.tuning_report --out-dir {params.out_dir:q} --selected {input.selected:q}"
        " --tuned {input.tuned:q} --default {input.default:q} > {log:q} 2>&1"
        " || {{ tail -n 20 {log:q} >&2; exit 1; }}"


rule tuning_figures:
    input:
        TUNING_OUTPUTS["summary"],
    output:
        **TUNING_FIGURES,
    log:
        f"{RESULTS}/logs/tuning/figures.log",
    params:
        out_dir=f"{TUNING_DIR}/figures",
    shell:
        "python -m bench.tuning figure --out-dir {params.out_dir:q} {input:q} > {log:q} 2>&1"
        " || {{ tail -n 20 {log:q} >&2; exit 1; }}"
