# Run records -> summary.csv and tables (bench.aggregate) -> figures (bench.figures).
# Outputs flagged with report() go into `snakemake --report results/report.html`.

TABLES = {
    "accuracy": "Accuracy",
    "ntg": "Negative transfer gap",
    "cost": "Cost",
    "data_efficiency": "Data efficiency",
}
FIGURES = {
    "accuracy": "Accuracy by strategy",
    "ntg_heatmap": "Negative transfer gap",
    "accuracy_vs_time": "Accuracy vs training time",
    "accuracy_vs_memory": "Accuracy vs peak memory",
    "data_efficiency": "Data efficiency",
}
CAPTIONS = "../report"  # relative to this file, as report() resolves captions


def table_outputs():
    files = {}
    for name, title in TABLES.items():
        files[f"{name}_html"] = report(f"{RESULTS}/tables/{name}.html",
                                       caption=f"{CAPTIONS}/table_{name}.rst",
                                       category="Tables", labels={"table": title})
        for extension in ("csv", "md", "tex"):
            files[f"{name}_{extension}"] = f"{RESULTS}/tables/{name}.{extension}"
    return files


def figure_outputs():
    files = {}
    for name, title in FIGURES.items():
        files[f"{name}_png"] = report(f"{RESULTS}/figures/{name}.png",
                                      caption=f"{CAPTIONS}/figure_{name}.rst",
                                      category="Figures", labels={"figure": title})
        files[f"{name}_pdf"] = f"{RESULTS}/figures/{name}.pdf"
    return files


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
    shell:
        "python -m bench.aggregate --out-dir {params.out_dir:q} {input:q} > {log:q} 2>&1"
        " || {{ tail -n 20 {log:q} >&2; exit 1; }}"


rule figures:
    input:
        rules.aggregate.output.summary,
    output:
        **figure_outputs(),
    log:
        f"{RESULTS}/logs/figures.log",
    params:
        out_dir=lambda wildcards, output: os.path.dirname(output[0]),
    shell:
        "python -m bench.figures --out-dir {params.out_dir:q} {input:q} > {log:q} 2>&1"
        " || {{ tail -n 20 {log:q} >&2; exit 1; }}"
