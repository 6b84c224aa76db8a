"""``summary.csv`` -> the paper's figures, PNG (200 dpi) and PDF, under ``figures/``.

One colour per strategy in every figure (each strategy class's ``colour``,
Okabe–Ito, safe for colour-blind readers); synthetic pairs carry a † and a note under
the figure. Intervals are the same 95% t-intervals over seeds as in the tables
(:mod:`bench.stats`); only runs with status ``ok`` are plotted, and panels say
"k/n ok" where some runs diverged or failed. The plumbing the figures share
(style, small multiples, legend, note, saving) is :mod:`bench.plotting`.

    python -m bench.figures --out-dir results/figures results/summary.csv
"""

from __future__ import annotations

import argparse
import functools
import math
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scikit_posthocs
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
from matplotlib.transforms import Transform, offset_copy

from bench.plotting import (
    ACCURACY_LABEL,
    WIDTH,
    add_note,
    chance_line,
    empty_figure,
    save,
    set_style,
    small_multiples,
)
from bench.presentation import pair_label, strategy_colours, strategy_label
from bench.ranking import RankTest, rank_test
from bench.stats import mean_interval
from bench.summary import (
    MIB,
    data_efficiency_runs,
    main_runs,
    ok_runs,
    pairs_in,
    strategies_in,
    synthetic_pairs,
)
from bench.summary_file import read_summary
from bench.tables.cells import format_number
from bench.tables.paper import label_space_marks, ntg_table, source_gain_table

FIGURE_NAMES = ("accuracy", "ntg_heatmap", "source_gain_heatmap", "accuracy_vs_time",
                "accuracy_vs_memory", "data_efficiency", "critical_difference")


def _summaries(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per (pair, strategy): accuracy mean/interval (%), mean of cost ``column`` as x, counts."""
    rows = []
    for (pair, strategy), group in frame.groupby(["pair", "strategy"], sort=False):
        ok = ok_runs(group)
        interval = mean_interval(ok["accuracy"])
        rows.append({"pair": pair, "strategy": strategy, "n_ok": len(ok), "n": len(group),
                     "mean": interval.mean * 100, "low": interval.low * 100,
                     "high": interval.high * 100, "values": ok["accuracy"].to_numpy() * 100,
                     "x": ok[column].astype(float).mean() if column else np.nan})
    return pd.DataFrame(rows)


def _yerr(rows: pd.DataFrame) -> np.ndarray:
    """Asymmetric error-bar lengths from interval bounds; none where there is no interval."""
    return np.nan_to_num(np.vstack([rows["mean"] - rows["low"], rows["high"] - rows["mean"]]))


def _label_space_marks(runs: pd.DataFrame, cells: pd.DataFrame) -> tuple[pd.Series, str]:
    """The ‡ of each (pair, strategy) row of ``cells`` ("" where none), and the note's text.

    The tables' rule (:func:`bench.tables.paper.label_space_marks`: DAN on a pair whose
    label spaces differ).
    """
    marks, notes = label_space_marks(runs, cells)
    return marks, " ".join(notes)


def _with(note: str, more: str) -> str:
    """A figure's note and, where there is one, the ‡ note after it."""
    return f"{note} {more}" if more else note


# ---------------------------------------------------------------------------- figures


def accuracy_figure(summary: pd.DataFrame) -> Figure:
    """Bars: accuracy (%) per strategy, one panel per pair; 95% CI whiskers, seeds as dots.

    Horizontal bars with the strategies named on the y axis, so telling them apart
    does not rest on colour (print, greyscale, colour-blind readers).
    """
    runs = main_runs(summary)
    grid = small_multiples(runs, sharex=True, sharey=True)
    cells = _summaries(runs, "")
    cells["mark"], label_space_note = _label_space_marks(runs, cells)
    for ax, pair in grid.panels():
        rows = cells[cells["pair"] == pair].set_index("strategy").reindex(grid.strategies)
        _bars(ax, rows, grid.strategies, grid.colours)
        chance_line(ax, runs[runs["pair"] == pair], vertical=True)
        ax.set_xlim(0, 100)
        ax.set_xticks([0, 50, 100])
        ax.grid(axis="y", visible=False)
    first = grid.axes.flat[0]
    first.set_yticks(np.arange(len(grid.strategies)),
                     [strategy_label(s) for s in grid.strategies])
    first.set_ylim(len(grid.strategies) - 0.5, -0.5)  # shared: the first strategy on top
    return grid.finish(runs, _with("Bars: mean over seeds; whiskers: 95% t-interval; dots: "
                                    "seeds; dotted: chance (1 / classes).", label_space_note),
                       marker=None, xlabel=ACCURACY_LABEL, ylabel=None)


