"""Budgets in optimiser steps, early stopping and the convergence verdict.

Promises (README, docs/ARCHITECTURE.md "Training budget and convergence"): a run trains
at most ``train.max_steps`` steps whatever its data size, validates every
``train.eval_every`` steps, stops once ``train.patience`` validations bring nothing
strictly better, and its record says how many steps it took, why it stopped and whether
it converged; the learning-rate schedule spans the budget, not the steps taken; the old
epoch keys fail with one line naming their replacement.
"""

from __future__ import annotations

import json

import pytest

from bench.aggregate import aggregate_main, convergence_shares
from bench.cli import main
from bench.config import ConfigError, run_config
from bench.convergence import converged, evaluations_since_best, stop_early
from bench.io import write_atomic
from bench.optim import warmup_cosine
from bench.records import validate_record
from bench.summary import summary_frame
from bench.train import Trainer
from tests.conftest import REPO, tiny_config
from tests.test_aggregate import make_record


def history(*accuracies: float, every: int = 10) -> list[dict]:
    """A constructed validation history: one evaluation every ``every`` steps."""
    return [{"step": every * (i + 1), "val_accuracy": a} for i, a in enumerate(accuracies)]


# ------------------------------------------------------------------ rules, on histories


@pytest.mark.parametrize(("accuracies", "patience", "stops"), [
    ((0.5, 0.6, 0.6, 0.6), 2, True),  # two evaluations after the best, a tie is no better
    ((0.5, 0.6, 0.6), 2, False),  # one only
    ((0.5, 0.6, 0.6, 0.7), 2, False),  # strictly better: patience starts again
    ((0.9, 0.1, 0.1, 0.1, 0.1), 0, False),  # patience 0: never early
    ((0.9, 0.1), 1, True),
])
def test_early_stop_fires_once_patience_evaluations_bring_nothing_strictly_better(
        accuracies, patience, stops):
    assert stop_early(history(*accuracies), patience) is stops


def test_patience_counts_only_after_the_freezing_schedule_settles():
    """Best at step 10, schedule settled at step 40: the evaluations at 20-40 measured a
    network still being unfrozen, so at step 50 only one evaluation counts."""
    evaluations = history(0.9, 0.5, 0.5, 0.5, 0.5)
    assert evaluations_since_best(evaluations) == 4
    assert evaluations_since_best(evaluations, settled_step=40) == 1
    assert not stop_early(evaluations, 2, settled_step=40)
    assert stop_early(evaluations + history(0.5, every=60), 2, settled_step=40)


@pytest.mark.parametrize(("accuracies", "reason", "verdict"), [
    ((0.5, 0.6, 0.7), "budget", False),  # still improving at the last evaluation
    ((0.5, 0.7, 0.6), "budget", False),  # the best among the last two
    ((0.7, 0.6, 0.6), "budget", True),  # the best before the last two: it had plateaued
    ((0.5, 0.7, 0.7, 0.7), "budget", True),  # ties keep the earlier, which is not last
    ((0.5, 0.7, 0.6, 0.6), "early_stop", True),  # patience ran out
    ((0.5, 0.7, 0.6, 0.6), "diverged", False),
    ((), "budget", False),
])
def test_converged_flag_on_constructed_histories(accuracies, reason, verdict):
    assert converged(history(*accuracies), reason) is verdict


def test_an_unknown_stop_reason_is_refused():
    with pytest.raises(ValueError, match="stop reason 'tired'"):
        converged(history(0.5), "tired")


# ------------------------------------------------------------------- real tiny runs


def _run(strategy: str = "feature_extraction", shots: int | None = None, lr: float | None = None,
         **train) -> tuple[Trainer, dict]:
    config = tiny_config()
    config["train"].update(train)
    if lr is not None:
        config["strategy_params"][strategy] = {"lr": lr}
    trainer = Trainer(run_config(config, "imagenet-digits", strategy, 0, shots=shots),
                      progress=False)
    record = trainer.run()
    validate_record(record)
    assert record["status"] == "ok", record["error"]
    return trainer, record


