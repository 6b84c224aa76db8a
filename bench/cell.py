"""A cell: every run of one (pair, strategy, shots) of a sweep, in one process.

A run on the small data sets of this benchmark often trains for under a second, while a
fresh process pays ~4.5 s to import torch, torchvision and timm and to load its data.
So the workflow runs a whole cell -- every seed of a (pair, strategy, shots), or every
trial of a tuned (pair, strategy) -- as one job (``python -m bench cell``): imports are
paid once, and the pair's data sets and activation caches are read once
(:func:`bench.protocol.load_once`, :mod:`bench.activations`). Each run still gets its
own record, written atomically and schema-checked at the path a one-run job would use,
and its own random state (:class:`bench.train.Trainer` seeds everything from the run's
seed), so a seed's record does not depend on the cell it ran in.

Kill and resume. Snakemake deletes a job's declared outputs before it reruns the job,
and a killed job's outputs are marked incomplete, so the records a killed cell had
finished would be deleted by the restart. Each finished record is therefore also
written to a *store* (``{results}/cache/records/{config hash}.json``, the hash of
everything that decides the run's result); a cell first restores every run whose
record is in the store with the same hash instead of training it again. A cell that
finishes removes its runs' entries: the store keeps only what a stopped cell finished,
so ``--forcerun`` (e.g. refreshing a baseline after a code change) still retrains every
run, as it did with one job per run, and nothing grows without bound.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.records import read_record, write_record
from bench.settings import ConfigError, RunConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CellRun:
    """One run of a cell: its config and where its record goes."""

    config: RunConfig
    out: Path

    @property
    def name(self) -> str:
        config = self.config
        return (f"{config.pair} {config.strategy} seed {config.seed}"
                + (f" shots {config.shots}" if config.shots else ""))


def train_record(config: RunConfig, progress: bool = True) -> dict:
    """Train and measure one run; a run that fails is recorded as failed, not raised.

    Bad input is raised (nothing is written, so fixing it reruns the job): a config
    error, or a missing data set (bench.datasets.base.DatasetMissingError).
    """
    from bench.datasets.base import DatasetMissingError
    from bench.train import failed_record, run

    try:
        return run(config, progress=progress)
    except (DatasetMissingError, ConfigError):
        raise
    except Exception as error:  # noqa: BLE001 - a failed run is recorded, the sweep goes on
        record = failed_record(config, error)
        print(f"run failed: {record['error']}", file=sys.stderr)
        return record


def store_entry(store: Path, config: RunConfig) -> Path:
    """Where the store keeps a finished run's record: named by its config hash."""
    return store / f"{config.config_hash()}.json"


def restored(store: Path | None, config: RunConfig) -> dict | None:
    """The run's record from the store, or None when it has none (or an unreadable one).

    Only a record whose own ``config_hash`` is the run's counts: a store entry is never
    trusted for another configuration.
    """
    entry = None if store is None else store_entry(store, config)
    if entry is None or not entry.exists():
        return None
    try:
        record = read_record(entry)
    except ValueError as error:  # half-written files cannot exist (atomic); a hand-edited one can
        log.warning("ignoring the stored record: %s", error)
        return None
    return record if record["config_hash"] == config.config_hash() else None


def run_cell(runs: list[CellRun], store: Path | None, progress: bool = True) -> list[dict]:
    """Run (or restore) every run of a cell in turn; write each record as it finishes.

    Args:
        runs: the cell's runs, in order.
        store: the folder of finished records that survives a killed cell (see the
            module's docstring); None keeps none, so a killed cell redoes every run.
        progress: show each run's progress bar (on a terminal only).

    Returns:
        The records, in the order of ``runs``.
    """
    records = []
    for cell_run in runs:
        record = restored(store, cell_run.config)
        if record is not None:
            log.info("%s: restored its finished record (created %s) from the store, "
                     "not retrained", cell_run.name, record["created"])
        else:
            record = train_record(cell_run.config, progress)
            if store is not None:
                write_record(record, store_entry(store, cell_run.config))
        write_record(record, cell_run.out)
        records.append(record)
        _report(cell_run, record)
    if store is not None:
        for cell_run in runs:
            store_entry(store, cell_run.config).unlink(missing_ok=True)
    return records


def _report(cell_run: CellRun, record: dict) -> None:
    """One line per run on stdout: outcome, test accuracy, training time, record path."""
    accuracy = record["metrics"]["accuracy"]
    shown = "—" if accuracy is None else f"{100 * accuracy:.1f}%"
    print(f"{cell_run.name}: {record['status']}, test accuracy {shown}, "
          f"{record['cost']['train_seconds']:.1f} s -> {cell_run.out}")
