"""What the paper's figures share: style, small multiples, legend, footnote, saving as PNG and PDF.

The style, small multiples (one panel per pair), the strategy legend, the footnote, and
saving as PNG and PDF.

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
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from bench.presentation import SYNTHETIC_NOTE, pair_label, strategy_colours, strategy_label
from bench.summary import pairs_in, strategies_in, synthetic_pairs

WIDTH = 7.0  # inches: a two-column paper's full text width
PANEL_HEIGHT = 2.1
NOTE_CHARS = 105  # characters of 9 pt text that fit in WIDTH
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


def add_note(figure: Figure, frame: pd.DataFrame, extra: str = "") -> None:
    """Footnote under the figure: ``extra``, and the † note when ``frame`` has a synthetic pair."""
    lines = [extra] if extra else []
    if frame["synthetic"].astype(bool).any():
        lines.append(SYNTHETIC_NOTE)
    if lines:
        # Wrapped to the figure's width: a longer line would widen the saved image.
        text = "\n".join(textwrap.fill(line, NOTE_CHARS) for line in lines)
        figure.text(0.01, 0.0, text, ha="left", va="top", fontsize=9, color="0.25")


def add_legend(figure: Figure, strategies: list[str], colours: dict[str, str],
               marker: str = "s") -> None:
    """One legend for the whole figure, above the panels: a marker per strategy."""
    handles = [Line2D([], [], color=colours[s], marker=marker, linestyle="", markersize=8)
               for s in strategies]
    figure.legend(handles, [strategy_label(s) for s in strategies], loc="outside upper center",
                  ncols=min(4, len(strategies)), frameon=False, handletextpad=0.3,
                  columnspacing=1.2)


def chance_line(ax: Axes, runs: pd.DataFrame) -> None:
    """Dotted line at chance accuracy, 100 / classes, when the records say how many."""
    if "data_num_classes" not in runs.columns or runs["data_num_classes"].isna().all():
        return
    classes = float(runs["data_num_classes"].max())
    if classes > 1:
        ax.axhline(100 / classes, color="0.3", linestyle=":", linewidth=1, zorder=0.5)


def empty_figure(message: str) -> Figure:
    """A figure that says why it is empty, so every output of the workflow exists."""
    figure = Figure(figsize=(WIDTH, 2.0))
    ax = figure.subplots()
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=11)
    return figure


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
        for ax, pair in zip(self.axes.flat, self.pairs, strict=False):
            ax.set_title(pair_label(pair, self.synthetic[pair]))
            yield ax, pair

    def finish(self, frame: pd.DataFrame, note: str, marker: str = "o",
               xlabel: str | None = None, ylabel: str = ACCURACY_LABEL) -> Figure:
        """Shared axis labels, the strategy legend and the footnote; returns the figure.

        Args:
            frame: the runs shown; a synthetic pair among them adds the † note.
            note: what the marks mean, first line of the footnote.
            marker: the legend's marker, as the panels draw strategies.
            xlabel: one x label for the figure, or None.
            ylabel: one y label for the figure.
        """
        self.figure.supylabel(ylabel)
        if xlabel:
            self.figure.supxlabel(xlabel)
        # Shared x axes hide the tick labels of all but the bottom row; a column whose
        # bottom panel is hidden needs them on its last visible one.
        for column_axes in self.axes.T:
            visible = [ax for ax in column_axes if ax.get_visible()]
            visible[-1].tick_params(labelbottom=True)
        add_legend(self.figure, self.strategies, self.colours, marker)
        add_note(self.figure, frame, note)
        return self.figure


def small_multiples(frame: pd.DataFrame, strategies: list[str] | None = None,
                    sharex: bool = False, sharey: bool = True) -> SmallMultiples:
    """Panels for the pairs of ``frame``, three to a row; unused axes are hidden.

    Args:
        frame: the runs; its pairs (first-seen order) get a panel each.
        strategies: the strategies shown, in order; default: those of ``frame``.
        sharex: whether panels share the x axis.
        sharey: whether panels share the y axis.
    """
    strategies = strategies_in(frame) if strategies is None else strategies
    pairs = pairs_in(frame)
    ncols = max(1, min(3, len(pairs)))
    nrows = math.ceil(len(pairs) / ncols)
    figure = Figure(figsize=(WIDTH, PANEL_HEIGHT * nrows + 0.9), layout="constrained")
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
