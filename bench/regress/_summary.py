"""Reading one summary for the check: required columns, numeric metrics, unique runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench import summary_file
from bench.layout import run_name, shots_value
from bench.regress._columns import (
    ACCURACY_METRICS,
    COST_METRICS,
    KEY,
    REQUIRED_COLUMNS,
    RegressionInputError,
)


# How a summary written by another tool (or by hand) may say "the whole training split".
def prepare(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """Check and normalise one summary.

    Args:
        frame: a summary, as ``summary.csv`` holds it.
        what: how error messages name it (e.g. ``"baseline results/baseline/ci.csv"``).

    Returns:
        A copy indexed by run name (:func:`bench.layout.run_name`): shots an int or
        ``"all"``, seed an int, the metrics floats.

    Raises:
        RegressionInputError: naming the missing columns, bad values or duplicated runs.
    """
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise RegressionInputError(f"{what} lacks column(s) {', '.join(missing)} "
                                   f"(needs {', '.join(REQUIRED_COLUMNS)})")
    frame = frame.copy()
    try:
        frame["shots"] = frame["shots"].map(shots_value)
    except ValueError as error:
        raise RegressionInputError(f"{what}: shots must be a positive integer, 'all' or "
                                   f"empty, got {error}") from None
    _to_floats(frame, ("seed", *ACCURACY_METRICS, *COST_METRICS), what)
    if frame["seed"].isna().any() or frame[["pair", "strategy", "status"]].isna().any().any():
        raise RegressionInputError(f"{what}: pair, strategy, seed and status must be set "
                                   "in every row")
    frame["seed"] = frame["seed"].astype(int)
    frame.index = [run_name(*row) for row in frame[list(KEY)].itertuples(index=False)]
    duplicated = sorted(set(frame.index[frame.index.duplicated()]))
    if duplicated:
        raise RegressionInputError(f"{what} has more than one row for run(s) "
                                   f"{', '.join(duplicated)}")
    return frame


def _to_floats(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    """Convert columns to float in place; RegressionInputError names one that is not numeric."""
    for column in columns:
        try:
            frame[column] = pd.to_numeric(frame[column], errors="raise").astype(float)
        except (ValueError, TypeError) as error:
            raise RegressionInputError(f"{what}: column {column} is not numeric "
                                       f"({error})") from None


def read_summary(path: str | Path, what: str) -> pd.DataFrame:
    """A summary CSV, checked and normalised (see :func:`prepare`).

    Raises:
        RegressionInputError: the file is missing or not a readable CSV, or
            :func:`prepare` rejects it.
    """
    path = Path(path)
    if not path.is_file():
        raise RegressionInputError(f"{what} {path} does not exist")
    try:
        frame = summary_file.read_summary(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise RegressionInputError(f"{what} {path} is not a readable CSV: {error}") from None
    except ValueError as error:  # a shots cell
        raise RegressionInputError(f"{what} {path}: shots must be a positive integer, 'all' "
                                   f"or empty, got {error}") from None
    return prepare(frame, f"{what} {path}")
