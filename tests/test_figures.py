"""bench.figures on summaries built from run records the tests make."""

from __future__ import annotations

import matplotlib.colors as mcolors
import pandas as pd
import pytest
import yaml
from PIL import Image
from test_aggregate import STRATEGIES as ALL_STRATEGIES
from test_aggregate import make_record, sweep_records

from bench import figures
from bench.plotting import ASPECT, save, set_style
from bench.presentation import strategy_colours, strategy_label
from bench.strategies import STRATEGIES
from bench.summary import main_runs, strategies_in, summary_frame


@pytest.fixture(scope="module")
def summary():
    records = sweep_records()
    records.append(make_record("imagenet-digits", "dan", 3, status="failed"))
    return summary_frame(records)


def default_sweep_records(trials: int = 0) -> list[dict]:
    """Records shaped like the default sweep: config.yaml's 9 pairs, every strategy, 3 seeds.

    With ``trials``, the records are tuning trials instead (seed = the trial's index).
    """
    config = yaml.safe_load((figures.Path(__file__).parents[1] / "config.yaml").read_text())
    records = []
    for pair, spec in config["pairs"].items():
        synthetic = spec["target"].startswith("syn")
        for strategy in ALL_STRATEGIES:
            for seed in range(trials or 3):
                record = make_record(pair, strategy, seed, synthetic=synthetic,
                                     target_labels=spec["target_labels"])
                records.append({**record, "source": spec["source"], "target": spec["target"]})
    budgets = [make_record("imagenet-digits", s, seed, shots=k)
               for s in ALL_STRATEGIES[:4] for k in (1, 5, 10) for seed in range(3)]
    return records + ([] if trials else budgets)


def default_tuning_summary() -> pd.DataFrame:
    """A tuning summary (bench.tuning_report's columns) of 4 trials per pair and strategy."""
    frame = summary_frame(default_sweep_records(trials=4))
    frame.insert(0, "tuning_kind", "trial")
    frame.insert(1, "trial", frame["seed"])
    best = frame.groupby(["pair", "strategy"])["val_accuracy"].transform("max")
    frame.insert(2, "selected", frame["val_accuracy"] == best)
    return frame


def _summary_csv(tmp_path, records):
    path = tmp_path / "summary.csv"
    summary_frame(records).to_csv(path, index=False)
    return path


def test_every_figure_as_png_and_pdf(tmp_path):
    summary_csv = _summary_csv(tmp_path, sweep_records(seeds=(0, 1)))
    paths = figures.figures_main(summary_csv, tmp_path / "figures")
    assert sorted(p.name for p in paths) == sorted(
        f"{name}.{ext}" for name in figures.FIGURE_NAMES for ext in ("png", "pdf"))
    for path in paths:
        head = path.read_bytes()[:8]
        assert head.startswith(b"\x89PNG" if path.suffix == ".png" else b"%PDF"), path
    assert not list((tmp_path / "figures").glob(".*"))  # no temporary files left


def test_figures_drawn_in_parallel_are_the_ones_drawn_in_turn(tmp_path):
    summary_csv = _summary_csv(tmp_path, sweep_records(seeds=(0, 1)))
    one = figures.figures_main(summary_csv, tmp_path / "one")
    two = figures.figures_main(summary_csv, tmp_path / "two", workers=2)
    assert [p.name for p in one] == [p.name for p in two]
    pngs = [(a, b) for a, b in zip(one, two, strict=True) if a.suffix == ".png"]
    assert pngs and all(a.read_bytes() == b.read_bytes() for a, b in pngs)  # pixel for pixel


def test_one_colour_per_strategy_everywhere(summary):
    set_style()
    colours = strategy_colours(strategies_in(summary))
    accuracy = figures.accuracy_figure(summary)
    bars = accuracy.axes[0].patches
    strategies = strategies_in(main_runs(summary))
    for bar, strategy in zip(bars, strategies, strict=True):
        assert mcolors.to_hex(bar.get_facecolor()) == colours[strategy].lower()
    for figure in (figures.accuracy_vs_time_figure(summary),
                   figures.data_efficiency_figure(summary)):
        legend = figure.legends[0]
        for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=True):
            strategy = next(s for s in strategies if strategy_label(s) == text.get_text())
            assert mcolors.to_hex(handle.get_color()) == colours[strategy].lower()


