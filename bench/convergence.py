"""When a run stops training, and whether it converged: rules over its validation history.

A run validates every ``train.eval_every`` optimiser steps. Each evaluation is a dict
with at least ``step`` and ``val_accuracy`` (the record's ``history`` entries). The best
evaluation is the first with the highest accuracy: a later one must be strictly better
to replace it, as the trainer keeps weights.

Early stopping (patience counted in evaluations, as Keras' and Lightning's
``EarlyStopping``) and the convergence verdict are pure functions of that history, so
they can be tested on constructed histories and recomputed from any record. The sweep's
view of them, the shares per strategy, is :mod:`bench.aggregate`'s, read from
``summary.csv``'s columns (so that a run, which imports this module, does not import
pandas).
"""

from __future__ import annotations

from collections.abc import Sequence

# A run that ran out of budget converged when its best evaluation is not among its last
# CONVERGED_TAIL evaluations: validation had stopped improving before the budget ended.
CONVERGED_TAIL = 2
STOP_REASONS = ("early_stop", "budget", "diverged")


def best_index(history: Sequence[dict]) -> int:
    """Index of the best evaluation: the earliest of the highest validation accuracy."""
    accuracies = [evaluation["val_accuracy"] for evaluation in history]
    return accuracies.index(max(accuracies))


def evaluations_since_best(history: Sequence[dict], settled_step: int = 0) -> int:
    """Evaluations after the best one, counted from the first after ``settled_step``.

    ``settled_step``: the step from which the strategy's freezing schedule no longer
    changes (gradual unfreezing); evaluations up to it measure a network still being
    unfrozen, so they never count towards patience.
    """
    unsettled = sum(evaluation["step"] <= settled_step for evaluation in history) - 1
    return len(history) - 1 - max(best_index(history), unsettled)


def stop_early(history: Sequence[dict], patience: int, settled_step: int = 0) -> bool:
    """Whether ``patience`` evaluations in a row brought no strictly better accuracy.

    ``patience`` 0 never stops early (the run trains its whole budget).
    """
    return (patience > 0 and len(history) > 0
            and evaluations_since_best(history, settled_step) >= patience)


def converged(history: Sequence[dict], stop_reason: str) -> bool:
    """Whether validation had stopped improving when the run stopped.

    True when patience ran out (``early_stop``), or when the budget ran out and the best
    evaluation is not among the last :data:`CONVERGED_TAIL`. Never for a diverged run.
    """
    if stop_reason not in STOP_REASONS:
        raise ValueError(f"stop reason {stop_reason!r}; known: {', '.join(STOP_REASONS)}")
    if stop_reason == "diverged" or not history:
        return False
    return stop_reason == "early_stop" or evaluations_since_best(history) >= CONVERGED_TAIL