def _bars(ax: Axes, rows: pd.DataFrame, strategies: list[str], colours: dict[str, str]) -> None:
    """A bar per strategy (mean), 95% CI whiskers, a dot per seed; at its foot ‡ and "k/n ok"."""
    y = np.arange(len(strategies))
    ax.barh(y, rows["mean"].fillna(0), color=[colours[s] for s in strategies], height=0.75)
    present = rows["mean"].notna().to_numpy()
    ax.errorbar(rows["mean"][present], y[present], xerr=_yerr(rows[present]), fmt="none",
                ecolor="0.15", elinewidth=1, capsize=2)
    for i, strategy in enumerate(strategies):
        values = rows.loc[strategy, "values"]
        if isinstance(values, np.ndarray) and len(values):
            jitter = np.linspace(-0.15, 0.15, len(values)) if len(values) > 1 else [0.0]
            ax.scatter(values, i + np.asarray(jitter), s=7, color="0.1", zorder=3,
                       linewidths=0)
        n, n_ok = rows.loc[strategy, "n"], rows.loc[strategy, "n_ok"]
        # At the bar's foot, next to the strategy's name on the axis: "DAN  ‡ 2/3 ok".
        foot = [rows.loc[strategy, "mark"] if not pd.isna(n) else "",
                f"{int(n_ok)}/{int(n)} ok" if not pd.isna(n) and n_ok < n else ""]
        if any(foot):
            ax.annotate(" ".join(filter(None, foot)), (2, i), ha="left", va="center",
                        fontsize=9)


@dataclass(frozen=True)
class GapMap:
    """How a heat map shows one gap table: its column, colours, key and note."""

    column: str
    cmap: str
    key: str
    note: str
    empty: str


NTG_MAP = GapMap(
    "ntg_mean_pp", "RdBu_r", "NTG (percentage points)\n> 0: negative transfer",
    "NTG = err(strategy) − err(scratch), paired by seed, labelled-target pairs: mean ± "
    "half-width of the 95% t-interval. Bold *: negative transfer, Holm-adjusted q < 0.05 "
    "(one-sided paired t-test of NTG > 0), as in the NTG table.",
    "No negative transfer gap: it needs labelled-target pairs with ok scratch runs and "
    "another strategy on the same seeds.")
SOURCE_GAIN_MAP = GapMap(
    "gap_mean_pp", "RdBu", "gain over source only\n(percentage points)",
    "Gain = acc(strategy) − acc(source only), paired by seed, unlabelled-target pairs "
    "(where NTG is undefined); source only is DAN without MK-MMD, so the DAN column is "
    "MK-MMD's gain. Mean ± half-width of the 95% t-interval. Bold *: a gain, Holm-adjusted "
    "q < 0.05, as in the source-gain table.",
    "No gain over source only: it needs unlabelled-target pairs with ok source_only runs "
    "and another strategy on the same seeds.")


def ntg_figure(summary: pd.DataFrame) -> Figure:
    """Heat map of NTG (percentage points), pair x strategy, diverging colours centred at 0."""
    return _gap_heatmap(summary, ntg_table(summary).data, NTG_MAP)


def source_gain_figure(summary: pd.DataFrame) -> Figure:
    """Heat map of the gain over source only (percentage points), unlabelled-target pairs."""
    return _gap_heatmap(summary, source_gain_table(summary).data, SOURCE_GAIN_MAP)


