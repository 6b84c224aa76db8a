"""What the paper's figures share: style, small multiples, legend, footnote, saving as PNG and PDF.

Every figure is wide and short, height <= ``ASPECT`` x width as saved (its note
included), with its key at the bottom: Snakemake's HTML report centres an image
vertically in its panel, so the top of a taller one cannot be scrolled to
(snakemake/snakemake#3906).

Figures are plain :class:`matplotlib.figure.Figure` objects (no pyplot state), so
building many in one process leaks nothing.
"""

from __future__ import annotations

import math
import os
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.text import Annotation

from bench.presentation import SYNTHETIC_NOTE, pair_label, strategy_colours, strategy_label
from bench.summary import pairs_in, strategies_in, synthetic_pairs

WIDTH = 7.0  # inches: a two-column paper's full text width
PANEL_HEIGHT = 1.55
PANEL_WIDTH = 1.65  # inches a panel needs at the least
TITLE_CHARS_PER_INCH = 10  # of a panel's 10.5 pt bold title; a longer one wraps at its "-"
LEGEND_COLUMNS = 5
LEGEND_ROW = 0.24  # inches per row of the legend
MAX_COLUMNS = 5  # 9 pairs (the default sweep) -> 2 rows of 5
# The tallest a saved figure may be, as a fraction of its width. The report's figure
# panel at 1920 x 960 (Chromium, headless: 1920 x 817 of page, ~1530 px right of the
# sidebar) is 0.53 as tall as wide; at 0.6 the default sweep's accuracy-vs-time figure
# lost its panel titles there (docs/FIGURES.md).
ASPECT = 0.5
NOTE_CHARS = 105  # characters of 9 pt text that fit in WIDTH
NOTE_LINE = 0.16  # inches per line of the 9 pt footnote
ACCURACY_LABEL = "Top-1 accuracy (%)"


def set_style() -> None:
    """Seaborn paper context scaled so the smallest text (ticks, legend) is >= 9 pt."""
    sns.set_theme(context="paper", style="whitegrid", font_scale=1.15, rc={
        "pdf.fonttype": 42,  # embed TrueType, as journals ask, not Type 3
        "ps.fonttype": 42,
        "axes.titlesize": 10.5,
        "axes.titleweight": "bold",
        "figure.labelsize": 11,  # supxlabel/supylabel as large as axis labels, no larger
        "grid.linewidth": 0.5,
        "savefig.dpi": 200,
    })


def add_note(figure: Figure, frame: pd.DataFrame, extra: str = "",
             under: Legend | None = None) -> None:
    """Footnote under the figure: ``extra``, and the † note when ``frame`` has a synthetic pair.

    The figure is widened where the note (and the legend over it) would make it taller
    than ASPECT x width.

    Args:
        figure: the figure.
        frame: the runs shown.
        extra: the first line: what the marks mean.
        under: the legend under the figure, to set the note under it.
    """
    lines = [extra] if extra else []
    if frame["synthetic"].astype(bool).any():
        lines.append(SYNTHETIC_NOTE)
    # Wrapped to the figure's width: a longer line would widen the saved image.
    text = "\n".join(textwrap.fill(line, NOTE_CHARS) for line in lines)
    style = {"ha": "left", "va": "top", "fontsize": 9, "color": "0.25"}
    if text and under:
        # Under the legend: its height is known only when it is drawn.
        figure.add_artist(Annotation(text, (0.01, 0.0), xycoords=("figure fraction", under),
                                     xytext=(0, -3), textcoords="offset points", **style))
    elif text:
        figure.text(0.01, 0.0, text, **style)
    rows = math.ceil(len(under.get_texts()) / LEGEND_COLUMNS) if under else 0
    keep_wide(figure, NOTE_LINE * (text.count("\n") + 1 if text else 0) + LEGEND_ROW * rows)


def keep_wide(figure: Figure, below: float = 0.0) -> None:
    """Widen ``figure`` until height (plus ``below`` inches of note under it) <= ASPECT x width."""
    width, height = figure.get_size_inches()
    # 0.97: the saved image's tight bounding box trims a little of the width, not the note
    figure.set_size_inches(max(width, (height + below) / (0.97 * ASPECT)), height)


def add_legend(figure: Figure, strategies: list[str], colours: dict[str, str],
               marker: str = "s", extra: list[tuple[Artist, str]] = ()) -> Legend:
    """One legend for the whole figure, under it: a marker per strategy.

    Under the figure's box, not in it: the saved image's tight box takes it in, and
    the figure's own layout stays that of its panels.

    Args:
        figure: the figure.
        strategies: the strategies, in order.
        colours: strategy -> colour.
        marker: the strategies' marker, as the panels draw them.
        extra: (handle, label) after the strategies: what other marks mean.
    """
    handles = [Line2D([], [], color=colours[s], marker=marker, linestyle="", markersize=8)
               for s in strategies] + [handle for handle, _ in extra]
    labels = [strategy_label(s) for s in strategies] + [label for _, label in extra]
    return figure.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                         ncols=min(LEGEND_COLUMNS, len(handles)), frameon=False,
                         handletextpad=0.3, columnspacing=1.2)


