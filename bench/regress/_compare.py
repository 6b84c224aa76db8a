"""Regression check: a sweep's ``summary.csv`` against a committed baseline.

    python -m bench compare results/summary.csv results/baseline/ci.csv \\
        [--config FILE] [--markdown FILE]

Runs are matched by (pair, strategy, seed, shots). A run *regresses* when

- an accuracy metric (accuracy, balanced accuracy, macro-F1) drops by more than its
  tolerance (absolute, a fraction: 0.01 = 1 percentage point),
- its status is no longer ``ok`` (diverged or failed) where the baseline's was,
- training time or peak memory (host RSS, accelerator) grows beyond a factor, or
- it is in the baseline and missing from the current summary.

Runs only in the current summary are reported as new; runs that got better beyond a
tolerance, or whose accuracy moved at all, are listed too, so a change of numbers is
never silent. Exit status: 0 clean, 1 regression, 2 bad input (a missing file, missing
columns, a bad tolerance), each named.

What varies, and why the defaults are what they are (measured on the 2-core shared CI
machine; docs/REGRESSION.md has the numbers and the commands):

- Accuracy, balanced accuracy, macro-F1: nothing, on one machine. A CPU run is a
  pure function of its config for a given CPU, thread count and library versions;
  the CI sweep run twice gave bit-identical metrics in all 67 runs. Across machines
  they move: another CPU (other SIMD kernels), another torch/oneDNN version or
  another thread count changes the order of floating-point sums, weights that train
  differ by rounding, and test examples near a decision boundary change class. Run
  with 2 threads instead of 1, the CI sweep moved in the runs that train the
  backbone (scratch, full, discriminative LR) by 1 to 5 of 100-120 test examples
  (up to 4.2 points); runs on frozen features did not move. Hence
  ``accuracy_drop = 0.01``: zero measured noise where the baseline was made on the
  CI machine, and one point is under two test examples of the CI sweep's larger
  test sets, so any real change of predictions shows. Checking against a baseline
  made elsewhere needs about 0.05 (docs/REGRESSION.md).
- Training time: machine and load. The same sweep on the shared machine at two
  levels of load differed by up to 3.4x for runs of 2-5 s and 1.7x once runs
  under 5 s count as 5 s. Hence ``time_floor_seconds = 5`` and ``time_factor = 3``:
  only a gross slowdown is a signal, and a shorter time is never an improvement.
- Peak host RSS (``ru_maxrss``, ~0.9 GiB, mostly libraries and data): within 3% of
  itself between identical sweeps, 7% with another thread count. Hence
  ``memory_factor = 1.2``. Peak accelerator memory is deterministic for a GPU and
  library versions, and null on CPU (then not compared).

Tolerances come from the ``regression`` mapping of a sweep config (see
:meth:`Tolerances.from_config`); every key is optional.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import yaml
from tabulate import tabulate

from bench.io import atomic_open, read_json, write_atomic
from bench.provenance import git_revision

KEY = ("pair", "strategy", "seed", "shots")
ACCURACY_METRICS = ("accuracy", "balanced_accuracy", "macro_f1")
TIME_METRICS = ("train_seconds",)
MEMORY_METRICS = ("peak_host_rss_bytes", "peak_accelerator_bytes")
COST_METRICS = TIME_METRICS + MEMORY_METRICS
REQUIRED_COLUMNS = (*KEY, "status", *ACCURACY_METRICS, *COST_METRICS)
# Columns that, when they differ between baseline and current, explain moved numbers.
PROVENANCE_COLUMNS = ("device", "version_torch", "version_python", "version_timm")
# Whether a run computed the frozen backbone's activations or found them cached (the
# record's data.activation_cache: "computed", "hit", or "none" when nothing is frozen).
# The first run of a sweep to need them pays for them in its train_seconds and peak
# memory, and which run that is depends on the scheduler's job order: "computed"
# against "hit" is no change of the code, so their costs are not compared.
CACHE_COLUMN = "data_activation_cache"
CACHE_ORDER_DEPENDENT = {"computed", "hit"}

# Keys of the config's `regression` mapping this module reads; `baseline` is the
# workflow's (the file `snakemake regress` compares against).
CONFIG_KEYS = ("baseline", "accuracy_drop", "accuracy_drop_other_machine", "time_factor",
               "memory_factor", "time_floor_seconds", "metrics")


class RegressionInputError(ValueError):
    """A summary, baseline or config cannot be compared; the message names the problem."""


@dataclass(frozen=True)
class Tolerances:
    """How far a run may move before it counts as a regression.

    ``accuracy_drop`` is an absolute drop as a fraction (0.01 = 1 percentage point);
    ``accuracy_drop_other_machine`` replaces it when the baseline was made on another
    CPU (whose kernels round differently: docs/REGRESSION.md); ``time_factor`` and
    ``memory_factor`` are the largest allowed ratios current / baseline. ``metrics``
    overrides one metric: a drop for an accuracy metric, a factor for a cost metric
    (e.g. ``{"macro_f1": 0.03, "peak_host_rss_bytes": 1.5}``).
    """

    accuracy_drop: float = 0.01
    accuracy_drop_other_machine: float = 0.05
    time_factor: float = 3.0
    memory_factor: float = 1.2
    time_floor_seconds: float = 5.0
    metrics: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_fraction("regression.accuracy_drop", self.accuracy_drop)
        _check_fraction("regression.accuracy_drop_other_machine",
                        self.accuracy_drop_other_machine)
        _check_factor("regression.time_factor", self.time_factor)
        _check_factor("regression.memory_factor", self.memory_factor)
        if not _is_number(self.time_floor_seconds) or self.time_floor_seconds < 0:
            raise RegressionInputError(f"`regression.time_floor_seconds` must be a number "
                                       f">= 0, got {self.time_floor_seconds!r}")
        if not isinstance(self.metrics, Mapping):
            raise RegressionInputError(f"`regression.metrics` must map metric names to "
                                       f"tolerances, got {self.metrics!r}")
        for metric, value in self.metrics.items():
            key = f"regression.metrics.{metric}"
            if metric in ACCURACY_METRICS:
                _check_fraction(key, value)
            elif metric in COST_METRICS:
                _check_factor(key, value)
            else:
                raise RegressionInputError(
                    f"unknown metric {metric!r} in `regression.metrics`; allowed: "
                    f"{', '.join(ACCURACY_METRICS + COST_METRICS)}")

    def limit(self, metric: str) -> float:
        """The tolerance of one metric: a drop (accuracy metrics) or a factor (cost)."""
        if metric in self.metrics:
            return self.metrics[metric]
        if metric in ACCURACY_METRICS:
            return self.accuracy_drop
        return self.time_factor if metric in TIME_METRICS else self.memory_factor

    def for_other_machine(self) -> Tolerances:
        """The tolerances against a baseline made on another CPU: no accuracy limit
        tighter than ``accuracy_drop_other_machine``."""
        loosest = self.accuracy_drop_other_machine
        metrics = {metric: max(value, loosest) if metric in ACCURACY_METRICS else value
                   for metric, value in self.metrics.items()}
        return replace(self, accuracy_drop=max(self.accuracy_drop, loosest), metrics=metrics)

    @classmethod
    def from_config(cls, regression: Mapping | None) -> Tolerances:
        """From a config's ``regression`` mapping (None or {} = the defaults)::

            regression:
              baseline: results/baseline/ci.csv   # read by `snakemake regress`
              accuracy_drop: 0.01                 # fraction: 0.01 = 1 point
              accuracy_drop_other_machine: 0.05   # when the baseline's CPU is another
              time_factor: 3.0                    # current / baseline
              memory_factor: 1.2
              time_floor_seconds: 5.0             # shorter runs count as this long
              metrics: {macro_f1: 0.02}           # per-metric drop or factor
        """
        if regression is None:
            return cls()
        if not isinstance(regression, Mapping):
            raise RegressionInputError(f"`regression` must be a mapping, got {regression!r}")
        unknown = sorted(set(regression) - set(CONFIG_KEYS))
        if unknown:
            raise RegressionInputError(f"unknown key(s) {', '.join(map(repr, unknown))} under "
                                       f"`regression`; allowed: {', '.join(CONFIG_KEYS)}")
        settings = {k: v for k, v in regression.items() if k != "baseline"}
        settings["metrics"] = settings.get("metrics") or {}
        return cls(**settings)

    def describe(self) -> str:
        """One line, for the report."""
        text = (f"accuracy drop ≤ {100 * self.accuracy_drop:.2f} pp, time ≤ "
                f"{self.time_factor:g}× (runs under {self.time_floor_seconds:g} s count as "
                f"{self.time_floor_seconds:g} s), memory ≤ {self.memory_factor:g}×")
        overrides = [f"{metric} {_format_limit(metric, value)}"
                     for metric, value in self.metrics.items()]
        return text + (f"; overrides: {', '.join(overrides)}" if overrides else "")


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_fraction(key: str, value) -> None:
    if not _is_number(value) or not 0 <= value <= 1:
        raise RegressionInputError(f"`{key}` must be a fraction in [0, 1] "
                                   f"(0.01 = 1 percentage point), got {value!r}")


def _check_factor(key: str, value) -> None:
    if not _is_number(value) or value < 1:
        raise RegressionInputError(f"`{key}` must be a factor >= 1 (current / baseline), "
                                   f"got {value!r}")


def _format_limit(metric: str, value: float) -> str:
    return f"{100 * value:.2f} pp" if metric in ACCURACY_METRICS else f"{value:g}×"


def load_tolerances(path: str | Path | None) -> Tolerances:
    """Tolerances from a YAML config file's ``regression`` key; defaults without a file."""
    if path is None:
        return Tolerances()
    path = Path(path)
    if not path.is_file():
        raise RegressionInputError(f"config file {path} does not exist")
    try:
        config = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise RegressionInputError(f"config file {path} is not valid YAML: {error}") from None
    if config is not None and not isinstance(config, Mapping):
        raise RegressionInputError(f"config file {path} must hold a mapping of config keys")
    return Tolerances.from_config((config or {}).get("regression"))


