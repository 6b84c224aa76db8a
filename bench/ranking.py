"""Strategies ranked over pairs: average ranks, the Friedman test, the Nemenyi post-hoc test.

Demšar (2006, JMLR 7:1–30), "Statistical comparisons of classifiers over multiple data
sets": each pair is one data set. Within a pair the strategies are ranked by their mean
accuracy over seeds (main sweep, shots = all, ok runs only), rank 1 = best, tied
strategies sharing the average of their ranks. The Friedman test asks whether the
average ranks differ more than chance would make them; the Nemenyi test compares every
two strategies, and two strategies differ significantly when their average ranks are
more than the critical difference CD = q_alpha * sqrt(k (k + 1) / (6 N)) apart.

Only pairs where every strategy has an ok run count (the Friedman test needs complete
blocks); synthetic pairs count as pairs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scikit_posthocs
from scipy import stats as scipy_stats

from bench.stats import average_ranks
from bench.summary import main_runs, ok_runs, pairs_in, strategies_in

ALPHA = 0.05


@dataclass(frozen=True)
class RankTest:
    """The ranking of strategies over pairs and its tests.

    Attributes:
        accuracy: mean accuracy over ok seeds, pair (rows) x strategy (columns); only
            pairs with a value for every strategy.
        ranks: rank per pair and strategy (1 = best; ties share the average rank).
        average_ranks: mean of ``ranks`` over pairs, per strategy.
        statistic: Friedman's chi-square (corrected for ties); NaN when undefined.
        p_value: its p-value, chi-square with k - 1 degrees of freedom.
        nemenyi: Nemenyi p-value per two strategies (1 on the diagonal).
        cd: the critical difference of the average ranks at ``alpha``.
        alpha: the significance level of the post-hoc test and CD.
        left_out: pairs of the main sweep without an ok run of every strategy.
    """

    accuracy: pd.DataFrame
    ranks: pd.DataFrame
    average_ranks: pd.Series
    statistic: float
    p_value: float
    nemenyi: pd.DataFrame
    cd: float
    alpha: float
    left_out: list[str]

    @property
    def n_pairs(self) -> int:
        """N: the pairs (blocks) ranked."""
        return len(self.accuracy)

    @property
    def k(self) -> int:
        """k: the strategies ranked."""
        return self.accuracy.shape[1]


def accuracy_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Mean accuracy over ok seeds, pair x strategy, main sweep; NaN where no ok run.

    Rows in the sweep's pair order, columns in display order.
    """
    runs = main_runs(summary)
    ok = ok_runs(runs)
    if ok.empty:
        return pd.DataFrame(index=pairs_in(runs), dtype=float)
    means = ok.groupby(["pair", "strategy"])["accuracy"].mean().astype(float).unstack()
    return means.reindex(index=pairs_in(runs), columns=strategies_in(ok))


def friedman(ranks: pd.DataFrame) -> tuple[float, float]:
    """Friedman's chi-square from within-block ranks, with scipy's correction for ties.

    chi2 = (12 / (N k (k + 1)) * sum_j R_j^2 - 3 N (k + 1)) / C, R_j the rank sum of
    strategy j, C = 1 - sum(t^3 - t) / (N k (k^2 - 1)) over groups of t tied values.
    Unlike ``scipy.stats.friedmanchisquare`` it also takes k = 2 (the sign test).

    Returns:
        (statistic, p-value); NaN for both when every pair ties all strategies.
    """
    n, k = ranks.shape
    if n == 0 or k < 2:
        return math.nan, math.nan
    sums = ranks.sum(axis=0).to_numpy()
    ties = sum(float(np.sum(counts**3 - counts))
               for counts in (np.unique(row, return_counts=True)[1] for row in ranks.to_numpy()))
    correction = 1 - ties / (n * k * (k * k - 1))
    if correction <= 0:
        return math.nan, math.nan
    statistic = (12 / (n * k * (k + 1)) * float(np.sum(sums**2)) - 3 * n * (k + 1)) / correction
    return statistic, float(scipy_stats.chi2.sf(statistic, k - 1))


def critical_difference(k: int, n: int, alpha: float = ALPHA) -> float:
    """Nemenyi's CD = q_alpha * sqrt(k (k + 1) / (6 N)).

    q_alpha is the studentized range's upper alpha quantile for k groups (infinite
    degrees of freedom) over sqrt(2): Demšar's table gives 2.569 for k = 4, alpha = 0.05.
    """
    q_alpha = scipy_stats.studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
    return float(q_alpha * math.sqrt(k * (k + 1) / (6 * n)))


def rank_test(summary: pd.DataFrame, alpha: float = ALPHA) -> RankTest:
    """Average ranks, Friedman and Nemenyi tests over the pairs with every strategy ok.

    Args:
        summary: the summary frame (one row per run).
        alpha: the post-hoc test's significance level, for the CD.

    Returns:
        The :class:`RankTest`; with fewer than 2 pairs or 2 strategies its tests are
        NaN (and ``nemenyi`` is empty).
    """
    table = accuracy_table(summary)
    complete = table.dropna(axis=0, how="any")
    left_out = [pair for pair in table.index if pair not in complete.index]
    ranks, average = average_ranks(complete)
    n, k = complete.shape
    if n < 2 or k < 2:
        return RankTest(complete, ranks, average, math.nan, math.nan, pd.DataFrame(),
                        math.nan, alpha, left_out)
    statistic, p_value = friedman(ranks)
    # Nemenyi's p-values depend on |rank differences| only, so its ranking direction
    # (ascending) does not matter; columns come back as given.
    nemenyi = scikit_posthocs.posthoc_nemenyi_friedman(complete.to_numpy())
    nemenyi.index = nemenyi.columns = complete.columns
    return RankTest(complete, ranks, average, statistic, p_value, nemenyi,
                    critical_difference(k, n, alpha), alpha, left_out)
