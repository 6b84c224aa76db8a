# One job per pair: a pair cell -> one run record (JSON) per run of the pair, every
# strategy x seed at shots=all and, for a pair of `data_efficiency.pairs`, its budgets
# (common.smk: cell_plan, the pair's entries of sweep_runs()), all trained in one
# process by `python -m bench cell` (bench/cell.py), which pays Python's, torch's and
# timm's start-up and the pair's data loading once, not once per run
# (docs/PERFORMANCE.md has the measurement). Each record is written atomically at the
# path a one-run job would use (bench.layout.run_record_path), so every reader
# (aggregate, regress, tuning, the report) is unchanged.
#
# What retrains. Snakemake reruns a whole cell (deleting its records first) when it was
# killed, when a param changed (each strategy's settings: cell_settings) or its runs
# changed (a seed added), or with --forcerun. Every finished record is also kept in the
# store, STORE (common.smk), by config hash and code fingerprint, and a rerun cell
# restores those instead of training them: new DAN settings train only the DAN runs, a
# new seed only its runs, a killed cell only what it had not finished. A change to the
# `bench` code or to torch/torchvision/timm retrains everything. To retrain anyway,
# delete the store folder (results/.../cache/records) before the rerun.
# Two rules, as a rule's outputs are fixed patterns: `cell` for a pair without
# data-efficiency budgets and `cell_budgets` (the same job, more outputs) for a pair with
# them; `--forcerun cell cell_budgets` names both. Helpers (cell_plan, cell_records,
# cell_run_arguments, cell_settings, cell_runs, cell_size, run_inputs), CELL, STORE,
# BUDGET_PAIRS and the wildcard constraints: common.smk.

rule cell:
    input:
        run_inputs,
    output:
        cell_records(RESULTS),
    log:
        f"{RESULTS}/logs/cells/{CELL}.log",
    benchmark:
        f"{RESULTS}/benchmarks/cells/{CELL}.tsv"
    params:
        cache_dir=DATA_CACHE,  # the data sets and activation caches
        runs=cell_run_arguments,
        settings=cell_settings,
        store=STORE,
    # The cell's runs train one after another, each with all of the job's threads.
    threads: JOB_THREADS
    priority: cell_size
    resources:
        **job_resources(runs=cell_size),
    conda:
        "../envs/tlbench.yaml"
    shell:
        # --threads caps torch's pools at the job's share of cores; the environment
        # variables cover OpenMP/MKL pools started before torch reads it.
        "OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads}"
        " python -m bench cell --strategy-configs {params.settings:q} --pair {wildcards.pair}"
        " --runs {params.runs} --threads {threads} --cache-dir {params.cache_dir:q}"
        " --store {params.store:q} --out {output:q}"
        + ON_FAILURE_SHOW_LOG


# A pair of `data_efficiency.pairs`: its main runs and its budgets in one job.
use rule cell as cell_budgets with:
    output:
        cell_records(RESULTS, budgets=True),
    wildcard_constraints:
        pair=BUDGET_PAIRS,


ruleorder: cell_budgets > cell


# The source-model axis (config `backbones`): the same job for each other backbone, its
# files below backbones/NAME/ (common.smk: backbone_records), the pair's main runs only.
use rule cell as cell_backbone with:
    output:
        cell_records(f"{RESULTS}/backbones/{{backbone}}", main_only=True),
    log:
        f"{RESULTS}/backbones/{{backbone}}/logs/cells/{CELL}.log",
    benchmark:
        f"{RESULTS}/backbones/{{backbone}}/benchmarks/cells/{CELL}.tsv"
