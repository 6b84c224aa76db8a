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


def paired_p_greater(a: pd.Series, b: pd.Series) -> tuple[float, int]:
    """One-sided paired t-test of mean(a − b) > 0, paired by index label (e.g. seed).

    The same p as ``scipy.stats.ttest_rel(a, b, alternative="greater")`` on the labels
    in both (a one-sample t-test of the differences against 0, n − 1 degrees of
    freedom). Its t is undefined when every difference is the same; then p is 0 when
    that difference is positive and 1 otherwise (a constant gap leaves no doubt).

    Returns:
        The p-value (NaN with fewer than two pairs) and the number of pairs.
    """
    differences = paired_differences(a, b).to_numpy(dtype=float)
    n = len(differences)
    if n < 2:
        return math.nan, n
    if np.ptp(differences) <= 1e-12:  # equal up to float rounding: t would be noise
        return (0.0 if differences.mean() > 1e-12 else 1.0), n
    result = stats.ttest_1samp(differences, 0.0, alternative="greater")
    return float(result.pvalue), n


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error control); NaN stays NaN.

    Sorted ascending p(1) <= ... <= p(m) over the m non-NaN values, the adjusted
    p(i) = max over j <= i of min(1, (m − j + 1) p(j)): reject where it is below alpha,
    which is Holm's procedure. Valid under any dependence between the tests.
    """
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, math.nan)
    tested = np.flatnonzero(~np.isnan(p))
    order = tested[np.argsort(p[tested], kind="stable")]
    m = len(order)
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted[order] = np.maximum.accumulate(scaled) if m else scaled
    return adjusted


def average_ranks(accuracy: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Ranks within each pair (row), 1 = highest accuracy, ties averaged; and their means.

    Args:
        accuracy: pair (rows) x strategy (columns); a missing value gets no rank, and
            the others in its row are ranked among themselves.

    Returns:
        The ranks (same shape), and the average rank per strategy.
    """
    ranks = accuracy.rank(axis=1, ascending=False, method="average")
    return ranks, ranks.mean(axis=0)
