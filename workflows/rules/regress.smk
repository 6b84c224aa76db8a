# Regression tracking: this sweep's summary.csv against a committed baseline
# (bench.regress; docs/REGRESSION.md).
#
#   snakemake regress --cores 2 --configfile workflows/configs/ci.yaml
#       runs what is missing, then compares; fails (exit 1) when a run regressed.
#   snakemake refresh_baseline --cores 2 --forcerun cell cell_budgets --configfile workflows/configs/ci.yaml
#       reruns every pair cell (which retrains what the code or config changed and
#       restores the rest from the store) and makes its summary the new baseline, with
#       provenance.
#
# The baseline is `regression.baseline` in the config, or else
# results/baseline/NAME.csv after the last --configfile (ci.yaml -> ci.csv). It is a
# committed file of the repository, so a relative path is taken from the repository
# root, wherever --directory puts the results.
#
# Neither rule declares an output: each runs whenever it is asked for, and a failed
# check keeps its report (logs are never deleted). The Markdown report is for a CI job
# summary: `cat results/ci/logs/regress.md >> "$GITHUB_STEP_SUMMARY"` for the CI sweep.
# Helpers (baseline_path, existing_baseline, refresh_baseline_logged): common.smk.


rule regress:
    input:
        current=rules.aggregate.output.summary,
        baseline=existing_baseline,
    log:
        text=f"{RESULTS}/logs/regress.txt",
        markdown=f"{RESULTS}/logs/regress.md",
    params:
        # The tolerances: the merged config's `regression` mapping.
        regression=json.dumps(config.get("regression") or {}, sort_keys=True),
    conda:
        "../envs/tlbench.yaml"
    shell:
        "python -m bench.regress {input.current:q} {input.baseline:q}"
        " --regression-json {params.regression:q} --markdown {log.markdown:q} 2>&1 | tee {log.text:q}"


rule refresh_baseline:
    input:
        rules.aggregate.output.summary,
    log:
        # What it prints (the terminal gets it too): runs and where the files went.
        f"{RESULTS}/logs/refresh_baseline.log",
    params:
        baseline=baseline_path(),
    # Runs in snakemake's own Python (a `run:` rule: no conda environment), which needs
    # workflow.config_settings for the baseline's provenance.
    run:
        refresh_baseline_logged(input[0], params.baseline, log[0])
