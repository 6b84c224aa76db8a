"""Running the Snakemake pipeline from tests: one helper for every end-to-end test.

Each sweep runs in its own working directory (results, caches and Snakemake's state all
land there) with the repository's Snakefile. The clean CI sweep is made once per pytest
session in ``<basetemp>/clean-ci-sweep`` and shared: test_pipeline checks its outputs,
test_reliability and test_slurm compare their sweeps with it, and `.ci/run` points the
regression check at it instead of sweeping a fourth time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

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
    workdir = tmp_path_factory.getbasetemp() / "clean-ci-sweep"
    if not (workdir / CI_RESULTS / "summary.csv").exists():
        workdir.mkdir(exist_ok=True)
        started = time.monotonic()
        result = snakemake(workdir, "--cores", "2")
        assert result.returncode == 0, result.stderr[-5000:]
        print(f"\nclean CI sweep: {time.monotonic() - started:.0f} s in {workdir}")
    return workdir
