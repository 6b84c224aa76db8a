"""Reliability (issue 7): a killed sweep loses nothing, bad input is named, a run that blows up is kept.

- Kill and resume: the CI sweep (workflows/configs/ci.yaml, one of its pairs: every
  strategy and budget; two seeds; one pair cell job of 24 runs) is killed mid-cell,
  once with SIGTERM and once with SIGKILL (to its whole process group: snakemake and
  its running jobs, as a scheduler, a container stop or a crash would), then restarted;
  no partial record, temporary file or unreadable cache may remain, the restart redoes
  only what is missing -- a job Snakemake saw finish is not rerun, and a run a killed
  cell had finished is restored from the store, not retrained -- and the summary equals
  the clean CI sweep's, run by run (metrics, not timings).
- Bad config: the cases of issue 7 that tests/test_train.py and
  tests/test_config_validation.py do not cover, one test per case, each failing before
  any job starts (sweep) and before any training (single run), naming the key, the
  value and what is allowed.
- Bad data: what tests/test_datasets*.py check at the loader, followed through to the
  run record (a count there) and to the command line (a missing data set).
- A run that blows up: a NaN loss ends that run `diverged`, the sweep goes on, and the
  summary and the accuracy table show the run.

The clean CI sweep is run once per pytest session (tests/sweep.py `clean_ci_sweep`).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from sweep import (
    CI_RESULTS,
    CI_SUBSET_PAIRS,
    REPO,
    SWEEP_GROUP,
    assert_same_results,
    ci_subset_config,
    clean_ci_sweep,
    comparable,
    snakemake,
    snakemake_command,
    sweep_env,
)

# ---------------------------------------------------------------------------------------
# Running the sweep
# ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def clean_summary(tmp_path_factory) -> Path:
    return clean_ci_sweep(tmp_path_factory) / CI_RESULTS / "summary.csv"


# ---------------------------------------------------------------------------------------
# Kill and resume
# ---------------------------------------------------------------------------------------

def record_files(results: Path, folder: str = "runs") -> list[Path]:
    """The run records below ``results/folder`` (``tuning``: the trials' and tuned runs')."""
    return sorted(p for p in (results / folder).rglob("*.json") if not p.name.startswith("."))


def leftover_temporaries(results: Path) -> list[Path]:
    """Half-written files of the atomic writers (`.NAME.XXXX.tmp`, `NAME.tmpPID`)."""
    return sorted(p for p in results.rglob("*") if p.is_file() and ".tmp" in p.name)


def assert_nothing_partial(results: Path) -> None:
    """Every record on disk (the store's too) is a whole, valid record; every cache file loads."""
    from bench.records import read_record

    for path in record_files(results) + record_files(results, "cache/records"):
        read_record(path)  # raises on truncated JSON or a record that breaks the schema
    caches = [p for p in (results / "cache").rglob("*.pt") if ".tmp" not in p.name]
    for path in caches:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        assert "key" in payload, path


def start_sweep(workdir: Path, log: Path, configfile: Path) -> subprocess.Popen:
    """The sweep in its own session, so its process group is snakemake and its jobs."""
    return subprocess.Popen(
        snakemake_command(workdir, "--cores", "2", "--rerun-incomplete", configfiles=(configfile,)),
        stdout=log.open("w"), stderr=subprocess.STDOUT, env=sweep_env(), start_new_session=True)


def stored_records(results: Path) -> dict[Path, dict]:
    """The store (bench/cell.py): runs a cell has finished, by record path."""
    from bench.layout import run_record_path

    stored = {}
    for path in (results / "cache" / "records").rglob("*.json"):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):  # a code change pruned it as we read
            continue
        where = Path(run_record_path(results, record["pair"], record["strategy"], record["seed"],
                                     record["shots"]))
        if where.exists():  # written there too: the cell has gone on to its next run
            stored[where] = record
    return stored


