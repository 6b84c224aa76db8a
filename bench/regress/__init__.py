"""Regression check: a sweep's ``summary.csv`` against a committed baseline.

``python -m bench compare CURRENT BASELINE`` (or ``python -m bench.regress``) matches
the runs of two summaries by (pair, strategy, seed, shots), gives each a verdict, and
fails when one regressed or went missing; ``python -m bench compare --help`` and
docs/REGRESSION.md say when, and why the tolerances are what they are.

The public names are re-exported here; each lives in one private module:

- :mod:`~bench.regress._columns`: the summary columns read, :class:`RegressionInputError`;
- :mod:`~bench.regress._tolerances`: :class:`Tolerances`, :func:`load_tolerances`;
- :mod:`~bench.regress._summary`: :func:`read_summary`, :func:`prepare` (one summary,
  checked, indexed by :func:`run_name` from :mod:`bench.layout`);
- :mod:`~bench.regress._compare`: :func:`compare`, :func:`compare_run`;
- :mod:`~bench.regress._report`: the verdicts, :class:`RunResult`, :class:`Comparison`
  and its text and Markdown reports;
- :mod:`~bench.regress._baseline`: :func:`refresh_baseline` and its provenance sidecar;
- :mod:`~bench.regress._cli`: the command line, :func:`main`.
"""

from bench.layout import run_name
from bench.regress._baseline import baseline_cpu, machine_description, refresh_baseline
from bench.regress._cli import add_arguments, main, run_compare
from bench.regress._columns import (
    ACCURACY_METRICS,
    CACHE_COLUMN,
    CACHE_ORDER_DEPENDENT,
    COST_METRICS,
    KEY,
    MEMORY_METRICS,
    PROVENANCE_COLUMNS,
    REQUIRED_COLUMNS,
    TIME_METRICS,
    RegressionInputError,
)
from bench.regress._compare import compare, compare_run
from bench.regress._report import (
    CHANGED,
    COLUMN_LABELS,
    FAILING,
    HEADLINE_NAMES,
    IMPROVED,
    MISSING,
    NEW,
    REGRESSED,
    SAME,
    VERDICT_ORDER,
    Comparison,
    RunResult,
)
from bench.regress._summary import prepare, read_summary
from bench.regress._tolerances import Tolerances, load_tolerances

__all__ = [
    "ACCURACY_METRICS", "CACHE_COLUMN", "CACHE_ORDER_DEPENDENT", "CHANGED", "COLUMN_LABELS",
    "COST_METRICS", "FAILING", "HEADLINE_NAMES", "IMPROVED", "KEY",
    "MEMORY_METRICS", "MISSING", "NEW", "PROVENANCE_COLUMNS", "REGRESSED", "REQUIRED_COLUMNS",
    "SAME", "TIME_METRICS", "VERDICT_ORDER", "Comparison", "RegressionInputError", "RunResult",
    "Tolerances", "add_arguments", "baseline_cpu", "compare", "compare_run", "load_tolerances",
    "machine_description", "main", "prepare", "read_summary", "refresh_baseline", "run_compare",
    "run_name",
]
