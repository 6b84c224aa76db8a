"""The committed baseline: refreshing it with its provenance, and reading its machine."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from bench.io import atomic_open, read_json, write_atomic
from bench.provenance import git_revision
from bench.regress._columns import VERSION_PREFIX, RegressionInputError, distinct
from bench.regress._summary import read_summary


def machine_description() -> dict:
    """The machine a baseline was made on: what can change times and float sums.

    Returns:
        ``{"cpu": model name, "cores": ..., "machine": architecture, "os": ...}``.
    """
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


def _sidecar_path(baseline: str | Path) -> Path:
    """The provenance file beside a baseline: ``NAME.csv`` -> ``NAME.meta.json``."""
    return Path(baseline).with_suffix(".meta.json")


def refresh_baseline(summary: str | Path, baseline: str | Path,
                     configfiles: list[str] | None = None,
                     config_overrides: list[str] | None = None) -> Path:
    """Copy ``summary`` over ``baseline`` and write its provenance to ``NAME.meta.json``.

    The sidecar records what the numbers depend on: library versions and devices
    (from the records), the git revisions the runs were made at, the machine, the
    date, the sweep's config files and overrides, and the CSV's SHA-256 (so a
    hand-edited baseline is detectable). Runs that are not ok are named on stderr.

    Args:
        summary: the sweep's ``summary.csv``.
        baseline: where the baseline goes, e.g. ``results/baseline/ci.csv``.
        configfiles: the sweep's config files, in order.
        config_overrides: its ``--config`` overrides.

    Returns:
        The sidecar's path.

    Raises:
        RegressionInputError: the summary is missing or not a valid summary.
    """
    summary, baseline = Path(summary), Path(baseline)
    frame = read_summary(summary, "summary")
    content = summary.read_bytes()
    meta = {"baseline": baseline.name, "sha256": hashlib.sha256(content).hexdigest(),
            **_provenance(frame, summary, configfiles, config_overrides)}
    with atomic_open(baseline, "wb") as out:
        out.write(content)
    sidecar = _sidecar_path(baseline)
    write_atomic(sidecar, json.dumps(meta, indent=2) + "\n")
    if meta["not_ok_runs"]:
        print(f"warning: {len(meta['not_ok_runs'])} run(s) in the new baseline are not ok: "
              f"{', '.join(meta['not_ok_runs'])}", file=sys.stderr)
    print(f"{len(frame)} runs -> {baseline}, provenance -> {sidecar}")
    return sidecar


def _provenance(frame: pd.DataFrame, summary: Path, configfiles: list[str] | None,
                config_overrides: list[str] | None) -> dict:
    """The sidecar's fields after the baseline's name and hash, in the order written."""
    versions = {column.removeprefix(VERSION_PREFIX): distinct(frame, column)
                for column in frame.columns if column.startswith(VERSION_PREFIX)}
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "configfiles": configfiles or [],
        "config_overrides": config_overrides or [],
        "from_summary": str(summary),
        "runs": len(frame),
        "statuses": frame["status"].value_counts().to_dict(),
        "not_ok_runs": [name for name, status in frame["status"].items() if status != "ok"],
        "git_revision": git_revision(),
        "run_git_revisions": distinct(frame, "git_revision"),
        "versions": {name: values[0] if len(values) == 1 else values
                     for name, values in versions.items()},
        "devices": distinct(frame, "device"),
        "machine": machine_description(),
        "python": sys.version.split()[0],
    }


def baseline_cpu(baseline: str | Path) -> str | None:
    """The CPU the baseline was made on, from its sidecar; None without one.

    The sidecar is ``NAME.meta.json``, written by :func:`refresh_baseline`.

    Raises:
        RegressionInputError: the sidecar exists but names no ``machine.cpu``.
    """
    sidecar = _sidecar_path(baseline)
    if not sidecar.is_file():
        return None
    try:
        return read_json(sidecar)["machine"]["cpu"]
    except (ValueError, KeyError, TypeError) as error:
        raise RegressionInputError(f"{sidecar} has no machine.cpu: {error}") from None
