"""bench.stats edge cases the mutation run found unguarded (the main checks are in
test_aggregate.py): two seeds already give an interval, and "above zero" is strict."""

from __future__ import annotations

import math

import pytest

from bench.stats import Interval, mean_interval


def test_two_values_give_a_t_interval_with_one_degree_of_freedom():
    interval = mean_interval([0.70, 0.80])
    # sd 0.0707, t(0.975, 1) = 12.7062 -> half-width 12.7062 * 0.0707 / sqrt(2) = 0.6353
    assert interval.n == 2 and interval.mean == pytest.approx(0.75)
    assert interval.half_width == pytest.approx(12.706205 * 0.05, rel=1e-5)


def test_above_zero_needs_the_whole_interval_strictly_above_zero():
    assert not Interval(0.1, 0.0, 0.2, 3).above_zero()  # touches 0: not negative transfer
    assert Interval(0.1, 1e-9, 0.2, 3).above_zero()
    assert not Interval(0.1, math.nan, math.nan, 1).above_zero()
