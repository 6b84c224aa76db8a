"""Hyper-parameter tuning (bench.tuning): deterministic draws, the same budget for every
strategy, trial 0 = the defaults, selection on validation accuracy only at a seed no
tuned result uses, and config errors that name the key. Fast: no training; the dry runs
take a few seconds each."""

from __future__ import annotations

import json
import math
import re
import shlex
from pathlib import Path

import pandas as pd
import pytest
import test_aggregate as records
import test_config_validation as validation
import test_pipeline as pipeline
import yaml

from bench import aggregate, tuning, tuning_report
from bench.summary import summary_frame
from bench.summary_file import read_summary

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = yaml.safe_load((REPO / "config.yaml").read_text())
DEFAULT_SPACE = tuning.search_space(DEFAULT_CONFIG)  # declared on the strategy classes


def tuned_config(trials: int = 5, seed: int = 0, **tuning_keys) -> dict:
    return {**DEFAULT_CONFIG, "tuning": {"trials": trials, "seed": seed, **tuning_keys}}


def test_same_seed_same_trials_and_every_strategy_the_same_number():
    first = tuning.all_trials(tuned_config(trials=5, seed=3))
    again = tuning.all_trials(tuned_config(trials=5, seed=3))
    assert first == again
    assert set(first) == set(DEFAULT_CONFIG["strategies"])
    assert {len(trials) for trials in first.values()} == {5}
    other = tuning.all_trials(tuned_config(trials=5, seed=4))
    assert all(first[s][0] == other[s][0] for s in first)  # trial 0: defaults, no draw
    assert any(first[s][1:] != other[s][1:] for s in first)
    # No tuning: no trials at all.
    assert {len(t) for t in tuning.all_trials(tuned_config(trials=0)).values()} == {0}


def test_draws_do_not_depend_on_other_parameters_or_strategies():
    space = DEFAULT_SPACE
    full = tuning.draw_trial(space, "full", 2, seed=0)
    reduced = {"full": {"train.lr": space["full"]["train.lr"]}}
    assert tuning.draw_trial(reduced, "full", 2, seed=0) == {"train.lr": full["train.lr"]}
    assert tuning.draw_trial(space, "scratch", 2, seed=0)["train.lr"] != full["train.lr"]
    with pytest.raises(ValueError, match="trial 0"):
        tuning.draw_trial(space, "full", 0, seed=0)


def test_trial_zero_is_the_defaults():
    from bench.strategies import STRATEGIES

    config = tuned_config()
    for strategy in config["strategies"]:
        defaults = tuning.trial_hparams(config, strategy, 0)
        assert set(defaults) == set(DEFAULT_SPACE[strategy])
        overrides = config["strategy_params"].get(strategy, {})
        for key, value in defaults.items():
            name = key.rsplit(".", 1)[1]
            expected = overrides.get(name, config["train"].get(
                name, STRATEGIES[strategy].defaults().get(name)))
            assert value == expected, (strategy, key)
    # feature_extraction overrides train.lr; partial's backbone_lr_mult is a class default.
    assert tuning.trial_hparams(config, "feature_extraction", 0)["train.lr"] == 1.0e-2
    assert tuning.trial_hparams(config, "partial", 0)[
        "strategy_params.partial.backbone_lr_mult"] == STRATEGIES["partial"].defaults()[
        "backbone_lr_mult"]


def test_draws_stay_inside_their_ranges_and_choices():
    space = DEFAULT_SPACE
    for strategy, params in space.items():
        for trial in range(1, 60):
            drawn = tuning.draw_trial(space, strategy, trial, seed=11)
            assert set(drawn) == set(params)
            for key, value in drawn.items():
                spec = params[key]
                if spec["distribution"] == "choice":
                    assert value in spec["values"]
                else:
                    assert spec["low"] <= value <= spec["high"], (strategy, key, value)
    # Log-uniform: about half the draws below the geometric midpoint.
    spec = {"distribution": "log_uniform", "low": 1e-4, "high": 1e-1}
    draws = [tuning.draw_trial({"s": {"train.lr": spec}}, "s", k, 0)["train.lr"]
             for k in range(1, 400)]
    below = sum(value < math.sqrt(1e-4 * 1e-1) for value in draws) / len(draws)
    assert 0.4 < below < 0.6


