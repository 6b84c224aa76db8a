# Run records -> summary.csv and tables (bench.aggregate) -> figures (bench.figures).
# Outputs flagged with report() go into `snakemake --report results/report.html`.
# Helpers (table_outputs, figure_outputs, sweep_runs, run_record): common.smk.


rule aggregate:
    input:
        # Exactly this sweep's records: stale records of other configs in runs/ stay out.
        [run_record(*run) for run in sweep_runs()],
    output:
        summary=report(f"{RESULTS}/summary.csv", caption=f"{CAPTIONS}/summary.rst",
                       category="Runs", labels={"file": "summary.csv"}),
        **table_outputs(),
    log:
        f"{RESULTS}/logs/aggregate.log",
    params:
        out_dir=lambda wildcards, output: os.path.dirname(output.summary),
    conda:
        "../envs/tlbench.yaml"
    shell:
        "python -m bench.aggregate --out-dir {params.out_dir:q} {input:q}"
        + ON_FAILURE_SHOW_LOG


rule figures:
    input:
        rules.aggregate.output.summary,
    output:
        **figure_outputs(),
    log:
        f"{RESULTS}/logs/figures.log",
    params:
        out_dir=lambda wildcards, output: os.path.dirname(output[0]),
    # One process per figure at most; Snakemake gives what --cores allows. The sweep's
    # last job, with nothing beside it: drawing in parallel shortens the sweep's tail.
    threads: len(FIGURES)
    conda:
        "../envs/tlbench.yaml"
    shell:
        "python -m bench.figures --out-dir {params.out_dir:q} --workers {threads} {input:q}"
        + ON_FAILURE_SHOW_LOG


# The source-model axis: transfer accuracy per backbone against its ImageNet top-1
# (bench.backbone_report); only when the config's `backbones` names another model.
rule backbone_report:
    input:
        backbone_records(),
    output:
        **backbone_outputs(),
    log:
        f"{RESULTS}/logs/backbone_report.log",
    params:
        # results_dir: the folder above tables/ (and figures/)
        out_dir=lambda wildcards, output: os.path.dirname(os.path.dirname(output.table_csv)),
    conda:
        "../envs/tlbench.yaml"
    shell:
        "python -m bench.backbone_report --out-dir {params.out_dir:q} {input:q}"
        + ON_FAILURE_SHOW_LOG
