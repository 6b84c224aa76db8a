"""Reading a ``summary.csv`` back: the one reader, for the tables and the regression check.

Torch-free (pandas only), so ``python -m bench compare`` does not import the strategies.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench.layout import shots_value


def read_summary(path: str | Path) -> pd.DataFrame:
    """summary.csv back into a frame; ``shots`` stays mixed (int or "all").

    The one reader of summaries (the regression check adds its own checks on top).

    Raises:
        ValueError: a shots cell is neither a whole number >= 1 nor "all" (or empty);
            pandas' own errors for a file that is not CSV.
    """
    frame = pd.read_csv(path, dtype={"shots": str, "pair": str, "strategy": str, "status": str})
    if "shots" in frame.columns:
        frame["shots"] = frame["shots"].map(shots_value)
    return frame