def test_set_arguments_reach_the_strategy_and_read_back_as_numbers():
    arguments = tuning.set_arguments("feature_extraction", {"train.lr": 1e-05,
                                                            "train.weight_decay": 0.0003})
    assert arguments == ["strategy_params.feature_extraction.lr=1.0e-05",
                         "strategy_params.feature_extraction.weight_decay=0.0003"]
    from bench.cli import _apply_overrides
    from bench.config import run_config

    config = _apply_overrides(json.loads(json.dumps(DEFAULT_CONFIG)), arguments
                              + ["strategy_params.partial.trainable_stages=3"])
    run = run_config(config, "imagenet-digits", "feature_extraction", 0)
    assert run.lr == 1e-05 and run.weight_decay == 0.0003
    assert run_config(config, "imagenet-digits", "partial", 0).params["trainable_stages"] == 3


def record(trial: int, val: float, test: float, status: str = "ok") -> dict:
    """The fields of a run record that selection may see, and test metrics it must not."""
    return {"pair": "p", "strategy": "full", "seed": 0, "status": status,
            "hparams": {"lr": 0.001 * (trial + 1), "backbone_lr_mult": 0.1},
            "metrics": {"accuracy": test, "balanced_accuracy": test, "macro_f1": test,
                        "val_accuracy": val}}


def test_selection_reads_validation_never_test(tmp_path):
    records = [record(0, val=0.60, test=0.50), record(1, val=0.10, test=0.99),
               record(2, val=0.70, test=0.20), record(3, val=0.70, test=0.95),
               record(4, val=0.95, test=0.90, status="diverged")]
    paths = []
    for k, rec in enumerate(records):
        paths.append(tmp_path / f"trial{k}.json")
        paths[-1].write_text(json.dumps(rec))
    out = tmp_path / "selected.json"
    tuning.write_selection(tuning.selection("p", "full", [(str(path), json.loads(
        path.read_text())) for path in paths], ["train.lr"]), out)
    chosen = json.loads(out.read_text())
    # Trial 1 has the best test accuracy and the worst validation accuracy: not chosen.
    # Trials 2 and 3 tie on validation: the lower index wins, whatever their test accuracy.
    # Trial 4 diverged: never chosen.
    assert chosen["selected"]["trial"] == 2
    assert chosen["selected"]["hparams"] == {"train.lr": 0.003}
    assert chosen["selected"]["val_accuracy"] == 0.70
    assert [t["trial"] for t in chosen["trials"]] == [0, 1, 2, 3, 4]
    assert "accuracy" not in json.dumps(chosen).replace("val_accuracy", "")
    # Poisoned test metrics cannot change the choice.
    for rec in records:
        rec["metrics"].update(accuracy=float("nan"), balanced_accuracy=None, macro_f1=-1)
    again = tuning.selection("p", "full", [(str(p), r) for p, r in zip(paths, records,
                                                                          strict=True)], [])
    assert again["selected"]["trial"] == 2
    # Nothing finished ok: the defaults (trial 0).
    failed = [(str(p), record(k, val=0.9, test=0.9, status="failed")) for k, p in enumerate(paths)]
    assert tuning.selection("p", "full", failed, [])["selected"]["trial"] == 0


def test_selection_document_names_its_runs_and_refuses_another_strategys_run():
    """Each trial keeps its path and the searched values under their full keys (a
    strategy's own key is read from the record's hparams by its last part); a record of
    the same pair but another strategy is refused, naming its file."""
    searched = ["strategy_params.full.backbone_lr_mult", "train.lr"]
    runs = [(f"trial{k}.json", record(k, val=0.5 + k / 10, test=0.5)) for k in range(2)]
    document = tuning.selection("p", "full", runs, searched)
    assert (document["pair"], document["strategy"], document["metric"]) == (
        "p", "full", "val_accuracy")
    assert [t["path"] for t in document["trials"]] == ["trial0.json", "trial1.json"]
    assert document["selected"]["hparams"] == {"strategy_params.full.backbone_lr_mult": 0.1,
                                               "train.lr": 0.002}
    other = {**record(2, val=0.9, test=0.9), "strategy": "partial"}
    with pytest.raises(ValueError, match=r"trial2\.json is a run of p/partial, not p/full"):
        tuning.selection("p", "full", [*runs, ("trial2.json", other)], searched)
    # The document names the selection seed; a trial at another seed is refused.
    assert document["seed"] == 0
    elsewhere = {**record(2, val=0.9, test=0.9), "seed": 1}
    with pytest.raises(ValueError, match=r"trial2\.json ran at seed 1, trial 0 at seed 0"):
        tuning.selection("p", "full", [*runs, ("trial2.json", elsewhere)], searched)


