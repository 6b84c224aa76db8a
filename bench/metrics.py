"""Classification metrics of one run's test predictions.

Written out in torch rather than imported from scikit-learn because every run job is a
fresh process and ``sklearn.metrics`` alone takes about two seconds to import, as long
as a CI run trains. The tests check each against scikit-learn's definition.
"""

from __future__ import annotations

import torch


def classification_metrics(truth: torch.Tensor, predicted: torch.Tensor,
                           num_classes: int) -> dict[str, float]:
    """Top-1 accuracy, balanced accuracy and macro-F1 of ``(N,)`` integer labels.

    Balanced accuracy is the mean recall over the classes present in ``truth``
    (scikit-learn's ``balanced_accuracy_score``); macro-F1 averages F1 over all
    ``num_classes`` classes, 0 for a class never predicted nor present
    (``f1_score(average="macro", labels=range(num_classes), zero_division=0)``).
    """
    truth, predicted = truth.long().flatten(), predicted.long().flatten()
    confusion = torch.bincount(truth * num_classes + predicted,
                               minlength=num_classes * num_classes).reshape(num_classes, num_classes)
    hits = confusion.diagonal().double()
    support, predicted_count = confusion.sum(1).double(), confusion.sum(0).double()
    present = support > 0
    recall = hits[present] / support[present]
    f1_denominator = support + predicted_count
    f1 = torch.where(f1_denominator > 0, 2 * hits / f1_denominator.clamp_min(1), 0.0)
    return {"accuracy": float(hits.sum() / len(truth)),
            "balanced_accuracy": float(recall.mean()),
            "macro_f1": float(f1.mean())}
