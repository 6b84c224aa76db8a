"""Paper-grade statistics of the tables: bold by significance and above chance, plain
means with one seed, the Mean and Mean rank rows, and Holm's q-values in the NTG table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats
from test_aggregate import make_record

from bench.figures import ntg_figure
from bench.stats import holm, paired_p_greater
from bench.summary import summary_frame
from bench.tables.paper import accuracy_table, data_efficiency_table, ntg_table


def summary(runs: dict[str, dict[str, tuple[float, ...]]], classes: int = 10) -> pd.DataFrame:
    """pair -> strategy -> accuracy per seed (seed = position) -> the summary frame."""
    records = []
    for pair, strategies in runs.items():
        for strategy, accuracies in strategies.items():
            for seed, accuracy in enumerate(accuracies):
                record = make_record(pair, strategy, seed, accuracy=accuracy)
                record["data"]["num_classes"] = classes
                records.append(record)
    return summary_frame(records)


# ------------------------------------------------------------------ bold by significance


def test_bold_is_the_best_and_every_strategy_not_significantly_worse_paired_by_seed():
    table = accuracy_table(summary({"p": {
        "scratch": (0.50, 0.52, 0.54),
        "feature_extraction": (0.775, 0.800, 0.822),  # overlaps full, but lower every seed
        "partial": (0.79, 0.83, 0.83),  # best − partial: +1, −1, +1 pp: not worse
        "full": (0.80, 0.82, 0.84),
    }}))
    assert table.bold.loc["p"].to_dict() == {
        "Scratch": False, "Feature extraction": False, "Partial FT": True, "Full FT": True}
    data = table.data.set_index(["pair", "strategy"])
    full = np.array([0.80, 0.82, 0.84])
    for strategy, accuracies in (("partial", (0.79, 0.83, 0.83)),
                                 ("feature_extraction", (0.775, 0.800, 0.822))):
        expected = scipy_stats.ttest_rel(full, np.array(accuracies), alternative="greater")
        assert data.loc[("p", strategy), "p_vs_best"] == pytest.approx(expected.pvalue)
    assert data.loc[("p", "feature_extraction"), "p_vs_best"] < 0.05  # intervals overlap
    assert math.isnan(data.loc[("p", "full"), "p_vs_best"])  # the best itself
    assert "ttest_rel" in table.notes[1] and "not significantly worse" in table.notes[1]


def test_nothing_bold_where_no_strategy_beats_chance():
    at_chance = {"scratch": (0.09, 0.10, 0.11), "full": (0.06, 0.11, 0.16)}  # chance 10%
    table = accuracy_table(summary({"p": at_chance, "q": {"scratch": (0.09, 0.10, 0.11),
                                                          "full": (0.30, 0.32, 0.34)}}))
    assert not table.bold.loc["p"].any()  # full's mean 11.0 is highest, its interval isn't
    assert table.bold.loc["q"].to_dict() == {"Scratch": False, "Full FT": True}
    assert not table.data.set_index(["pair", "strategy"]).loc[("p", "full"), "beats_chance"]
    # with 20 classes chance is 5%: the same numbers beat it
    assert accuracy_table(summary({"p": at_chance}, classes=20)).bold.loc["p", "Full FT"]


def test_one_seed_prints_plain_means_and_bolds_only_the_highest():
    table = accuracy_table(summary({"p": {"scratch": (0.50,), "partial": (0.80,),
                                          "full": (0.81,)},
                                    "q": {"scratch": (0.05,), "partial": (0.08,),
                                          "full": (0.07,)}}))
    assert table.cells.loc["p"].tolist()[:3] == ["50.0", "80.0", "81.0"]
    assert "±" not in table.to_markdown().split("\n\n")[1]  # the grid: no "± —"
    assert "| 50.0 " in table.to_markdown()  # as printed: not re-read as the number 50
    assert table.bold.loc["p"].tolist() == [False, False, True]
    assert not table.bold.loc["q"].any()  # 8.0 is the highest, but under chance (10%)
    assert "one seed (n = 1), the plain mean" in table.notes[0]
    assert table.notes[1].startswith("Bold: the highest mean per pair")


def test_data_efficiency_bold_by_significance_per_pair_and_budget():
    records = []
    for strategy, accuracies in {"partial": (0.60, 0.62, 0.64), "full": (0.61, 0.62, 0.65),
                                 "scratch": (0.20, 0.22, 0.24)}.items():
        records += [make_record("p", strategy, seed, shots=5, accuracy=accuracy)
                    for seed, accuracy in enumerate(accuracies)]
        records += [make_record("p", strategy, seed) for seed in range(3)]
    table = data_efficiency_table(summary_frame(records))
    assert table.bold["5 shots"].tolist() == [False, True, True]  # scratch, partial, full
    assert "per pair and budget" in table.notes[1]


# ---------------------------------------------------------------- Mean and Mean rank rows

# By hand: ranks (1 = best) p1 3/2/1, p2 3/1.5/1.5 (partial and full tie), p3 2/1/3.
HAND = {"p1": {"scratch": 0.50, "partial": 0.70, "full": 0.80},
        "p2": {"scratch": 0.40, "partial": 0.75, "full": 0.75},
        "p3": {"scratch": 0.60, "partial": 0.65, "full": 0.55}}


def test_mean_and_mean_rank_rows_match_a_hand_computation(tmp_path):
    table = accuracy_table(summary({pair: {s: (a,) for s, a in row.items()}
                                    for pair, row in HAND.items()}))
    assert list(table.cells.index) == ["p1", "p2", "p3", "Mean", "Mean rank"]
    assert table.cells.loc["Mean"].tolist() == ["50.0", "70.0", "70.0"]
    assert table.cells.loc["Mean rank"].tolist() == ["2.67", "1.50", "1.83"]  # 8/3 4.5/3 5.5/3
    assert not table.bold.loc[["Mean", "Mean rank"]].any(axis=None)
    # one seed: the highest mean is bold (ties as shown all bold); p3: Partial FT, 65.0
    assert table.bold.loc[["p1", "p2", "p3"]].to_numpy().tolist() == [
        [False, False, True], [False, True, True], [False, True, False]]
    overall = table.data[table.data["pair"] == "mean over pairs"].set_index("strategy")
    assert overall["accuracy_mean_pct"].to_dict() == pytest.approx(
        {"scratch": 50.0, "partial": 70.0, "full": 70.0})
    assert overall["rank"].to_dict() == pytest.approx(
        {"scratch": 8 / 3, "partial": 4.5 / 3, "full": 5.5 / 3}, abs=1e-4)
    per_pair = table.data.set_index(["pair", "strategy"])["rank"]
    assert per_pair[("p2", "partial")] == per_pair[("p2", "full")] == 1.5
    assert "| Mean rank " in table.to_markdown() and "\nMean rank & " in table.to_latex()
    assert "<th>Mean rank</th>" in table.to_html() and "<th>Mean</th>" in table.to_html()
    assert any(note.startswith("Mean: per strategy") for note in table.notes)


def test_mean_rows_count_the_pairs_a_strategy_missed():
    runs = {pair: {s: (a,) for s, a in row.items()} for pair, row in HAND.items()}
    del runs["p3"]["partial"]
    table = accuracy_table(summary(runs))
    # partial: (70 + 75) / 2 over two pairs; ranks 2 and 1.5 (p3 ranks scratch 1, full 2)
    assert table.cells.loc["Mean", "Partial FT"] == "72.5 (2/3 pairs)"
    assert table.cells.loc["Mean rank", "Partial FT"] == "1.75 (2/3 pairs)"
    assert table.cells.loc["Mean rank", "Full FT"] == "1.50"  # (1 + 1.5 + 2) / 3


def test_notes_say_intervals_cover_seeds_only_and_the_test_set_size():
    tables = [accuracy_table(summary({"p": {"scratch": (0.5, 0.6), "full": (0.7, 0.8)}})),
              ntg_table(summary({"p": {"scratch": (0.5, 0.6), "full": (0.7, 0.8)}}))]
    for table in tables:
        assert any("training seeds only" in note and "test set: 200 images per pair" in note
                   for note in table.notes), table.name


# -------------------------------------------------------------------------- NTG and Holm


def test_holm_matches_a_hand_computation():
    # sorted 0.005 0.01 0.03 0.04 (m = 4) -> x4 0.02, x3 0.03, x2 0.06, x1 0.04 -> 0.06
    q = holm([0.01, 0.04, math.nan, 0.03, 0.005])
    assert q[[0, 1, 3, 4]] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert math.isnan(q[2])
    # sorted 0.5 0.9 (m = 2) -> x2 1.0, x1 0.9 -> running max 1.0: capped, then monotone
    assert holm([0.9, 0.5]).tolist() == [1.0, 1.0]
    assert holm([0.6, 0.7]).tolist() == [1.0, 1.0]  # 2 x 0.6 = 1.2: capped at 1
    assert holm([]).size == 0


NTG_RUNS = {  # accuracy per seed; errors against scratch give a spread of p-values
    "p": {"scratch": (0.70, 0.75, 0.80), "feature_extraction": (0.60, 0.66, 0.69),
          "partial": (0.66, 0.71, 0.78), "full": (0.74, 0.80, 0.83)},
    "q": {"scratch": (0.50, 0.55, 0.60), "feature_extraction": (0.45, 0.52, 0.57),
          "partial": (0.49, 0.50, 0.58), "full": (0.48, 0.51, 0.535)},
}


def test_ntg_q_values_are_holm_over_the_whole_table_and_marks_use_them():
    table = ntg_table(summary(NTG_RUNS))
    data = table.data.set_index(["pair", "strategy"])
    expected = {}
    for pair, runs in NTG_RUNS.items():
        scratch_error = 1 - np.array(runs["scratch"])
        for strategy in ("feature_extraction", "partial", "full"):
            error = 1 - np.array(runs[strategy])
            expected[(pair, strategy)] = scipy_stats.ttest_rel(
                error, scratch_error, alternative="greater").pvalue
    p = np.array([expected[key] for key in data.index])
    assert data["p_value"].to_numpy() == pytest.approx(p)
    # Holm by hand: the i-th smallest times (m - i + 1), then running maximum
    order = np.argsort(p)
    hand = np.maximum.accumulate(np.minimum(1, (len(p) - np.arange(len(p))) * p[order]))
    q = np.empty_like(p)
    q[order] = hand
    assert data["q_value"].to_numpy() == pytest.approx(q)
    assert (data["significant"] == (data["q_value"] < 0.05)).all()
    # the correction matters here: a cell with p < 0.05 is not marked
    assert ((data["p_value"] < 0.05) & ~data["significant"]).any()
    assert data["significant"].any()
    for (pair, strategy), row in data.iterrows():
        label = {"feature_extraction": "Feature extraction", "partial": "Partial FT",
                 "full": "Full FT"}[strategy]
        assert table.bold.loc[pair, label] == row["significant"]
        assert table.cells.loc[pair, label].endswith("*") == row["significant"]
    assert "Holm" in table.notes[0] and "ttest_rel" in table.notes[0]


def test_ntg_with_one_seed_has_no_test_and_no_mark():
    table = ntg_table(summary({"p": {"scratch": (0.8,), "full": (0.5,)}}))
    row = table.data.iloc[0]
    assert math.isnan(row["p_value"]) and math.isnan(row["q_value"]) and not row["significant"]
    assert table.cells.loc["p", "Full FT"] == "+30.0"  # the plain mean, no star


def test_paired_p_greater_is_ttest_rel_by_seed():
    a = pd.Series({0: 0.80, 1: 0.83, 2: 0.85, 3: 0.9})
    b = pd.Series({2: 0.84, 1: 0.80, 0: 0.79, 4: 0.1})  # seed 3 and 4 unpaired
    p, n = paired_p_greater(a, b)
    expected = scipy_stats.ttest_rel([0.80, 0.83, 0.85], [0.79, 0.80, 0.84],
                                     alternative="greater").pvalue
    assert n == 3 and p == pytest.approx(expected)
    assert paired_p_greater(a + 0.05, a) == (0.0, 4)  # the same gap every seed (to 1e-16)
    assert paired_p_greater(a, a) == (1.0, 4)
    assert math.isnan(paired_p_greater(a.iloc[:1], b)[0])


def test_ntg_figure_marks_the_cells_the_table_marks_holm_not_the_raw_interval():
    frame = summary(NTG_RUNS)
    data = ntg_table(frame).data
    assert (data["negative_transfer"] & ~data["significant"]).any()  # the two differ here
    texts = ntg_figure(frame).axes[0].texts
    assert len(texts) == len(data)
    starred = sorted(text.get_text().split("\n")[0] for text in texts
                     if text.get_fontweight() == "bold")
    assert all(label.endswith("*") for label in starred)
    marked = data[data["significant"]]
    assert starred == sorted(f"{mean:+.1f}*".replace("-", "−") for mean in marked["ntg_mean_pp"])