def _gap_heatmap(summary: pd.DataFrame, data: pd.DataFrame, shown: GapMap) -> Figure:
    """A gap table as a pair x strategy heat map, diverging colours centred at 0."""
    if data.empty or data[shown.column].isna().all():
        return empty_figure(shown.empty)
    runs = main_runs(summary)
    synthetic = synthetic_pairs(runs)
    pairs = [p for p in pairs_in(runs) if p in set(data["pair"])]
    strategies = [s for s in strategies_in(runs) if s in set(data["strategy"])]
    values = data.pivot(index="pair", columns="strategy", values=shown.column).reindex(
        index=pairs, columns=strategies).astype(float)
    limit = max(1.0, float(np.nanmax(np.abs(values.to_numpy()))))
    # 0.3 in a row: the two lines of a cell's text, and the figure stays wide and short
    figure = Figure(figsize=(WIDTH, 0.8 + 0.3 * len(pairs)), layout="constrained")
    ax = figure.subplots()
    cmap = sns.color_palette(shown.cmap, as_cmap=True)
    sns.heatmap(values, ax=ax, cmap=cmap, center=0, vmin=-limit, vmax=limit, annot=False,
                linewidths=0.5, linecolor="white", cbar_kws={"label": shown.key})
    ax.set_facecolor("0.88")  # cells without a value show grey, not white (= 0)
    ax.grid(False)
    marks, label_space_note = _label_space_marks(runs, data)
    _annotate_gaps(ax, values, data.assign(mark=marks).set_index(["pair", "strategy"]),
                   shown.column, lambda value: cmap((value + limit) / (2 * limit)))
    ax.set_yticks(np.arange(len(pairs)) + 0.5,
                  [pair_label(p, synthetic[p]) for p in pairs], rotation=0)
    ax.set_xticks(np.arange(len(strategies)) + 0.5, [strategy_label(s) for s in strategies],
                  rotation=20, ha="right")
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.tick_params(length=0)
    add_note(figure, runs[runs["pair"].isin(pairs)], _with(shown.note, label_space_note))
    return figure


def _annotate_gaps(ax: Axes, values: pd.DataFrame, rows: pd.DataFrame, column: str,
                   colour_of: Callable[[float], tuple]) -> None:
    """Cell text by hand: bold where significant (Holm's q), and a count where no value.

    Args:
        ax: the heat map.
        values: the gap per pair (rows) x strategy (columns), as drawn.
        rows: the gap table's rows, indexed by (pair, strategy), with their ‡ (``mark``).
        column: the rows' gap column (percentage points), e.g. ``ntg_mean_pp``.
        colour_of: gap -> the cell's RGBA colour, to pick legible text on it.
    """
    for i, pair in enumerate(values.index):
        for j, strategy in enumerate(values.columns):
            if (pair, strategy) not in rows.index:
                continue
            row = rows.loc[(pair, strategy)]
            value = values.loc[pair, strategy]
            weight, colour = "normal", "0.2"
            if not np.isnan(value):
                weight = "bold" if row["significant"] else "normal"
                red, green, blue, _ = colour_of(value)
                colour = "white" if 0.2126 * red + 0.7152 * green + 0.0722 * blue < 0.45 else "black"
            ax.text(j + 0.5, i + 0.5, _gap_label(row, column), ha="center", va="center", fontsize=8.5,
                    fontweight=weight, color=colour)


def _gap_label(row: pd.Series, column: str) -> str:
    r"""Cell text: "+3.2*‡\n±1.1" from the gap in ``column``; the pairing count without one."""
    mark = row.get("mark", "")
    if pd.isna(row[column]):
        return f"{int(row['n_paired'])}/{int(row['n_runs'])}{mark}\npaired"
    first = format_number(row[column], 1, signed=True) + ("*" if row["significant"] else "") + mark
    if pd.isna(row["ci_high_pp"]):
        return first
    return f"{first}\n±{format_number((row['ci_high_pp'] - row['ci_low_pp']) / 2, 1)}"