def test_unknown_strategy_gets_its_own_colour():
    colours = strategy_colours(["scratch", "zeta", "alpha"])
    assert colours["scratch"] == STRATEGIES["scratch"].colour
    assert colours["alpha"] != colours["zeta"]
    assert {s.colour for s in STRATEGIES.values()}.isdisjoint({colours["alpha"], colours["zeta"]})


def test_synthetic_pairs_are_marked(summary):
    figure = figures.accuracy_figure(summary)
    titles = [ax.get_title() for ax in figure.axes if ax.get_visible() and ax.get_title()]
    assert "synoffice-a-w†" in titles and "imagenet-digits" in titles
    assert any("synthetic" in text.get_text() for text in figure.texts)


def test_gain_heat_map_shows_the_source_gain_tables_gaps():
    """The heat map reads each table's own gap column (no renaming to the NTG's)."""
    records = [make_record("office", s, seed, accuracy=acc, target_labels=False)
               for s, accs in {"source_only": (0.5, 0.52, 0.51), "dan": (0.6, 0.63, 0.61)}.items()
               for seed, acc in enumerate(accs)]
    frame = summary_frame(records)
    texts = [t.get_text() for t in figures.source_gain_figure(frame).axes[0].texts]
    assert texts == ["+10.3*\n±1.4"]  # DAN − source only, as the source-gain table has it
    row = pd.Series({"gap_mean_pp": -1.24, "significant": False, "ci_low_pp": -1.94,
                     "ci_high_pp": -0.54})
    assert figures._gap_label(row, "gap_mean_pp") == "−1.2\n±0.7"


def _label_space_summary(shared_elsewhere: bool = True) -> pd.DataFrame:
    """imagenet-digits: label spaces differ (DAN without its logit term); office: shared."""
    records = []
    for pair, shared in (("imagenet-digits", False), ("office", True)):
        for strategy in ("scratch", "full", "dan"):
            for seed in (0, 1):
                for shots in (None, 5):
                    record = make_record(pair, strategy, seed, shots=shots)
                    record["data"]["shared_label_space"] = shared or not shared_elsewhere
                    records.append(record)
    return summary_frame(records)


def _panel_texts(figure, title: str) -> list[str]:
    ax = next(ax for ax in figure.axes if ax.get_title().replace("\n", "") == title)
    return [text.get_text() for text in ax.texts]


def _notes(figure) -> list[str]:
    """The figure's own texts: its footnote (an Annotation under a legend, else a Text)."""
    return [" ".join(a.get_text().split())  # unwrapped
            for a in [*figure.texts, *figure.artists] if hasattr(a, "get_text")]


def test_dan_is_marked_where_the_label_spaces_differ_in_every_per_pair_figure():
    """Issue 15: ‡ on DAN where source and target label spaces differ, as the tables do."""
    summary = _label_space_summary()
    accuracy = figures.accuracy_figure(summary)
    assert _panel_texts(accuracy, "imagenet-digits") == ["‡"]
    assert _panel_texts(accuracy, "office") == []
    dan_row = strategies_in(main_runs(summary)).index("dan")
    ax = next(ax for ax in accuracy.axes if ax.get_title() == "imagenet-digits")
    assert ax.texts[0].xy[1] == dan_row  # at the foot of DAN's bar
    ntg = figures.ntg_figure(summary).axes[0]
    first_lines = {(round(t.get_position()[1] - 0.5), round(t.get_position()[0] - 0.5)):
                   t.get_text().split("\n")[0] for t in ntg.texts}
    strategies = [t.get_text() for t in ntg.get_xticklabels()]
    dan, full = strategies.index("DAN"), strategies.index("Full FT")
    assert first_lines[0, dan].endswith("‡") and not first_lines[1, dan].endswith("‡")
    assert not first_lines[0, full].endswith("‡")
    efficiency = figures.data_efficiency_figure(summary)
    assert _panel_texts(efficiency, "imagenet-digits") == ["‡"]
    assert _panel_texts(efficiency, "office") == []
    costs = [figures.accuracy_vs_time_figure(summary), figures.accuracy_vs_memory_figure(summary)]
    for cost in costs:
        assert _panel_texts(cost, "imagenet-digits") == ["‡"]
        assert _panel_texts(cost, "office") == []
    for figure in (accuracy, figures.ntg_figure(summary), efficiency, *costs):
        assert sum("‡ source and target do not share" in note for note in _notes(figure)) == 1