def chance_line(ax: Axes, runs: pd.DataFrame, vertical: bool = False) -> None:
    """Dotted line at chance accuracy, 100 / classes, when the records say how many.

    Args:
        ax: the panel.
        runs: the panel's runs; their ``data_num_classes`` gives chance.
        vertical: accuracy on the x axis (a vertical line), not on the y axis.
    """
    if "data_num_classes" not in runs.columns or runs["data_num_classes"].isna().all():
        return
    classes = float(runs["data_num_classes"].max())
    if classes > 1:
        draw = ax.axvline if vertical else ax.axhline
        draw(100 / classes, color="0.3", linestyle=":", linewidth=1, zorder=0.5)


def empty_figure(message: str) -> Figure:
    """A figure that says why it is empty, so every output of the workflow exists."""
    figure = Figure(figsize=(WIDTH, 2.0))
    ax = figure.subplots()
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=11)
    return figure


def panel_title(label: str, width: float) -> str:
    """``label`` on one line, or wrapped after its first "-" where a ``width``-inch panel is short."""
    if len(label) <= TITLE_CHARS_PER_INCH * width:
        return label
    return label.replace("-", "-\n", 1)


@dataclass
class SmallMultiples:
    """A figure of one panel per pair, with the strategies and colours all panels share.

    Built by :func:`small_multiples`; draw into :meth:`panels`, then :meth:`finish`.
    """

    figure: Figure
    axes: np.ndarray
    pairs: list[str]
    strategies: list[str]
    colours: dict[str, str]
    synthetic: dict[str, bool]

    def panels(self) -> Iterator[tuple[Axes, str]]:
        """(axes, pair) per pair, in order; each panel is titled with the pair (and †)."""
        width = self.figure.get_figwidth() / self.axes.shape[1] - 0.25  # less the y ticks
        for ax, pair in zip(self.axes.flat, self.pairs, strict=False):
            ax.set_title(panel_title(pair_label(pair, self.synthetic[pair]), width))
            yield ax, pair

    def finish(self, frame: pd.DataFrame, note: str, marker: str | None = "o",
               xlabel: str | None = None, ylabel: str | None = ACCURACY_LABEL,
               extra: list[tuple[Artist, str]] = ()) -> Figure:
        """Shared axis labels, the strategy legend and the footnote; returns the figure.

        Args:
            frame: the runs shown; a synthetic pair among them adds the † note.
            note: what the marks mean, first line of the footnote.
            marker: the legend's marker, as the panels draw strategies; None: no
                legend (the panels name the strategies on an axis).
            xlabel: one x label for the figure, or None.
            ylabel: one y label for the figure, or None.
            extra: legend entries after the strategies: (handle, what it marks).
        """
        if ylabel:
            self.figure.supylabel(ylabel)
        if xlabel:
            self.figure.supxlabel(xlabel)
        # Shared x axes hide the tick labels of all but the bottom row; a column whose
        # bottom panel is hidden needs them on its last visible one.
        for column_axes in self.axes.T:
            visible = [ax for ax in column_axes if ax.get_visible()]
            visible[-1].tick_params(labelbottom=True)
        legend = (add_legend(self.figure, self.strategies, self.colours, marker, extra)
                  if marker else None)
        add_note(self.figure, frame, note, under=legend)
        return self.figure


def grid_shape(panels: int) -> tuple[int, int]:
    """(rows, columns) for ``panels`` panels: as few rows as MAX_COLUMNS allows, balanced."""
    rows = max(1, math.ceil(panels / MAX_COLUMNS))
    return rows, max(1, math.ceil(panels / rows))


def small_multiples(frame: pd.DataFrame, strategies: list[str] | None = None,
                    sharex: bool = False, sharey: bool = True,
                    pairs: list[str] | None = None) -> SmallMultiples:
    """Panels for the pairs of ``frame``, up to MAX_COLUMNS to a row; unused axes are hidden.

    The figure is WIDTH wide, wider where its columns need it (PANEL_WIDTH each) or
    where its rows would make it taller than ASPECT x width.

    Args:
        frame: the runs; its pairs (first-seen order) get a panel each.
        strategies: the strategies shown, in order; default: those of ``frame``.
        sharex: whether panels share the x axis.
        sharey: whether panels share the y axis.
        pairs: the panels' pairs, when not all of ``frame``'s.
    """
    strategies = strategies_in(frame) if strategies is None else strategies
    pairs = pairs_in(frame) if pairs is None else pairs
    nrows, ncols = grid_shape(len(pairs))
    # 1.1 in: the shared x label and a legend row or two under the panels
    figure = Figure(figsize=(max(WIDTH, PANEL_WIDTH * ncols + 0.6), PANEL_HEIGHT * nrows + 1.1),
                    layout="constrained")
    keep_wide(figure)
    axes = figure.subplots(nrows, ncols, sharex=sharex, sharey=sharey, squeeze=False)
    for ax in axes.flat[len(pairs):]:
        ax.set_visible(False)
    return SmallMultiples(figure, axes, pairs, strategies, strategy_colours(strategies),
                          synthetic_pairs(frame))


def save(figure: Figure, stem: Path) -> list[Path]:
    """stem.png (200 dpi) and stem.pdf, each written to a temporary name and renamed."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for extension in ("png", "pdf"):
        path = stem.with_suffix(f".{extension}")
        temporary = path.with_name(f".{path.stem}.tmp{os.getpid()}.{extension}")
        figure.savefig(temporary, bbox_inches="tight", pad_inches=0.05)
        os.replace(temporary, path)
        paths.append(path)
    return paths
