"""A cell (bench/cell.py): every seed of a (pair, strategy, shots) in one process.

- A seed's record is the same whether it ran alone (`python -m bench run`) or inside a
  cell with other seeds (`python -m bench cell`): predictions' metrics, history and
  everything else but timings and timestamps.
- Within one process a data set and an activation cache file are read once.
- A cell restores a run whose record its store holds for the same config, and trains
  it otherwise; a finished cell empties its entries from the store.

The workflow's kill-mid-cell-and-resume test is tests/test_reliability.py's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import activations, protocol
from bench.cell import CellRun, run_cell, store_entry
from bench.config import run_config
from tests.conftest import REPO, tiny_config

PAIR = "imagenet-synflowers"
# What may differ between two runs of the same config: when and how fast they ran.
TIMING = {"created", "cost"}


def comparable(record: dict) -> dict:
    """A record without timings and timestamps (per-evaluation seconds included)."""
    kept = {key: value for key, value in record.items() if key not in TIMING}
    kept["history"] = [{k: v for k, v in epoch.items() if k != "seconds"}
                       for epoch in record["history"]]
    kept["cost"] = {k: record["cost"][k] for k in ("trainable_params", "total_params",
                                                   "train_images", "other_domain_images",
                                                   "train_flops", "eval_flops")}
    return kept


def bench(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "bench", *args, "--quiet"], check=True, cwd=REPO,
                   capture_output=True)


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["feature_extraction", "full", "scratch"])
def test_a_seed_gives_the_same_record_alone_and_inside_a_cell(strategy, tmp_path):
    config_file = tmp_path / "tiny.json"
    config_file.write_text(json.dumps(tiny_config(evaluations=2)))
    common = ["--config-json", config_file.read_text(), "--pair", PAIR, "--strategy", strategy,
              "--cache-dir", str(tmp_path / "cache")]
    # Seed 1 second in its cell: seed 0 trained first in the same process (and made the
    # activation cache that seed 1 and the lone run then read: `activation_cache` "hit").
    bench("cell", *common, "--seeds", "0", "1", "--out", str(tmp_path / "cell0.json"),
          str(tmp_path / "cell1.json"))
    bench("run", *common, "--seed", "1", "--out", str(tmp_path / "alone.json"))
    alone, in_cell, other = (json.loads((tmp_path / name).read_text())
                             for name in ("alone.json", "cell1.json", "cell0.json"))
    assert comparable(in_cell) == comparable(alone)
    assert in_cell["status"] == "ok" and in_cell["metrics"]["accuracy"] is not None
    # Not the same run twice: the other seed trained differently.
    assert other["seed"] == 0 and other["history"][0]["train_loss"] != alone["history"][0]["train_loss"]


def test_a_process_reads_a_data_set_and_an_activation_cache_file_once(tmp_path, monkeypatch):
    cache_dir = str(tmp_path / "cache")
    run_cell([CellRun(run_config(tiny_config(), PAIR, "feature_extraction", 0,
                                 cache_dir=cache_dir), tmp_path / "warm.json")], None, False)
    loads, reads = [], []
    monkeypatch.setattr(protocol, "load_dataset",
                        lambda *a, **k: loads.append(a) or pytest.fail("loaded again"))
    read = activations.torch.load

    def spy(path, *args, **kwargs):  # torch.load also reads the backbone's weights
        if "activations" in str(path):
            reads.append(path)
        return read(path, *args, **kwargs)

    monkeypatch.setattr(activations.torch, "load", spy)
    runs = [CellRun(run_config(tiny_config(), PAIR, "feature_extraction", seed, shots=shots,
                               cache_dir=cache_dir), tmp_path / f"{seed}-{shots}.json")
            for seed in (1, 2) for shots in (None, 2)]
    records = run_cell(runs, None, progress=False)
    assert [r["status"] for r in records] == ["ok"] * 4
    assert loads == [] and reads == []


def test_a_cell_restores_stored_runs_and_trains_the_rest(tmp_path, caplog):
    store = tmp_path / "store"
    runs = [CellRun(run_config(tiny_config(), PAIR, "feature_extraction", seed),
                    tmp_path / f"seed{seed}.json") for seed in (0, 1)]
    first = run_cell(runs[:1], store, progress=False)[0]
    assert not list(store.iterdir()), "a finished cell leaves nothing in the store"
    # As a killed cell leaves it: seed 0 finished (in the store), its output deleted.
    store_entry(store, runs[0].config).write_text(json.dumps(first))
    runs[0].out.unlink()
    caplog.set_level("INFO", logger="bench.cell")
    again = run_cell(runs, store, progress=False)
    assert again[0] == first  # restored as it was, `created` included
    assert json.loads(runs[0].out.read_text()) == first
    assert again[1]["seed"] == 1 and again[1]["created"] >= first["created"]
    assert "seed 0: restored" in caplog.text and "seed 1: restored" not in caplog.text
    assert not list(store.iterdir())


def test_a_stored_record_of_another_config_is_not_restored(tmp_path):
    store = tmp_path / "store"
    run = CellRun(run_config(tiny_config(), PAIR, "feature_extraction", 0), tmp_path / "r.json")
    record = run_cell([run], None, progress=False)[0]
    stale = {**record, "config_hash": "0" * 16, "created": "2000-01-01T00:00:00+00:00"}
    store.mkdir()
    store_entry(store, run.config).write_text(json.dumps(stale))
    assert run_cell([run], store, progress=False)[0]["created"] != stale["created"]


def test_cell_command_needs_one_out_per_seed(capsys):
    from bench.cli import main

    assert main(["cell", "--pair", PAIR, "--strategy", "full", "--seeds", "0", "1",
                 "--out", "a.json"]) == 2
    assert "--out names 1 item(s) for 2 --seeds" in capsys.readouterr().err
    assert not Path("a.json").exists()