def _log_axis(axis, values: pd.Series) -> None:
    """Log scale with plain-number ticks.

    Ticks at 1, 2, 5 x 10^k over up to two decades, at 10^k beyond, so labels never
    collide in a narrow panel.
    """
    values = values[values > 0]
    decades = np.log10(values.max() / values.min()) if len(values) else 0.0
    axis.axes.set_xscale("log")
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if decades <= 2 else (1.0,)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def _frontier(points: pd.DataFrame) -> pd.DataFrame:
    """Pareto frontier: points no other point beats on both lower x and higher accuracy."""
    points = points.dropna(subset=["x", "mean"]).sort_values(["x", "mean"],
                                                             ascending=[True, False])
    keep, best = [], -math.inf
    for index, row in points.iterrows():
        if row["mean"] > best:
            keep.append(index)
            best = row["mean"]
    return points.loc[keep]


def _cost_figure(summary: pd.DataFrame, column: str, xlabel: str, log_x: bool,
                 scale: float = 1.0, note: str = "") -> Figure:
    """Accuracy (%) against a cost per pair: mean ± 95% CI both ways, Pareto frontier dashed."""
    runs = main_runs(summary)
    grid = small_multiples(runs, sharex=True, sharey=False)
    cells = _summaries(runs, column)
    cells["x"] = cells["x"] * scale
    cells["mark"], label_space_note = _label_space_marks(runs, cells)
    for ax, pair in grid.panels():
        _cost_panel(ax, cells[cells["pair"] == pair], grid.colours)
        if log_x:
            _log_axis(ax.xaxis, cells["x"].dropna())  # all panels: they share the x axis
    text = _with("Mean over seeds; whiskers: 95% t-interval of accuracy; dashed: Pareto "
                 "frontier (no other strategy is both cheaper and more accurate).", note)
    return grid.finish(runs, _with(text, label_space_note), xlabel=xlabel)


def _cost_panel(ax: Axes, rows: pd.DataFrame, colours: dict[str, str]) -> None:
    """One pair's strategies as points with accuracy whiskers, and their Pareto frontier."""
    frontier = _frontier(rows)
    ax.plot(frontier["x"], frontier["mean"], color="0.55", linestyle="--", linewidth=1,
            zorder=1)
    for row in rows.itertuples():
        if pd.isna(row.mean):
            continue
        yerr = [[np.nan_to_num(row.mean - row.low)], [np.nan_to_num(row.high - row.mean)]]
        ax.errorbar(row.x, row.mean, yerr=yerr, fmt="o", markersize=5,
                    color=colours[row.strategy], elinewidth=1, capsize=2, zorder=2)
        if row.mark:
            ax.annotate(row.mark, (row.x, row.mean), xytext=(4, 2), textcoords="offset points",
                        fontsize=9)
    # Whiskers of a noisy strategy may pass 0 or 100 %; accuracy cannot.
    bottom, top = ax.get_ylim()
    ax.set_ylim(max(bottom, 0), min(top, 100))


def accuracy_vs_time_figure(summary: pd.DataFrame) -> Figure:
    """Accuracy against total time, amortised (seconds, log scale): the cost–benefit frontier.

    Amortised: a run's own training and input preparation plus its share of the shared
    activation caches it reads (:mod:`bench.cost`), so feature extraction pays for its
    features. A sweep whose records predate the amortised fields falls back to training
    time, and the axis label says so.
    """
    ok = ok_runs(main_runs(summary))
    column = "total_seconds_amortised"
    if column in ok.columns and len(ok) and ok[column].notna().all():
        label = "Total time, amortised (s, log scale)"
        note = ("Total time: training + input preparation + the run's share of the feature "
                "and prefix caches it reads (each cache's time ÷ the runs that read it).")
    else:
        column, label, note = "train_seconds", "Training time (s, log scale)", ""
    return _cost_figure(summary, column, label, log_x=True, note=note)


def accuracy_vs_memory_figure(summary: pd.DataFrame) -> Figure:
    """Accuracy against peak memory (MiB).

    Accelerator memory when every ok run has it (GPU sweeps), host RSS otherwise (CPU
    sweeps); the axis label says which.
    """
    ok = ok_runs(main_runs(summary))
    if len(ok) and ok["peak_accelerator_bytes"].notna().all():
        column, label = "peak_accelerator_bytes", "Peak accelerator memory (MiB)"
    else:
        column, label = "peak_host_rss_bytes", "Peak host memory, RSS (MiB)"
    return _cost_figure(summary, column, label, log_x=False, scale=1 / MIB)


