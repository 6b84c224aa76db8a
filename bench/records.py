"""Run records on disk: validated against the schema, written atomically.

A record is written atomically (:mod:`bench.io`), so a sweep killed at any moment
leaves either the whole record or none, and a restarted ``snakemake`` redoes only the
runs whose record is missing.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import jsonschema

from bench.io import write_atomic

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "workflows" / "schemas" / "run.schema.json"


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def validate_record(record: dict, where: str = "record") -> None:
    """Raise ValueError naming every field of ``record`` that breaks the schema."""
    errors = sorted(_validator().iter_errors(record), key=lambda e: list(e.path))
    if errors:
        problems = [f"{'.'.join(map(str, e.path)) or '(top level)'}: {e.message}" for e in errors]
        raise ValueError(f"{where} does not match {SCHEMA_PATH.name}: " + "; ".join(problems))


def write_record(record: dict, path: str | Path) -> None:
    """Validate ``record`` and write it atomically as indented JSON."""
    validate_record(record, str(path))
    write_atomic(path, json.dumps(record, indent=2, sort_keys=False) + "\n")


def read_record(path: str | Path) -> dict:
    """Read and validate one record; ValueError names the file and what is wrong."""
    try:
        record = json.loads(Path(path).read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from error
    validate_record(record, str(path))
    return record