def test_a_run_that_cannot_improve_stops_after_patience_and_says_it_converged():
    """A learning rate of 1e-9 leaves the predictions as they are: the first validation is
    the best, and the run stops ``patience`` validations later, long before the budget.
    The schedule still spans the budget: the last rate is the cosine's at step 6 of 40."""
    trainer, record = _run(lr=1e-9, max_steps=40, eval_every=2, patience=2)
    assert [h["step"] for h in record["history"]] == [2, 4, 6]
    assert (record["steps"], record["best_step"]) == (6, 2)
    assert (record["stop_reason"], record["converged"]) == ("early_stop", True)
    head = trainer.optimizer.param_groups[0]
    assert head["lr"] == pytest.approx(head["initial_lr"] * warmup_cosine(40, 0)(6))
    assert head["lr"] > 0.9 * head["initial_lr"]


def test_the_budget_does_not_shrink_with_the_data_so_one_shot_trains_for_real():
    """1 shot of 10 digits: 10 images, two batches (8 and 2) a pass. Epochs would have
    given it 2 steps a pass; the step budget gives it the 12 a full run gets."""
    _, one_shot = _run(shots=1, max_steps=12, eval_every=4, patience=0)
    _, full = _run(max_steps=12, eval_every=4, patience=0)
    assert one_shot["data"]["train"] == 10 and full["data"]["train"] == 40
    assert one_shot["steps"] == full["steps"] == 12
    assert one_shot["history"][-1]["epoch"] == pytest.approx(one_shot["cost"]["train_images"] / 10)
    assert one_shot["history"][-1]["epoch"] >= 5  # five passes over its 10 images or more


def test_early_stopping_waits_for_gradual_unfreezing_to_finish():
    """9 stages, one more every 2 steps: from step 18 all train; patience 1 counts only
    evaluations after it, so however flat validation is (lr 1e-9), no stop before 20."""
    trainer, record = _run("gradual_unfreeze", lr=1e-9, max_steps=30, eval_every=2, patience=1)
    assert trainer.strategy.settled_step() == 2 * trainer.strategy.num_stages == 18
    assert record["stop_reason"] == "early_stop" and record["steps"] == 20


# -------------------------------------------------------------------------- config


@pytest.mark.parametrize(("key", "replacement"), [("epochs", "train.max_steps"),
                                                  ("warmup_epochs", "train.warmup_steps")])
def test_an_old_epoch_key_fails_with_one_line_naming_its_replacement(key, replacement,
                                                                    tmp_path, capsys):
    config = tiny_config()
    config["train"][key] = 2
    with pytest.raises(ConfigError, match=rf"`train.{key}` is no longer read: .*{replacement}"):
        run_config(config, "imagenet-digits", "full", 0)
    out = tmp_path / "r.json"
    argv = ["run", "--config", str(REPO / "config.yaml"), "--pair", "imagenet-digits",
            "--strategy", "full", "--seed", "0", "--out", str(out), "--set", f"train.{key}=2"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and replacement in err, err
    assert not out.exists()


# ------------------------------------------------------------------------- aggregate


def test_the_aggregate_prints_per_strategy_shares_of_final_selection_and_non_convergence(
        tmp_path, capsys):
    """Two full runs (one still improving at its budget), one converged scratch run, and
    runs that do not count: a failed one and a data-efficiency one."""

    def record(strategy, seed, best_step, converged_, **kwargs):
        return {**make_record("p", strategy, seed, **kwargs), "best_step": best_step,
                "converged": converged_}

    records = [record("full", 0, 60, False), record("full", 1, 20, True),
               record("scratch", 0, 40, True), record("scratch", 1, None, False, status="failed"),
               record("scratch", 2, 60, False, shots=5)]
    shares = convergence_shares(summary_frame(records))
    assert shares.loc["full"].tolist() == [2, 0.5, 0.5]
    assert shares.loc["scratch"].tolist() == [1, 0.0, 0.0]
    assert shares.loc["all"].tolist() == [3, pytest.approx(1 / 3), pytest.approx(1 / 3)]
    for index, item in enumerate(records):
        write_atomic(tmp_path / "runs" / f"{index}.json", json.dumps(item))
    aggregate_main(tmp_path / "runs", tmp_path)
    out = capsys.readouterr().out
    assert "selected their final evaluation" in out
    assert any(line.split()[:2] == ["full", "2"] and "final  50.0%" in line
               for line in out.splitlines()), out