def data_efficiency_figure(summary: pd.DataFrame) -> Figure:
    """Accuracy (%) against labelled examples per class, one panel per pair, `all` at the right.

    Shots sit on a log axis; `all` (the whole training split) is placed one step past the
    largest budget and joined by a dotted line, since its distance is not to scale.
    """
    budgets, runs = data_efficiency_runs(summary)
    if budgets.empty:
        return empty_figure("No data-efficiency runs in this sweep (config key data_efficiency).")
    shots = sorted(s for s in runs["shots"].unique() if s != "all")
    all_x = shots[-1] * 3.0
    grid = small_multiples(runs, sharex=True, sharey=True)
    cells = runs[["pair", "strategy"]].drop_duplicates()
    marks, label_space_note = _label_space_marks(runs, cells)
    mark_of = marks.set_axis(pd.MultiIndex.from_frame(cells))
    for ax, pair in grid.panels():
        for strategy in grid.strategies:
            group = runs[(runs["pair"] == pair) & (runs["strategy"] == strategy)]
            if not group.empty:
                _budget_curve(ax, group, all_x, grid.colours[strategy], mark_of[pair, strategy])
        chance_line(ax, runs[runs["pair"] == pair])
        ax.set_xscale("log")
        ax.set_xticks([*shots, all_x], [*map(str, shots), "all"])
        ax.minorticks_off()
        ax.set_ylim(0, 100)
    return grid.finish(runs, _with("Mean over seeds with 95% t-intervals; all: the whole "
                                    "training split (dotted segment: not to scale); grey "
                                    "dotted: chance (1 / classes).", label_space_note),
                       xlabel="Labelled training examples per class")


def _budget_curve(ax: Axes, group: pd.DataFrame, all_x: float, colour: str, mark: str) -> None:
    """One strategy's accuracy per budget: a line over the limited budgets, dotted to `all`.

    ``mark`` (‡ or "") is written by the curve's last point.
    """
    points = []
    for budget, cell in group.groupby("shots", sort=False):
        interval = mean_interval(ok_runs(cell)["accuracy"])
        points.append((all_x if budget == "all" else budget, interval.mean * 100,
                       interval.low * 100, interval.high * 100, budget == "all"))
    points = pd.DataFrame(points, columns=["x", "mean", "low", "high", "all"])
    points = points.sort_values("x").dropna(subset=["mean"])
    limited, full = points[~points["all"]], points[points["all"]]
    ax.plot(limited["x"], limited["mean"], color=colour, linewidth=1.5)
    if len(full) and len(limited):
        ax.plot([limited["x"].iloc[-1], all_x], [limited["mean"].iloc[-1], full["mean"].iloc[0]],
                color=colour, linewidth=1.2, linestyle=":")
    ax.errorbar(points["x"], points["mean"], yerr=_yerr(points), fmt="o", markersize=4,
                color=colour, elinewidth=1, capsize=2)
    if mark and len(points):
        ax.annotate(mark, (points["x"].iloc[-1], points["mean"].iloc[-1]), xytext=(5, 0),
                    textcoords="offset points", va="center", fontsize=9, color=colour,
                    fontweight="bold")