def kill_mid_cell(process: subprocess.Popen, results: Path, at_least: int,
                  sig: signal.Signals, timeout: float = 1800) -> tuple[int, dict, bool]:
    """Once the store holds `at_least` finished runs, send `sig` to the sweep's process
    group (snakemake and its jobs). Returns the records at the kill, the store's records
    (by path), and whether snakemake hung after the signal and had to be SIGKILLed."""
    deadline = time.monotonic() + timeout
    while len(stored_records(results)) < at_least:
        assert process.poll() is None, "the sweep ended before it could be killed"
        assert time.monotonic() < deadline, f"no cell half done within {timeout} s"
        time.sleep(0.05)
    assert process.poll() is None, "the sweep finished before it could be killed"
    count = len(record_files(results))
    os.killpg(process.pid, sig)
    mid_cell = stored_records(results)  # what the killed cells had finished
    hung = False
    try:
        process.wait(timeout=180)
    except subprocess.TimeoutExpired:
        # Seen once in CI: snakemake logged the job SIGTERM killed, then never exited.
        # That is snakemake's own shutdown, not what this test is about (the files a kill
        # leaves and the restart), so the sweep is ended the hard way and the test goes on.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        hung = True
    # Nothing of the killed sweep may go on running (and writing) behind the restart.
    for _ in range(100):
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail(f"processes of the sweep outlived {sig.name} to snakemake's group")
    return count, mid_cell, hung


def planned_outputs(workdir: Path, configfile: Path) -> set[Path]:
    """Outputs a restart would (re)make, as snakemake plans them (a dry run takes no lock)."""
    plan = snakemake(workdir, "--dry-run", "--cores", "2", "--rerun-incomplete",
                     configfiles=(configfile,))
    assert plan.returncode == 0, plan.stderr[-3000:]
    return {workdir / path for line in re.findall(r"^    output: (.+)$", plan.stdout, re.M)
            for path in line.split(", ")}


