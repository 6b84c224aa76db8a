# One job per cell: (pair, strategy, shots) -> one run record (JSON) per seed of the
# config, all trained in one process by `python -m bench cell` (bench/cell.py), which
# pays Python's, torch's and timm's start-up and the pair's data loading once, not once
# per run (docs/PERFORMANCE.md has the measurement). Each record is written atomically
# at the path a one-run job would use (bench.layout.run_record_path), so every reader
# (aggregate, regress, tuning, the report) is unchanged.
#
# Kill and resume: Snakemake deletes a rerun job's declared outputs first, so a finished
# record is also kept in the store, STORE (common.smk), until its cell ends; a restarted
# cell restores those runs instead of training them again (bench/cell.py says why this
# design). Helpers (cell_records, run_inputs, run_settings), CELL and STORE, and the
# wildcard constraints: common.smk.

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
        cache_dir=lambda wildcards, input: os.path.dirname(input[0]),  # the markers' folder
        shots=lambda wildcards: "" if wildcards.shots == "all" else f"--shots {wildcards.shots}",
        seeds=" ".join(map(str, config["seeds"])),
        settings=lambda wildcards: run_settings(wildcards.pair, wildcards.strategy),
        store=STORE,
    # The cell's runs train one after another, each with all of the job's threads.
    threads: JOB_THREADS
    resources:
        **job_resources(runs=len(config["seeds"])),
    conda:
        "../envs/tlbench.yaml"
    shell:
        # --threads caps torch's pools at the job's share of cores; the environment
        # variables cover OpenMP/MKL pools started before torch reads it.
        "OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads}"
        " python -m bench cell --config-json {params.settings:q} --pair {wildcards.pair}"
        " --strategy {wildcards.strategy} --seeds {params.seeds} {params.shots}"
        " --threads {threads} --cache-dir {params.cache_dir:q} --store {params.store:q}"
        " --out {output:q}"
        + ON_FAILURE_SHOW_LOG


# The source-model axis (config `backbones`): the same job for each other backbone,
# its files below backbones/NAME/ (common.smk: backbone_records).
use rule cell as cell_backbone with:
    output:
        cell_records(f"{RESULTS}/backbones/{{backbone}}"),
    log:
        f"{RESULTS}/backbones/{{backbone}}/logs/cells/{CELL}.log",
    benchmark:
        f"{RESULTS}/backbones/{{backbone}}/benchmarks/cells/{CELL}.tsv"
    params:
        cache_dir=lambda wildcards, input: os.path.dirname(input[0]),
        shots=lambda wildcards: "" if wildcards.shots == "all" else f"--shots {wildcards.shots}",
        seeds=" ".join(map(str, config["seeds"])),
        settings=lambda wildcards: run_settings(wildcards.pair, wildcards.strategy,
                                                wildcards.backbone),
        store=STORE,