# ----------------------------------------------------------------------------- inputs


def run_name(pair: str, strategy: str, seed: int, shots: int | str) -> str:
    """The name a run goes by in reports; the same as its record's path under runs/."""
    return f"{pair}/{strategy}/seed{seed}-shots{shots}"


def _shots(value) -> int | str:
    """A summary's shots (5, 5.0, "5", "all", empty or NaN) -> 5 or "all"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "all"
    text = str(value).strip()
    if text in ("", "all", "nan", "None"):
        return "all"
    number = float(text)
    if not number.is_integer() or number < 1:
        raise ValueError(text)
    return int(number)


def prepare(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """Check and normalise one summary: required columns, numeric metrics, unique runs.

    Returns the frame indexed by run name. Raises RegressionInputError naming the
    missing columns, the bad values or the duplicated runs.
    """
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise RegressionInputError(f"{what} lacks column(s) {', '.join(missing)} "
                                   f"(needs {', '.join(REQUIRED_COLUMNS)})")
    frame = frame.copy()
    try:
        frame["shots"] = frame["shots"].map(_shots)
    except ValueError as error:
        raise RegressionInputError(f"{what}: shots must be a positive integer, 'all' or "
                                   f"empty, got {error}") from None
    for column in ("seed", *ACCURACY_METRICS, *COST_METRICS):
        try:
            frame[column] = pd.to_numeric(frame[column], errors="raise").astype(float)
        except (ValueError, TypeError) as error:
            raise RegressionInputError(f"{what}: column {column} is not numeric "
                                       f"({error})") from None
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


def read_summary(path: str | Path, what: str) -> pd.DataFrame:
    """A summary CSV, checked (see :func:`prepare`)."""
    path = Path(path)
    if not path.is_file():
        raise RegressionInputError(f"{what} {path} does not exist")
    try:
        frame = pd.read_csv(path, dtype={"pair": str, "strategy": str, "shots": str,
                                         "status": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise RegressionInputError(f"{what} {path} is not a readable CSV: {error}") from None
    return prepare(frame, f"{what} {path}")


# ------------------------------------------------------------------------- comparison

REGRESSED, MISSING, NEW, IMPROVED, CHANGED, SAME = (
    "REGRESSED", "MISSING", "new", "improved", "changed", "same")
FAILING = (REGRESSED, MISSING)
VERDICT_ORDER = (REGRESSED, MISSING, NEW, IMPROVED, CHANGED, SAME)
HEADLINE_NAMES = 10  # failing runs named in the headline; the table lists them all


@dataclass
class RunResult:
    """One run's verdict; ``changes`` holds Δ (fraction) per accuracy metric and
    current / baseline per cost metric, for the metrics both sides have."""

    run: str
    verdict: str
    status: str
    changes: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    uncompared: bool = False  # costs not compared: activations computed in one sweep only


@dataclass
class Comparison:
    """The outcome of :func:`compare`: a verdict per run (baseline order, then new runs)."""

    results: list[RunResult]
    tolerances: Tolerances
    notes: list[str] = field(default_factory=list)

    def named(self, *verdicts: str) -> list[str]:
        return [r.run for r in self.results if r.verdict in verdicts]

    @property
    def regressions(self) -> list[str]:
        """Runs that fail the check: regressed or missing."""
        return self.named(*FAILING)

    @property
    def ok(self) -> bool:
        return not self.regressions

    def moved(self) -> list[RunResult]:
        """Every run that is not plainly the same as in the baseline, failures first."""
        moved = [r for r in self.results if r.verdict != SAME]
        return sorted(moved, key=lambda r: VERDICT_ORDER.index(r.verdict))

    def headline(self) -> str:
        counts = {v: len(self.named(v)) for v in VERDICT_ORDER}
        tally = ", ".join(f"{n} {v.lower()}" for v, n in counts.items() if n)
        if self.ok:
            return f"OK: no regression in {len(self.results)} runs ({tally})"
        named = ", ".join(self.regressions[:HEADLINE_NAMES])
        more = len(self.regressions) - HEADLINE_NAMES
        return (f"FAIL: {len(self.regressions)} of {len(self.results)} runs regressed or "
                f"missing ({tally}): {named}" + (f" and {more} more" if more > 0 else ""))

    def table(self, every_run: bool = False) -> pd.DataFrame:
        """The moved runs (or all of them, in baseline order) as display strings."""
        rows = []
        for result in self.results if every_run else self.moved():
            row = {"run": result.run, "verdict": result.verdict, "status": result.status}
            for metric, label in COLUMN_LABELS.items():
                row[label] = _format_change(metric, result.changes.get(metric))
            row["why"] = "; ".join(result.reasons)
            rows.append(row)
        return pd.DataFrame(rows, columns=["run", "verdict", "status", *COLUMN_LABELS.values(),
                                           "why"])

    def to_text(self, every_run: bool = False) -> str:
        lines = [self.headline(), f"Tolerances: {self.tolerances.describe()}"]
        lines += [f"Note: {note}" for note in self.notes]
        table = self.table(every_run)
        lines += ["", tabulate(table, headers="keys", showindex=False, tablefmt="simple",
                               disable_numparse=True) if len(table) else "No run moved."]
        return "\n".join(lines) + "\n"

    def to_markdown(self, every_run: bool = False) -> str:
        mark = "✅" if self.ok else "❌"
        lines = [f"### {mark} tlbench regression check", "", f"**{self.headline()}**", "",
                 f"Tolerances: {self.tolerances.describe()}", ""]
        lines += [f"> {note}\n" for note in self.notes]
        table = self.table(every_run)
        table["run"] = [f"`{run}`" for run in table["run"]]
        lines.append(tabulate(table, headers="keys", showindex=False, tablefmt="github",
                              disable_numparse=True) if len(table) else "No run moved.")
        return "\n".join(lines) + "\n"


COLUMN_LABELS = {"accuracy": "Δ acc (pp)", "balanced_accuracy": "Δ bal. acc (pp)",
                 "macro_f1": "Δ macro-F1 (pp)", "train_seconds": "time ×",
                 "peak_host_rss_bytes": "host RSS ×", "peak_accelerator_bytes": "accel. mem ×"}


def _format_change(metric: str, value: float | None) -> str:
    if value is None:
        return ""
    if metric in ACCURACY_METRICS:
        return f"{100 * value:+.2f}".replace("-", "−")
    return f"{value:.2f}"


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def compare_run(name: str, base: pd.Series, current: pd.Series,
                tolerances: Tolerances) -> RunResult:
    """The verdict on one run present in both summaries."""
    status = (base["status"] if base["status"] == current["status"]
              else f"{base['status']} → {current['status']}")
    result = RunResult(name, SAME, status)
    failures, gains = [], []
    if base["status"] == "ok" and current["status"] != "ok":
        error = current.get("error")
        detail = f" ({str(error)[:80]})" if _present(error) else ""
        failures.append(f"status {current['status']}{detail}")
    elif base["status"] != "ok" and current["status"] == "ok":
        gains.append(f"status {base['status']} → ok")
    both_ok = base["status"] == "ok" and current["status"] == "ok"
    for metric in ACCURACY_METRICS if both_ok else ():
        before, after = base[metric], current[metric]
        if not _present(before):
            continue
        if not _present(after):
            failures.append(f"{metric} missing")
            continue
        delta = after - before
        result.changes[metric] = delta
        limit = tolerances.limit(metric)
        # Rounding: summary.csv round-trips floats exactly, but a baseline written by
        # another tool may not; 1e-9 is far below one test example.
        if -delta > limit + 1e-9:
            failures.append(f"{metric} {100 * delta:+.2f} pp (tolerance "
                            f"{100 * limit:.2f} pp)".replace("-", "−"))
        elif delta > limit + 1e-9:
            gains.append(f"{metric} {100 * delta:+.2f} pp")
    states = {_cache_state(base), _cache_state(current)}
    result.uncompared = len(states) == 2 and states <= CACHE_ORDER_DEPENDENT
    for metric in COST_METRICS if both_ok else ():
        before, after = base[metric], current[metric]
        if not (_present(before) and _present(after)) or before <= 0 or after <= 0:
            continue  # e.g. accelerator memory on CPU: null
        result.changes[metric] = after / before
        if result.uncompared:
            continue
        if metric in TIME_METRICS:
            floor = tolerances.time_floor_seconds
            ratio = max(after, floor) / max(before, floor)
        else:
            ratio = after / before
        limit = tolerances.limit(metric)
        if ratio > limit:
            failures.append(f"{metric} {after / before:.2f}× (tolerance {limit:g}×)")
        elif ratio < 1 / limit and metric not in TIME_METRICS:
            # A shorter time says as much about the machine's load as about the code.
            gains.append(f"{metric} {after / before:.2f}×")
    result.reasons = failures + gains
    if failures:
        result.verdict = REGRESSED
    elif gains:
        result.verdict = IMPROVED
    elif base["status"] != current["status"] or any(
            result.changes.get(m, 0.0) != 0.0 for m in ACCURACY_METRICS):
        result.verdict = CHANGED
        result.reasons = ["within tolerance"]
    return result


def _cache_state(row: pd.Series) -> str:
    """"computed", "hit", "none" (nothing frozen), or "unknown" (older records)."""
    value = row.get(CACHE_COLUMN)
    return str(value) if _present(value) else "unknown"


def compare(current: pd.DataFrame, baseline: pd.DataFrame,
            tolerances: Tolerances | None = None) -> Comparison:
    """Compare two summaries (``summary.csv`` frames) run by run.

    Raises RegressionInputError when either lacks a required column, has a bad value
    or lists a run twice.
    """
    tolerances = tolerances or Tolerances()
    current, baseline = prepare(current, "current"), prepare(baseline, "baseline")
    if baseline.empty:
        raise RegressionInputError("the baseline has no runs")
    results = []
    for name, base in baseline.iterrows():
        if name in current.index:
            results.append(compare_run(name, base, current.loc[name], tolerances))
        else:
            results.append(RunResult(name, MISSING, f"{base['status']} → —",
                                     reasons=["in the baseline, not in the current summary"]))
    results += [RunResult(name, NEW, row["status"], reasons=["not in the baseline"])
                for name, row in current.iterrows() if name not in baseline.index]
    notes = _provenance_notes(current, baseline)
    uncompared = [r.run for r in results if r.uncompared]
    if uncompared:
        notes.append(f"time and memory not compared for {len(uncompared)} run(s) whose "
                     f"frozen activations were computed in one sweep and read from the cache "
                     f"in the other (which run computes them depends on job order): "
                     f"{', '.join(uncompared)}")
    return Comparison(results, tolerances, notes)


def _provenance_notes(current: pd.DataFrame, baseline: pd.DataFrame) -> list[str]:
    """Where machine or versions differ: numbers may move for that reason alone."""
    notes = []
    for column in PROVENANCE_COLUMNS:
        if column in current.columns and column in baseline.columns:
            before = sorted(baseline[column].dropna().astype(str).unique())
            after = sorted(current[column].dropna().astype(str).unique())
            if before != after:
                notes.append(f"{column} differs: baseline {', '.join(before) or '—'}; "
                             f"current {', '.join(after) or '—'}")
    if notes:
        notes.append("accuracy can shift by a few test examples and times by any factor "
                     "across machines and versions (docs/REGRESSION.md)")
    return notes


# --------------------------------------------------------------------------- baseline


def machine_description() -> dict:
    """The machine a baseline was made on: what can change times and float sums."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass  # not Linux: platform's answer stands
    return {"cpu": cpu, "cores": os.cpu_count(), "machine": platform.machine(),
            "os": platform.platform()}