def test_selection_seed_defaults_outside_the_seeds_and_may_not_be_one_of_them():
    """Trials select at tuning.selection_seed, the results are reported at `seeds`: the
    default is the first seed above them, and a set one among them is refused naming
    the key (the run that picked a configuration would report it)."""
    assert tuning.tuning_settings(tuned_config())["selection_seed"] == 3  # seeds 0, 1, 2
    assert tuning.tuning_settings({**tuned_config(), "seeds": [4, 0]})["selection_seed"] == 5
    tuning.check_tuning_config(tuned_config(selection_seed=17))
    assert tuning.tuning_settings(tuned_config(selection_seed=17))["selection_seed"] == 17
    for seed in DEFAULT_CONFIG["seeds"]:
        with pytest.raises(ValueError) as error:
            tuning.check_tuning_config(tuned_config(selection_seed=seed))
        assert f"`tuning.selection_seed` = {seed} is one of `seeds` [0, 1, 2]" in str(error.value)
        assert "max(seeds) + 1 = 3" in str(error.value)


def _selected(trial: int, seed: int = 3) -> dict:
    """A selection document whose trials ran at ``seed``, trial ``trial`` selected."""
    trials = [{"trial": k, "path": f"tuning/trials/p/full/trial{k}.json", "status": "ok",
               "val_accuracy": 0.5, "hparams": {}} for k in range(3)]
    return {"pair": "p", "strategy": "full", "seed": seed, "metric": "val_accuracy",
            "selected": trials[trial], "trials": trials}


@pytest.mark.parametrize("trial", [0, 1, 2])
def test_tuned_results_never_use_a_selection_seed(trial):
    """A tuned run copies the default run at its own seed when the defaults won and
    trains otherwise; it never copies a trial's record (those ran at the selection seed),
    and a tuned run at the selection seed itself is refused."""
    default = "runs/p/full/seed1-shotsall.json"
    for seed in DEFAULT_CONFIG["seeds"]:
        source = tuning.tuned_run_source(_selected(trial), seed, default)
        assert source == (default if trial == 0 else None)
    with pytest.raises(ValueError, match=r"seed 3 is the selection seed of p/full"):
        tuning.tuned_run_source(_selected(trial), 3, default)
    # The tune job refuses it before training anything (tests/test_tuning_job.py).


def test_default_search_space_is_valid_and_complete():
    tuning.check_tuning_config(tuned_config())
    for strategy in DEFAULT_CONFIG["strategies"]:
        assert DEFAULT_SPACE[strategy], strategy
        # Each default lies inside its range: trial 0 is a point of the space.
        defaults = tuning.trial_hparams(DEFAULT_CONFIG, strategy, 0)
        for key, spec in DEFAULT_SPACE[strategy].items():
            if spec["distribution"] == "choice":
                assert defaults[key] in spec["values"], (strategy, key)
            else:
                assert spec["low"] <= defaults[key] <= spec["high"], (strategy, key)


