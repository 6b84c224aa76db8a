"""bench.regress: the regression check on summaries the tests build, and on real runs."""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bench import regress
from bench.regress import RegressionInputError, Tolerances, compare

ROOT = Path(__file__).resolve().parent.parent
GIB = 2**30


def summary(runs: int = 2) -> pd.DataFrame:
    """A summary.csv frame as bench.aggregate writes it: two strategies, seeds, a budget."""
    rows = []
    for strategy, accuracy, seconds in (("scratch", 0.40, 30.0), ("feature_extraction", 0.80,
                                                                   0.3)):
        for seed in range(runs):
            for shots in ("all", 5):
                rows.append({
                    "pair": "imagenet-digits", "source": "photos", "target": "digits",
                    "strategy": strategy, "seed": seed, "shots": shots, "status": "ok",
                    "error": None, "synthetic": False, "accuracy": accuracy + 0.01 * seed,
                    "balanced_accuracy": accuracy, "macro_f1": accuracy - 0.02,
                    "val_accuracy": accuracy, "mmd": None, "train_seconds": seconds,
                    "images_per_second": 100.0, "peak_accelerator_bytes": None,
                    "peak_host_rss_bytes": GIB, "trainable_params": 1000,
                    "total_params": 4000, "train_images": 600, "hp_lr": 0.001,
                    "device": "cpu: x86_64, 1 thread(s)", "version_torch": "2.5.0",
                })
    return pd.DataFrame(rows)


SCRATCH0 = "imagenet-digits/scratch/seed0-shotsall"
PROBE1 = "imagenet-digits/feature_extraction/seed1-shots5"


def where(frame: pd.DataFrame, run: str) -> pd.Series:
    """Boolean mask of one run (by its report name) in a summary frame."""
    names = [regress.run_name(*row) for row in
             frame[["pair", "strategy", "seed", "shots"]].itertuples(index=False)]
    return pd.Series([name == run for name in names], index=frame.index)


@pytest.fixture
def cli(tmp_path, capsys):
    """Write both summaries as CSV and run the command line on them: (exit, output)."""

    def run(current: pd.DataFrame, baseline: pd.DataFrame, *options: str) -> tuple[int, str]:
        current_path, baseline_path = tmp_path / "current.csv", tmp_path / "baseline.csv"
        current.to_csv(current_path, index=False)
        baseline.to_csv(baseline_path, index=False)
        code = regress.main([str(current_path), str(baseline_path), *options])
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return run


# ------------------------------------------------------------------------ comparisons


def test_unchanged_summary_compares_clean():
    comparison = compare(summary(), summary())
    assert comparison.ok
    assert comparison.moved() == []
    assert "No run moved" in comparison.to_text()


def test_accuracy_drop_beyond_tolerance_regresses_and_names_the_run(cli):
    current = summary()
    current.loc[where(current, SCRATCH0), "accuracy"] -= 0.05
    code, out = cli(current, summary())
    assert code == 1
    assert SCRATCH0 in out
    assert "accuracy −5.00 pp" in out
    # Only the run that moved is listed.
    assert PROBE1 not in out


@pytest.mark.parametrize(("baseline_cpu", "code"), [("Another CPU", 0), ("This CPU", 1),
                                                   (None, 1)])
def test_a_baseline_made_on_another_cpu_gets_the_other_machine_tolerance(
        baseline_cpu, code, tmp_path, cli, monkeypatch):
    """Another CPU rounds differently and moves a few test examples: a 3-point drop
    passes (with a note) against a baseline whose sidecar names another CPU, and fails
    against one made on this CPU or without a sidecar."""
    # Where the command line looks the machine up (bench.regress re-exports it).
    monkeypatch.setattr("bench.regress._cli.machine_description", lambda: {"cpu": "This CPU"})
    if baseline_cpu:
        (tmp_path / "baseline.meta.json").write_text(json.dumps({"machine": {"cpu": baseline_cpu}}))
    current = summary()
    current.loc[where(current, SCRATCH0), "accuracy"] -= 0.03
    got, out = cli(current, summary())
    assert got == code, out
    assert ("another CPU (Another CPU; this is This CPU): accuracy tolerance 5.00 pp" in out) \
        == (code == 0)


def test_accuracy_drop_within_tolerance_is_listed_but_passes():
    current = summary()
    current.loc[where(current, SCRATCH0), "accuracy"] -= 0.005
    comparison = compare(current, summary())
    assert comparison.ok
    assert [r.run for r in comparison.moved()] == [SCRATCH0]
    assert comparison.moved()[0].verdict == regress.CHANGED


