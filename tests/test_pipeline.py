"""End to end: the CI sweep through Snakemake, the real `python -m bench run` in every job.

Runs `snakemake --configfile workflows/configs/ci.yaml` in a temporary working
directory (results, caches and Snakemake's own state all land there), then checks that
the summary has one row per expected run, that every table and figure exists, that a
restart after losing a record redoes only that run (and the report), and that the HTML
report builds.

The clean sweep is made once per pytest session in ``<basetemp>/clean-ci-sweep``, the
folder tests/test_reliability.py uses for the same sweep, so the default test command
runs it once; the destructive checks work on a copy.
"""

from __future__ import annotations

import math
import shutil

import pandas as pd
import pytest
import yaml
from sweep import CI_CONFIG, SWEEP_GROUP, clean_ci_sweep, snakemake

from bench import figures, tuning, tuning_report
from bench.summary_file import read_summary
from bench.tables.paper import TABLE_NAMES


def expected_runs(config: dict) -> set[tuple[str, str, int, str]]:
    """(pair, strategy, seed, shots) of the sweep, computed from the config alone."""
    runs = {(pair, strategy, seed, "all") for pair in config["pairs"]
            for strategy in config["strategies"] for seed in config["seeds"]}
    efficiency = config["data_efficiency"]
    runs |= {(pair, strategy, seed, str(shots)) for pair in efficiency["pairs"]
             for strategy in efficiency["strategies"] for shots in efficiency["shots"]
             for seed in config["seeds"]}
    return runs


def check_tuning_outputs(config: dict, results) -> None:
    """The CI config tunes its tuning.pairs: N trials per strategy (trial 0 = the
    defaults), all at the selection seed, one selection each, a tuned run per seed of
    `seeds`, two tables and a figure."""
    settings = tuning.tuning_settings(config)
    trials, pairs = settings["trials"], settings["pairs"]
    summary = read_summary(results / "tuning" / "summary.csv")
    trial_rows = summary[summary["tuning_kind"] == "trial"]
    tuned_rows = summary[summary["tuning_kind"] == "tuned"]
    assert len(trial_rows) == len(pairs) * len(config["strategies"]) * trials
    assert set(trial_rows.groupby(["pair", "strategy"]).size()) == {trials}
    assert set(trial_rows["trial"]) == set(range(trials))
    assert set(trial_rows["seed"]) == {settings["selection_seed"]}
    assert settings["selection_seed"] not in config["seeds"]
    assert len(tuned_rows) == len(pairs) * len(config["strategies"]) * len(config["seeds"])
    assert set(tuned_rows["seed"]) == set(config["seeds"])
    assert trial_rows["selected"].sum() == len(pairs) * len(config["strategies"])
    for row in trial_rows[trial_rows["trial"] == 0].itertuples():  # its own run
        assert row.path == f"{config['results_dir']}/tuning/trials/{row.pair}/{row.strategy}/trial0.json"
    for pair in pairs:
        for strategy in config["strategies"]:
            selected = results / "tuning" / "selected" / pair / f"{strategy}.json"
            assert selected.stat().st_size > 0
    for name in tuning_report.TABLE_NAMES:
        for extension in ("csv", "md", "tex", "html"):
            assert (results / "tuning" / "tables" / f"{name}.{extension}").stat().st_size > 0
    for name in tuning_report.FIGURE_NAMES:
        for extension in ("png", "pdf"):
            assert (results / "tuning" / "figures" / f"{name}.{extension}").stat().st_size > 0
    check_tuning_report(results)


def _ok_accuracy(runs: pd.DataFrame) -> pd.Series:
    """Test accuracy of the ok runs, by seed."""
    ok = runs[(runs["status"] == "ok") & runs["accuracy"].notna()]
    return ok.set_index("seed")["accuracy"].astype(float)


