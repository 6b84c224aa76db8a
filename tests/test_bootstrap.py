import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bench.bootstrap import estimate, iqm, mean_over_pairs, probability_of_improvement
from bench.tables.aggregates import aggregate_rows, aggregates_table


def _batch(scores):
    return {pair: np.asarray(values, dtype=float)[None, :] for pair, values in scores.items()}


def test_probability_of_improvement_is_mann_whitney_u_over_pairs():
    x = {"a": [0.9, 0.5, 0.7], "b": [0.2, 0.4]}
    y = {"a": [0.5, 0.6], "b": [0.4, 0.1, 0.3], "c": [1.0]}
    expected = np.mean([stats.mannwhitneyu(x[p], y[p]).statistic / (len(x[p]) * len(y[p]))
                        for p in ("a", "b")])
    assert probability_of_improvement(_batch(x), _batch(y))[0] == pytest.approx(expected)


def test_iqm_is_the_mean_of_the_middle_half():
    scores = {"a": [1, 2, 3, 4], "b": [100, 5, 6, 7]}
    # 8 values sorted 1 2 3 4 5 6 7 100: the middle half is 3 4 5 6.
    assert iqm(_batch(scores))[0] == pytest.approx(4.5)


def test_bootstrap_is_stratified_by_pair():
    # Each pair's seeds agree, so resampling within pairs cannot move the mean over
    # pairs; resampling pairs or pooled runs would.
    scores = {"a": np.zeros(3), "b": np.full(3, 100.0)}
    result = estimate(mean_over_pairs, scores)
    assert (result.value, result.low, result.high) == (50.0, 50.0, 50.0)


def test_interval_covers_the_estimate_and_one_seed_has_none():
    rng = np.random.default_rng(0)
    scores = {pair: rng.normal(60, 5, 3) for pair in "abcd"}
    result = estimate(mean_over_pairs, scores)
    assert result.low < result.value < result.high
    single = estimate(mean_over_pairs, {pair: values[:1] for pair, values in scores.items()})
    assert math.isnan(single.low) and math.isnan(single.high)


def _runs(seeds, full_gain):
    rows = []
    for pair in ("p1", "p2", "p3"):
        for seed in range(seeds):
            for strategy, accuracy in (("scratch", 0.3 + 0.01 * seed),
                                       ("full", 0.3 + full_gain + 0.01 * seed)):
                rows.append({"pair": pair, "strategy": strategy, "seed": seed, "shots": "all",
                             "status": "ok", "accuracy": accuracy, "synthetic": False})
    return pd.DataFrame(rows)


def test_table_bolds_an_improvement_only_when_its_interval_clears_half():
    better = aggregates_table(_runs(3, 0.2))
    assert better.bold.loc["Full FT", "P(> Scratch)"]
    assert better.cells.loc["Scratch", "P(> Scratch)"] == "—"
    tied = aggregates_table(_runs(3, 0.0))
    assert not tied.bold.loc["Full FT", "P(> Scratch)"]
    assert tied.data.set_index("strategy").loc["full", "p_improve_over_scratch"] == 0.5


def test_one_seed_prints_plain_values():
    table = aggregates_table(_runs(1, 0.2))
    assert table.cells.loc["Full FT", "Mean over pairs (%)"] == "50.0"
    assert not table.bold.any().any()


def test_failed_runs_leave_the_aggregate_and_are_counted():
    runs = _runs(3, 0.2)
    runs.loc[(runs["strategy"] == "full") & (runs["pair"] == "p3"), "status"] = "failed"
    rows = aggregate_rows(runs).set_index("strategy")
    assert rows.loc["full", "n_pairs"] == 2
    table = aggregates_table(runs)
    assert "Full FT (2/3 pairs)" in table.cells.index
    assert any("(k/n pairs)" in note for note in table.notes)
