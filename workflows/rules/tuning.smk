# Hyper-parameter tuning (bench.tuning; docs/TUNING.md): every strategy of every tuned
# pair gets the same N trials, the one with the best validation accuracy is selected,
# and fresh runs of it at every seed of the config are the tuned results. Off when
# tuning.trials is 0 (config.yaml).
#
#   trial 0..N-1 -> tuning/trials/PAIR/STRATEGY/trialK.json    (one job per pair for
#                   every strategy's N, at the selection seed T = tuning.selection_seed,
#                   never one of `seeds`; trial 0 = the defaults)
#   select       -> tuning/selected/PAIR/STRATEGY.json          (validation accuracy only)
#   tuned run    -> tuning/runs/PAIR/STRATEGY/seedS.json        (every strategy x S of
#                   `seeds`, one job per pair)
#   report       -> tuning/summary.csv, tuning/tables/*, tuning/figures/tuning_spread.*
#
# Selecting and reporting at different seeds keeps the winner's curse out of "tuned −
# default": the run whose validation accuracy picked a configuration is never one of
# its reported results. So a tuned run never copies a trial. With trial 0 selected, the
# tuned run at seed S is the default run at S (same config, same seed, same run), and
# `python -m bench tuned-run` copies it: every run of a strategy whose defaults win is
# saved. The price of the separate seed: trial 0 is one run per (pair, strategy).

# Both training jobs are pair jobs, as the pair cells of runs.smk (bench/cell.py): one
# process, and the store restores every run whose config and code are unchanged, so new
# draws or settings for one strategy rerun the pair's job but train only that strategy's.
# Helpers (trial_record(s), trial_cell_records, trial_run_arguments, trial_sets,
# selected_file, tuned_record(s), tuning_cells, strategy_settings, ...), TUNING, TRIALS,
# TRIAL_HPARAMS, the report's outputs and the wildcard constraints: common.smk.


# Every strategy's trials of a pair in one job: each trial its own draw (--run-sets),
# all at the selection seed.
rule tuning_trial:
    input:
        run_inputs,
    output:
        trial_cell_records("{pair}"),
    log:
        f"{RESULTS}/logs/tuning/trials/{{pair}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/tuning/trials/{{pair}}.tsv"
    params:
        cache_dir=DATA_CACHE,
        runs=trial_run_arguments,
        sets=trial_sets,
        # What the trials read; with their draws (sets), what reruns them when changed.
        settings=lambda wildcards: strategy_settings(wildcards.pair, config["strategies"]),
        store=STORE,
    threads: JOB_THREADS
    resources:
        **job_resources(runs=TRIALS * len(config["strategies"])),
    conda:
        "../envs/tlbench.yaml"
    shell:
        "OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads}"
        " python -m bench cell --strategy-configs {params.settings:q} --pair {wildcards.pair}"
        " --runs {params.runs} --run-sets {params.sets:q}"
        " --threads {threads} --cache-dir {params.cache_dir:q} --store {params.store:q}"
        " --out {output:q}"
        + ON_FAILURE_SHOW_LOG


rule tuning_select:
    input:
        trial_records,
    output:
        selected_file("{pair}", "{strategy}"),
    log:
        f"{RESULTS}/logs/tuning/selected/{{pair}}/{{strategy}}.log",
    params:
        searched=lambda wildcards: " ".join(searched_keys(wildcards.strategy)),
    conda:
        "../envs/tlbench.yaml"
    shell:
        "python -m bench.tuning select --pair {wildcards.pair} --strategy {wildcards.strategy}"
        " --searched {params.searched} --out {output:q} {input:q}"
        + ON_FAILURE_SHOW_LOG


# Every strategy's tuned runs of a pair in one job, as a cell: copies of the default runs
# where the defaults won, one process training the selected values for the others.
rule tuned_run:
    input:
        # The default runs are copied when trial 0 is selected; the data are for training
        # otherwise. No trial record: trials ran at the selection seed.
        selection=[selected_file("{pair}", strategy) for strategy in config["strategies"]],
        default=lambda wildcards: [run_record(wildcards.pair, strategy, seed, "all")
                                   for strategy in config["strategies"]
                                   for seed in config["seeds"]],
        data=run_inputs,
    output:
        tuned_records("{pair}"),
    log:
        f"{RESULTS}/logs/tuning/runs/{{pair}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/tuning/runs/{{pair}}.tsv"
    params:
        cache_dir=DATA_CACHE,
        seeds=" ".join(map(str, config["seeds"])),
        settings=lambda wildcards: strategy_settings(wildcards.pair, config["strategies"]),
        store=STORE,
    threads: JOB_THREADS
    resources:
        **job_resources(runs=len(config["seeds"]) * len(config["strategies"])),
    conda:
        "../envs/tlbench.yaml"
    shell:
        "OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads}"
        " python -m bench tuned-run --selection {input.selection:q} --seeds {params.seeds}"
        " --default {input.default:q} --out {output:q}"
        " --strategy-configs {params.settings:q} --pair {wildcards.pair}"
        " --threads {threads} --cache-dir {params.cache_dir:q} --store {params.store:q}"
        + ON_FAILURE_SHOW_LOG


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
        out_dir=lambda wildcards, output: os.path.dirname(output.summary),
    conda:
        "../envs/tlbench.yaml"
    shell:
        "python -m bench.tuning_report --out-dir {params.out_dir:q} --selected {input.selected:q}"
        " --tuned {input.tuned:q} --default {input.default:q}"
        + ON_FAILURE_SHOW_LOG


rule tuning_figures:
    input:
        TUNING_OUTPUTS["summary"],
    output:
        **TUNING_FIGURES,
    log:
        f"{RESULTS}/logs/tuning/figures.log",
    params:
        out_dir=lambda wildcards, output: os.path.dirname(output.tuning_spread_png),
    conda:
        "../envs/tlbench.yaml"
    shell:
        "python -m bench.figures --tuning --out-dir {params.out_dir:q} {input:q}"
        + ON_FAILURE_SHOW_LOG