def test_improvement_is_reported_not_failed():
    current = summary()
    current.loc[where(current, SCRATCH0), "accuracy"] += 0.10
    comparison = compare(current, summary())
    assert comparison.ok
    assert comparison.named(regress.IMPROVED) == [SCRATCH0]


def test_missing_run_fails_and_new_run_is_only_reported(cli):
    current = summary()
    current = current[~where(current, PROBE1)]
    code, out = cli(current, summary())
    assert code == 1
    assert "MISSING" in out and PROBE1 in out

    extra = summary(runs=3)  # seed 2 is new
    comparison = compare(extra, summary())
    assert comparison.ok
    assert len(comparison.named(regress.NEW)) == 4
    assert all("seed2" in name for name in comparison.named(regress.NEW))


@pytest.mark.parametrize("status", ["failed", "diverged"])
def test_run_no_longer_ok_regresses(status):
    current = summary()
    mask = where(current, PROBE1)
    current.loc[mask, "status"] = status
    current.loc[mask, "error"] = "RuntimeError: boom" if status == "failed" else None
    comparison = compare(current, summary())
    assert comparison.regressions == [PROBE1]
    assert f"status {status}" in comparison.to_text()


def test_run_that_was_already_failing_is_not_a_regression():
    baseline = summary()
    baseline.loc[where(baseline, PROBE1), "status"] = "failed"
    assert compare(baseline, baseline).ok
    # ...and one that recovers is an improvement.
    recovered = compare(summary(), baseline)
    assert recovered.ok and recovered.named(regress.IMPROVED) == [PROBE1]


def test_training_time_growth_beyond_factor_regresses():
    current = summary()
    current.loc[where(current, SCRATCH0), "train_seconds"] *= 3.5
    comparison = compare(current, summary())
    assert comparison.regressions == [SCRATCH0]
    assert "train_seconds 3.50×" in comparison.to_text()
    current.loc[where(current, SCRATCH0), "train_seconds"] = 30.0 * 2.5  # within 3×
    assert compare(current, summary()).ok


def test_short_runs_are_measured_against_the_time_floor():
    # 0.3 s -> 4 s is 13x, but both are under the 5 s floor: noise, not a regression.
    current = summary()
    current.loc[where(current, PROBE1), "train_seconds"] = 4.0
    assert compare(current, summary()).ok
    current.loc[where(current, PROBE1), "train_seconds"] = 20.0  # 20 s / 5 s floor = 4x
    assert compare(current, summary()).regressions == [PROBE1]


def test_costs_are_not_compared_when_only_one_sweep_computed_the_frozen_activations():
    # The first run of a sweep to need a frozen backbone's activations computes and
    # caches them, inside its train_seconds; which run that is depends on job order.
    baseline, current = summary(), summary()
    baseline["data_activation_cache"] = "hit"
    current["data_activation_cache"] = "hit"
    current.loc[where(current, PROBE1), ["data_activation_cache", "train_seconds",
                                         "peak_host_rss_bytes"]] = ["computed", 20.0, 2 * GIB]
    comparison = compare(current, baseline)
    assert comparison.ok
    assert any(PROBE1 in note and "not compared" in note for note in comparison.notes)
    baseline.loc[where(baseline, PROBE1), "data_activation_cache"] = "computed"
    assert compare(current, baseline).regressions == [PROBE1]  # like for like: compared
    # A run that stopped caching ("none") is a change of the code: compared.
    baseline.loc[where(baseline, PROBE1), "data_activation_cache"] = "hit"
    current.loc[where(current, PROBE1), "data_activation_cache"] = "none"
    assert compare(current, baseline).regressions == [PROBE1]


def test_memory_growth_beyond_factor_regresses():
    current = summary()
    current.loc[where(current, PROBE1), "peak_host_rss_bytes"] = int(1.3 * GIB)
    assert compare(current, summary()).regressions == [PROBE1]
    # Accelerator memory: compared when both sides have it, skipped when null (CPU).
    gpu_base, gpu_now = summary(), summary()
    gpu_base["peak_accelerator_bytes"] = 100 * 2**20
    gpu_now["peak_accelerator_bytes"] = 100 * 2**20
    gpu_now.loc[where(gpu_now, SCRATCH0), "peak_accelerator_bytes"] = 300 * 2**20
    assert compare(gpu_now, gpu_base).regressions == [SCRATCH0]
    assert compare(gpu_now, summary()).ok


