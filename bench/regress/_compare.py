"""Comparing two summaries run by run: a verdict per run, with its reasons."""

from __future__ import annotations

import pandas as pd

from bench.regress._columns import (
    ACCURACY_METRICS,
    CACHE_COLUMN,
    CACHE_ORDER_DEPENDENT,
    COST_METRICS,
    TIME_METRICS,
    RegressionInputError,
    distinct,
    present,
    provenance_columns,
)
from bench.regress._report import (
    CHANGED,
    IMPROVED,
    MISSING,
    NEW,
    REGRESSED,
    SAME,
    Comparison,
    RunResult,
    format_points,
)
from bench.regress._summary import prepare
from bench.regress._tolerances import Tolerances

# Rounding: summary.csv round-trips floats exactly, but a baseline written by another
# tool may not; 1e-9 is far below one test example.
_ROUNDING = 1e-9

Reasons = tuple[list[str], list[str]]  # (failures, gains)


def compare_run(name: str, base: pd.Series, current: pd.Series,
                tolerances: Tolerances) -> RunResult:
    """The verdict on one run present in both summaries.

    Args:
        name: the run's name.
        base: its row in the baseline summary (prepared).
        current: its row in the current summary (prepared).
        tolerances: how far each metric may move.

    Returns:
        The verdict, the changes of the metrics both sides have, and the reasons.
    """
    status = (base["status"] if base["status"] == current["status"]
              else f"{base['status']} → {current['status']}")
    result = RunResult(name, SAME, status)
    result.uncompared = _cache_order_dependent(base, current)
    reasons = [_status_reasons(base, current)]
    if base["status"] == "ok" and current["status"] == "ok":
        reasons.append(_accuracy_reasons(result, base, current, tolerances))
        reasons.append(_cost_reasons(result, base, current, tolerances))
    failures = [reason for found, _ in reasons for reason in found]
    gains = [reason for _, found in reasons for reason in found]
    result.reasons = failures + gains
    if failures:
        result.verdict = REGRESSED
    elif gains:
        result.verdict = IMPROVED
    elif base["status"] != current["status"] or any(
            result.changes.get(m, 0.0) != 0.0 for m in ACCURACY_METRICS):
        result.verdict = CHANGED
        result.reasons = ["within tolerance"]
    return result


def _status_reasons(base: pd.Series, current: pd.Series) -> Reasons:
    """A run no longer ok fails; a run ok again gains."""
    if base["status"] == "ok" and current["status"] != "ok":
        error = current.get("error")
        detail = f" ({str(error)[:80]})" if present(error) else ""
        return [f"status {current['status']}{detail}"], []
    if base["status"] != "ok" and current["status"] == "ok":
        return [], [f"status {base['status']} → ok"]
    return [], []


def _accuracy_reasons(result: RunResult, base: pd.Series, current: pd.Series,
                      tolerances: Tolerances) -> Reasons:
    """Accuracy metrics that dropped or rose beyond their tolerance; records each Δ."""
    failures, gains = [], []
    for metric in ACCURACY_METRICS:
        before, after = base[metric], current[metric]
        if not present(before):
            continue
        if not present(after):
            failures.append(f"{metric} missing")
            continue
        delta = after - before
        result.changes[metric] = delta
        limit = tolerances.limit(metric)
        if -delta > limit + _ROUNDING:
            failures.append(f"{metric} {format_points(delta)} pp (tolerance "
                            f"{100 * limit:.2f} pp)")
        elif delta > limit + _ROUNDING:
            gains.append(f"{metric} {100 * delta:+.2f} pp")
    return failures, gains


def _cost_reasons(result: RunResult, base: pd.Series, current: pd.Series,
                  tolerances: Tolerances) -> Reasons:
    """Time or memory grown (memory also shrunk) beyond its factor; records each ratio."""
    failures, gains = [], []
    for metric in COST_METRICS:
        before, after = base[metric], current[metric]
        if not (present(before) and present(after)) or before <= 0 or after <= 0:
            continue  # e.g. accelerator memory on CPU: null
        result.changes[metric] = after / before
        if result.uncompared:
            continue
        if metric in TIME_METRICS:
            floor = tolerances.time_floor_seconds
            ratio = max(after, floor) / max(before, floor)
        else:
            ratio = after / before
        limit = tolerances.limit(metric)
        if ratio > limit:
            failures.append(f"{metric} {after / before:.2f}× (tolerance {limit:g}×)")
        elif ratio < 1 / limit and metric not in TIME_METRICS:
            # A shorter time says as much about the machine's load as about the code.
            gains.append(f"{metric} {after / before:.2f}×")
    return failures, gains


def _cache_order_dependent(base: pd.Series, current: pd.Series) -> bool:
    """Whether one sweep computed the frozen activations that the other read cached."""
    states = {_cache_state(base), _cache_state(current)}
    return len(states) == 2 and states <= CACHE_ORDER_DEPENDENT


def _cache_state(row: pd.Series) -> str:
    """"computed", "hit", "none" (nothing frozen), or "unknown" (older records)."""
    value = row.get(CACHE_COLUMN)
    return str(value) if present(value) else "unknown"


def compare(current: pd.DataFrame, baseline: pd.DataFrame,
            tolerances: Tolerances | None = None) -> Comparison:
    """Compare two summaries (``summary.csv`` frames) run by run.

    Args:
        current: the summary to check.
        baseline: the summary to check it against.
        tolerances: how far a run may move; None for the defaults.

    Returns:
        A verdict per run of the baseline (in its order), then the new runs.

    Raises:
        RegressionInputError: either lacks a required column, has a bad value or
            lists a run twice, or the baseline has no runs.
    """
    tolerances = tolerances or Tolerances()
    current, baseline = prepare(current, "current"), prepare(baseline, "baseline")
    if baseline.empty:
        raise RegressionInputError("the baseline has no runs")
    results = []
    for name, base in baseline.iterrows():
        if name in current.index:
            results.append(compare_run(name, base, current.loc[name], tolerances))
        else:
            results.append(RunResult(name, MISSING, f"{base['status']} → —",
                                     reasons=["in the baseline, not in the current summary"]))
    results += [RunResult(name, NEW, row["status"], reasons=["not in the baseline"])
                for name, row in current.iterrows() if name not in baseline.index]
    notes = _provenance_notes(current, baseline)
    uncompared = [r.run for r in results if r.uncompared]
    if uncompared:
        notes.append(f"time and memory not compared for {len(uncompared)} run(s) whose "
                     f"frozen activations were computed in one sweep and read from the cache "
                     f"in the other (which run computes them depends on job order): "
                     f"{', '.join(uncompared)}")
    return Comparison(results, tolerances, notes)


def _provenance_notes(current: pd.DataFrame, baseline: pd.DataFrame) -> list[str]:
    """Where machine or versions differ: numbers may move for that reason alone."""
    notes = []
    for column in provenance_columns(baseline):
        if column in current.columns:
            before, after = distinct(baseline, column), distinct(current, column)
            if before != after:
                notes.append(f"{column} differs: baseline {', '.join(before) or '—'}; "
                             f"current {', '.join(after) or '—'}")
    if notes:
        notes.append("accuracy can shift by a few test examples and times by any factor "
                     "across machines and versions (docs/REGRESSION.md)")
    return notes
