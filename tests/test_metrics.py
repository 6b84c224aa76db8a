import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

from bench.metrics import classification_metrics


@pytest.mark.parametrize("seed", range(5))
def test_metrics_match_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    classes = 6
    truth = rng.integers(0, classes - 1, size=80)  # the last class never occurs
    predicted = np.where(rng.random(80) < 0.6, truth, rng.integers(0, classes, size=80))
    got = classification_metrics(torch.tensor(truth), torch.tensor(predicted), classes)
    assert got["accuracy"] == pytest.approx(accuracy_score(truth, predicted))
    assert got["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(truth, predicted))
    assert got["macro_f1"] == pytest.approx(
        f1_score(truth, predicted, average="macro", labels=np.arange(classes), zero_division=0))


def test_perfect_and_constant_predictions():
    truth = torch.tensor([0, 1, 2, 2])
    assert classification_metrics(truth, truth, 3) == {
        "accuracy": 1.0, "balanced_accuracy": 1.0, "macro_f1": 1.0}
    constant = classification_metrics(truth, torch.zeros(4, dtype=torch.long), 3)
    assert constant["accuracy"] == 0.25
    assert constant["balanced_accuracy"] == pytest.approx(1 / 3)