def tuning_spread_figure(summary: pd.DataFrame) -> Figure:
    """Validation accuracy (%) of every tuning trial, per strategy, one panel per pair.

    The spread of a strategy's dots is how much its result depends on its
    hyper-parameters; the default (trial 0) and the selected trial are marked. Pairs
    that select on the same validation split share a panel (:func:`_shared_panels`).

    Args:
        summary: the tuning summary (:mod:`bench.tuning_report`); its rows with
            ``tuning_kind`` = trial are plotted.
    """
    trials = summary[(summary["tuning_kind"] == "trial") & (summary["status"] == "ok")]
    trials = trials[trials["val_accuracy"].notna()].copy()
    if trials.empty:
        return empty_figure("No finished tuning trials (config key tuning.trials).")
    trials["val_pct"] = trials["val_accuracy"].astype(float) * 100
    panels = _shared_panels(summary)
    grid = small_multiples(summary, strategies_in(summary[summary["tuning_kind"] == "trial"]),
                           pairs=list(panels))
    trials["x"] = _trial_positions(trials, grid.strategies)
    trials["kind"] = np.where(trials["trial"] == 0, "default", "draw")
    synthetic = synthetic_pairs(summary)
    cells = trials[["pair", "strategy"]].drop_duplicates()
    cells["mark"], label_space_note = _label_space_marks(summary, cells)
    for ax, pair in grid.panels():
        ax.set_title(",\n".join(pair_label(p, synthetic[p]) for p in panels[pair]))
        shown = trials[trials["pair"].isin(panels[pair])].drop_duplicates(
            ["strategy", "trial", "val_pct", "selected"])  # a trial the pairs share: once
        _trials_panel(ax, shown, grid.strategies, grid.colours)
        _mark_slots(ax, cells[cells["pair"].isin(panels[pair])], grid.strategies)
        chance_line(ax, summary[summary["pair"] == pair])
        ax.set_xticks([])
        ax.set_xlim(-0.6, len(grid.strategies) - 0.4)
        ax.set(xlabel="", ylabel="", ylim=(0, 100))
    return grid.finish(summary, _with(_tuning_note(trials, panels), label_space_note),
                       ylabel="Validation accuracy (%)", extra=_tuning_keys())


def _mark_slots(ax: Axes, cells: pd.DataFrame, strategies: list[str]) -> None:
    """A ‡ at the top of each marked strategy's slot (once, however many pairs share it)."""
    for strategy in cells.loc[cells["mark"] != "", "strategy"].unique():
        ax.annotate("‡", (strategies.index(strategy), 97), ha="center", va="top", fontsize=9)


def _shared_panels(summary: pd.DataFrame) -> dict[str, list[str]]:
    """First pair -> the pairs its panel stands for.

    Pairs without target labels (the Office-31 protocol) select on their source's
    validation split, so pairs with one source share their trials' numbers (all but
    those of a strategy that trains on the target's images, DAN); they share a panel.
    """
    panels: dict[str, list[str]] = {}
    first_of_source: dict[str, str] = {}
    for pair, runs in summary.groupby("pair", sort=False):
        if runs["target_labels"].astype(bool).any():
            panels[pair] = [pair]
            continue
        first = first_of_source.setdefault(str(runs["source"].iloc[0]), pair)
        panels.setdefault(first, []).append(pair)
    return panels


def _tuning_note(trials: pd.DataFrame, panels: dict[str, list[str]]) -> str:
    """The footnote: trial counts, the range bar, chance, and shared panels if any."""
    n_trials = trials.groupby(["pair", "strategy"]).size()
    counts = (f"{n_trials.min()}" if n_trials.min() == n_trials.max()
              else f"{n_trials.min()}–{n_trials.max()}")
    shared = ("; a panel of several pairs: they share a source and select on its "
              "validation split, so their trials score the same (a strategy whose trials "
              "differ, e.g. DAN, shows every pair's)" if any(len(p) > 1 for p in
                                                               panels.values()) else "")
    return (f"Each strategy's {counts} trials (random search, the same budget for every "
            "strategy), in trial order; shaded bar: range across trials; dotted: chance "
            f"(1 / classes){shared}.")


def _tuning_keys() -> list[tuple[Line2D, str]]:
    """Legend entries for the marks that are not strategies: the diamond and the ring."""
    return [(Line2D([], [], marker="D", color="0.5", markeredgecolor="0.1", linestyle="",
                    markersize=6), "defaults (trial 0)"),
            (Line2D([], [], marker="o", markerfacecolor="none", markeredgecolor="0.1",
                    linestyle="", markersize=10), "selected on validation")]


