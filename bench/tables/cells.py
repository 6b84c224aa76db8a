"""What a table cell and a table's notes say: mean ± interval, run counts, footnotes."""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from bench.presentation import SYNTHETIC_NOTE
from bench.stats import Interval, mean_interval
from bench.summary import ok_runs

NO_INTERVAL = "—"


def format_number(value: float, digits: int = 1, signed: bool = False) -> str:
    """``1,234.5`` with ``digits`` decimals, ``+0.50`` with ``signed``; ``—`` without a value.

    Every number a table or figure prints goes through here, so they all read alike.
    """
    if pd.isna(value):
        return NO_INTERVAL
    # Halves round away from zero, after the float's noise is rounded off: a table
    # computes 11.250000000000002 and a figure reads 11.25 back from the CSV, and
    # float formatting (round half to even on the binary value) printed 11.3 and 11.2.
    exact = Decimal(repr(round(float(value), digits + 6)))
    shown = exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    # A typographic minus (U+2212), as a paper sets it; LaTeX output maps it to $-$.
    return f"{shown:{'+' if signed else ''},.{digits}f}".replace("-", "−")


def format_interval(interval: Interval, scale: float = 100.0, digits: int = 1,
                    signed: bool = False, bare: bool = False) -> str:
    """``84.3 ± 2.1`` (scaled), ``84.3 ± —`` without an interval, ``—`` without a mean.

    With ``bare``, a mean without an interval (one seed) is the plain mean, ``84.3``.
    """
    if math.isnan(interval.mean):
        return NO_INTERVAL
    mean = format_number(interval.mean * scale, digits, signed)
    if math.isnan(interval.half_width):
        return mean if bare else f"{mean} ± {NO_INTERVAL}"
    return f"{mean} ± {format_number(interval.half_width * scale, digits)}"


def count_note(k: int, n: int, word: str = "ok") -> str:
    """" (2/3 ok)" when only k of n runs count; "" when all do."""
    return "" if k == n else f" ({k}/{n} {word})"


def accuracy_cell(group: pd.DataFrame, bare: bool = False) -> tuple[Interval, int, str]:
    """Accuracy over a group of runs, as a table shows it.

    Args:
        group: the runs (ok or not) of one cell.
        bare: one seed shows the plain mean, not ``84.3 ± —`` (:func:`format_interval`).

    Returns:
        The 95% interval of accuracy over the group's ok runs, how many were ok, and
        the cell's text, e.g. ``84.3 ± 2.1 (2/3 ok)`` (percent).
    """
    ok = len(ok_runs(group))
    interval = mean_interval(ok_runs(group)["accuracy"])
    return interval, ok, format_interval(interval, bare=bare) + count_note(ok, len(group))


def seed_count(counts: Iterable[int]) -> str:
    """The seeds per interval, for a note: ``n = 3``, or ``n = 2–3`` when they differ."""
    counts = sorted(set(counts))
    if not counts:
        return "n = 0"
    return f"n = {counts[0]}" if len(counts) == 1 else f"n = {counts[0]}–{counts[-1]}"


def table_notes(frame: pd.DataFrame, counted: bool) -> list[str]:
    """The notes every table shares.

    Args:
        frame: the runs (or rows) the table shows; a synthetic one adds SYNTHETIC_NOTE.
        counted: whether some cell says "(k/n ok)"; adds the note that explains it.
    """
    notes = []
    if counted:
        notes.append("(k/n ok): only k of n runs finished ok (the rest diverged or failed; "
                     "see summary.csv); the mean is over the ok runs.")
    if frame["synthetic"].astype(bool).any():
        notes.append(SYNTHETIC_NOTE)
    return notes
