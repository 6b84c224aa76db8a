"""Atomic file writes: a temporary file in the destination folder, then a rename.

Everything a sweep keeps (run records, data set and activation caches, tables) is
written this way, so a sweep killed at any moment leaves either the whole file or
none, never a truncated one that a restart would trust.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_open(path: str | Path, mode: str = "w") -> Iterator:
    """Open a temporary sibling of ``path`` for writing; rename it over ``path`` on success."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes only ('w' or 'wb'), got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, mode) as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_open(path) as out:
        out.write(text)


def read_json(path: str | Path) -> dict:
    """The JSON document in ``path``."""
    return json.loads(Path(path).read_text())