# Through the Snakefile (schema, then semantic check): a dry run each, a few seconds.
BAD = [
    ({"search_space": {"full": {"train.lrr": {"distribution": "log_uniform", "low": 1e-4,
                                              "high": 1e-2}}}},
     ["search_space.full.train.lrr", "train.lr", "strategy_params.full.backbone_lr_mult"]),
    ({"search_space": {"full": {"train.lr": {"distribution": "normal", "low": 1, "high": 2}}}},
     ["search_space.full.train.lr.distribution", "'normal'", "log_uniform", "choice"]),
    ({"search_space": {"full": {"train.lr": {"distribution": "log_uniform", "low": 1e-2}}}},
     ["search_space.full.train.lr", "'high' is a required property"]),
    ({"tuning": {"trails": 3}}, ["'trails'", "tuning", "trials"]),
    ({"tuning": {"trials": 2, "pairs": ["imagenet-nope"]}},
     ["tuning.pairs[0]", "imagenet-nope", "imagenet-digits"]),
    ({"tuning": {"trials": 2, "selection_seed": 2}},
     ["`tuning.selection_seed` = 2 is one of `seeds`", "winner's curse"]),
]


@pytest.mark.parametrize(("config", "words"), BAD, ids=[str(c)[:80] for c, _ in BAD])
@pytest.mark.slow
def test_bad_tuning_config_fails_naming_key(tmp_path, config, words):
    validation.test_bad_config_fails_naming_key(tmp_path, config, words)


# The semantic check alone (what the Snakefile calls after the schema), without Snakemake.
BAD_SEMANTICS = [
    ({"search_space": {"full": {"strategy_params.partial.trainable_stages": {
        "distribution": "choice", "values": [1, 2]}}}},
     ["search_space.full.strategy_params.partial.trainable_stages", "not a tunable key",
      "strategy_params.full.backbone_lr_mult"]),
    ({"search_space": {"finetune": {"train.lr": {"distribution": "choice", "values": [0.1]}}}},
     ["search_space.finetune", "discriminative_lr"]),
    ({"search_space": {"full": {"train.lr": {"distribution": "log_uniform", "low": 1e-2,
                                             "high": 1e-3}}}},
     ["search_space.full.train.lr", "low < high"]),
    ({"tuning": {"trials": 2}, "search_space": {"scratch": {}}},
     ["tuning.trials", "search_space", "scratch"]),
]


@pytest.mark.parametrize(("override", "words"), BAD_SEMANTICS,
                         ids=[str(c)[:80] for c, _ in BAD_SEMANTICS])
def test_bad_tuning_semantics_name_the_key(override, words):
    config = {**DEFAULT_CONFIG, **override}
    with pytest.raises(ValueError) as error:
        tuning.check_tuning_config(config)
    for word in words:
        assert word in str(error.value), f"{word!r} missing from {error.value}"


@pytest.mark.slow
def test_tuned_config_plans_trials_and_tuned_runs(tmp_path):
    """workflows/configs/tuned.yaml (on one pair, for time): the default sweep plus, for
    every strategy, its 4 trials (trial 0, the defaults, included), a selection and its
    tuned runs, one per seed, all in one tune job for the pair; every trial at the
    selection seed (3), every tuned run at a seed of `seeds` (0, 1, 2), and no tuned run
    reads a trial's record (only the default runs are the job's inputs)."""
    one_pair = validation.write_config(tmp_path, {
        "pairs": {"imagenet-digits": DEFAULT_CONFIG["pairs"]["imagenet-digits"]},
        "data_efficiency": {"pairs": []}})
    result = validation.dry_run(tmp_path, REPO / "workflows/configs/tuned.yaml", one_pair,
                                extra=("--printshellcmds",))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    jobs = dict(line.split() for line in output.splitlines()
                if len(line.split()) == 2 and line.split()[1].isdigit())
    strategies, seeds = DEFAULT_CONFIG["strategies"], DEFAULT_CONFIG["seeds"]
    assert seeds == [0, 1, 2]
    # One job (one process) per pair for its default runs, and one for all of its tuning.
    assert jobs["tune"] == jobs["cell"] == "1" and "cell_budgets" not in jobs
    assert jobs["tuning_report"] == jobs["tuning_figures"] == "1"
    (tune,) = [line for line in output.splitlines() if " python -m bench tune " in line]
    words = {}  # option -> its values, as the job's shell reads them
    command = shlex.split(tune.split(" > ")[0])
    for word in command[command.index("tune") + 1:]:
        if word.startswith("--"):
            option = words.setdefault(word, [])
        else:
            option.append(word)
    assert words["--strategies"] == strategies
    trials = json.loads(words["--trials"][0])
    assert list(trials) == strategies and {len(sets) for sets in trials.values()} == {4}
    assert all(sets[0] == [] and all(sets[1:]) for sets in trials.values())
    assert words["--selection-seed"] == ["3"] and words["--seeds"] == ["0", "1", "2"]
    assert [len(words[option]) for option in ("--default", "--out-trials", "--out-selected",
                                              "--out-runs")] == [
        3 * len(strategies), 4 * len(strategies), len(strategies), 3 * len(strategies)]
    assert all("/runs/imagenet-digits/" in path for path in words["--default"])
    assert all("/tuning/trials/" in path for path in words["--out-trials"])
    # The report reads the trials through the selections: they are its inputs, so a
    # lost trial record reruns the tune job first.
    report = output.split("rule tuning_report:", 1)[1]
    inputs = re.search(r"^    input: (.+)$", report, re.M)[1].split(", ")
    assert sum("/tuning/trials/" in path for path in inputs) == 4 * len(strategies)


