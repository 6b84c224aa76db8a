"""bench.ranking: average ranks over pairs, Friedman and Nemenyi, on tables built by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats
from test_aggregate import make_record

from bench import ranking
from bench.summary import summary_frame

# Mean accuracy per pair and strategy; on p2 partial and full tie.
TABLE = {
    "p1": {"scratch": 0.50, "partial": 0.70, "full": 0.80},
    "p2": {"scratch": 0.40, "partial": 0.75, "full": 0.75},
    "p3": {"scratch": 0.60, "partial": 0.65, "full": 0.55},
    "p4": {"scratch": 0.30, "partial": 0.60, "full": 0.90},
}
# By hand: ranks (1 = best) p1 3/2/1, p2 3/1.5/1.5, p3 2/1/3, p4 3/2/1.
HAND_RANKS = {"scratch": 11 / 4, "partial": 6.5 / 4, "full": 6.5 / 4}
# Rank sums 11, 6.5, 6.5: 12 / (4 * 3 * 4) * 205.5 - 3 * 4 * 4 = 3.375; one tie of two
# on p2: C = 1 - (2^3 - 2) / (4 * 3 * (3^2 - 1)) = 0.9375; chi2 = 3.375 / C = 3.6.
HAND_CHI2 = 3.6


def table_summary(table: dict[str, dict[str, float]], extra: list[dict] = ()) -> pd.DataFrame:
    """A summary with two ok seeds per cell at the table's accuracy, plus ``extra`` records."""
    records = [make_record(pair, strategy, seed, accuracy=accuracy)
               for pair, row in table.items() for strategy, accuracy in row.items()
               for seed in (0, 1)]
    return summary_frame([*records, *extra])


@pytest.fixture(scope="module")
def test_of_table():
    # Neither a failed run nor a limited-shots run may change a rank.
    extra = [make_record("p1", "scratch", 2, status="failed"),
             make_record("p3", "full", 0, shots=5, accuracy=0.99)]
    return ranking.rank_test(table_summary(TABLE, extra))


def test_average_ranks_match_a_hand_computation_with_a_tie(test_of_table):
    assert test_of_table.ranks.loc["p2", "partial"] == test_of_table.ranks.loc["p2", "full"] == 1.5
    assert test_of_table.average_ranks.to_dict() == pytest.approx(HAND_RANKS)
    assert (test_of_table.n_pairs, test_of_table.k) == (4, 3)


def test_friedman_matches_the_hand_computation_and_scipy(test_of_table):
    columns = [test_of_table.accuracy[s].to_numpy() for s in test_of_table.accuracy.columns]
    expected = scipy_stats.friedmanchisquare(*columns)
    assert test_of_table.statistic == pytest.approx(HAND_CHI2)
    assert test_of_table.statistic == pytest.approx(expected.statistic)
    assert test_of_table.p_value == pytest.approx(expected.pvalue)


def test_friedman_matches_scipy_on_a_larger_table_with_many_ties():
    rng = np.random.default_rng(0)
    values = rng.integers(0, 4, size=(12, 5)) / 4  # few distinct values: ties everywhere
    ranks, _ = ranking.average_ranks(pd.DataFrame(values))
    expected = scipy_stats.friedmanchisquare(*values.T)
    assert ranking.friedman(ranks) == pytest.approx((expected.statistic, expected.pvalue))


def test_critical_difference_uses_demsars_q_alpha():
    # Demšar (2006), Table 5(a), alpha = 0.05.
    for k, q_alpha in ((2, 1.960), (3, 2.343), (4, 2.569), (5, 2.728), (7, 2.949)):
        n = 10
        cd = ranking.critical_difference(k, n)
        assert cd / math.sqrt(k * (k + 1) / (6 * n)) == pytest.approx(q_alpha, abs=1e-3)


def test_nemenyi_p_below_alpha_exactly_where_ranks_are_a_cd_apart():
    rng = np.random.default_rng(1)
    strategies = ["scratch", "feature_extraction", "partial", "full"]
    table = {f"p{i}": dict(zip(strategies, rng.normal([0.3, 0.5, 0.6, 0.62], 0.05),
                               strict=True)) for i in range(14)}
    test = ranking.rank_test(table_summary(table))
    assert list(test.nemenyi.index) == list(test.nemenyi.columns) == strategies
    assert np.allclose(test.nemenyi.to_numpy(), test.nemenyi.to_numpy().T)
    for a in strategies:
        for b in strategies:
            if a != b:
                gap = abs(test.average_ranks[a] - test.average_ranks[b])
                assert (test.nemenyi.loc[a, b] < test.alpha) == (gap > test.cd), (a, b)
    assert test.nemenyi.loc["scratch", "full"] < test.alpha  # 0.3 vs 0.62: apart


def test_pairs_without_every_strategy_are_left_out():
    table = {**TABLE, "p5": {"scratch": 0.5, "partial": 0.6}}
    test = ranking.rank_test(table_summary(table, [make_record("p5", "full", 0,
                                                               status="failed")]))
    assert test.left_out == ["p5"]
    assert test.average_ranks.to_dict() == pytest.approx(HAND_RANKS)


def test_too_few_pairs_or_strategies_give_no_tests():
    one_pair = ranking.rank_test(table_summary({"p1": TABLE["p1"]}))
    one_strategy = ranking.rank_test(table_summary({p: {"full": r["full"]}
                                                    for p, r in TABLE.items()}))
    for test in (one_pair, one_strategy):
        assert math.isnan(test.statistic) and math.isnan(test.cd) and test.nemenyi.empty
