# One job per run: (pair, strategy, seed, shots) -> one run record (JSON), written
# atomically by `python -m bench run`, so a killed sweep leaves no half-written record
# and a restarted `snakemake` redoes only the runs whose record is missing.
# Helpers (run_record, run_inputs, run_settings), RUN (bench.layout.RUN_PATTERN) and
# wildcard constraints: common.smk.

rule run:
    input:
        run_inputs,
    output:
        f"{RESULTS}/runs/{RUN}.json",
    log:
        f"{RESULTS}/logs/runs/{RUN}.log",
    benchmark:
        f"{RESULTS}/benchmarks/runs/{RUN}.tsv"
    params:
        cache_dir=lambda wildcards, input: os.path.dirname(input[0]),  # the markers' folder
        shots=lambda wildcards: "" if wildcards.shots == "all" else f"--shots {wildcards.shots}",
        settings=lambda wildcards: run_settings(wildcards.pair, wildcards.strategy),
    threads: JOB_THREADS
    resources:
        **job_resources(),
    conda:
        "../envs/tlbench.yaml"
    shell:
        # --threads caps torch's pools at the job's share of cores; the environment
        # variables cover OpenMP/MKL pools started before torch reads it.
        "OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads}"
        " python -m bench run --config-json {params.settings:q} --pair {wildcards.pair}"
        " --strategy {wildcards.strategy} --seed {wildcards.seed} {params.shots}"
        " --threads {threads} --cache-dir {params.cache_dir:q} --out {output:q}"
        + ON_FAILURE_SHOW_LOG


# The source-model axis (config `backbones`): the same job for each other backbone,
# its files below backbones/NAME/ (common.smk: backbone_records).
use rule run as run_backbone with:
    output:
        f"{RESULTS}/backbones/{{backbone}}/runs/{RUN}.json",
    log:
        f"{RESULTS}/backbones/{{backbone}}/logs/runs/{RUN}.log",
    benchmark:
        f"{RESULTS}/backbones/{{backbone}}/benchmarks/runs/{RUN}.tsv"
    params:
        cache_dir=lambda wildcards, input: os.path.dirname(input[0]),
        shots=lambda wildcards: "" if wildcards.shots == "all" else f"--shots {wildcards.shots}",
        settings=lambda wildcards: run_settings(wildcards.pair, wildcards.strategy,
                                                wildcards.backbone),
