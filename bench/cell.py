"""A cell: several runs of one pair of a sweep, in one process, and the store that outlives it.

A run on the small data sets of this benchmark often trains for under a second, while a
fresh process pays ~4.5 s to import torch, torchvision and timm and to load its data.
So the workflow runs a whole *pair cell* -- every run of one pair: each strategy at
every seed, and the data-efficiency budgets when the pair has them -- as one job
(``python -m bench cell --runs ...``); a tuned pair's job (``python -m bench tune``)
runs its trials, then its tuned runs, the same way. Imports are paid once, and the
pair's data sets and activation caches are read once (:func:`bench.protocol.load_once`,
:mod:`bench.activations`). Each run still gets its own record, written atomically and
schema-checked at the path a one-run job would use, and its own random state
(:class:`bench.train.Trainer` seeds everything from the run's seed), so a run's record
does not depend on the cell it ran in or on the other strategies beside it.

The store. Snakemake deletes a job's declared outputs before it reruns the job (a
killed job, a changed parameter, ``--forcerun``), so without help a pair cell would
retrain all of its runs whenever one of them changed. Each finished record is therefore
also kept in a *store*,
``{results}/cache/records/{code fingerprint}/{config hash}-{device type}.json``: the
config hash covers everything of the run's config that decides its result
(:meth:`bench.settings.RunConfig.config_hash`), the code fingerprint ``bench``'s sources
and the torch, torchvision and timm versions (:func:`bench.provenance.code_fingerprint`).
A cell first restores every run the store holds for the same hash and the same code --
the stored file copied byte for byte -- and trains the others. So:

- a killed cell, started again, trains only the runs it had not finished;
- new settings for one strategy (say DAN's) rerun the pair's cell, but only the DAN
  runs train, and a new seed trains only the new seed's runs;
- any change to the code or those libraries retrains everything: a cell deletes the
  store's entries of every other fingerprint before it starts;
- a run that *failed* (an exception, e.g. out of memory) is not stored, so a rerun
  tries it again; ``ok`` and ``diverged`` runs are final for their config and code.

To retrain runs whose record the store holds (say, on another machine, to compare),
delete the store folder, ``{results}/cache/records``, before the rerun.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.io import write_atomic
from bench.records import validate_record, write_record
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


# Outcomes that are final for a config and its code; a failed run may be transient.
STORED_STATUSES = ("ok", "diverged")


def store_entry(store: Path, fingerprint: str, config: RunConfig) -> Path:
    """Where the store keeps a finished run's record: by code, config and kind of device.

    The config hash leaves the device out (a CPU run is the same run on any machine), but
    a CPU record must not stand in for a GPU run (bf16 autocast, other kernels, other
    costs), so the device type is part of the entry's name.
    """
    return store / fingerprint / f"{config.config_hash()}-{_device_type(config)}.json"


def _device_type(config: RunConfig) -> str:
    """``cpu`` or ``cuda``: what the run's ``device`` resolves to on this machine.

    The name as configured where it cannot resolve (its training fails and says why).
    """
    from bench.device import resolve_device

    try:
        return resolve_device(config.device).type
    except RuntimeError:
        return config.device


def prune_store(store: Path, fingerprint: str) -> None:
    """Delete the store's entries made by other code.

    Every other fingerprint's folder, and the flat entries of the store before
    fingerprints.
    """
    if not store.is_dir():
        return
    for entry in store.iterdir():
        if entry.name == fingerprint:
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.suffix == ".json":
            entry.unlink(missing_ok=True)


def restored(entry: Path | None, config: RunConfig) -> tuple[str, dict] | None:
    """The stored record as its file's text and as read; None without a usable one.

    None when the store has no entry for the run, or an unreadable one.
    Only a record whose own ``config_hash`` is the run's counts: a store entry is never
    trusted for another configuration. The file is read once: its text is what the run's
    record becomes, byte for byte.
    """
    if entry is None or not entry.exists():
        return None
    text = entry.read_text()
    try:
        record = json.loads(text)
        validate_record(record, str(entry))
    except ValueError as error:  # half-written files cannot exist (atomic); a hand-edited one can
        log.warning("ignoring the stored record %s: %s", entry, error)
        return None
    return (text, record) if record["config_hash"] == config.config_hash() else None


def run_cell(runs: list[CellRun], store: Path | None, progress: bool = True) -> list[dict]:
    """Run (or restore) every run of a cell in turn; write each record as it finishes.

    Args:
        runs: the cell's runs, in order.
        store: the folder of finished records that outlives the cell (see the module's
            docstring); None keeps none, so every run trains.
        progress: show each run's progress bar (on a terminal only).

    Returns:
        The records, in the order of ``runs``.
    """
    fingerprint = None
    if store is not None:
        from bench.provenance import code_fingerprint

        fingerprint = code_fingerprint()
        prune_store(store, fingerprint)
    records = []
    for cell_run in runs:
        entry = None if store is None else store_entry(store, fingerprint, cell_run.config)
        records.append(_restore_or_train(cell_run, entry, progress))
        _report(cell_run, records[-1])
    return records


def _restore_or_train(cell_run: CellRun, entry: Path | None, progress: bool) -> dict:
    """One run's record at its path: the store's copy, byte for byte, or a new run's."""
    stored = restored(entry, cell_run.config)
    if stored is not None:
        text, record = stored
        write_atomic(cell_run.out, text)
        log.info("%s: restored its finished record (created %s) from the store, "
                 "not retrained", cell_run.name, record["created"])
        return record
    record = train_record(cell_run.config, progress)
    if entry is not None and record["status"] in STORED_STATUSES:
        _keep(record, entry)
    write_record(record, cell_run.out)
    return record


def _keep(record: dict, entry: Path) -> None:
    """Write ``record`` to the store; a failure costs a retraining later, not this run.

    (A cell of newer code, started while this one ran, may have pruned this code's
    folder as the entry was being written.)
    """
    try:
        write_record(record, entry)
    except OSError as error:
        log.warning("could not keep the record in the store (%s); a rerun will train it", error)


def _report(cell_run: CellRun, record: dict) -> None:
    """One line per run on stdout: outcome, test accuracy, training time, record path."""
    accuracy = record["metrics"]["accuracy"]
    shown = "—" if accuracy is None else f"{100 * accuracy:.1f}%"
    print(f"{cell_run.name}: {record['status']}, test accuracy {shown}, "
          f"{record['cost']['train_seconds']:.1f} s -> {cell_run.out}")
