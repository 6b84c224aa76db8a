"""The tune job (`python -m bench tune`, the workflow's `tune` rule): a tuned pair's
trials, selections and tuned runs in one process.

Training is replaced by records whose validation accuracy each test chooses (the real
training of a tune job is the CI sweep's, tests/test_pipeline.py), so these tests say
which trial must win, check that it is the one selected and run at the reporting seeds,
and stay fast. The cell machinery and the store around it are the real ones.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import cell, cli, tuning
from bench.train import failed_record
from tests.conftest import tiny_config

PAIR = "imagenet-synflowers"
STRATEGIES = ("full", "dan")
SELECTION_SEED, SEEDS = 2, (0, 1)
TUNED_LR = 0.02  # trial 1 of each strategy
# (validation, test) accuracy by (strategy, lr): full's trial 1 has the better validation
# accuracy and the worse test accuracy, so it wins; dan's defaults win.
ACCURACY = {("full", 0.003): (0.50, 0.99), ("full", TUNED_LR): (0.90, 0.10),
            ("dan", 0.003): (0.80, 0.20), ("dan", TUNED_LR): (0.30, 0.95)}


@pytest.fixture
def trained(monkeypatch) -> list[tuple[str, int, float]]:
    """Training, replaced: a record whose accuracies ACCURACY gives; (strategy, seed, lr)
    of each run trained, in order."""
    runs = []

    def train_record(config, progress):
        runs.append((config.strategy, config.seed, config.lr))
        record = failed_record(config, RuntimeError("not trained"))
        val, test = ACCURACY[config.strategy, config.lr]
        record.update(status="ok", error=None)
        record["metrics"].update(accuracy=test, balanced_accuracy=test, macro_f1=test,
                                 val_accuracy=val)
        return record

    monkeypatch.setattr(cell, "train_record", train_record)
    return runs


def tune_files(tmp_path: Path) -> dict[str, list[Path]]:
    """The job's files as the workflow lays them out, strategy by strategy."""
    tuning_dir = tmp_path / "tuning"
    return {
        "--default": [tmp_path / "runs" / s / f"seed{seed}.json" for s in STRATEGIES for seed in SEEDS],
        "--out-trials": [tuning_dir / "trials" / s / f"trial{k}.json" for s in STRATEGIES
                         for k in range(2)],
        "--out-selected": [tuning_dir / "selected" / f"{s}.json" for s in STRATEGIES],
        "--out-runs": [tuning_dir / "runs" / s / f"seed{seed}.json" for s in STRATEGIES
                       for seed in SEEDS]}


def tune_argv(tmp_path: Path, files: dict[str, list[Path]], **changed) -> list[str]:
    """`tune`'s command line; ``changed``: option (underscores for dashes) -> its words."""
    options = {
        "--pair": [PAIR], "--strategies": list(STRATEGIES),
        "--strategy-configs": [json.dumps({s: tiny_config() for s in STRATEGIES})],
        "--trials": [json.dumps({s: [[], [f"strategy_params.{s}.lr={TUNED_LR}"]]
                                 for s in STRATEGIES})],
        "--searched": [json.dumps({s: ["train.lr"] for s in STRATEGIES})],
        "--selection-seed": [str(SELECTION_SEED)], "--seeds": list(map(str, SEEDS)),
        **{option: list(map(str, paths)) for option, paths in files.items()},
        "--store": [str(tmp_path / "store")], "--cache-dir": [str(tmp_path / "cache")]}
    options.update({f"--{key.replace('_', '-')}": words for key, words in changed.items()})
    return ["tune", *[word for option, words in options.items() for word in (option, *words)],
            "--quiet"]


def write_default_runs(files: dict[str, list[Path]]) -> None:
    for path in files["--default"]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"the default run {path.parent.name} {path.stem}\n")


def outputs(files: dict[str, list[Path]]) -> dict[Path, bytes]:
    return {path: path.read_bytes() for option, paths in files.items()
            if option.startswith("--out") for path in paths}