def _trial_positions(trials: pd.DataFrame, strategies: list[str]) -> list[float]:
    """The x of each trial: its strategy's slot, offset by its trial index.

    Trials sit side by side within the slot in trial order (not random jitter), so the
    default's diamond and the selection's ring sit on their own dots.
    """
    n_max = int(trials.groupby(["pair", "strategy"]).size().max())
    half = min(0.3, 0.1 * (n_max - 1))  # 0.2 apart, within +-0.3 of the slot's centre
    offsets = np.linspace(-half, half, n_max)
    return [strategies.index(s) + offsets[min(int(k), n_max - 1)]
            for s, k in zip(trials["strategy"], trials["trial"], strict=True)]


def _trials_panel(ax: Axes, cell: pd.DataFrame, strategies: list[str],
                  colours: dict[str, str]) -> None:
    """One pair's trials: a shaded range bar per strategy, a dot per trial, a ring on the chosen."""
    for strategy, group in cell.groupby("strategy", sort=False):
        ax.vlines(strategies.index(strategy), group["val_pct"].min(), group["val_pct"].max(),
                  color=colours[strategy], alpha=0.35, linewidth=6, zorder=1)
    sns.scatterplot(data=cell, x="x", y="val_pct", hue="strategy", palette=colours,
                    style="kind", markers={"default": "D", "draw": "o"},
                    size="kind", sizes={"default": 34, "draw": 26}, edgecolor="0.1",
                    linewidth=0.4, legend=False, ax=ax, zorder=3)
    chosen = cell[cell["selected"].astype(bool)]
    ax.scatter(chosen["x"], chosen["val_pct"], marker="o", s=110, facecolor="none",
               edgecolor="0.1", linewidth=1.1, zorder=4)


def critical_difference_figure(summary: pd.DataFrame) -> Figure:
    """Critical-difference diagram (Demšar 2006): the strategies' average ranks over pairs.

    Rank 1 = best mean accuracy within a pair (main sweep, ok runs); a thick bar joins
    strategies whose ranks the Nemenyi test does not tell apart (:mod:`bench.ranking`).
    Wide and short: height <= ASPECT x width (bench.plotting), the note included.
    """
    test = rank_test(summary)
    if test.n_pairs < 2 or test.k < 2:
        return empty_figure(
            "No critical-difference diagram: it needs 2 or more pairs with an ok run of\n"
            f"every strategy, and 2 or more strategies (this sweep: {test.n_pairs} and "
            f"{test.k}).")
    figure = Figure(figsize=(WIDTH, 2.0), layout="constrained")
    ax = figure.subplots()
    labels = {s: strategy_label(s) for s in test.average_ranks.index}
    colours = strategy_colours(list(test.average_ranks.index))
    drawn = scikit_posthocs.critical_difference_diagram(
        test.average_ranks.rename(labels), test.nemenyi.rename(index=labels, columns=labels),
        alpha=test.alpha, ax=ax,
        color_palette={labels[s]: colours[s] for s in labels},
        label_fmt_left="{label} ({rank:.2f})", label_fmt_right="({rank:.2f}) {label}",
        label_props={"fontsize": 9.5}, elbow_props={"linewidth": 1.2},
        crossbar_props={"color": "0.15", "linewidth": 3, "solid_capstyle": "round"},
        text_h_margin=0.15)
    # One row per label below the axis (the bars stack above them): the height follows.
    rows = -min(text.get_position()[1] for text in drawn["labels"])
    figure.set_size_inches(WIDTH, min(3.2, 1.0 + 0.28 * rows))
    ax.set_ylim(-rows - 0.6, 0.3)
    ax.grid(False)
    ax.set_xlim(0.5, test.k + 0.5)
    ax.set_xticks(range(1, test.k + 1))
    _cd_bracket(ax, test.cd)
    figure.suptitle("Average rank over pairs (1 = most accurate)", fontsize=10.5,
                    fontweight="normal")
    runs = main_runs(summary)
    add_note(figure, runs[runs["pair"].isin(test.accuracy.index)], _rank_note(test))
    return figure


def _cd_bracket(ax: Axes, cd: float) -> None:
    """The critical difference as a bracket from rank 1, above the axis's tick labels."""
    def above(points: float) -> Transform:
        return offset_copy(ax.transData, fig=ax.figure, y=points, units="points")

    ax.plot([1, 1 + cd], [0, 0], transform=above(24), color="0.15", linewidth=1.5,
            marker="|", markersize=7, clip_on=False)
    ax.text(1 + cd / 2, 0, f"CD = {cd:.2f}", transform=above(28), ha="center", va="bottom",
            fontsize=9.5, clip_on=False)

