"""bench.io: a write that fails leaves the old file whole and no temporary behind."""

from __future__ import annotations

import pytest

from bench.io import atomic_open, write_atomic


def test_a_writer_that_raises_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "record.json"
    path.write_bytes(b'{"old": true}\n')
    with pytest.raises(RuntimeError, match="killed"), atomic_open(path, "wb") as out:
        out.write(b'{"new": tr')
        out.flush()
        raise RuntimeError("killed mid-write")
    assert path.read_bytes() == b'{"old": true}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]


def test_a_successful_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("old\n")
    write_atomic(path, "new\n")
    assert path.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]


@pytest.mark.parametrize("mode", ["a", "r", "w+", "ab", "x"])
def test_atomic_open_refuses_modes_other_than_w_and_wb(tmp_path, mode):
    with pytest.raises(ValueError, match="writes only"), atomic_open(tmp_path / "f", mode):
        pass
    assert not list(tmp_path.iterdir())
