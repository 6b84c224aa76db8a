"""Run records -> the tidy summary frame (one row per run), and the queries tables and figures share.

Every record is validated against ``workflows/schemas/run.schema.json``; one that
fails stops the aggregation with its path, because a table silently missing a run
is worse than no table. Runs that diverged or failed stay in the summary; means and
intervals are over :func:`ok_runs`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from bench.cost import amortised_seconds
from bench.presentation import strategy_rank
from bench.records import SCHEMA_PATH as RUN_SCHEMA
from bench.records import read_record

MIB = 2**20

# Nested record fields -> column prefix. metrics and cost keys are unique and read
# best bare (accuracy, train_seconds); the rest keep a prefix.
PREFIXES = {"metrics": "", "cost": "", "hparams": "hp_", "data": "data_", "versions": "version_"}
LEADING_COLUMNS = ("pair", "source", "target", "target_labels", "synthetic", "strategy", "seed",
                   "shots", "status", "error", "accuracy", "balanced_accuracy", "macro_f1",
                   "val_accuracy", "mmd")


class RecordError(ValueError):
    """One or more run records are unreadable or fail the run-record schema."""


# --------------------------------------------------------------------------- records


def record_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, directories expanded to their ``*.json`` files (sorted, recursive)."""
    found = []
    for path in map(Path, paths):
        found += sorted(path.rglob("*.json")) if path.is_dir() else [path]
    return found


def load_records(paths: Iterable[str | Path]) -> list[dict]:
    """Read and validate run records.

    Args:
        paths: record files, or directories searched recursively for ``*.json``.

    Returns:
        The records in the order given, each with its file as ``path``.

    Raises:
        RecordError: naming every file that is unreadable or fails the schema, or when
            there is no record at all.
    """
    records, problems = [], []
    for path in record_paths(paths):
        try:
            records.append({**read_record(path), "path": str(path)})
        except ValueError as error:  # the schema's message names the file
            problems.append(str(error))
        except OSError as error:
            problems.append(f"{path}: {error}")
    if problems:
        raise RecordError(f"{len(problems)} run record(s) failed validation against "
                          f"{RUN_SCHEMA}:\n  " + "\n  ".join(problems))
    if not records:
        raise RecordError("no run records found")
    return records


def _flatten(mapping: dict, prefix: str) -> dict:
    """Nested dicts -> ``prefix + key_subkey`` columns; lists as JSON text."""
    flat = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}_"))
        elif isinstance(value, list):
            flat[f"{prefix}{key}"] = json.dumps(value)
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def flatten_record(record: dict) -> dict:
    """One record -> one flat row. ``shots`` null becomes ``"all"``; history stays JSON."""
    row = {}
    for key, value in record.items():
        if key in PREFIXES:
            row.update(_flatten(value, PREFIXES[key]))
        elif key == "history":
            row["evaluations"] = len(value)
            row["history"] = json.dumps(value)
        else:
            row[key] = value
    row["shots"] = "all" if record["shots"] is None else int(record["shots"])
    return row


# --------------------------------------------------------------------------- summary


def summary_frame(records: list[dict]) -> pd.DataFrame:
    """Tidy frame, one row per run, sorted pair (first-seen order), strategy, shots, seed.

    Adds ``cache_seconds_amortised`` and ``total_seconds_amortised`` (:mod:`bench.cost`):
    each run's share of the shared cache work, counted over these records.
    """
    frame = pd.DataFrame([flatten_record(record) for record in records])
    frame["cache_seconds_amortised"], frame["total_seconds_amortised"] = amortised_seconds(records)
    pairs = list(dict.fromkeys(frame["pair"]))
    shots_key = frame["shots"].map(lambda s: math.inf if s == "all" else s)
    order = pd.DataFrame({"pair": frame["pair"].map(pairs.index),
                          "strategy": frame["strategy"].map(strategy_rank),
                          "shots": shots_key, "seed": frame["seed"]})
    frame = frame.loc[order.sort_values(list(order.columns), kind="stable").index]
    leading = [c for c in LEADING_COLUMNS if c in frame.columns]
    frame = frame[leading + [c for c in frame.columns if c not in leading]]
    # Nullable dtypes keep integer columns with gaps (best_step) integers in the CSV.
    return frame.reset_index(drop=True).convert_dtypes()


# --------------------------------------------------------------------------- queries


def ok_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """Runs that finished ok with an accuracy: the ones means and intervals are over."""
    return frame[(frame["status"] == "ok") & frame["accuracy"].notna()]


def main_runs(summary: pd.DataFrame) -> pd.DataFrame:
    """Runs of the main sweep: all target training data (shots = all)."""
    return summary[summary["shots"] == "all"]


def labelled_target_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs of pairs whose target labels train (every run, when the column is absent)."""
    if "target_labels" not in runs.columns:
        return runs
    return runs[runs["target_labels"].astype(bool)]


def data_efficiency_runs(summary: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The data-efficiency study: (pair, strategy) combinations with a limited-shots run.

    Returns:
        The combinations (columns pair, strategy; in summary order), and all their runs,
        the main sweep's (shots = all) included.
    """
    budgets = summary[summary["shots"] != "all"][["pair", "strategy"]].drop_duplicates()
    return budgets, summary.merge(budgets, on=["pair", "strategy"])


def strategies_in(frame: pd.DataFrame) -> list[str]:
    """The frame's strategies in display order (:func:`bench.presentation.strategy_rank`)."""
    return sorted(frame["strategy"].unique(), key=strategy_rank)


def pairs_in(frame: pd.DataFrame) -> list[str]:
    """The frame's pairs in first-seen order (the sweep config's order)."""
    return list(dict.fromkeys(frame["pair"]))


def synthetic_pairs(frame: pd.DataFrame) -> dict[str, bool]:
    """Pair -> whether any of its runs used synthetic data."""
    return frame.groupby("pair", sort=False)["synthetic"].any().astype(bool).to_dict()
