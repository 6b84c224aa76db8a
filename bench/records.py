"""Run records on disk: validated against the schema, written atomically.

A record is written to a temporary file in the destination folder and renamed over
the final path, so a sweep killed at any moment leaves either the whole record or
none, and a restarted ``snakemake`` redoes only the runs whose record is missing.
"""

from __future__ import annotations

import json
import os
import tempfile
from functools import cache
from pathlib import Path

import jsonschema

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "workflows" / "schemas" / "run.schema.json"


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def validate_record(record: dict, where: str = "record") -> None:
    """Raise ValueError naming every field of ``record`` that breaks the schema."""
    errors = sorted(_validator().iter_errors(record), key=lambda e: list(e.path))
    if errors:
        lines = [f"  {'.'.join(map(str, e.path)) or '(top level)'}: {e.message}" for e in errors]
        raise ValueError(f"{where} does not match {SCHEMA_PATH.name}:\n" + "\n".join(lines))


def write_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_record(record: dict, path: str | Path) -> None:
    """Validate ``record`` and write it atomically as indented JSON."""
    validate_record(record, str(path))
    write_atomic(path, json.dumps(record, indent=2, sort_keys=False) + "\n")


def read_record(path: str | Path) -> dict:
    record = json.loads(Path(path).read_text())
    validate_record(record, str(path))
    return record