@SWEEP_GROUP
@pytest.mark.slow
def test_killed_sweep_resumes_to_the_clean_result(tmp_path, clean_summary):
    # Seeds 0 and 2: the pair cell trains 24 runs, so a kill lands between two of them.
    config = ci_subset_config(tmp_path, CI_SUBSET_PAIRS, extra_seed=2)
    results = tmp_path / CI_RESULTS
    total = 2 * sum(comparable(clean_summary).index.get_level_values("pair").isin(CI_SUBSET_PAIRS))
    started, stored = time.monotonic(), {}

    def sweep(*args: str):
        return snakemake(tmp_path, *args, configfiles=(config,))

    for phase, sig in enumerate((signal.SIGTERM, signal.SIGKILL), start=1):
        before = len(stored)
        log = tmp_path / f"sweep-{phase}.log"
        process = start_sweep(tmp_path, log, config)
        # At least one run trained in this phase, beyond those the store restored.
        killed_at, stored, hung = kill_mid_cell(process, results, before + 1, sig)
        print(f"\nphase {phase}: {sig.name} to the sweep's process group with "
              f"{killed_at}/{total} records on disk, {len(stored)} runs in the store; "
              f"snakemake exit {process.returncode}"
              f"{' (hung after SIGTERM: SIGKILLed)' if hung else ''}; "
              f"{len(leftover_temporaries(results))} temporary file(s)")
        assert before < len(stored) < total
        assert_nothing_partial(results)
        if hung and sig != signal.SIGKILL:  # a SIGKILLed snakemake leaves its lock
            assert sweep("--unlock").returncode == 0

    # A SIGKILLed snakemake leaves its lock on the working directory behind; the restart
    # refuses (starting nothing) until `--unlock`, which touches no output.
    refused = sweep("--cores", "2", "--rerun-incomplete")
    assert refused.returncode != 0 and "--unlock" in refused.stderr, refused.stderr[-3000:]
    unlocked = sweep("--unlock")
    assert unlocked.returncode == 0, unlocked.stderr[-3000:]

    # Outputs of jobs snakemake saw finish (a finished tune job's records) and what the
    # killed cells had built for later runs (the offline data sets' caches, activation
    # caches) are final. The killed cell is redone (snakemake cannot know it was whole,
    # and deletes its records first), but the runs it had finished are restored from the
    # store, not trained again.
    planned = planned_outputs(tmp_path, config)
    caches = results / "cache" / "data"
    outputs = [*record_files(results, "tuning"), *caches.glob("*.pt"),
               *caches.glob("activations/*.pt")]
    finished = {path: path.stat().st_mtime_ns for path in outputs if path not in planned}
    assert finished, "nothing finished before the kills"
    print(f"restart after SIGKILL: refused until `snakemake --unlock`; then plans "
          f"{sum(p.parent.parent.parent == results / 'runs' for p in planned)} runs, "
          f"{len(stored)} of them in the store; {len(finished)} finished outputs and caches kept")

    result = sweep("--cores", "2", "--rerun-incomplete")
    assert result.returncode == 0, result.stderr[-5000:]
    redone = [path for path, mtime in finished.items() if path.stat().st_mtime_ns != mtime]
    assert not redone, f"the restart reran finished jobs: {redone[:5]}"
    # A run a killed cell had finished: the same record (`created` included), and the
    # cell's log says it was restored.
    retrained = [path for path, record in stored.items()
                 if json.loads(path.read_text()) != record]
    assert not retrained, f"the restart retrained runs a killed cell had finished: {retrained}"
    cell_log = (results / "logs" / "cells" / f"{CI_SUBSET_PAIRS[0]}.log").read_text()
    for record in stored.values():
        name = (f"{record['pair']} {record['strategy']} seed {record['seed']}"
                + (f" shots {record['shots']}" if record["shots"] else ""))
        assert f"{name}: restored its finished record" in cell_log, name
    # (More when the kill fell between a run's store entry and its record.)
    assert cell_log.count("restored its finished record") >= len(stored), cell_log
    assert len(stored_records(results)) == total, "the store keeps every finished run"
    assert leftover_temporaries(results) == []
    assert_nothing_partial(results)
    # Seed 0 of every run equals the clean CI sweep's, where each cell held seed 0 alone.
    assert_same_results(results / "summary.csv", clean_summary, pairs=CI_SUBSET_PAIRS, seeds=[0])
    print(f"restart: {len(record_files(results))}/{total} records, {len(stored)} restored "
          f"from killed cells, not retrained; no temporary file, every cache loads; seed 0's "
          f"runs equal the clean CI sweep's for these pairs (metrics, status, params, history "
          f"without seconds); {time.monotonic() - started:.0f} s in all")


# ---------------------------------------------------------------------------------------
# A run that blows up
# ---------------------------------------------------------------------------------------

@pytest.mark.slow
def test_diverged_run_is_kept_and_shown_while_the_sweep_goes_on(tmp_path):
    """scratch at lr 1e12 gets a non-finite loss within its 4 steps; feature_extraction still runs."""
    config = {
        "results_dir": "results/diverge",
        "resolution": 32,
        "seeds": [0],
        "strategies": ["scratch", "feature_extraction"],
        "pairs": {"imagenet-digits": {"source": "photos", "target": "digits",
                                      "target_labels": True}},
        "train": {"max_steps": 4, "eval_every": 4, "patience": 0},
        "strategy_params": {"scratch": {"lr": 1.0e12}},
        "data_efficiency": {"pairs": []},
    }
    path = tmp_path / "diverge.yaml"
    path.write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path, "--cores", "2", configfiles=(path,))
    assert result.returncode == 0, result.stderr[-5000:]

    results = tmp_path / "results" / "diverge"
    summary = pd.read_csv(results / "summary.csv").set_index("strategy")
    assert summary.at["scratch", "status"] == "diverged"
    # Which step: BatchNorm can absorb the first huge update (step 3 on one CPU, 1 on another).
    step = summary.at["scratch", "diverged_step"]
    assert 1 <= step <= 4 and summary.at["scratch", "steps"] == step - 1
    assert summary.at["scratch", "stop_reason"] == "diverged"
    assert f"non-finite loss at step {int(step)}" in summary.at["scratch", "error"]
    assert pd.isna(summary.at["scratch", "accuracy"])
    assert summary.at["feature_extraction", "status"] == "ok"
    assert summary.at["feature_extraction", "accuracy"] > 0

    # The accuracy table keeps the diverged cell and says why it has no number.
    table = (results / "tables" / "accuracy.md").read_text()
    row = next(line for line in table.splitlines() if "imagenet-digits" in line)
    assert "0/1 ok" in row, table
    assert "diverged" in table, table
    cost = pd.read_csv(results / "tables" / "cost.csv").set_index("strategy")
    assert (cost.at["scratch", "n_runs"], cost.at["scratch", "n_ok"]) == (1, 0)