def test_one_job_trains_the_trials_selects_on_validation_and_runs_the_winner(tmp_path,
                                                                            trained):
    files = tune_files(tmp_path)
    write_default_runs(files)
    assert cli.main(tune_argv(tmp_path, files)) == 0
    # Every trial at the selection seed, trial 1 with its draw; then full's tuned runs
    # at the reporting seeds with the selected value. dan's defaults won: nothing trains.
    assert trained == [("full", SELECTION_SEED, 0.003), ("full", SELECTION_SEED, TUNED_LR),
                       ("dan", SELECTION_SEED, 0.003), ("dan", SELECTION_SEED, TUNED_LR),
                       *[("full", seed, TUNED_LR) for seed in SEEDS]]
    selected = {path.stem: json.loads(path.read_text()) for path in files["--out-selected"]}
    assert {s: selected[s]["selected"]["trial"] for s in STRATEGIES} == {"full": 1, "dan": 0}
    assert selected["full"]["selected"]["hparams"] == {"train.lr": TUNED_LR}
    # The same document `selection` makes of the trials' records, as they are on disk.
    for strategy, out in zip(STRATEGIES, files["--out-selected"], strict=True):
        trials = [(str(path), json.loads(path.read_text())) for path in files["--out-trials"]
                  if path.parent.name == strategy]
        assert out.read_text() == json.dumps(tuning.selection(
            PAIR, strategy, trials, ["train.lr"]), indent=2) + "\n"
    tuned = {(path.parent.name, path.stem): path for path in files["--out-runs"]}
    for seed in SEEDS:
        record = json.loads(tuned["full", f"seed{seed}"].read_text())
        assert (record["seed"], record["hparams"]["lr"]) == (seed, TUNED_LR)
        default = tmp_path / "runs" / "dan" / f"seed{seed}.json"
        assert tuned["dan", f"seed{seed}"].read_bytes() == default.read_bytes()


def test_a_killed_job_rerun_restores_its_runs_from_the_store(tmp_path, trained):
    """Snakemake deletes a rerun job's outputs: the trials and tuned runs come back from
    the store byte for byte, nothing trains again, the selections come out the same."""
    files = tune_files(tmp_path)
    write_default_runs(files)
    assert cli.main(tune_argv(tmp_path, files)) == 0
    first, trainings = outputs(files), len(trained)
    for path in first:
        path.unlink()
    assert cli.main(tune_argv(tmp_path, files)) == 0
    assert len(trained) == trainings
    assert outputs(files) == first


def _bad_inputs(files: dict[str, list[Path]]) -> list[tuple[dict, str]]:
    """(changed options, what the one-line error says) for each kind of bad input."""
    short = json.dumps({"full": [[], ["strategy_params.full.lr=0.02"]], "dan": [[]]})
    return [
        ({"seeds": ["0", str(SELECTION_SEED)]},
         f"include the --selection-seed {SELECTION_SEED}"),
        ({"out_trials": list(map(str, files["--out-trials"][:-1]))},
         "--out-trials names 3 file(s) for 2 strategies x 2"),
        ({"out_selected": [str(files["--out-selected"][0])]},
         "--out-selected names 1 file(s) for 2 strategies x 1"),
        ({"default": list(map(str, files["--default"][:2]))},
         "--default names 2 file(s) for 2 strategies x 2"),
        ({"searched": [json.dumps({"full": ["train.lr"]})]}, "--searched has no entry for strategy dan"),
        ({"trials": [short]}, "the same number of trials, one or more (got 1, 2)"),
        ({"strategy_configs": [json.dumps({"full": tiny_config()})]},
         "--strategy-configs has no config for strategy 'dan'"),
        ({"trials": [json.dumps({s: [["train.lr"]] for s in STRATEGIES})]}, "KEY=VALUE"),
        ({"searched": [json.dumps({s: "train.lr" for s in STRATEGIES})]},
         "expected strategy -> a list of keys"),
    ]


@pytest.mark.parametrize("case", range(9))
def test_bad_input_is_one_line_and_exit_2_before_anything_trains(tmp_path, trained, capsys,
                                                                 case):
    files = tune_files(tmp_path)
    write_default_runs(files)
    changed, words = _bad_inputs(files)[case]
    try:  # argparse exits (2) on a malformed option; main returns 2 on the others
        code = cli.main(tune_argv(tmp_path, files, **changed))
    except SystemExit as error:
        code = error.code
    err = capsys.readouterr().err
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1, err
    assert trained == [] and not (tmp_path / "tuning").exists()


def test_a_missing_default_run_is_bad_input_before_anything_trains(tmp_path, trained, capsys):
    files = tune_files(tmp_path)
    write_default_runs(files)
    files["--default"][3].unlink()
    assert cli.main(tune_argv(tmp_path, files)) == 2
    assert f"--default {files['--default'][3]}: no such file" in capsys.readouterr().err
    assert trained == [] and not (tmp_path / "tuning").exists()