def _distinct(frame: pd.DataFrame, column: str) -> list[str]:
    return sorted(frame[column].dropna().astype(str).unique()) if column in frame else []


def refresh_baseline(summary: str | Path, baseline: str | Path,
                     configfiles: list[str] | None = None,
                     config_overrides: list[str] | None = None) -> Path:
    """Copy ``summary`` over ``baseline`` and write its provenance to ``NAME.meta.json``.

    The sidecar records what the numbers depend on: library versions and devices
    (from the records), the git revisions the runs were made at, the machine, the
    date, the sweep's config files and overrides, and the CSV's SHA-256 (so a
    hand-edited baseline is detectable). Returns the sidecar's path.
    """
    summary, baseline = Path(summary), Path(baseline)
    frame = read_summary(summary, "summary")
    content = summary.read_bytes()
    statuses = frame["status"].value_counts().to_dict()
    not_ok = [name for name, status in frame["status"].items() if status != "ok"]
    versions = {column.removeprefix("version_"): _distinct(frame, column)
                for column in frame.columns if column.startswith("version_")}
    meta = {
        "baseline": baseline.name,
        "sha256": hashlib.sha256(content).hexdigest(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "configfiles": configfiles or [],
        "config_overrides": config_overrides or [],
        "from_summary": str(summary),
        "runs": len(frame),
        "statuses": statuses,
        "not_ok_runs": not_ok,
        "git_revision": git_revision(),
        "run_git_revisions": _distinct(frame, "git_revision"),
        "versions": {name: values[0] if len(values) == 1 else values
                     for name, values in versions.items()},
        "devices": _distinct(frame, "device"),
        "machine": machine_description(),
        "python": sys.version.split()[0],
    }
    with atomic_open(baseline, "wb") as out:
        out.write(content)
    sidecar = baseline.with_suffix(".meta.json")
    write_atomic(sidecar, json.dumps(meta, indent=2) + "\n")
    if not_ok:
        print(f"warning: {len(not_ok)} run(s) in the new baseline are not ok: "
              f"{', '.join(not_ok)}", file=sys.stderr)
    print(f"{len(frame)} runs -> {baseline}, provenance -> {sidecar}")
    return sidecar


# -------------------------------------------------------------------------------- CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("current", help="summary.csv of the sweep to check")
    parser.add_argument("baseline", help="summary.csv to compare against")
    parser.add_argument("--config", default=None,
                        help="YAML config whose `regression` key sets the tolerances "
                             "(default: built-in tolerances)")
    parser.add_argument("--markdown", default=None, metavar="FILE",
                        help="also write the report as Markdown (e.g. $GITHUB_STEP_SUMMARY)")
    parser.add_argument("--all", action="store_true", dest="every_run",
                        help="list every run, not only those that moved")


def baseline_cpu(baseline: str | Path) -> str | None:
    """The CPU the baseline was made on, from its sidecar (``NAME.meta.json``, written by
    :func:`refresh_baseline`); None without one."""
    sidecar = Path(baseline).with_suffix(".meta.json")
    if not sidecar.is_file():
        return None
    try:
        return read_json(sidecar)["machine"]["cpu"]
    except (ValueError, KeyError, TypeError) as error:
        raise RegressionInputError(f"{sidecar} has no machine.cpu: {error}") from None


def run_compare(args: argparse.Namespace) -> int:
    """Exit status: 0 clean, 1 regression, 2 bad input."""
    try:
        tolerances = load_tolerances(args.config)
        made_on, here = baseline_cpu(args.baseline), machine_description()["cpu"]
        other_machine = made_on is not None and made_on != here
        if other_machine:
            tolerances = tolerances.for_other_machine()
        comparison = compare(read_summary(args.current, "current summary"),
                             read_summary(args.baseline, "baseline"), tolerances)
    except RegressionInputError as error:
        print(f"compare: error: {error}", file=sys.stderr)
        return 2
    if other_machine:
        comparison.notes.insert(0, f"the baseline was made on another CPU ({made_on}; this is "
                                   f"{here}): accuracy tolerance "
                                   f"{100 * tolerances.accuracy_drop:.2f} pp "
                                   "(regression.accuracy_drop_other_machine)")
    print(comparison.to_text(args.every_run), end="")
    if args.markdown:
        write_atomic(args.markdown, comparison.to_markdown(args.every_run))
    return 0 if comparison.ok else 1


def main(argv: list[str] | None = None) -> int:
    """``python -m bench compare`` without the ``compare``: CURRENT BASELINE [options]."""
    parser = argparse.ArgumentParser(prog="python -m bench compare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run_compare(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