def _rank_note(test: RankTest) -> str:
    """The note under the diagram: the tests, N, k and what the bars mean."""
    p = "n/a" if math.isnan(test.p_value) else f"{test.p_value:.2g}"
    chi2 = "n/a" if math.isnan(test.statistic) else f"{test.statistic:.2f}"
    left_out = (f" ({len(test.left_out)} pair(s) without an ok run of every strategy left "
                "out)" if test.left_out else "")
    return (f"Ranks of mean accuracy over seeds within each pair (1 = best, ties averaged), "
            f"averaged over N = {test.n_pairs} pairs{left_out}; k = {test.k} strategies. "
            f"Friedman χ²({test.k - 1}) = {chi2}, p = {p}. Thick bars join strategies the "
            f"Nemenyi post-hoc test does not tell apart (α = {test.alpha:g}); CD = "
            f"{test.cd:.2f}: the critical difference of average ranks.")


# ------------------------------------------------------------------------------ files

FIGURES: dict[str, Callable[[pd.DataFrame], Figure]] = {
    "accuracy": accuracy_figure,
    "ntg_heatmap": ntg_figure,
    "source_gain_heatmap": source_gain_figure,
    "accuracy_vs_time": accuracy_vs_time_figure,
    "accuracy_vs_memory": accuracy_vs_memory_figure,
    "data_efficiency": data_efficiency_figure,
    "critical_difference": critical_difference_figure,
}


def figures_main(summary_csv: str | Path, out_dir: str | Path, workers: int = 1) -> list[Path]:
    """summary.csv -> OUT_DIR/NAME.{png,pdf} for every figure; returns the files.

    ``workers`` > 1 draws the figures in that many processes at once: drawing and
    embedding fonts in the PDFs is most of the time and each figure is independent (the
    sweep's last job; docs/PERFORMANCE.md has the measurement).
    """
    summary = read_summary(summary_csv)
    draw = functools.partial(_draw, summary=summary, out_dir=Path(out_dir))
    if workers > 1:
        with ProcessPoolExecutor(min(workers, len(FIGURES))) as pool:
            drawn = list(pool.map(draw, FIGURES))
    else:
        drawn = [draw(name) for name in FIGURES]
    paths = [path for files in drawn for path in files]
    print(f"{len(paths)} figure files -> {out_dir}/")
    return paths


def _draw(name: str, summary: pd.DataFrame, out_dir: Path) -> list[Path]:
    """One figure of FIGURES, drawn and saved (in a worker process or this one)."""
    set_style()
    return save(FIGURES[name](summary), out_dir / name)


def tuning_figures_main(summary_csv: str | Path, out_dir: str | Path) -> list[Path]:
    """The tuning summary.csv -> OUT_DIR/tuning_spread.{png,pdf}; returns the files."""
    set_style()
    summary = read_summary(summary_csv)
    paths = save(tuning_spread_figure(summary), Path(out_dir) / "tuning_spread")
    print(f"{len(paths)} figure files -> {out_dir}/")
    return paths


def main(argv: list[str] | None = None, prog: str = "python -m bench.figures") -> None:
    """The command line: ``python -m bench.figures [--tuning] --out-dir OUT_DIR SUMMARY_CSV``."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("summary", help="summary.csv written by bench.aggregate")
    parser.add_argument("--out-dir", required=True, help="writes OUT_DIR/NAME.{png,pdf}")
    parser.add_argument("--tuning", action="store_true",
                        help="SUMMARY is tuning/summary.csv: draw the tuning_spread figure")
    parser.add_argument("--workers", type=int, default=1,
                        help="processes drawing figures at once (default 1)")
    args = parser.parse_args(argv)
    if args.tuning:
        tuning_figures_main(args.summary, args.out_dir)
    else:
        figures_main(args.summary, args.out_dir, args.workers)


if __name__ == "__main__":
    main()
