"""How far a run may move before it counts as a regression, read from a sweep config.

Why the defaults are what they are: on one machine a CPU run's metrics do not move at
all, so the accuracy tolerance only has to absorb rounding; across CPUs they move by a
few test examples (``accuracy_drop_other_machine``); training time follows the load of
a shared machine, so only a gross slowdown counts; peak memory wobbles by a few per
cent. docs/REGRESSION.md has the measurements behind each number, and the commands.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from bench.regress._columns import (
    ACCURACY_METRICS,
    COST_METRICS,
    TIME_METRICS,
    RegressionInputError,
)

# Keys of the config's `regression` mapping this module reads; `baseline` is the
# workflow's (the file `snakemake regress` compares against).
CONFIG_KEYS = ("baseline", "accuracy_drop", "accuracy_drop_other_machine", "time_factor",
               "memory_factor", "time_floor_seconds", "metrics")


@dataclass(frozen=True)
class Tolerances:
    """How far a run may move before it counts as a regression.

    Attributes:
        accuracy_drop: the largest allowed absolute drop, a fraction (0.01 = 1
            percentage point).
        accuracy_drop_other_machine: replaces it when the baseline was made on another
            CPU, whose kernels round differently (docs/REGRESSION.md).
        time_factor: the largest allowed ratio current / baseline of ``train_seconds``.
        memory_factor: the same for peak host RSS and peak accelerator memory.
        time_floor_seconds: shorter runs count as this long before the ratio is taken.
        metrics: overrides per metric: a drop for an accuracy metric, a factor for a
            cost metric (e.g. ``{"macro_f1": 0.03, "peak_host_rss_bytes": 1.5}``).

    Raises:
        RegressionInputError: a value out of range or an unknown metric, named by its
            config key.
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
        """The tolerances against a baseline made on another CPU.

        Returns:
            A copy with no accuracy limit tighter than ``accuracy_drop_other_machine``.
        """
        loosest = self.accuracy_drop_other_machine
        metrics = {metric: max(value, loosest) if metric in ACCURACY_METRICS else value
                   for metric, value in self.metrics.items()}
        return replace(self, accuracy_drop=max(self.accuracy_drop, loosest), metrics=metrics)

    @classmethod
    def from_config(cls, regression: Mapping | None) -> Tolerances:
        """From a config's ``regression`` mapping (None or {} = the defaults).

        For example::

            regression:
              baseline: results/baseline/ci.csv   # read by `snakemake regress`
              accuracy_drop: 0.01                 # fraction: 0.01 = 1 point
              accuracy_drop_other_machine: 0.05   # when the baseline's CPU is another
              time_factor: 3.0                    # current / baseline
              memory_factor: 1.2
              time_floor_seconds: 5.0             # shorter runs count as this long
              metrics: {macro_f1: 0.02}           # per-metric drop or factor

        Raises:
            RegressionInputError: not a mapping, an unknown key, or a bad value.
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
    """Tolerances from a YAML config file's ``regression`` key.

    Args:
        path: the config file; None for the built-in defaults.

    Raises:
        RegressionInputError: the file is missing, not YAML, not a mapping, or its
            ``regression`` key is bad (see :meth:`Tolerances.from_config`).
    """
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
