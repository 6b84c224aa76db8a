"""The table a paper quotes across pairs: mean, IQM and probability of improvement.

Per strategy, over the main sweep's pairs (:mod:`bench.bootstrap`, after rliable):
the mean over pairs of the per-pair mean accuracy, the interquartile mean of all
(pair, seed) accuracies, and the probability that a run of the strategy beats a run of
the baseline (training from scratch: "does transfer help?") on the same pair, each with
a 95% stratified-bootstrap interval. Bold: a probability of improvement whose whole
interval lies above 0.5.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bench.bootstrap import (
    REPETITIONS,
    Estimate,
    estimate,
    iqm,
    mean_over_pairs,
    probability_of_improvement,
)
from bench.presentation import strategy_label
from bench.summary import main_runs, ok_runs, pairs_in, strategies_in
from bench.tables.cells import count_note, format_number, table_notes
from bench.tables.render import Table

BASELINE = "scratch"
NAME = "aggregates"


def strategy_scores(runs: pd.DataFrame, strategy: str) -> dict[str, np.ndarray]:
    """Pair -> the strategy's ok accuracies (%) there, by seed; pairs without any left out."""
    ok = ok_runs(runs[runs["strategy"] == strategy])
    return {pair: group["accuracy"].to_numpy(dtype=float) * 100
            for pair, group in ok.groupby("pair", sort=False)}


def aggregate_rows(runs: pd.DataFrame, baseline: str = BASELINE) -> pd.DataFrame:
    """One row per strategy: mean, IQM and P(> baseline), each with its interval."""
    pairs = pairs_in(runs)
    base = strategy_scores(runs, baseline) if baseline in set(runs["strategy"]) else {}
    rows = []
    for strategy in strategies_in(runs):
        scores = strategy_scores(runs, strategy)
        if not scores:
            continue
        row = {"strategy": strategy, "n_pairs": len(scores), "pairs": len(pairs),
               "seeds": max(len(v) for v in scores.values())}
        row |= _columns("mean_pct", estimate(mean_over_pairs, scores))
        row |= _columns("iqm_pct", estimate(iqm, scores))
        improvement = (estimate(probability_of_improvement, scores, base)
                       if base and strategy != baseline else Estimate(*[math.nan] * 3))
        row |= _columns(f"p_improve_over_{baseline}", improvement)
        row["improves"] = bool(improvement.low > 0.5)  # NaN > 0.5 is False
        rows.append(row)
    return pd.DataFrame(rows)


def _columns(name: str, value: Estimate) -> dict[str, float]:
    return {name: value.value, f"{name}_low": value.low, f"{name}_high": value.high}


def _text(value: float, low: float, high: float, digits: int) -> str:
    """``84.3 [80.1, 88.0]``; the bare value without an interval; ``—`` without a value."""
    text = format_number(value, digits)
    if math.isnan(value) or math.isnan(low):
        return text
    return f"{text} [{format_number(low, digits)}, {format_number(high, digits)}]"


def aggregates_table(summary: pd.DataFrame, baseline: str = BASELINE) -> Table:
    """Rows: strategies; columns: mean over pairs, IQM, P(improvement over ``baseline``)."""
    runs = main_runs(summary)
    data = aggregate_rows(runs, baseline)
    improve = f"p_improve_over_{baseline}"
    columns = {"Mean over pairs (%)": ("mean_pct", 1), "IQM (%)": ("iqm_pct", 1),
               f"P(> {strategy_label(baseline)})": (improve, 2)}
    cells = pd.DataFrame(
        {label: [_text(r[key], r[f"{key}_low"], r[f"{key}_high"], digits)
                 for _, r in data.iterrows()] for label, (key, digits) in columns.items()},
        index=[strategy_label(s) + count_note(n, total, "pairs")
               for s, n, total in zip(data["strategy"], data["n_pairs"], data["pairs"],
                                      strict=True)])
    cells.index.name = "Strategy"
    bold = pd.DataFrame(False, index=cells.index, columns=cells.columns)
    bold[f"P(> {strategy_label(baseline)})"] = data["improves"].to_numpy()
    return Table(NAME, "Aggregates over pairs: mean, interquartile mean and probability of "
                 "improvement", data, cells, bold, _notes(runs, baseline))


def _notes(runs: pd.DataFrame, baseline: str) -> list[str]:
    """What each column is, what the intervals are, and what bold means."""
    return [
        "Over the pairs of the main sweep (all target training data), top-1 accuracy on each "
        "pair's test set. Mean over pairs: the mean of each pair's mean over seeds. IQM: the "
        "interquartile mean (middle 50%) of every pair × seed accuracy.",
        f"P(> {strategy_label(baseline)}): the probability that a run of the strategy beats a "
        f"run of {strategy_label(baseline)} on the same pair (over every seed x seed "
        "combination, ties count half), averaged over pairs; 0.5 = no better, no worse. "
        "Bold: its whole interval lies above 0.5.",
        f"[low, high]: 95% stratified-bootstrap percentile interval ({REPETITIONS} resamples "
        "of the seeds within each pair; the pairs are fixed, so it covers seed variation, "
        "not the choice of pairs nor the test sets' sampling). One seed: no interval. After "
        "Agarwal et al., NeurIPS 2021 (rliable).",
        *_pairs_note(runs),
        *table_notes(runs, counted=False),
    ]


def _pairs_note(runs: pd.DataFrame) -> list[str]:
    """A note when some strategy has no ok run on some pair."""
    covered = ok_runs(runs).groupby("strategy")["pair"].nunique()
    if (covered >= len(pairs_in(runs))).all():
        return []
    return ["(k/n pairs): the strategy has ok runs on only k of the n pairs; its aggregates "
            "are over those, and P(>) over the pairs both have."]