def test_no_label_space_mark_where_every_pair_shares_its_labels():
    summary = _label_space_summary(shared_elsewhere=False)
    for build in (figures.accuracy_figure, figures.ntg_figure, figures.data_efficiency_figure,
                  figures.accuracy_vs_time_figure, figures.accuracy_vs_memory_figure):
        figure = build(summary)
        assert not any("‡" in t.get_text() for ax in figure.axes for t in ax.texts)
        assert not any("‡" in note for note in _notes(figure))


def test_memory_axis_says_which_memory(summary):
    host = figures.accuracy_vs_memory_figure(summary)
    gpu = summary_frame([make_record("p", s, seed, accelerator=2**30 * (1 + seed))
                                   for s in ("scratch", "full") for seed in (0, 1)])
    accelerator = figures.accuracy_vs_memory_figure(gpu)
    assert "accelerator" in accelerator.get_supxlabel()
    assert "RSS" in host.get_supxlabel()


def test_data_efficiency_places_all_at_the_right(summary):
    figure = figures.data_efficiency_figure(summary)
    ax = figure.axes[0]
    labels = [tick.get_text() for tick in ax.get_xticklabels()]
    assert labels == ["1", "5", "all"]
    assert ax.get_xticks()[-1] > ax.get_xticks()[-2]


def test_figures_without_data_efficiency_or_scratch_still_exist():
    """Every workflow output must exist, so a figure without data says why it is empty."""
    summary = summary_frame([make_record("p", "full", seed) for seed in (0, 1)])
    for name in ("ntg_heatmap", "data_efficiency", "critical_difference"):
        figure = figures.FIGURES[name](summary)
        assert any("No " in text.get_text() for ax in figure.axes for text in ax.texts)


def test_critical_difference_diagram_is_wide_and_short_as_png_and_pdf(tmp_path):
    set_style()
    pairs = [("imagenet-digits", False), ("synoffice-a-w", True), ("synflowers", True),
             ("office-a-d", False)]
    summary = summary_frame(sweep_records(pairs=pairs, seeds=(0, 1)))
    figure = figures.critical_difference_figure(summary)
    width, height = figure.get_size_inches()
    assert height <= ASPECT * width
    texts = [text.get_text() for text in figure.axes[0].texts]
    strategies = strategies_in(summary)
    assert all(any(strategy_label(s) in text for text in texts) for s in strategies)
    assert any(text.startswith("CD = ") for text in texts)
    note = " ".join(text.get_text() for text in figure.texts)
    for words in ("Friedman χ²(7)", "N = 4 pairs", "k = 8 strategies", "Nemenyi", "synthetic"):
        assert words in note.replace("\n", " ")
    png, pdf = save(figure, tmp_path / "critical_difference")
    assert pdf.read_bytes().startswith(b"%PDF")
    with Image.open(png) as image:  # as saved: the note under the figure included
        assert image.height <= ASPECT * image.width


