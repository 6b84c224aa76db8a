# Prepare every data set the sweep reads, once per (data set, resolution), before any
# run: decoding and resizing happen here, and every run loads the cached tensors.
# A real data set that is missing fails here, first, with the data set's own message
# naming the files expected and where to get them.
# Helpers (prepared_marker, features_marker) and wildcard constraints: common.smk.


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


# Feature extraction's cache: the pretrained backbone's features of every split of a
# data set (bench/activations.py), computed once, before any feature-extraction run,
# and read by all of them, whatever their seed or shots. The marker's name carries what
# the features depend on beyond the prepared data; the cache files are keyed in full.


rule cache_features:
    input:
        lambda wildcards: prepared_marker(wildcards.dataset),
    output:
        touch(features_marker("{dataset}", "{backbone}")),
    log:
        f"{RESULTS}/logs/features/{{dataset}}-{{backbone}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/features/{{dataset}}-{{backbone}}.tsv"
    params:
        cache_dir=lambda wildcards, input: os.path.dirname(input[0]),
        settings=lambda wildcards: features_settings(wildcards.dataset, wildcards.backbone),
    threads: JOB_THREADS
    resources:
        **job_resources(),
    conda:
        "../envs/tlbench.yaml"
    shell:
        "OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads}"
        " python -m bench features {wildcards.dataset} --config-json {params.settings:q}"
        " --cache-dir {params.cache_dir:q} --threads {threads}"
        + ON_FAILURE_SHOW_LOG