# A hand-made tuning of one pair, through the report's own commands (no training):
# (val, test) accuracy of trials 0..2 at the selection seed 2 (trial 0: the defaults),
# the default runs' test accuracy at the reporting seeds 0 and 1, and what training with
# the selected values gave at those seeds. The selected trials' test accuracies (0.30,
# 0.10) must appear nowhere in the tuned results.
SELECTION_SEED, SEEDS = 2, (0, 1)
TRIALS = {"scratch": [(0.50, 0.65), (0.55, 0.30), (0.40, 0.90)],
          "partial": [(0.90, 0.74), (0.85, 0.99), (0.20, 0.10)],  # the defaults win
          "full": [(0.60, 0.70), (0.80, 0.10), (0.70, 0.95)]}
DEFAULT = {"scratch": (0.65, 0.67), "partial": (0.75, 0.77), "full": (0.70, 0.72)}
TUNED = {"scratch": (0.80, 0.84), "full": (0.60, 0.64)}  # partial: the default runs


def _run(strategy: str, seed: int, test: float, val: float | None = None, lr: float = 1e-3):
    run = records.make_record("p", strategy, seed, accuracy=test)
    run["metrics"]["val_accuracy"] = test if val is None else val
    run["hparams"]["lr"] = lr
    return run


def _write_tuning(results: Path, strategy: str) -> None:
    """Trials, selection and tuned runs of one strategy, as the workflow lays them out."""
    tuning_dir = results / "tuning"
    default = records.write_records(results / "runs", [
        _run(strategy, seed, test) for seed, test in zip(SEEDS, DEFAULT[strategy], strict=True)])
    paths = []
    for k, (val, test) in enumerate(TRIALS[strategy]):
        paths.append(tuning_dir / "trials" / "p" / strategy / f"trial{k}.json")
        paths[-1].parent.mkdir(parents=True, exist_ok=True)
        paths[-1].write_text(json.dumps(_run(strategy, SELECTION_SEED, test, val,
                                             lr=1e-3 * (k + 1))))
    document = tuning.selection("p", strategy, [(str(path), json.loads(path.read_text()))
                                                for path in paths], ["train.lr"])
    tuning.write_selection(document, tuning_dir / "selected" / "p" / f"{strategy}.json")
    chosen = document["selected"]
    for seed, default_run in zip(SEEDS, default, strict=True):
        out = tuning_dir / "runs" / "p" / strategy / f"seed{seed}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        if chosen["trial"] == 0:  # the default run at this seed, copied (as the tune job does)
            out.write_bytes(Path(default_run).read_bytes())
        else:  # what training with the selected values gave
            out.write_text(json.dumps(_run(strategy, seed, TUNED[strategy][seed],
                                           lr=chosen["hparams"]["train.lr"])))


def _report(results: Path, *extra_tuned: Path) -> int:
    tuning_dir = results / "tuning"
    return tuning_report.main([
        "--out-dir", str(tuning_dir),
        "--selected", *map(str, sorted(tuning_dir.glob("selected/p/*.json"))),
        "--tuned", *map(str, sorted(tuning_dir.glob("runs/p/*/*.json"))), *map(str, extra_tuned),
        "--default", *map(str, sorted(results.glob("runs/p/*/*.json")))])


