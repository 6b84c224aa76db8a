"""Running the Snakemake pipeline from tests: one helper for every end-to-end test.

Each sweep runs in its own working directory (results, caches and Snakemake's state all
land there) with the repository's Snakefile. The clean CI sweep is made once per pytest
session in ``<basetemp>/clean-ci-sweep`` and shared: test_pipeline checks its outputs,
test_reliability and test_slurm compare their sweeps with it, and `.ci/run` points the
regression check at it instead of sweeping a fourth time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from filelock import FileLock

REPO = Path(__file__).resolve().parents[1]
CI_CONFIG = REPO / "workflows" / "configs" / "ci.yaml"
CI_RESULTS = yaml.safe_load(CI_CONFIG.read_text())["results_dir"]  # relative to the workdir


def sweep_env() -> dict:
    # Jobs run `python -m bench ...` from the workdir; the repository must be importable.
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}


def snakemake_command(workdir: Path, *args: str, configfiles=(CI_CONFIG,)) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
            "--directory", str(workdir), "--configfile", *map(str, configfiles), *args]


def snakemake(workdir: Path, *args: str, configfiles=(CI_CONFIG,),
              timeout: int = 3600) -> subprocess.CompletedProcess:
    return subprocess.run(snakemake_command(workdir, *args, configfiles=configfiles),
                          capture_output=True, text=True, env=sweep_env(), timeout=timeout)


def clean_ci_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Working directory of a finished, uninterrupted local CI sweep (once per session).

    TLBENCH_CLEAN_CI_SWEEP=DIR reuses the sweep a previous session made in DIR (e.g.
    `<basetemp>/clean-ci-sweep`), to rerun the tests that compare against it without
    sweeping again; it must come from the same code.
    """
    reused = os.environ.get("TLBENCH_CLEAN_CI_SWEEP")
    if reused:
        assert (Path(reused) / CI_RESULTS / "summary.csv").exists(), \
            f"TLBENCH_CLEAN_CI_SWEEP={reused} holds no finished CI sweep"
        return Path(reused)
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # pytest-xdist: a worker's is <basetemp>/popen-gwN
        base = base.parent
    workdir = base / "clean-ci-sweep"
    # The tests that read the sweep share an xdist group (SWEEP_GROUP), so one worker
    # makes it; the lock keeps a test outside the group from sweeping beside it.
    with FileLock(base / "clean-ci-sweep.lock"):
        if not (workdir / CI_RESULTS / "summary.csv").exists():
            workdir.mkdir(exist_ok=True)
            started = time.monotonic()
            result = snakemake(workdir, "--cores", "2")
            assert result.returncode == 0, result.stderr[-5000:]
            print(f"\nclean CI sweep: {time.monotonic() - started:.0f} s in {workdir}")
    return workdir


# The tests that read the clean sweep before anything else (end to end, kill-and-resume),
# on one pytest-xdist worker (`-n auto --dist loadgroup`, the README's test command), one
# after another, while the other worker runs the rest of the suite; the SLURM test, which
# reads it only at its end, runs its own sweep on the other worker.
SWEEP_GROUP = pytest.mark.xdist_group("ci_sweep")


# What must be equal between two runs of the same sweep: which runs, how they ended and
# what they measured. Not timings, memory, host, versions or cache hits.
IDENTITY = ["pair", "strategy", "seed", "shots"]
COMPARED = ["status", "error", "diverged_step", "best_step", "steps", "stop_reason", "converged",
            "accuracy", "balanced_accuracy", "macro_f1", "val_accuracy", "mmd",
            "trainable_params", "total_params", "train_images", "evaluations", "config_hash"]
HISTORY_COMPARED = ("step", "epoch", "train_loss", "val_accuracy", "mmd")  # not "seconds"


def comparable(summary_csv: Path) -> pd.DataFrame:
    """The summary's outcome and metrics per run, indexed by (pair, strategy, seed, shots)."""
    frame = pd.read_csv(summary_csv, dtype={"shots": str, "pair": str, "strategy": str})
    columns = [c for c in COMPARED if c in frame.columns]
    out = frame[IDENTITY + columns].copy()
    if "history" in frame.columns:
        out["history"] = [json.dumps([{k: epoch.get(k) for k in HISTORY_COMPARED}
                                      for epoch in json.loads(h)]) for h in frame["history"]]
    return out.set_index(IDENTITY).sort_index()


def assert_same_results(summary: Path, reference: Path, pairs: list[str] | None = None,
                        seeds: list[int] | None = None) -> None:
    """The two summaries hold the same runs with the same outcomes (of ``pairs`` only,
    in the reference, and of ``seeds`` only, in both, when given)."""
    got, want = comparable(summary), comparable(reference)
    if pairs is not None:
        want = want[want.index.get_level_values("pair").isin(pairs)]
    if seeds is not None:
        got = got[got.index.get_level_values("seed").isin(seeds)]
        want = want[want.index.get_level_values("seed").isin(seeds)]
    assert list(got.index) == list(want.index), "the two sweeps ran different runs"
    differing = [(run, column, want.at[run, column], got.at[run, column])
                 for column in want.columns for run in want.index
                 if not (pd.isna(want.at[run, column]) and pd.isna(got.at[run, column]))
                 and want.at[run, column] != got.at[run, column]]
    assert not differing, "runs differ (run, column, clean, this):\n" + "\n".join(
        map(str, differing[:20]))


# The kill test and the SLURM test sweep one CI pair, the one with labelled target data,
# data-efficiency budgets and tuning trials: every strategy and every rule. The Office
# protocol changes which splits a run reads, not which jobs run; the clean CI sweep and
# tests/test_selection.py cover it.
CI_SUBSET_PAIRS = ["imagenet-digits"]


def ci_subset_config(tmp_path: Path, pairs: list[str], extra_seed: int | None = None) -> Path:
    """workflows/configs/ci.yaml with only `pairs`, as a config file.

    With ``extra_seed``, every run also at that seed (so a cell job trains two runs), and
    the tuning trials still at the CI sweep's selection seed: every run of the CI sweep
    is in it, with the same config.
    """
    config = yaml.safe_load(CI_CONFIG.read_text())
    config["pairs"] = {name: config["pairs"][name] for name in pairs}
    if extra_seed is not None:
        config["tuning"]["selection_seed"] = max(config["seeds"]) + 1  # the CI sweep's default
        config["seeds"] = [*config["seeds"], extra_seed]
    config["data_efficiency"]["pairs"] = [p for p in config["data_efficiency"]["pairs"] if p in pairs]
    path = tmp_path / "ci-subset.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path
