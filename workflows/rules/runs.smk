# One job per run: (pair, strategy, seed, shots) -> one run record (JSON), written
# atomically by `python -m bench run`, so a killed sweep leaves no half-written record
# and a restarted `snakemake` redoes only the runs whose record is missing.

RUN = "{pair}/{strategy}/seed{seed}-shots{shots}"


def run_record(pair, strategy, seed, shots):
    return f"{RESULTS}/runs/{pair}/{strategy}/seed{seed}-shots{shots}.json"


def run_inputs(wildcards):
    """Prepared data of the pair; for feature extraction also its cached features."""
    spec = config["pairs"][wildcards.pair]
    inputs = [prepared_marker(spec["source"]), prepared_marker(spec["target"])]
    augment = config["strategy_params"].get(wildcards.strategy, {}).get(
        "augment", config["train"]["augment"])
    if wildcards.strategy == "feature_extraction" and not augment:
        # Labelled target: train, val and test come from the target; otherwise train
        # and val come from the source (bench.protocol.select_roles).
        read = [spec["target"]] if spec["target_labels"] else [spec["source"], spec["target"]]
        inputs += [features_marker(dataset) for dataset in read]
    return inputs


rule run:
    wildcard_constraints:
        pair=r"[^/]+",
        strategy=r"[a-z_]+",
        seed=r"\d+",
        shots=r"\d+|all",
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
    threads: config["resources"]["threads"]
    resources:
        # Retries (--retries N) double the memory request, for cluster executors that
        # kill a job at its limit.
        mem_mb=lambda wildcards, attempt: config["resources"]["mem_mb"] * attempt,
        gpu=config["resources"]["gpu"],
        runtime=config["resources"]["runtime"],
    shell:
        # --threads caps torch's pools at the job's share of cores; the environment
        # variables cover OpenMP/MKL pools started before torch reads it.
        "OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads}"
        " python -m bench run --config \"$TLBENCH_CONFIG\" --pair {wildcards.pair}"
        " --strategy {wildcards.strategy} --seed {wildcards.seed} {params.shots}"
        " --threads {threads} --cache-dir {params.cache_dir:q} --out {output:q} > {log:q} 2>&1"
        " || {{ tail -n 20 {log:q} >&2; exit 1; }}"