def check_tuning_report(results) -> None:
    """The tuning report's content against the runs it is made of: the selected trial has
    the best validation accuracy (ties: the lower trial), no tuned run is at the trials'
    seed, tuned and default runs are at the same seeds (the default runs themselves where
    the defaults won), and accuracy_default_vs_tuned.csv holds each strategy's default and
    tuned mean, tuned − default paired by seed, and its rank within its pair."""
    default = read_summary(results / "summary.csv")
    default = default[default["shots"] == "all"]
    summary = read_summary(results / "tuning" / "summary.csv")
    table = pd.read_csv(results / "tuning" / "tables" / "accuracy_default_vs_tuned.csv")
    assert len(table) == len(summary.groupby(["pair", "strategy"]))
    for row in table.itertuples():
        cell = summary[(summary["pair"] == row.pair) & (summary["strategy"] == row.strategy)]
        trials, tuned = cell[cell["tuning_kind"] == "trial"], cell[cell["tuning_kind"] == "tuned"]
        ok = trials[(trials["status"] == "ok") & trials["val_accuracy"].notna()]
        best = ok[ok["val_accuracy"] == ok["val_accuracy"].max()] if len(ok) else trials
        selected = trials[trials["selected"]]
        assert list(selected["trial"]) == [best["trial"].min()], (row.pair, row.strategy)
        assert set(tuned["trial"]) == set(selected["trial"]), (row.pair, row.strategy)
        assert not set(tuned["seed"]) & set(trials["seed"]), (row.pair, row.strategy)
        runs = default[(default["pair"] == row.pair) & (default["strategy"] == row.strategy)]
        assert sorted(tuned["seed"]) == sorted(runs["seed"]), (row.pair, row.strategy)
        if selected["trial"].item() == 0:  # the defaults won: the default runs, copied
            same = ["seed", "status", "accuracy", "val_accuracy", "created", "history"]
            assert tuned.sort_values("seed")[same].reset_index(drop=True).equals(
                runs.sort_values("seed")[same].reset_index(drop=True)), (
                f"{row.pair}/{row.strategy}: tuned runs with the defaults selected are not "
                f"the default runs")
        d, t = _ok_accuracy(runs), _ok_accuracy(tuned)
        assert (row.n_default, row.n_tuned, row.n_paired) == (
            len(runs), len(tuned), len((t - d).dropna())), (row.pair, row.strategy)
        assert [row.default_mean_pct, row.tuned_mean_pct, row.diff_mean_pp] == pytest.approx(
            [100 * d.mean(), 100 * t.mean(), 100 * (t - d).dropna().mean()], abs=1e-3,
            nan_ok=True), (row.pair, row.strategy)
    for _, pair in table.groupby("pair"):  # rank: 1 + the strategies shown strictly better
        for column in ("default", "tuned"):
            shown = pair[f"{column}_mean_pct"].round(1)
            ranks = pd.Series([1.0 + (shown > value).sum() if pd.notna(value) else math.nan
                               for value in shown], index=shown.index)
            assert pair[f"rank_{column}"].astype(float).equals(ranks), pair