def test_critical_difference_needs_two_pairs_and_two_strategies():
    one_pair = summary_frame([make_record("p", s, seed) for s in ("scratch", "full")
                              for seed in (0, 1)])
    one_strategy = summary_frame([make_record(p, "full", 0) for p in ("p", "q")])
    for summary in (one_pair, one_strategy):
        figure = figures.critical_difference_figure(summary)
        message = " ".join(text.get_text() for ax in figure.axes for text in ax.texts)
        assert message.startswith("No critical-difference diagram")


def test_a_new_strategy_class_sets_its_place_name_and_colour_in_tables_and_figures():
    from bench.presentation import strategy_rank
    from bench.strategies import Strategy, register

    @register
    class Probe(Strategy):
        name, label, colour, order = "probe_strategy", "Probe FT", "#123456", 5

    try:
        ranked = sorted(["full", "probe_strategy", "feature_extraction", "scratch"],
                        key=strategy_rank)
        assert ranked == ["scratch", "probe_strategy", "feature_extraction", "full"]
        assert strategy_label("probe_strategy") == "Probe FT"
        assert strategy_colours(["probe_strategy"]) == {"probe_strategy": "#123456"}
    finally:
        del STRATEGIES["probe_strategy"]


@pytest.mark.parametrize("name", [*figures.FIGURE_NAMES, "tuning_spread"])
def test_every_figure_of_the_default_sweep_fits_the_report_view(name, tmp_path):
    """As saved, note included: height <= ASPECT x width (Snakemake's report cuts taller ones)."""
    set_style()
    if name == "tuning_spread":
        figure = figures.tuning_spread_figure(default_tuning_summary())
    else:
        figure = figures.FIGURES[name](summary_frame(default_sweep_records()))
    png, _ = save(figure, tmp_path / name)
    with Image.open(png) as image:
        assert image.height <= ASPECT * image.width, (name, image.size)
    assert not any(text.get_text().startswith("No ") for ax in figure.axes for text in ax.texts)
    for legend in figure.legends:  # keys under the panels, never above them
        assert legend.get_window_extent().y1 <= min(
            ax.get_window_extent().y0 for ax in figure.axes if ax.get_visible())


def test_accuracy_figure_names_the_strategies_on_its_axis(summary):
    figure = figures.accuracy_figure(summary)
    labels = [tick.get_text() for tick in figure.axes[0].get_yticklabels()]
    assert labels == [strategy_label(s) for s in strategies_in(main_runs(summary))]


def test_tuning_spread_draws_pairs_that_share_a_source_once_and_keys_its_marks():
    figure = figures.tuning_spread_figure(default_tuning_summary())
    titles = [ax.get_title() for ax in figure.axes if ax.get_visible()]
    assert len(titles) == 6  # 3 ImageNet pairs + 3 Office sources
    assert "synoffice-a-w†,\nsynoffice-a-d†" in titles
    keys = [text.get_text() for text in figure.legends[0].get_texts()]
    assert "defaults (trial 0)" in keys and "selected on validation" in keys


@pytest.mark.parametrize("shared_elsewhere", [True, False])
def test_tuning_spread_marks_dan_where_the_label_spaces_differ(shared_elsewhere):
    trials = _label_space_summary(shared_elsewhere)
    trials = trials[trials["shots"] == "all"].copy()
    trials.insert(0, "tuning_kind", "trial")
    trials.insert(1, "trial", trials["seed"])
    trials.insert(2, "selected", trials["seed"] == 0)
    figure = figures.tuning_spread_figure(trials)
    marks = {ax.get_title(): [t.get_text() for t in ax.texts] for ax in figure.axes
             if ax.get_title()}
    assert marks["imagenet-digits"] == (["‡"] if shared_elsewhere else [])
    assert marks["office"] == []
    assert sum("‡ source and target do not share" in n for n in _notes(figure)) == shared_elsewhere


def test_every_registered_strategy_has_a_colour_of_its_own():
    """Two strategies in one colour cannot be told apart in the cost figures' points."""
    colours = strategy_colours(list(STRATEGIES))
    assert len(set(colours.values())) == len(colours), colours
