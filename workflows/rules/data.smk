# Prepare every data set the sweep reads from files (a real one, or one the config
# defines), once per (data set, resolution), before any run: decoding and resizing happen
# here, and every run loads the cached tensors. A real data set that is missing fails
# here, first, with the data set's own message naming the files expected and where to
# get them. An offline set (generated, or bundled with a package) has no job: the first
# pair cell that reads it builds it into the same cache (bench/datasets/cache.py, keyed
# in full), as the first run that needs frozen features computes them
# (bench/activations.py); a process of its own would cost more than the building.
# Helpers (prepared_marker, prepared_in_a_job) and wildcard constraints: common.smk.


rule prepare_data:
    output:
        # The marker is written only after the cache is complete, so its presence means
        # the cache is usable; `bench data prepare` writes the cache itself atomically.
        touch(prepared_marker("{dataset}")),
    log:
        f"{RESULTS}/logs/data/{{dataset}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/data/{{dataset}}.tsv"
    params:
        resolution=config["resolution"],
        # The data set's own folder (data.roots.NAME, else data.root).
        root=lambda wildcards: prepare_arguments(wildcards.dataset)[0],
        split_seed=config["data"]["split_seed"],
        cache_dir=lambda wildcards, output: os.path.dirname(output[0]),  # marker beside cache
        # Builder options and, for a config-defined set, its definition (data.sets.NAME):
        # a change re-prepares the data set (and so reruns its runs).
        options=lambda wildcards: prepare_arguments(wildcards.dataset)[1],
    threads: JOB_THREADS  # real data sets decode in parallel threads
    resources:
        **job_resources(gpu=False),
    conda:
        "../envs/tlbench.yaml"
    shell:
        "OMP_NUM_THREADS={threads} python -m bench data prepare {wildcards.dataset}"
        " --resolution {params.resolution} --root {params.root:q}"
        " --split-seed {params.split_seed} --cache-dir {params.cache_dir:q}"
        " --options {params.options:q}"
        + ON_FAILURE_SHOW_LOG
