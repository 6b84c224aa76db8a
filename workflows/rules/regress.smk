# Regression tracking: this sweep's summary.csv against a committed baseline
# (bench.regress; docs/REGRESSION.md).
#
#   snakemake regress --cores 2 --configfile workflows/configs/ci.yaml
#       runs what is missing, then compares; fails (exit 1) when a run regressed.
#   snakemake refresh_baseline --cores 2 --forcerun run --configfile workflows/configs/ci.yaml
#       reruns every run and makes its summary the new baseline, with provenance.
#
# The baseline is `regression.baseline` in the config, or else
# results/baseline/NAME.csv after the last --configfile (ci.yaml -> ci.csv). It is a
# committed file of the repository, so a relative path is taken from the repository
# root, wherever --directory puts the results.
#
# Neither rule declares an output: each runs whenever it is asked for, and a failed
# check keeps its report (logs are never deleted). The Markdown report is for a CI job
# summary: `cat results/ci/logs/regress.md >> "$GITHUB_STEP_SUMMARY"` for the CI sweep.


def baseline_path():
    configured = (config.get("regression") or {}).get("baseline")
    if configured is None:
        files = workflow.config_settings.configfiles
        name = os.path.splitext(os.path.basename(files[-1]))[0] if files else "config"
        configured = f"results/baseline/{name}.csv"
    return os.path.join(workflow.basedir, configured)


def existing_baseline(wildcards):
    path = baseline_path()
    if not os.path.exists(path):
        raise WorkflowError(
            f"no regression baseline at {path}; make one from this sweep with\n"
            "  snakemake refresh_baseline --cores 2 --forcerun run --configfile <this config>\n"
            "or set `regression.baseline` in the config (docs/REGRESSION.md)")
    return path


rule regress:
    input:
        current=rules.aggregate.output.summary,
        baseline=existing_baseline,
    log:
        text=f"{RESULTS}/logs/regress.txt",
        markdown=f"{RESULTS}/logs/regress.md",
    params:
        # The merged config: its `regression` key holds the tolerances.
        config=RESOLVED_CONFIG,
    shell:
        "python -m bench.regress {input.current:q} {input.baseline:q}"
        " --config {params.config:q} --markdown {log.markdown:q} 2>&1 | tee {log.text:q}"


rule refresh_baseline:
    input:
        rules.aggregate.output.summary,
    params:
        baseline=baseline_path(),
    run:
        from bench.regress import refresh_baseline

        # What the sweep was: the sidecar records it with the baseline's provenance.
        settings = workflow.config_settings
        refresh_baseline(input[0], params.baseline,
                         configfiles=[os.path.relpath(path, workflow.basedir)
                                      for path in settings.configfiles],
                         config_overrides=list(settings.config_args or []))
