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


def test_the_temporary_is_a_sibling_so_the_rename_stays_on_one_file_system(tmp_path):
    path = tmp_path / "runs" / "record.json"  # the folder is made on the way
    with atomic_open(path) as out:
        out.write("{}")
        siblings = [p.name for p in path.parent.iterdir()]
    assert len(siblings) == 1 and siblings[0].startswith(".record.json.")
    assert path.read_text() == "{}" and [p.name for p in path.parent.iterdir()] == ["record.json"]


def test_an_interrupt_mid_write_leaves_no_temporary(tmp_path):
    """Ctrl-C or a scheduler's signal (not an Exception) still cleans up and propagates."""
    path = tmp_path / "record.json"
    with pytest.raises(KeyboardInterrupt), atomic_open(path) as out:
        out.write("{")
        raise KeyboardInterrupt
    assert not list(tmp_path.iterdir())
