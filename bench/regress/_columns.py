"""The summary columns the regression check reads, and its one input error."""

from __future__ import annotations

import math

KEY = ("pair", "strategy", "seed", "shots")
ACCURACY_METRICS = ("accuracy", "balanced_accuracy", "macro_f1")
TIME_METRICS = ("train_seconds",)
MEMORY_METRICS = ("peak_host_rss_bytes", "peak_accelerator_bytes")
COST_METRICS = TIME_METRICS + MEMORY_METRICS
REQUIRED_COLUMNS = (*KEY, "status", *ACCURACY_METRICS, *COST_METRICS)
# Columns that, when they differ between baseline and current, explain moved numbers: the
# device, and every library version the records list (summary columns version_*: torch,
# numpy, CUDA, cuDNN, the weights package...). Never compared as metrics.
PROVENANCE_COLUMNS = ("device",)
VERSION_PREFIX = "version_"
# Whether a run computed the frozen backbone's activations or found them cached (the
# record's data.activation_cache: "computed", "hit", or "none" when nothing is frozen).
# The first run of a sweep to need them pays for them in its peak host memory (and, in
# records from before cost.cache_seconds, in its train_seconds), and which run that is
# depends on the scheduler's job order: "computed"
# against "hit" is no change of the code, so their costs are not compared.
CACHE_COLUMN = "data_activation_cache"
CACHE_ORDER_DEPENDENT = {"computed", "hit"}


class RegressionInputError(ValueError):
    """A summary, baseline or config cannot be compared; the message names the problem."""


def present(value) -> bool:
    """Whether a summary cell holds a value (neither None nor NaN)."""
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def distinct(frame, column: str) -> list[str]:
    """The distinct values of a summary column, as sorted strings; [] without the column."""
    return sorted(frame[column].dropna().astype(str).unique()) if column in frame else []


def provenance_columns(frame) -> list[str]:
    """The device column and every library-version column of a summary."""
    return [*PROVENANCE_COLUMNS, *sorted(c for c in frame.columns if c.startswith(VERSION_PREFIX))]
