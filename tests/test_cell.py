"""A cell (bench/cell.py): several runs of one pair in one process, and its store.

- A run's record is the same whether it ran alone (`python -m bench run`) or inside a
  pair cell with other strategies and seeds (`python -m bench cell --runs`), each
  strategy reading its own config (`--strategy-configs`): predictions' metrics, history
  and everything else but timings and timestamps.
- Within one process a data set and an activation cache file are read once.
- The store outlives the cell: a rerun cell restores (byte for byte) every run the
  store holds for the same config hash and the same code fingerprint, and trains the
  rest -- a new seed, the runs of a strategy whose settings changed; a run made by other
  code is never restored (and the other code's entries are deleted); a failed run is
  not stored.

The workflow's kill-mid-cell-and-resume test is tests/test_reliability.py's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import activations, cell, protocol
from bench.cell import CellRun, run_cell, store_entry
from bench.config import run_config
from bench.provenance import code_fingerprint
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
def test_a_run_gives_the_same_record_alone_and_inside_a_pair_cell(tmp_path):
    # Each strategy its own config, as the workflow gives a pair cell: full at another
    # learning rate, which the other strategies must not see.
    configs = {strategy: tiny_config(evaluations=2)
               for strategy in ("feature_extraction", "full", "scratch")}
    configs["full"]["train"]["lr"] = 0.02
    common = ["--pair", PAIR, "--cache-dir", str(tmp_path / "cache")]
    # Seed 1 of each strategy after seed 0 of feature extraction in the same process
    # (which made the activation cache that the later runs and the lone runs read).
    runs = ["feature_extraction:all:0", "full:all:1", "feature_extraction:all:1", "scratch:all:1"]
    outs = [str(tmp_path / f"cell-{run.replace(':', '-')}.json") for run in runs]
    bench("cell", *common, "--strategy-configs", json.dumps(configs), "--runs", *runs,
          "--out", *outs)
    for strategy in ("full", "feature_extraction", "scratch"):
        alone = tmp_path / f"alone-{strategy}.json"
        bench("run", *common, "--config-json", json.dumps(configs[strategy]),
              "--strategy", strategy, "--seed", "1", "--out", str(alone))
        in_cell = json.loads(Path(outs[runs.index(f"{strategy}:all:1")]).read_text())
        assert comparable(in_cell) == comparable(json.loads(alone.read_text())), strategy
        assert in_cell["status"] == "ok" and in_cell["metrics"]["accuracy"] is not None
    other, same = (json.loads(Path(outs[i]).read_text()) for i in (0, 2))
    # Not the same run twice: the other seed trained differently.
    assert other["seed"] == 0 and other["history"][0]["train_loss"] != same["history"][0]["train_loss"]
    # Each run read its own strategy's config: full its learning rate, the others theirs.
    assert [json.loads(Path(out).read_text())["hparams"]["lr"] for out in outs] == [
        0.01, 0.02, 0.01, 0.003]


@pytest.mark.slow
def test_a_cell_imports_no_reporting_library(tmp_path):
    """What a cell process imports it pays once per job: pandas, scipy, scikit-learn and
    matplotlib are for the reports, and a run needs none of them (docs/PERFORMANCE.md,
    "Fixed cost per run")."""
    configs = {strategy: tiny_config() for strategy in ("feature_extraction", "full")}
    imported = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bench", "cell", "--pair", PAIR,
         "--cache-dir", str(tmp_path / "cache"), "--strategy-configs", json.dumps(configs),
         "--runs", "feature_extraction:all:0", "full:all:0",
         "--out", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--quiet"],
        cwd=REPO, capture_output=True, text=True, check=True).stderr
    modules = {line.rsplit("|", 1)[-1].strip() for line in imported.splitlines()
               if line.startswith("import time:")}
    assert "torch" in modules and "bench.train" in modules  # it read what it imported
    assert not {"pandas", "scipy", "sklearn", "matplotlib"} & modules


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


def restored_names(caplog) -> list[str]:
    """The runs a cell said it restored from the store, in order."""
    return [record.getMessage().split(":")[0] for record in caplog.records
            if "restored its finished record" in record.getMessage()]


def fe_runs(tmp_path: Path, seeds, config: dict | None = None) -> list[CellRun]:
    return [CellRun(run_config(config or tiny_config(), PAIR, "feature_extraction", seed),
                    tmp_path / f"seed{seed}.json") for seed in seeds]


def test_the_store_outlives_the_cell_and_a_new_seed_trains_alone(tmp_path, caplog):
    store = tmp_path / "store"
    caplog.set_level("INFO", logger="bench.cell")
    first = run_cell(fe_runs(tmp_path, (0,)), store, progress=False)[0]
    entry = store_entry(store, code_fingerprint(), fe_runs(tmp_path, (0,))[0].config)
    assert entry.exists(), "a finished cell keeps its records in the store"
    written = entry.read_bytes()
    # As Snakemake leaves a cell it reruns: its outputs deleted. Seed 1 is new.
    runs = fe_runs(tmp_path, (0, 1))
    runs[0].out.unlink()
    again = run_cell(runs, store, progress=False)
    assert again[0] == first  # restored as it was, `created` included
    assert runs[0].out.read_bytes() == written  # byte for byte the stored file
    assert again[1]["seed"] == 1 and again[1]["created"] >= first["created"]
    assert restored_names(caplog) == [f"{PAIR} feature_extraction seed 0"]


def test_new_settings_of_one_strategy_retrain_only_its_runs(tmp_path, caplog):
    store = tmp_path / "store"
    config = tiny_config()

    def pair_cell(fe_lr: float) -> list[CellRun]:
        changed = tiny_config()
        changed["strategy_params"]["feature_extraction"] = {"lr": fe_lr}
        return [CellRun(run_config(changed if strategy == "feature_extraction" else config,
                                   PAIR, strategy, 0), tmp_path / f"{strategy}.json")
                for strategy in ("source_only", "feature_extraction")]

    before = run_cell(pair_cell(0.01), store, progress=False)
    caplog.set_level("INFO", logger="bench.cell")
    after = run_cell(pair_cell(0.05), store, progress=False)
    assert restored_names(caplog) == [f"{PAIR} source_only seed 0"]
    assert after[0] == before[0]
    # Trained again at its new settings (both cells can finish within one second of
    # `created`, so the settings say it, not the clock).
    assert after[1]["config_hash"] != before[1]["config_hash"]
    assert after[1]["hparams"] != before[1]["hparams"]


def test_a_code_change_never_restores_and_prunes_the_old_entries(tmp_path, monkeypatch, caplog):
    store = tmp_path / "store"
    run_cell(fe_runs(tmp_path, (0,)), store, progress=False)
    (old,) = store.iterdir()
    (store / "0123456789abcdef.json").write_text("{}")  # a flat entry of the older store
    monkeypatch.setattr("bench.provenance.code_fingerprint", lambda: "f" * 16)
    caplog.set_level("INFO", logger="bench.cell")
    run_cell(fe_runs(tmp_path, (0,)), store, progress=False)
    assert restored_names(caplog) == []
    assert [entry.name for entry in store.iterdir()] == ["f" * 16]
    assert not old.exists()


def test_the_code_fingerprint_follows_the_sources_and_the_libraries(tmp_path, monkeypatch):
    import shutil

    import torch

    import bench

    package = tmp_path / "bench"
    shutil.copytree(Path(bench.__file__).parent, package,
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(bench, "__file__", str(package / "__init__.py"))
    original = code_fingerprint()
    assert code_fingerprint() == original  # stable
    (package / "README.txt").write_text("not code")
    assert code_fingerprint() == original
    train = package / "train.py"
    train.write_text(train.read_text() + "\n# a change\n")
    edited = code_fingerprint()
    assert edited != original
    monkeypatch.setattr(torch, "__version__", "0.0.1")
    assert code_fingerprint() not in (original, edited)


def test_a_stored_record_of_another_config_is_not_restored(tmp_path):
    store = tmp_path / "store"
    (run,) = fe_runs(tmp_path, (0,))
    record = run_cell([run], None, progress=False)[0]
    stale = {**record, "config_hash": "0" * 16, "created": "2000-01-01T00:00:00+00:00"}
    entry = store_entry(store, code_fingerprint(), run.config)
    entry.parent.mkdir(parents=True)
    entry.write_text(json.dumps(stale))
    assert run_cell([run], store, progress=False)[0]["created"] != stale["created"]


def test_a_record_made_on_another_kind_of_device_is_not_restored(tmp_path, caplog):
    store = tmp_path / "store"
    (run,) = fe_runs(tmp_path, (0,))
    run_cell([run], store, progress=False)
    entry = store_entry(store, code_fingerprint(), run.config)
    assert entry.name.endswith("-cpu.json")
    entry.rename(entry.with_name(entry.name.replace("-cpu", "-cuda")))  # as a GPU run's
    caplog.set_level("INFO", logger="bench.cell")
    run_cell([run], store, progress=False)
    assert restored_names(caplog) == []


def test_a_failed_run_is_not_stored_so_a_rerun_tries_it_again(tmp_path, monkeypatch):
    from bench.train import failed_record

    store = tmp_path / "store"
    monkeypatch.setattr(cell, "train_record",
                        lambda config, progress: failed_record(config, MemoryError("out of memory")))
    (record,) = run_cell(fe_runs(tmp_path, (0,)), store, progress=False)
    assert record["status"] == "failed" and fe_runs(tmp_path, (0,))[0].out.exists()
    assert not list(store.rglob("*.json"))


def test_a_store_that_cannot_be_written_costs_no_run(tmp_path, caplog):
    store = tmp_path / "store"
    store.write_text("a file where the store's folder should be")
    (run,) = fe_runs(tmp_path, (0,))
    (record,) = run_cell([run], store, progress=False)
    assert record["status"] == "ok" and json.loads(run.out.read_text()) == record
    assert "could not keep the record in the store" in caplog.text


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="Linux only")
def test_a_runs_host_peak_is_its_own_not_an_earlier_runs_of_its_cell(tmp_path):
    """A small run after a big one in a pair cell: its record's peak host memory (the
    memory figure's and the regression check's) counts from the run's start."""
    import numpy as np

    from bench.device import peak_host_rss_bytes

    big = np.ones(512 * 2**20 // 8)  # an earlier run's 512 MiB, touched, then freed
    high = peak_host_rss_bytes()
    del big
    (record,) = run_cell(fe_runs(tmp_path, (0,)), None, progress=False)
    assert record["cost"]["peak_host_rss_bytes"] < high - 300 * 2**20


def test_cell_command_needs_one_out_per_run(capsys):
    from bench.cli import main

    assert main(["cell", "--pair", PAIR, "--strategy", "full", "--seeds", "0", "1",
                 "--out", "a.json"]) == 2
    assert "--out names 1 item(s) for 2 runs" in capsys.readouterr().err
    assert main(["cell", "--pair", PAIR, "--runs", "full:all:0", "dan:5:1",
                 "--out", "a.json"]) == 2
    assert "--out names 1 item(s) for 2 runs" in capsys.readouterr().err
    assert not Path("a.json").exists()


@pytest.mark.parametrize(("argv", "words"), [
    (["--runs", "full:all:0", "--strategy", "full", "--seeds", "0"], ["either as --runs", "not both"]),
    (["--runs", "full:all:0", "--strategy", "full"], ["either as --runs", "not both"]),
    (["--seeds", "0"], ["--seeds needs --strategy"]),
    (["--runs", "full:none:0"], ["shots must be a positive integer or 'all'"]),
    (["--runs", "full:all"], ["STRATEGY:SHOTS:SEED", "'full:all'"]),
    (["--runs", "dan:all:0", "--strategy-configs", '{"full": {}}'],
     ["--strategy-configs has no config for strategy 'dan'", "full"]),
])
def test_cell_command_names_bad_runs(argv, words, capsys):
    from bench.cli import main

    try:  # argparse exits (2) on a malformed --runs; main returns 2 on the others
        code = main(["cell", "--pair", PAIR, *argv, "--out", "a.json"])
    except SystemExit as error:
        code = error.code
    assert code == 2
    err = capsys.readouterr().err
    for word in words:
        assert word in err, err
    assert not Path("a.json").exists()