@pytest.fixture
def tuning_results(tmp_path) -> Path:
    """results/ as the pipeline lays it out: runs/, summary.csv and tuning/."""
    results = tmp_path / "results"
    for strategy in TRIALS:
        _write_tuning(results, strategy)
    aggregate.aggregate_main(results / "runs", results)
    assert _report(results) == 0
    return results


def test_report_selects_on_validation_and_tabulates_tuned_minus_default_paired_by_seed(
        tuning_results):
    summary = read_summary(tuning_results / "tuning" / "summary.csv")
    selected = summary[(summary["tuning_kind"] == "trial") & summary["selected"]]
    # The best validation accuracy; the best test accuracy is trial 2, 1 and 2.
    assert selected.set_index("strategy")["trial"].to_dict() == {"scratch": 1, "partial": 0,
                                                                 "full": 1}
    table = pd.read_csv(tuning_results / "tuning" / "tables" / "accuracy_default_vs_tuned.csv")
    got = table.set_index("strategy")[["default_mean_pct", "tuned_mean_pct", "diff_mean_pp",
                                       "n_paired", "rank_default", "rank_tuned"]]
    want = {"scratch": [66.0, 82.0, 16.0, 2, 3, 1],  # (65, 67) -> (80, 84)
            "partial": [76.0, 76.0, 0.0, 2, 1, 2],  # the default runs, copied
            "full": [71.0, 62.0, -9.0, 2, 2, 3]}  # (70, 72) -> (60, 64)
    for strategy, row in want.items():
        assert list(got.loc[strategy]) == pytest.approx(row), strategy
    # Selected at seed 2, reported at seeds 0 and 1: no selected trial's result is reused.
    trials, tuned = (summary[summary["tuning_kind"] == kind] for kind in ("trial", "tuned"))
    assert set(trials["seed"]) == {SELECTION_SEED} and set(tuned["seed"]) == set(SEEDS)
    assert not set(tuned["accuracy"]) & set(selected["accuracy"])
    notes = (tuning_results / "tuning" / "tables" / "accuracy_default_vs_tuned.md").read_text()
    assert "over seeds 0, 1" in notes and "validation accuracy at seed 2" in notes
    selected_md = (tuning_results / "tuning" / "tables" / "tuning_selected.md").read_text()
    assert "selection seed 2" in selected_md


def test_report_compares_like_seeds_and_refuses_a_tuned_run_at_the_selection_seed(
        tuning_results, capsys):
    """Default runs at other seeds than the tuned runs' stay out of both columns; a
    tuned record at the selection seed, or one without its default run, stops the
    report (exit 2) before it writes anything."""
    tables = tuning_results / "tuning" / "tables"
    records.write_records(tuning_results / "runs", [_run("scratch", 5, 0.0)])
    assert _report(tuning_results) == 0
    table = pd.read_csv(tables / "accuracy_default_vs_tuned.csv").set_index("strategy")
    assert table.loc["scratch", ["default_mean_pct", "n_default"]].tolist() == [66.0, 2]
    before = {path: path.read_bytes() for path in tables.iterdir()}
    cursed = tuning_results / "cursed" / "seed2.json"
    cursed.parent.mkdir()
    cursed.write_text(json.dumps(_run("full", SELECTION_SEED, 0.10)))
    assert _report(tuning_results, cursed) == 2
    assert "tuned run p/full seed 2 is at a selection seed" in capsys.readouterr().err
    orphan = tuning_results / "orphan" / "seed4.json"
    orphan.parent.mkdir()
    orphan.write_text(json.dumps(_run("full", 4, 0.5)))
    assert _report(tuning_results, orphan) == 2
    assert "no default run of p/full at seed 4" in capsys.readouterr().err
    assert {path: path.read_bytes() for path in tables.iterdir()} == before


