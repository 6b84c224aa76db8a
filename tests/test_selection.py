"""The evaluation protocol: which split selects the weights, which split is scored.

Promises (README, docs/TESTING.md): every run selects among its evaluations (every
``train.eval_every`` steps) by *validation* accuracy, keeps the earliest best, and
reports the test metrics of that evaluation's weights; labelled-target pairs train and
select on the target, Office-style pairs (`target_labels: false`) train and select on
the source and test on the target.

The selection tests run on a two-class data set whose validation split holds the test
images, with the test labels (validation and test agree) or flipped (they disagree:
validation accuracy = 1 − test accuracy, image for image). A run that selected on test,
kept the last or first evaluation, or reported another's weights gives itself away.
"""

from __future__ import annotations

import pytest
import torch

import bench.protocol
from bench.config import run_config
from bench.datasets import load_dataset
from bench.datasets.base import ImageDataset, ImageSplit
from bench.train import run
from tests.conftest import tiny_config

EVALUATIONS = 8
STEPS_APART = 10  # one pass over the 80 training images in batches of 8


def threes_and_eights(flip_val: bool) -> ImageDataset:
    """Digits 3 (label 0) and 8 (label 1) at 32 px, a pair a linear probe learns over
    several epochs; val = the test images, labels kept or flipped."""
    digits = load_dataset("digits", 32, per_class=[40, 2, 40])

    def two_classes(split: ImageSplit) -> ImageSplit:
        index = torch.nonzero((split.labels == 3) | (split.labels == 8)).flatten()
        return ImageSplit(split.images[index], (split.labels[index] == 8).long())

    train, test = two_classes(digits.train), two_classes(digits.test)
    val = ImageSplit(test.images, 1 - test.labels if flip_val else test.labels)
    return ImageDataset("digits", ("3", "8"), False, train, val, test)


def selection_run(monkeypatch, flip_val: bool) -> dict:
    dataset = threes_and_eights(flip_val)
    monkeypatch.setattr(bench.protocol, "load_dataset", lambda *args, **kwargs: dataset)
    config = tiny_config(evaluations=EVALUATIONS, eval_every=STEPS_APART)
    # Measured: validation accuracy climbs to a peak at evaluation 3, tied at 4, then
    # falls and plateaus as the cosine schedule ends.
    config["strategy_params"]["feature_extraction"] = {"lr": 0.002}
    record = run(run_config(config, "imagenet-digits", "feature_extraction", 0), progress=False)
    assert record["status"] == "ok", record["error"]
    return record


def earliest_best_step(record: dict) -> int:
    curve = [evaluation["val_accuracy"] for evaluation in record["history"]]
    return record["history"][curve.index(max(curve))]["step"]


@pytest.mark.parametrize("flip_val", [False, True], ids=["val-agrees", "val-disagrees"])
def test_evaluation_is_selected_on_validation_and_its_weights_are_tested(monkeypatch,
                                                                        flip_val):
    record = selection_run(monkeypatch, flip_val)
    curve = [evaluation["val_accuracy"] for evaluation in record["history"]]
    assert len(curve) == EVALUATIONS and len(set(curve)) > 1, curve  # a curve to choose from
    best = earliest_best_step(record)
    assert record["best_step"] == best, curve
    assert STEPS_APART < best < EVALUATIONS * STEPS_APART or flip_val, (
        f"this curve must peak mid-run: {curve}")
    assert curve.count(max(curve)) > 1 or flip_val, f"this curve must tie at its peak: {curve}"
    assert record["metrics"]["val_accuracy"] == max(curve)
    # The reported test accuracy is the selected evaluation's: the same images as val, so it
    # equals val accuracy (labels agree) or its complement (labels flipped).
    expected = 1 - max(curve) if flip_val else max(curve)
    assert record["metrics"]["accuracy"] == pytest.approx(expected, abs=1e-6)


def test_labelled_target_pair_trains_selects_and_tests_on_the_target():
    record = run(run_config(tiny_config(), "imagenet-synflowers", "dan", 0), progress=False)
    assert record["data"]["roles"] == {"train": "synflowers/train", "val": "synflowers/val",
                                       "other": "photos/train", "test": "synflowers/test"}
    # The cost counts the images of the steps taken: 5 full batches of 8 (48 images).
    assert record["data"]["train"] == 48
    assert record["steps"] == 5 and record["cost"]["train_images"] == 5 * 8


@pytest.mark.parametrize("strategy", ["partial", "dan"])
def test_office_pair_trains_and_selects_on_source_and_tests_on_target(strategy):
    """Office-31 protocol: source labels only; model selection on held-out *source*."""
    record = run(run_config(tiny_config(), "synoffice-a-w", strategy, 0), progress=False)
    roles = {"train": "synoffice-amazon/train", "val": "synoffice-amazon/val",
             "test": "synoffice-webcam/test"}
    if strategy == "dan":  # adapts to the unlabelled target's training images
        roles["other"] = "synoffice-webcam/train"
    assert record["data"]["roles"] == roles


def test_an_epoch_visits_every_example_once_in_the_order_of_the_runs_generator():
    """The training loop's batches: a permutation drawn from the run's own generator (not
    torch's global one), cut into batch_size pieces; a last batch of one is dropped."""
    from bench.train import _batches

    order = torch.randperm(10, generator=torch.Generator().manual_seed(0))
    batches = list(_batches(10, 4, torch.Generator().manual_seed(0)))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert torch.equal(torch.cat(batches), order)
    nine = list(_batches(9, 4, torch.Generator().manual_seed(0)))
    assert [len(b) for b in nine] == [4, 4]  # the ninth example alone: BatchNorm needs two
