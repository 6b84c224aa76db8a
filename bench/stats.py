"""Summaries over seeds: mean and Student-t 95% interval, and paired differences.

A benchmark has few seeds (3-5), so intervals use the t distribution with n - 1
degrees of freedom rather than a normal or bootstrap interval; one seed gives a mean
but no interval (NaN, shown as "—").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """Mean of n values and its two-sided t interval; ``low``/``high`` are NaN for n < 2."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def above_zero(self) -> bool:
        """True when the whole interval lies above 0 (False when there is no interval)."""
        return bool(self.low > 0)  # NaN > 0 is False


def mean_interval(values, confidence: float = CONFIDENCE) -> Interval:
    """Mean and t interval of ``values`` (1-D, NaNs dropped).

    No values give a NaN mean; one value gives its mean and a NaN interval; equal
    values give a zero-width interval.
    """
    x = np.asarray(pd.Series(values, dtype=float).dropna(), dtype=float)
    n = len(x)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n == 1:
        return Interval(mean, math.nan, math.nan, 1)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return Interval(mean, mean - half, mean + half, n)


def paired_differences(a: pd.Series, b: pd.Series) -> pd.Series:
    """``a - b`` over the index labels (e.g. seeds) present and non-NaN in both.

    Pairing by seed removes what the seeds share (data subsample, batch order) from
    the comparison, so the interval of the differences is tighter than that of two
    independent means.
    """
    joined = pd.concat({"a": a, "b": b}, axis=1, join="inner").dropna()
    return (joined["a"] - joined["b"]).rename(None)