# ---------------------------------------------------------------------------------------
# Bad config: cases not covered by test_train.py / test_config_validation.py
# ---------------------------------------------------------------------------------------

def _sweep_refuses(tmp_path: Path, config: dict, words: list[str]) -> None:
    """snakemake --dry-run with `config` fails before planning any job, naming `words`."""
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path, "--dry-run", "--cores", "1", configfiles=(path,), timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode != 0, "the sweep planned its jobs:\n" + output[-1500:]
    assert "invalid config" in output, output[-3000:]
    for word in words:
        assert word in output, f"{word!r} missing from:\n{output[-3000:]}"
    assert "Job stats" not in output
    assert not (tmp_path / "results").exists()


def _run_refuses(config: dict, pair: str, words: list[str]) -> None:
    """The single-run path (`python -m bench run`) refuses `config` before loading data."""
    from bench.config import ConfigError, run_config

    with pytest.raises(ConfigError) as error:
        run_config(config, pair, "full", 0)
    for word in words:
        assert word in str(error.value), f"{word!r} missing from: {error.value}"


def _default_config() -> dict:
    return yaml.safe_load((REPO / "config.yaml").read_text())


@pytest.mark.slow
def test_unknown_backbone_fails_before_training(tmp_path):
    _sweep_refuses(tmp_path, {"backbone": "resnet9000"},
                   ["backbone", "'resnet9000'", "efficientnet_lite0"])
    config = _default_config()
    config["backbone"] = "resnet9000"
    _run_refuses(config, "imagenet-digits", ["backbone", "'resnet9000'", "efficientnet_lite0"])


@pytest.mark.slow
def test_unknown_data_set_fails_before_training(tmp_path):
    pair = {"source": "photos", "target": "digitz", "target_labels": True}
    _sweep_refuses(tmp_path, {"pairs": {"p": pair}, "data_efficiency": {"pairs": []}},
                   ["pairs.p.target", "'digitz'", "digits", "synflowers"])
    config = _default_config()
    config["pairs"] = {"p": pair}
    _run_refuses(config, "p", ["pairs.p.target", "'digitz'", "digits", "synflowers"])


@pytest.mark.slow
def test_negative_learning_rate_fails_before_any_job(tmp_path):
    # The single-run path is covered by test_train.py::test_bad_config_names_the_key.
    _sweep_refuses(tmp_path, {"train": {"lr": -0.1}}, ["train.lr", "-0.1", "0"])


@pytest.mark.slow
def test_strategy_override_of_a_train_key_is_checked_before_any_job(tmp_path):
    """A negative lr given per strategy (strategy_params.X.lr) is caught like train.lr."""
    _sweep_refuses(tmp_path, {"strategy_params": {"full": {"lr": -1.0}}},
                   ["strategy_params.full.lr", "-1.0"])


# ---------------------------------------------------------------------------------------
# Bad data, followed through to the record (the loaders are tested in test_datasets*.py)
# ---------------------------------------------------------------------------------------

