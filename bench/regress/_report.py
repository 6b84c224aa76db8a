"""A comparison's outcome: the verdict on each run, and the report in text or Markdown."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from tabulate import tabulate

from bench.regress._columns import ACCURACY_METRICS
from bench.regress._tolerances import Tolerances

REGRESSED, MISSING, NEW, IMPROVED, CHANGED, SAME = (
    "REGRESSED", "MISSING", "new", "improved", "changed", "same")
FAILING = (REGRESSED, MISSING)
VERDICT_ORDER = (REGRESSED, MISSING, NEW, IMPROVED, CHANGED, SAME)
HEADLINE_NAMES = 10  # failing runs named in the headline; the table lists them all

COLUMN_LABELS = {"accuracy": "Δ acc (pp)", "balanced_accuracy": "Δ bal. acc (pp)",
                 "macro_f1": "Δ macro-F1 (pp)", "train_seconds": "time ×",
                 "peak_host_rss_bytes": "host RSS ×", "peak_accelerator_bytes": "accel. mem ×"}


@dataclass
class RunResult:
    """One run's verdict.

    Attributes:
        run: the run's name (:func:`bench.layout.run_name`).
        verdict: one of :data:`VERDICT_ORDER`.
        status: the run's status, or ``"before → after"`` where it changed.
        changes: Δ (a fraction) per accuracy metric and current / baseline per cost
            metric, for the metrics both sides have.
        reasons: why the verdict, one phrase each, failures first.
        uncompared: costs not compared, the activations having been computed in one
            sweep only.
    """

    run: str
    verdict: str
    status: str
    changes: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    uncompared: bool = False


@dataclass
class Comparison:
    """The outcome of :func:`bench.regress.compare`: a verdict per run, the tolerances, and notes.

    A verdict per run (baseline order, then new runs), the tolerances it used, and notes
    for the report.
    """

    results: list[RunResult]
    tolerances: Tolerances
    notes: list[str] = field(default_factory=list)

    def named(self, *verdicts: str) -> list[str]:
        """The names of the runs with any of these verdicts."""
        return [r.run for r in self.results if r.verdict in verdicts]

    @property
    def regressions(self) -> list[str]:
        """Runs that fail the check: regressed or missing."""
        return self.named(*FAILING)

    @property
    def ok(self) -> bool:
        """Whether the check passes: no run regressed or went missing."""
        return not self.regressions

    def moved(self) -> list[RunResult]:
        """Every run that is not plainly the same as in the baseline, failures first."""
        moved = [r for r in self.results if r.verdict != SAME]
        return sorted(moved, key=lambda r: VERDICT_ORDER.index(r.verdict))

    def headline(self) -> str:
        """OK or FAIL, the count of each verdict, and the first failing runs."""
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
        """The report for a terminal: headline, tolerances, notes, table."""
        lines = [self.headline(), f"Tolerances: {self.tolerances.describe()}"]
        lines += [f"Note: {note}" for note in self.notes]
        table = self.table(every_run)
        lines += ["", tabulate(table, headers="keys", showindex=False, tablefmt="simple",
                               disable_numparse=True) if len(table) else "No run moved."]
        return "\n".join(lines) + "\n"

    def to_markdown(self, every_run: bool = False) -> str:
        """The same report as Markdown (e.g. for a CI job summary)."""
        mark = "✅" if self.ok else "❌"
        lines = [f"### {mark} tlbench regression check", "", f"**{self.headline()}**", "",
                 f"Tolerances: {self.tolerances.describe()}", ""]
        lines += [f"> {note}\n" for note in self.notes]
        table = self.table(every_run)
        table["run"] = [f"`{run}`" for run in table["run"]]
        lines.append(tabulate(table, headers="keys", showindex=False, tablefmt="github",
                              disable_numparse=True) if len(table) else "No run moved.")
        return "\n".join(lines) + "\n"


def format_points(fraction: float) -> str:
    """A change of an accuracy metric in signed percentage points, with a true minus."""
    return f"{100 * fraction:+.2f}".replace("-", "−")


def _format_change(metric: str, value: float | None) -> str:
    if value is None:
        return ""
    if metric in ACCURACY_METRICS:
        return format_points(value)
    return f"{value:.2f}"
