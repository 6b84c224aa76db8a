# Hyper-parameter tuning (bench.tuning; docs/TUNING.md): every strategy of every tuned
# pair gets the same N trials, the one with the best validation accuracy is selected,
# and fresh runs of it at every seed of the config are the tuned results. Off when
# tuning.trials is 0 (config.yaml).
#
#   tune (one job per tuned pair, one process: `python -m bench tune`)
#     trial 0..N-1 -> tuning/trials/PAIR/STRATEGY/trialK.json  (every strategy's N, at
#                     the selection seed T = tuning.selection_seed, never one of `seeds`;
#                     trial 0 = the defaults)
#     select       -> tuning/selected/PAIR/STRATEGY.json        (validation accuracy only)
#     tuned run    -> tuning/runs/PAIR/STRATEGY/seedS.json      (every strategy x S of
#                     `seeds`)
#   report         -> tuning/summary.csv, tuning/tables/*, tuning/figures/tuning_spread.*
#
# Selecting and reporting at different seeds keeps the winner's curse out of "tuned −
# default": the run whose validation accuracy picked a configuration is never one of
# its reported results. So a tuned run never copies a trial. With trial 0 selected, the
# tuned run at seed S is the default run at S (same config, same seed, same run), and
# the tune job copies it: every run of a strategy whose defaults win is saved. The price
# of the separate seed: trial 0 is one run per (pair, strategy).

# One job per pair, as the pair cells of runs.smk (bench/cell.py): one process pays the
# imports once for the trials, the selections and the tuned runs, and the store restores
# every run whose config and code are unchanged, so a killed job, or new draws or
# settings for one strategy, rerun the pair's job but train only what is new (the
# selections are recomputed from the restored trials, identically). Helpers
# (trial_record(s), selected_file(s), tuned_record(s), default_records, tune_trials,
# tune_searched, tuning_cells, strategy_settings, ...), TUNING, TRIALS, TUNE_RUNS,
# TRIAL_HPARAMS, the report's outputs and the wildcard constraints: common.smk.


rule tune:
    input:
        data=run_inputs,
        # Copied where trial 0 (the defaults) is selected. No trial is ever copied: the
        # trials ran at the selection seed.
        default=default_records,
    output:
        trials=trial_records("{pair}"),
        selected=selected_files("{pair}"),
        runs=tuned_records("{pair}"),
    log:
        f"{RESULTS}/logs/tuning/{{pair}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/tuning/{{pair}}.tsv"
    params:
        cache_dir=DATA_CACHE,
        strategies=" ".join(config["strategies"]),
        # What the runs read; with the trials' draws, what reruns the job when changed.
        settings=lambda wildcards: strategy_settings(wildcards.pair, config["strategies"]),
        trials=tune_trials,
        searched=tune_searched,
        selection_seed=TUNING["selection_seed"],
        seeds=" ".join(map(str, config["seeds"])),
        store=STORE,
    threads: JOB_THREADS
    priority: TUNE_RUNS  # as a cell's (cell_size): the larger jobs start first
    resources:
        **job_resources(runs=TUNE_RUNS),
    conda:
        "../envs/tlbench.yaml"
    shell:
        "OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads}"
        " python -m bench tune --pair {wildcards.pair} --strategies {params.strategies}"
        " --strategy-configs {params.settings:q} --trials {params.trials:q}"
        " --searched {params.searched:q} --selection-seed {params.selection_seed}"
        " --seeds {params.seeds} --default {input.default:q}"
        " --out-trials {output.trials:q} --out-selected {output.selected:q}"
        " --out-runs {output.runs:q}"
        " --threads {threads} --cache-dir {params.cache_dir:q} --store {params.store:q}"
        + ON_FAILURE_SHOW_LOG


rule tuning_report:
    input:
        selected=[selected_file(pair, strategy) for pair, strategy in tuning_cells()],
        # Read through the paths the selections name: declared, so that a lost trial
        # record reruns its pair's tune job (whose store restores it) before the report.
        trials=[trial_record(pair, strategy, k) for pair, strategy in tuning_cells()
                for k in range(TRIALS)],
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