def test_per_metric_override_from_config(tmp_path, cli):
    current = summary()
    current.loc[where(current, SCRATCH0), "macro_f1"] -= 0.03
    assert compare(current, summary()).regressions == [SCRATCH0]

    config = tmp_path / "config.yaml"
    config.write_text("regression:\n  baseline: results/baseline/ci.csv\n"
                      "  metrics: {macro_f1: 0.05}\n")
    code, out = cli(current, summary(), "--config", str(config))
    assert code == 0, out
    assert "macro_f1 5.00 pp" in out  # the override is shown with the tolerances
    # The override touches only its metric: the same drop in accuracy still fails.
    current.loc[where(current, SCRATCH0), "accuracy"] -= 0.03
    assert cli(current, summary(), "--config", str(config))[0] == 1


def test_tolerances_from_config():
    tolerances = Tolerances.from_config({"accuracy_drop": 0.02, "time_factor": 5,
                                         "memory_factor": 1.5, "time_floor_seconds": 1,
                                         "metrics": {"peak_host_rss_bytes": 2.0}})
    assert tolerances.limit("accuracy") == 0.02
    assert tolerances.limit("train_seconds") == 5
    assert tolerances.limit("peak_accelerator_bytes") == 1.5
    assert tolerances.limit("peak_host_rss_bytes") == 2.0
    assert Tolerances.from_config(None) == Tolerances()


@pytest.mark.parametrize("regression, named", [
    ({"accuracy_dorp": 0.02}, "accuracy_dorp"),
    ({"accuracy_drop": 2}, "regression.accuracy_drop"),
    ({"time_factor": 0.5}, "regression.time_factor"),
    ({"metrics": [0.1]}, "regression.metrics"),
    ({"metrics": {"val_acc": 0.1}}, "val_acc"),
    ({"metrics": {"train_seconds": "lots"}}, "regression.metrics.train_seconds"),
])
def test_bad_tolerances_name_the_key(regression, named):
    with pytest.raises(RegressionInputError, match=named):
        Tolerances.from_config(regression)


def test_shots_all_empty_and_nan_match():
    baseline = summary()
    current = summary()
    current["shots"] = current["shots"].map(lambda s: math.nan if s == "all" else float(s))
    assert compare(current, baseline).ok
    current["shots"] = current["shots"].map(lambda s: "" if pd.isna(s) else str(int(s)))
    assert compare(current, baseline).moved() == []


def test_markdown_report(tmp_path, cli):
    current = summary()
    current.loc[where(current, SCRATCH0), "accuracy"] -= 0.05
    markdown = tmp_path / "report.md"
    code, out = cli(current, summary(), "--markdown", str(markdown))
    assert code == 1
    text = markdown.read_text()
    assert text.startswith("### ❌")
    assert f"`{SCRATCH0}`" in text
    assert "| run" in text and "|---" in text.replace(" ", "").replace(":", "")


def test_different_machine_is_noted():
    current = summary()
    current["version_torch"] = "2.6.0"
    comparison = compare(current, summary())
    assert comparison.ok
    assert any("version_torch differs" in note for note in comparison.notes)


# ------------------------------------------------------------------------- bad input


def test_missing_file_exits_2_naming_it(tmp_path, cli, capsys):
    summary().to_csv(tmp_path / "baseline.csv", index=False)
    assert regress.main([str(tmp_path / "nope.csv"), str(tmp_path / "baseline.csv")]) == 2
    assert f"current summary {tmp_path / 'nope.csv'} does not exist" in capsys.readouterr().err
    code, out = cli(summary(), summary(), "--config", str(tmp_path / "none.yaml"))
    assert code == 2 and "none.yaml does not exist" in out


def test_missing_columns_exit_2_naming_them(cli):
    code, out = cli(summary().drop(columns=["macro_f1", "train_seconds"]), summary())
    assert code == 2
    assert "macro_f1, train_seconds" in out and "current summary" in out


def test_duplicate_runs_and_bad_values_exit_2(cli):
    doubled = pd.concat([summary(), summary().head(1)])
    code, out = cli(doubled, summary())
    assert code == 2 and f"more than one row for run(s) {SCRATCH0}" in out
    bad = summary()
    bad["accuracy"] = bad["accuracy"].astype(object)
    bad.loc[0, "accuracy"] = "high"
    code, out = cli(summary(), bad)
    assert code == 2 and "accuracy" in out and "baseline" in out


# -------------------------------------------------------------------------- baseline


