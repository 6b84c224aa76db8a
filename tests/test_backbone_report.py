import math

import pandas as pd
import pytest

from bench.backbone_report import (
    backbone_runs,
    backbones_figure,
    backbones_table,
    pair_means,
    rank_correlations,
    report_main,
)

TOP1 = {"small": 75.0, "medium": 76.5, "large": 77.5}


def _summary():
    """Two pairs x two strategies x three backbones x two seeds; `full` gains with
    top-1 on both pairs, `scratch` loses on pair a and gains on pair b."""
    rows = []
    gain = {"full": {"a": 1, "b": 1}, "scratch": {"a": -1, "b": 1}}
    for backbone, rank in zip(TOP1, range(3), strict=True):
        for pair in ("a", "b"):
            for strategy in ("scratch", "full"):
                for seed in (0, 1):
                    accuracy = 0.5 + 0.1 * rank * gain[strategy][pair] + 0.01 * seed
                    rows.append({"pair": pair, "strategy": strategy, "seed": seed,
                                 "shots": "all", "status": "ok", "accuracy": accuracy,
                                 "backbone": backbone, "synthetic": pair == "b"})
    # A limited-shots run is not the main sweep's and must not count.
    rows.append({**rows[0], "shots": 5, "accuracy": 0.0})
    return pd.DataFrame(rows)


def test_rank_correlation_follows_the_ordering():
    means = pair_means(backbone_runs(_summary(), TOP1))
    rho = rank_correlations(means).set_index("strategy")
    assert rho.loc["full", "rho_mean"] == pytest.approx(1.0)
    assert rho.loc["full", "pairs_positive"] == 2
    # scratch: -1 on a, +1 on b; the means over pairs are flat, so rho is undefined.
    assert rho.loc["scratch", "rho_pairs_median"] == pytest.approx(0.0)
    assert rho.loc["scratch", "pairs_positive"] == 1
    assert math.isnan(rho.loc["scratch", "rho_mean"])


def test_table_rows_by_top1_then_rho():
    table = backbones_table(pair_means(backbone_runs(_summary(), TOP1)))
    assert list(table.cells.index[:3]) == ["small (75.0)", "medium (76.5)", "large (77.5)"]
    # full, small backbone: mean over seeds 0.505, same on both pairs -> 50.5 %.
    assert table.cells.loc["small (75.0)", "Full FT"] == "50.5"
    assert table.cells.loc["Spearman ρ (mean over pairs)", "Full FT"] == "+1.00"
    assert table.cells.loc["Spearman ρ per pair: median (ρ > 0)", "Full FT"] == \
        "+1.00 (2/2)"
    assert any("1/6" in note for note in table.notes)
    assert any("synthetic" in note for note in table.notes)


def test_unknown_top1_names_the_backbone():
    with pytest.raises(ValueError, match="medium"):
        backbone_runs(_summary(), {"small": 75.0, "large": 77.5})


def test_figure_has_a_panel_per_pair():
    figure = backbones_figure(pair_means(backbone_runs(_summary(), TOP1)))
    titles = [ax.get_title() for ax in figure.axes if ax.get_visible() and ax.get_title()]
    assert titles == ["a", "b†"]


def test_report_main_reads_no_records_clearly(tmp_path):
    from bench.summary import RecordError

    with pytest.raises(RecordError, match="no run records"):
        report_main([tmp_path], tmp_path / "out", TOP1)


@pytest.mark.parametrize("shared_elsewhere", [True, False])
def test_dan_is_marked_where_the_label_spaces_differ_in_table_and_figure(shared_elsewhere):
    """Issue 15: any strategy may be swept over backbones; DAN on a pair whose label
    spaces differ (pair a here) is marked ‡ with its note, in the table (its means over
    pairs include pair a) and in the figure (by DAN's line in pair a's panel only)."""
    summary = _summary().replace({"strategy": {"full": "dan"}})
    summary["data_shared_label_space"] = (summary["pair"] != "a") | (not shared_elsewhere)
    means = pair_means(backbone_runs(summary, TOP1))
    table = backbones_table(means)
    rows = list(table.cells.index[:3])  # the backbones; then Spearman's rows
    assert [table.cells.loc[r, "DAN"].endswith(" ‡") for r in rows] == [shared_elsewhere] * 3
    assert not table.cells.map(lambda text: "‡" in text)["Scratch"].any()
    assert sum(note.startswith("‡ source and target do not share")
               for note in table.notes) == shared_elsewhere
    figure = backbones_figure(means)
    texts = {ax.get_title(): [t.get_text() for t in ax.texts] for ax in figure.axes
             if ax.get_visible() and ax.get_title()}
    assert texts == {"a": ["‡"] if shared_elsewhere else [], "b†": []}
    notes = " ".join(t.get_text() for t in [*figure.texts, *figure.artists]
                     if hasattr(t, "get_text"))
    assert ("do not share a label space" in " ".join(notes.split())) == shared_elsewhere