def _jpeg(path: Path, seed: int, mode: str = "RGB") -> None:
    import numpy as np
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    shape = (20, 24, 3) if mode == "RGB" else (20, 24)
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(path, "JPEG")


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:60])


def _tiny_run(tmp_path: Path, pair: dict):
    from conftest import tiny_config

    from bench.config import run_config
    from bench.train import run

    config = tiny_config()
    config["pairs"] = {"p": pair}
    config["data"]["root"] = str(tmp_path)
    return run(run_config(config, "p", "feature_extraction", 0,
                          cache_dir=str(tmp_path / "cache")), progress=False)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_bad_image_files_and_a_class_missing_from_test_are_counted_in_the_record(tmp_path):
    base = tmp_path / "chest_xray"
    # Validation is drawn from train + val (10% of each class's patients, one file
    # each here): 20 files per class leave two per class, the bad files counted apart.
    for split, files in (("train", 10), ("val", 10), ("test", 4)):
        for c, name in enumerate(("NORMAL", "PNEUMONIA")):
            for i in range(files):
                _jpeg(base / split / name / f"p{i}.jpeg", seed=100 * c + i, mode="L")
    _truncate(base / "train" / "NORMAL" / "p1.jpeg")
    (base / "train" / "PNEUMONIA" / "p2.jpeg").write_bytes(b"not an image")
    for path in (base / "test" / "PNEUMONIA").iterdir():
        path.unlink()
    (base / "test" / "PNEUMONIA").rmdir()

    record = _tiny_run(tmp_path, {"source": "photos", "target": "chest-xray",
                                  "target_labels": True})
    assert record["status"] == "ok", record["error"]
    info = record["data"]["chest-xray_info"]
    assert sorted(info["skipped_files"]) == sorted(
        [str(base / "train" / "NORMAL" / "p1.jpeg"), str(base / "train" / "PNEUMONIA" / "p2.jpeg")])
    assert info["classes_missing"] == {"test": ["pneumonia"]}
    assert record["data"]["train"] + record["data"]["val"] == 38 and record["data"]["test"] == 4


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_grayscale_and_corrupt_images_in_an_rgb_set_reach_the_record(tmp_path):
    for domain in ("amazon", "webcam"):
        for c, name in enumerate(("back_pack", "bike", "mug")):
            for i in range(6):
                _jpeg(tmp_path / "office31" / domain / "images" / name / f"frame_{i:04d}.jpg",
                      seed=10 * c + i, mode="L" if (name == "mug" and i < 3) else "RGB")
    bad = tmp_path / "office31" / "amazon" / "images" / "bike" / "frame_0003.jpg"
    _truncate(bad)

    record = _tiny_run(tmp_path, {"source": "office31-amazon", "target": "office31-webcam",
                                  "target_labels": False})
    assert record["status"] == "ok", record["error"]
    assert record["data"]["office31-amazon_info"]["skipped_files"] == [str(bad)]
    assert "skipped_files" not in record["data"].get("office31-webcam_info", {})


@pytest.mark.slow
def test_missing_data_set_fails_the_run_naming_the_files_and_writes_no_record(tmp_path):
    config = _default_config()
    config["pairs"] = {"office": {"source": "office31-amazon", "target": "office31-webcam",
                                  "target_labels": False}}
    config["data"]["root"] = str(tmp_path / "data")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    out = tmp_path / "run.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench", "run", "--config", str(path), "--pair", "office",
         "--strategy", "feature_extraction", "--seed", "0", "--out", str(out), "--quiet"],
        capture_output=True, text=True, env=sweep_env(), timeout=600)
    assert result.returncode == 2, result.stdout + result.stderr
    # The first data set the run needs is named, with the files expected and where from.
    for words in ("not found", "office31/", "/images", "data.root", str(tmp_path / "data"),
                  "Download"):
        assert words in result.stderr, result.stderr
    assert not out.exists()
