# Hyper-parameter tuning (bench.tuning; docs/TUNING.md): every strategy of every tuned
# pair gets the same N trials, the one with the best validation accuracy is selected,
# and fresh runs of it at every seed of the config are the tuned results. Off when
# tuning.trials is 0 (config.yaml).
#
#   trial 0..N-1 -> tuning/trials/PAIR/STRATEGY/trialK.json    (one job for all N, at
#                   the selection seed T = tuning.selection_seed, never one of `seeds`;
#                   trial 0 = the defaults)
#   select       -> tuning/selected/PAIR/STRATEGY.json          (validation accuracy only)
#   tuned run    -> tuning/runs/PAIR/STRATEGY/seedS.json        (every S of `seeds`, one job)
#   report       -> tuning/summary.csv, tuning/tables/*, tuning/figures/tuning_spread.*
#
# Selecting and reporting at different seeds keeps the winner's curse out of "tuned −
# default": the run whose validation accuracy picked a configuration is never one of
# its reported results. So a tuned run never copies a trial. With trial 0 selected, the
# tuned run at seed S is the default run at S (same config, same seed, same run), and
# `python -m bench tuned-run` copies it: every run of a strategy whose defaults win is
# saved. The price of the separate seed: trial 0 is one run per (pair, strategy).

# Helpers (trial_record(s), trial_cell_records, selected_file, tuned_record, tuning_cells,
# trial_sets, ...),
# TUNING, TRIAL_HPARAMS, the report's outputs and the wildcard constraints: common.smk.


# All trials of a (pair, strategy) in one job, as a cell (bench/cell.py): one process,
# each trial with its own draw (--run-sets), all at the selection seed.
rule tuning_trial:
    input:
        run_inputs,
    output:
        trial_cell_records("{pair}", "{strategy}"),
    log:
        f"{RESULTS}/logs/tuning/trials/{{pair}}/{{strategy}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/tuning/trials/{{pair}}/{{strategy}}.tsv"
    params:
        cache_dir=lambda wildcards, input: os.path.dirname(input[0]),
        seeds=" ".join([str(TUNING["selection_seed"])] * max(TUNING["trials"], 1)),
        sets=trial_sets,
        # What the trials read; with their draws (sets), what reruns them when changed.
        settings=lambda wildcards: run_settings(wildcards.pair, wildcards.strategy),
        store=STORE,
    threads: JOB_THREADS
    resources:
        **job_resources(runs=max(TUNING["trials"], 1)),
    conda:
        "../envs/tlbench.yaml"
    shell:
        "OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads}"
        " python -m bench cell --config-json {params.settings:q} --pair {wildcards.pair}"
        " --strategy {wildcards.strategy} --seeds {params.seeds} --run-sets {params.sets:q}"
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


# Every seed of a (pair, strategy) in one job, as a cell: copies of the default runs
# when the defaults won, else one process training the selected values at each seed.
rule tuned_run:
    input:
        # The default runs are copied when trial 0 is selected; the data are for training
        # otherwise. No trial record: trials ran at the selection seed.
        selection=selected_file("{pair}", "{strategy}"),
        default=lambda wildcards: [run_record(wildcards.pair, wildcards.strategy, seed, "all")
                                   for seed in config["seeds"]],
        data=run_inputs,
    output:
        [tuned_record("{pair}", "{strategy}", seed) for seed in config["seeds"]],
    log:
        f"{RESULTS}/logs/tuning/runs/{{pair}}/{{strategy}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/tuning/runs/{{pair}}/{{strategy}}.tsv"
    params:
        cache_dir=lambda wildcards, input: os.path.dirname(input.data[0]),
        seeds=" ".join(map(str, config["seeds"])),
        settings=lambda wildcards: run_settings(wildcards.pair, wildcards.strategy),
        store=STORE,
    threads: JOB_THREADS
    resources:
        **job_resources(runs=len(config["seeds"])),
    conda:
        "../envs/tlbench.yaml"
    shell:
        "OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads}"
        " python -m bench tuned-run --selection {input.selection:q} --seeds {params.seeds}"
        " --default {input.default:q} --out {output:q}"
        " --config-json {params.settings:q} --pair {wildcards.pair} --strategy {wildcards.strategy}"
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