@SWEEP_GROUP
@pytest.mark.slow
def test_ci_sweep_end_to_end(tmp_path_factory, tmp_path):
    # A copy, Snakemake's metadata included: the checks below delete and redo outputs.
    shutil.copytree(clean_ci_sweep(tmp_path_factory), tmp_path, dirs_exist_ok=True)

    config = yaml.safe_load(CI_CONFIG.read_text())
    results = tmp_path / config["results_dir"]
    summary = read_summary(results / "summary.csv")
    got = [(r.pair, r.strategy, int(r.seed), str(r.shots)) for r in summary.itertuples()]
    assert len(got) == len(set(got))
    assert set(got) == expected_runs(config)
    assert set(summary["pair"]) == set(config["pairs"])
    assert set(summary["strategy"]) == set(config["strategies"])

    for name in TABLE_NAMES:
        for extension in ("csv", "md", "tex", "html"):
            assert (results / "tables" / f"{name}.{extension}").stat().st_size > 0
    for name in figures.FIGURE_NAMES:
        for extension in ("png", "pdf"):
            assert (results / "figures" / f"{name}.{extension}").stat().st_size > 0
    accuracy_md = (results / "tables" / "accuracy.md").read_text()
    assert "synoffice-a-w†" in accuracy_md and "synthetic" in accuracy_md
    check_tuning_outputs(config, results)

    # Nothing left to do. A sweep that lost a record and its summary: the restart redoes
    # the missing run's pair cell (one job) and the report, nothing else; the cell trains
    # nothing: every run of the pair, the lost one too, comes back from the store.
    nothing = snakemake(tmp_path, "--cores", "2", "--dry-run")
    assert "Nothing to be done" in nothing.stdout + nothing.stderr
    lost = results / "runs" / "imagenet-digits" / "full" / "seed0-shotsall.json"
    pair_runs = sorted((results / "runs" / "imagenet-digits").rglob("*.json"))
    kept = {path: path.read_bytes() for path in pair_runs}
    lost.unlink()
    (results / "summary.csv").unlink()
    dry = snakemake(tmp_path, "--cores", "2", "--dry-run", "--quiet", "rules")
    plan = dry.stdout + dry.stderr
    jobs = dict(line.split() for line in plan.splitlines()  # the "job  count" table
                if len(line.split()) == 2 and line.split()[1].isdigit())
    assert jobs.get("cell_budgets") == "1" and "cell" not in jobs, plan  # a pair with budgets
    assert "prepare_data" not in jobs, plan

    result = snakemake(tmp_path, "--cores", "2")
    assert result.returncode == 0, result.stderr[-5000:]
    assert lost.exists()
    assert {path: path.read_bytes() for path in pair_runs} == kept  # restored byte for byte
    log = (results / "logs" / "cells" / "imagenet-digits.log").read_text()
    assert log.count("restored its finished record") == len(kept), log
    assert "imagenet-digits full seed 0: restored" in log, log

    report = tmp_path / "report.html"
    result = snakemake(tmp_path, "--report", str(report))
    assert result.returncode == 0, result.stderr[-5000:]
    # Every HTML table and PNG figure is embedded (as a data URL named after the file).
    embedded = report.read_text()
    for name in (*TABLE_NAMES, *tuning_report.TABLE_NAMES):
        assert f"{name}.html;base64," in embedded, name
    for name in (*figures.FIGURE_NAMES, *tuning_report.FIGURE_NAMES):
        assert f"{name}.png;base64," in embedded, name


def _cells_in_start_order(snakemake_log: str) -> list[str]:
    """The pairs whose cell jobs a Snakemake log shows starting, in the order they started."""
    lines = snakemake_log.splitlines()
    started = [index for index, line in enumerate(lines)
               if line.removeprefix("local").startswith(("rule cell:", "rule cell_budgets:"))]
    return [next(line.split("pair=")[1] for line in lines[index:]
                 if line.strip().startswith("wildcards:")) for index in started]


@SWEEP_GROUP
@pytest.mark.slow
def test_the_largest_cell_starts_first(tmp_path_factory):
    # A sweep ends when its last cell does: the pair cell with the most runs (the one with
    # data-efficiency budgets) must not wait for smaller ones and then run alone while the
    # other cores idle (cell_size, docs/PERFORMANCE.md). All cells are ready at the
    # start, so the largest is among the first `--cores` (2) the clean sweep started.
    workdir = clean_ci_sweep(tmp_path_factory)
    config = yaml.safe_load(CI_CONFIG.read_text())
    logs = [path.read_text() for path in (workdir / ".snakemake" / "log").glob("*.snakemake.log")]
    order = next(cells for cells in map(_cells_in_start_order, logs) if cells)
    assert sorted(order) == sorted(config["pairs"]), order
    largest, = config["data_efficiency"]["pairs"]
    assert largest in order[:2], order