def test_refresh_baseline_writes_copy_and_provenance(tmp_path):
    source = tmp_path / "summary.csv"
    summary().to_csv(source, index=False)
    sidecar = regress.refresh_baseline(source, tmp_path / "baseline" / "ci.csv")
    assert sidecar == tmp_path / "baseline" / "ci.meta.json"
    assert (tmp_path / "baseline" / "ci.csv").read_bytes() == source.read_bytes()
    meta = json.loads(sidecar.read_text())
    assert meta["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert meta["versions"]["torch"] == "2.5.0"
    assert meta["runs"] == 8 and meta["statuses"] == {"ok": 8}
    assert {"created", "git_revision", "machine", "devices"} <= set(meta)


def test_committed_baseline_is_the_pipelines_output():
    """results/baseline/*.csv is made by `snakemake refresh_baseline`, never by hand."""
    assert (ROOT / "results" / "baseline" / "ci.csv").is_file(), (
        "results/baseline/ci.csv is missing: make it with `snakemake refresh_baseline --cores 2 "
        "--forcerun cell cell_budgets --configfile workflows/configs/ci.yaml` and commit it with "
        "ci.meta.json "
        "(docs/REGRESSION.md)")
    for baseline in sorted((ROOT / "results" / "baseline").glob("*.csv")):
        meta = json.loads(baseline.with_suffix(".meta.json").read_text())
        assert meta["sha256"] == hashlib.sha256(baseline.read_bytes()).hexdigest(), (
            f"{baseline} differs from what the pipeline wrote; refresh it (docs/REGRESSION.md)")
        regress.read_summary(baseline, "baseline")


# ------------------------------------------------------------------------- real runs

# Resolution 32 and 40 steps (20 passes) of a linear probe on cached features: seconds of
# work. The probe's lr is pinned here so that changes to config.yaml's defaults cannot
# make the perturbation harmless.
REAL_RUN = ["--config", "config.yaml", "--pair", "imagenet-digits",
            "--strategy", "feature_extraction", "--seed", "0", "--shots", "5",
            "--set", "resolution=32", "--set", "train.max_steps=40",
            "--set", "train.eval_every=2", "--set", "train.patience=0",
            "--set", "strategy_params.feature_extraction.lr=0.1", "--quiet"]
# The example: a learning rate 100x too large (it costs this probe ~4 points).
PERTURBATION = ["--set", "strategy_params.feature_extraction.lr=10"]
RUN_NAME = "imagenet-digits/feature_extraction/seed0-shots5"


@pytest.fixture(scope="module")
def real_summaries(tmp_path_factory) -> dict[str, Path]:
    """One tiny real run three times, in separate processes: baseline, again, perturbed.

    Each becomes a summary.csv through the pipeline's own aggregation. The baseline
    runs first and caches the frozen backbone's activations, as the first run of a
    sweep does; the other two then run side by side on the cache.
    """
    from bench.aggregate import load_records, summary_frame

    root = tmp_path_factory.mktemp("real")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

    def start(name: str, extra: list[str]) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "bench", "run", *REAL_RUN, *extra, "--cache-dir",
             str(root / "cache"), "--out", str(root / name / "run.json")],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def finish(process: subprocess.Popen) -> None:
        output = process.communicate(timeout=300)[0]
        assert process.returncode == 0, output

    finish(start("baseline", []))
    side_by_side = [start("again", []), start("perturbed", PERTURBATION)]
    for process in side_by_side:
        finish(process)
    paths = {}
    for name in ("baseline", "again", "perturbed"):
        paths[name] = root / f"{name}.csv"
        summary_frame(load_records([root / name / "run.json"])).to_csv(paths[name], index=False)
    baseline = pd.read_csv(paths["baseline"]).iloc[0]
    assert baseline["status"] == "ok", baseline["error"]
    # Chance is 10%: a baseline that learnt nothing could not show a regression.
    assert baseline["accuracy"] > 0.2, f"the unperturbed probe did not learn: {baseline}"
    return paths


def compare_cli(current: Path, baseline: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench.regress", str(current), str(baseline)],
                          capture_output=True, text=True, cwd=ROOT)


@pytest.mark.slow
def test_real_unchanged_run_compares_clean(real_summaries):
    result = compare_cli(real_summaries["again"], real_summaries["baseline"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No run moved" in result.stdout
    again, baseline = (pd.read_csv(real_summaries[k]) for k in ("again", "baseline"))
    # CPU determinism: the same config in another process gives the same numbers.
    for metric in regress.ACCURACY_METRICS:
        assert again.loc[0, metric] == baseline.loc[0, metric]


@pytest.mark.slow
def test_real_perturbed_run_regresses_and_is_named(real_summaries):
    result = compare_cli(real_summaries["perturbed"], real_summaries["baseline"])
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"FAIL: 1 of 1 runs regressed or missing (1 regressed): {RUN_NAME}" in result.stdout
    assert "accuracy −" in result.stdout
