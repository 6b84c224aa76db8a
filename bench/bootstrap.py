"""Aggregates over pairs with stratified-bootstrap intervals, as rliable computes them.

Agarwal et al., "Deep Reinforcement Learning at the Edge of the Statistical Precipice"
(NeurIPS 2021) recommend, for few runs on many tasks: the interquartile mean (IQM) of
all runs, the probability of improvement P(X > Y), and percentile intervals from a
*stratified* bootstrap, which resamples the runs (here: seeds) within each task (here:
pair) and never the tasks themselves. Their library, ``rliable`` 1.2, pins ``arch < 8``,
and arch 7 fails to import beside pandas 3 (``TypeError`` in ``deprecate_kwarg``); the
three estimators are a few lines of numpy, written here after rliable's ``metrics``.

Scores are ``{pair: 1-D array of per-seed scores}``; pairs may have different seed
counts, and a strategy is compared on the pairs where it has scores.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

REPETITIONS = 2000  # bootstrap resamples; percentile bounds move < 0.1 pp beyond this
CONFIDENCE = 0.95
SEED = 0  # the resampling is part of the result: the same runs give the same interval

# Pair -> scores by seed. The estimators take a batch: each pair's array is (B, seeds)
# and they return B values, so all resamples are computed in one numpy call each (a
# loop over resamples made the aggregates table ~70x slower).
Scores = dict[str, np.ndarray]


@dataclass(frozen=True)
class Estimate:
    """A point estimate and its stratified-bootstrap percentile interval (NaN: none)."""

    value: float
    low: float
    high: float


def mean_over_pairs(scores: Scores) -> np.ndarray:
    """The mean over pairs of each pair's mean over seeds (the VTAB/DomainBed average)."""
    return np.mean([values.mean(axis=-1) for values in scores.values()], axis=0)


def iqm(scores: Scores) -> np.ndarray:
    """Interquartile mean of every (pair, seed) score: the mean of the middle 50%."""
    return stats.trim_mean(np.concatenate(list(scores.values()), axis=-1), 0.25, axis=-1)


def probability_of_improvement(x: Scores, y: Scores) -> np.ndarray:
    """P(X > Y), averaged over the pairs both have (NaN when they share none).

    Per pair, the share of seed pairs (i, j) with x_i > y_j, ties counting half: the
    Mann-Whitney U statistic over m x n, as rliable's ``probability_of_improvement``.
    """
    pairs = [pair for pair in x if pair in y]
    if not pairs:
        return np.full(len(next(iter(x.values()))), math.nan)
    per_pair = []
    for pair in pairs:
        difference = x[pair][:, :, None] - y[pair][:, None, :]
        per_pair.append(np.mean((difference > 0) + 0.5 * (difference == 0), axis=(1, 2)))
    return np.mean(per_pair, axis=0)


def _resample(scores: Scores, rng: np.random.Generator) -> Scores:
    """REPETITIONS stratified resamples: each pair's seeds drawn with replacement."""
    return {pair: values[rng.integers(0, len(values), (REPETITIONS, len(values)))]
            for pair, values in scores.items()}


def estimate(statistic: Callable[..., np.ndarray], *scores: Scores) -> Estimate:
    """``statistic(*scores)`` with its 95% stratified-bootstrap percentile interval.

    Args:
        statistic: one of this module's estimators.
        *scores: pair -> 1-D scores by seed, one mapping per method; each is resampled
            independently within each pair. With one seed on every pair, resampling
            changes nothing: no interval (NaN).
    """
    value = float(statistic(*({p: v[None, :] for p, v in group.items()} for group in scores))[0])
    if all(len(values) < 2 for group in scores for values in group.values()):
        return Estimate(value, math.nan, math.nan)
    rng = np.random.default_rng(SEED)
    draws = statistic(*(_resample(group, rng) for group in scores))
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return Estimate(value, float(low), float(high))
