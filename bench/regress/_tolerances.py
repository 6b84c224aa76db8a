"""How far a run may move before it counts as a regression, read from a sweep config.

Why the defaults are what they are: on one machine a CPU run's metrics do not move at
all, so the accuracy tolerance only has to absorb rounding; across CPUs they move by a
few test examples (``accuracy_drop_other_machine``); training time follows the load of
a shared machine, so only a gross slowdown counts; peak memory wobbles by a few per
cent. docs/REGRESSION.md has the measurements behind each number, and the commands.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench import schema
from bench.config_layers import base_config_path, layered_config
from bench.regress._columns import (
    ACCURACY_METRICS,
    TIME_METRICS,
    RegressionInputError,
)
from bench.settings import ConfigError

# The config schema's `regression` section, with the definitions it refers to.
_CONFIG_SCHEMA = schema.base_schema()
_REGRESSION_SCHEMA = {"type": "object", "$defs": _CONFIG_SCHEMA["$defs"],
                      "properties": {"regression": _CONFIG_SCHEMA["properties"]["regression"]}}


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

    Built by :meth:`from_config`, which checks the mapping against the config schema's
    ``regression`` section (the one place its rules are written).
    """

    accuracy_drop: float = 0.01
    accuracy_drop_other_machine: float = 0.05
    time_factor: float = 3.0
    memory_factor: float = 1.2
    time_floor_seconds: float = 5.0
    metrics: Mapping[str, float] = field(default_factory=dict)

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
        try:
            schema.check({"regression": regression}, _REGRESSION_SCHEMA)
        except ConfigError as error:
            raise RegressionInputError(str(error)) from None
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


def _format_limit(metric: str, value: float) -> str:
    return f"{100 * value:.2f} pp" if metric in ACCURACY_METRICS else f"{value:g}×"


def load_tolerances(paths: Iterable[str | Path] = ()) -> Tolerances:
    """Tolerances from the ``regression`` key of the sweep config ``paths`` make.

    Args:
        paths: config files, layered over the repository's config.yaml as the Snakefile
            layers them (:func:`bench.config_layers.layered_config`); none: config.yaml's
            own, or the built-in defaults where this package is not in a checkout.

    Raises:
        RegressionInputError: a file is missing, not YAML, not a mapping, or the
            ``regression`` key is bad (see :meth:`Tolerances.from_config`).
    """
    paths = list(paths)
    if not paths and base_config_path() is None:
        return Tolerances()
    try:
        config = layered_config(paths)
    except ConfigError as error:
        raise RegressionInputError(str(error)) from None
    return Tolerances.from_config(config.get("regression"))