def test_pipeline_check_of_the_tuning_report_holds_and_catches_a_wrong_number(tuning_results):
    pipeline.check_tuning_report(tuning_results)
    path = tuning_results / "tuning" / "tables" / "accuracy_default_vs_tuned.csv"
    table = pd.read_csv(path)
    table.loc[table["strategy"] == "full", "tuned_mean_pct"] += 1.0
    table.to_csv(path, index=False)
    with pytest.raises(AssertionError):
        pipeline.check_tuning_report(tuning_results)


def test_default_vs_tuned_bolds_by_significance_paired_by_seed():
    """Bold, per column: the best and every strategy not significantly worse (paired
    one-sided t-test by seed), as in the accuracy table, not only the highest mean."""
    def frame(runs: dict[str, tuple[float, ...]]) -> pd.DataFrame:
        return summary_frame([records.make_record("p", strategy, seed, accuracy=accuracy)
                              for strategy, accuracies in runs.items()
                              for seed, accuracy in enumerate(accuracies)])
    default = frame({"scratch": (0.50, 0.52, 0.54), "partial": (0.79, 0.83, 0.83),
                     "full": (0.80, 0.82, 0.84)})  # best − partial: +1, −1, +1 pp
    tuned = frame({"scratch": (0.85, 0.86, 0.87), "partial": (0.775, 0.800, 0.822),
                   "full": (0.80, 0.82, 0.84)})  # scratch better on every seed
    table = tuning_report.default_vs_tuned_table(default, tuned, selecting=[3])
    assert table.bold["Default (%)"].tolist() == [False, True, True]  # scratch, partial, full
    assert table.bold["Tuned (%)"].tolist() == [True, False, False]
    assert table.data["rank_default"].tolist() == [3, 2, 1]  # partial ranks 2, yet bold
    assert "not significantly worse" in " ".join(table.notes)


def _label_space_frame(strategies=("full", "dan"), seeds=(0, 1),
                       shared_elsewhere: bool = True) -> pd.DataFrame:
    """photos-flowers: label spaces differ (DAN without its logit term); office: shared."""
    runs = []
    for pair, shared in (("photos-flowers", False), ("office", True)):
        for strategy in strategies:
            for seed in seeds:
                run = records.make_record(pair, strategy, seed)
                run["data"]["shared_label_space"] = shared or not shared_elsewhere
                runs.append(run)
    return summary_frame(runs)


def _marked_rows(table) -> dict[str, list[str]]:
    """Row label -> the columns whose cell carries ‡."""
    return {row: [c for c in table.cells.columns if "‡" in table.cells.loc[row, c]]
            for row in table.cells.index}


@pytest.mark.parametrize("shared_elsewhere", [True, False])
def test_tuning_tables_mark_dan_where_the_label_spaces_differ(shared_elsewhere):
    """Issue 15: ‡ on DAN's numbers where source and target label spaces differ, with
    the note; not on other strategies, nor on pairs that share their labels."""
    default = _label_space_frame(shared_elsewhere=shared_elsewhere)
    tuned = _label_space_frame(seeds=(0, 1), shared_elsewhere=shared_elsewhere)
    compared = tuning_report.default_vs_tuned_table(default, tuned, selecting=[3])
    trials = _label_space_frame(seeds=(3,), shared_elsewhere=shared_elsewhere)
    selections = [{"pair": r.pair, "strategy": r.strategy, "seed": 3,
                   "trials": [{"trial": 0, "path": "unused"}],
                   "selected": {"trial": 0, "val_accuracy": r.val_accuracy,
                                "hparams": {"train.lr": 1e-3}}} for r in trials.itertuples()]
    chosen = tuning_report.selected_table(selections, trials)
    expected = {"default_vs_tuned": ["Default (%)", "Tuned (%)", "Tuned − default (pp)"],
                "selected": ["Val. acc. (%)"]}
    for kind, table in (("default_vs_tuned", compared), ("selected", chosen)):
        marked = _marked_rows(table)
        for row, columns in marked.items():
            dan_apart = row == "photos-flowers / DAN" and shared_elsewhere
            assert columns == (expected[kind] if dan_apart else []), (kind, row)
        notes = [n for n in table.notes if n.startswith("‡ source and target do not share")]
        assert len(notes) == shared_elsewhere, kind
