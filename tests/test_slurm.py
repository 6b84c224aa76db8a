"""The sweep on SLURM, through snakemake-executor-plugin-slurm and workflows/profiles/slurm.

- Without a cluster: `snakemake --dry-run --profile workflows/profiles/slurm` plans every
  job with the resources the config gives (memory, runtime, GPUs, threads), for the CI
  config and the paper config (one GPU per run). Needs only the plugin
  (`pip install -e '.[slurm]'`).
- With a cluster (marked `slurm`, run where `sbatch` answers, e.g. after
  `scripts/slurm-cluster.sh up`): the CI sweep (two of its pairs: every rule, strategy,
  budget and tuning job) runs through the profile on the real cluster; its summary
  equals the local run's, run by run (metrics, not timings), every
  data-preparation and run job went through SLURM with the requested memory, time and
  CPUs, and the report rules ran on the head node.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from sweep import (
    CI_CONFIG,
    CI_RESULTS,
    CI_SUBSET_PAIRS,
    REPO,
    assert_same_results,
    ci_subset_config,
    clean_ci_sweep,
    comparable,
    snakemake,
)

PROFILE = REPO / "workflows" / "profiles" / "slurm"
PAPER_CONFIG = REPO / "workflows" / "configs" / "paper.yaml"
# To SLURM; a `cell` job trains every run of one pair, `cell_budgets` those of a pair
# with data-efficiency budgets (bench/cell.py).
TRAINING_RULES = {"cell", "cell_budgets", "cell_backbone", "tune"}
REMOTE_RULES = {"prepare_data", *TRAINING_RULES}
BACKBONE_RULES = REMOTE_RULES - {"prepare_data"}
HEAD_NODE_RULES = {"aggregate", "figures", "tuning_report",
                   "tuning_figures"}  # run by snakemake itself (localrules)

def slurm_duration(minutes: int) -> str:
    """How sacct prints a time limit: ``[D-]HH:MM:SS``."""
    days, seconds = divmod(60 * minutes, 86400)
    clock = time.strftime("%H:%M:%S", time.gmtime(seconds))
    return f"{days}-{clock}" if days else clock


PLUGIN_MISSING = importlib.util.find_spec("snakemake_executor_plugin_slurm") is None
needs_plugin = pytest.mark.skipif(
    PLUGIN_MISSING, reason="snakemake-executor-plugin-slurm is not installed "
                           "(pip install -e '.[slurm]')")


def slurm_answers() -> bool:
    """True when sbatch is on PATH and the controller answers `sinfo`."""
    if not (shutil.which("sbatch") and shutil.which("sinfo")):
        return False
    try:
        return subprocess.run(["sinfo", "-h"], capture_output=True, timeout=15).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def merged_resources(*configfiles: Path) -> dict:
    """The `resources` key as the Snakefile sees it: schema defaults, config.yaml, files."""
    schema = yaml.safe_load((REPO / "workflows/schemas/config.schema.yaml").read_text())
    resources = {key: spec["default"] for key, spec in
                 schema["properties"]["resources"]["properties"].items()}
    for path in (REPO / "config.yaml", *configfiles):
        resources.update((yaml.safe_load(path.read_text()) or {}).get("resources") or {})
    return resources


def runs_per_job(configfile: Path) -> dict[str, int]:
    """Runs each training rule's job trains in turn, by rule: a pair cell, every strategy
    x seed (`cell_budgets`: and its data-efficiency budgets); a pair's tuning, its trials
    (every strategy x trial) and its tuned runs (every strategy x seed) (the config as
    the Snakefile layers it over config.yaml)."""
    from bench.config_layers import layered_config

    config = layered_config([str(configfile)])
    seeds, efficiency = config["seeds"], config["data_efficiency"]
    main = {(strategy, "all") for strategy in config["strategies"]}
    budgets = main | {(strategy, str(shots)) for strategy in efficiency["strategies"]
                      for shots in efficiency["shots"]}
    return {"cell": len(main) * len(seeds), "cell_budgets": len(budgets) * len(seeds),
            "cell_backbone": len(main) * len(seeds),
            "tune": (config["tuning"]["trials"] + len(seeds)) * len(config["strategies"])}


def planned_jobs(output: str) -> list[dict]:
    """Jobs of a `snakemake --dry-run` listing: rule, threads, resources, run records."""
    jobs = []
    for line in output.splitlines():
        start = re.match(r"^(local)?rule (\w+):$", line)
        if start:
            jobs.append({"rule": start.group(2), "threads": 1, "resources": {}, "outputs": 0})
        elif jobs and line.startswith("    output: "):
            # Run records: a tune job's selections (one per strategy) train nothing.
            jobs[-1]["outputs"] = len([path for path in line.split(": ", 1)[1].split(", ")
                                       if "/tuning/selected/" not in path])
        elif jobs and line.startswith("    threads: "):
            jobs[-1]["threads"] = int(line.split(":", 1)[1])
        elif jobs and line.startswith("    resources: "):
            for item in line.split(":", 1)[1].split(", "):
                key, _, value = item.strip().partition("=")
                jobs[-1]["resources"][key] = value
    return jobs


@needs_plugin
@pytest.mark.parametrize("configfile", [CI_CONFIG, PAPER_CONFIG], ids=["ci", "paper"])
@pytest.mark.slow
def test_dry_run_through_the_profile_declares_every_jobs_resources(tmp_path, configfile):
    # A dry run plans jobs as if local, capping threads at --cores; a cluster run does not.
    result = snakemake(tmp_path, "--dry-run", "--cores", "64", "--profile", str(PROFILE),
                       configfiles=(configfile,), timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert f"Using profile {PROFILE}" in output

    want, runs = merged_resources(configfile), runs_per_job(configfile)
    jobs = planned_jobs(result.stdout)
    rules = {job["rule"] for job in jobs}
    assert {"cell", "aggregate", "figures"} <= rules, rules
    # A data set read from files is decoded by a job of its own; the CI config's are
    # all offline, built by the first cell that reads them.
    assert ("prepare_data" in rules) == (configfile == PAPER_CONFIG), rules
    cells = [job for job in jobs if job["rule"] in ("cell", "cell_budgets")]
    assert len(cells) > 0
    # Jobs that run the backbone get the GPU, threads and memory of a run.
    for job in (job for job in jobs if job["rule"] in BACKBONE_RULES):
        declared = job["resources"]
        assert int(declared.get("mem_mb", -1)) == want["mem_mb"], job
        # A job that trains several runs in turn: the per-run time limit, that many times
        # (one record per run: its outputs).
        trained = runs[job["rule"]] if job["rule"] in TRAINING_RULES else 1
        assert trained == (job["outputs"] if job["rule"] in TRAINING_RULES else 1), job
        assert int(declared.get("runtime", -1)) == want["runtime"] * trained, job
        assert int(declared.get("gpu", -1)) == want["gpu"], job
        assert job["threads"] == want["threads"], job
    for job in jobs:
        if job["rule"] == "prepare_data":
            assert int(job["resources"]["mem_mb"]) == want["mem_mb"], job
            assert int(job["resources"]["runtime"]) == want["runtime"], job
        if job["rule"] not in BACKBONE_RULES:
            assert int(job["resources"].get("gpu", 0)) == 0, f"only the backbone takes a GPU: {job}"
        # Every job that SLURM could be asked for says how much memory and time it needs.
        assert "mem_mb" in job["resources"] and "runtime" in job["resources"], job
    print(f"\n{configfile.name}: {len(cells)} cell jobs of {runs['cell']} runs, each "
          f"mem_mb={want['mem_mb']} runtime={want['runtime']} x {runs['cell']} "
          f"gpu={want['gpu']} threads={want['threads']}")


def test_profile_is_for_the_slurm_executor():
    profile = yaml.safe_load((PROFILE / "config.yaml").read_text())
    assert profile["executor"] == "slurm"
    assert profile["rerun-incomplete"] is True
    assert profile["slurm-init-seconds-before-status-checks"] > 0
    # Site-specific settings stay out, so the profile works on any cluster as is.
    assert not {"slurm_account", "slurm_partition"} & set(profile["default-resources"])


# ---------------------------------------------------------------------------------------
# On a real cluster
# ---------------------------------------------------------------------------------------

def sacct_jobs(run_id: str) -> list[dict]:
    """SLURM's accounting of the jobs a snakemake run submitted (job name = run id)."""
    fields = ["JobID", "State", "Comment", "ReqMem", "Timelimit", "AllocCPUS", "ReqTRES"]
    out = subprocess.run(["sacct", "-X", "-n", "-P", "--starttime", "now-1days",
                          "--name", run_id, "-o", ",".join(f"{f}%300" for f in fields)],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return [dict(zip(fields, line.split("|"), strict=True)) for line in out.splitlines() if line]


# CI sets TLBENCH_REQUIRE_SLURM=1 after `scripts/slurm-cluster.sh up`: there a missing
# cluster or plugin fails the test instead of skipping it.
REQUIRED = os.environ.get("TLBENCH_REQUIRE_SLURM") == "1"


# Not in SWEEP_GROUP: its own sweep (through SLURM) runs beside the group's on the other
# worker; only its comparison at the end waits for the clean sweep (tests/sweep.py's lock).
@pytest.mark.slurm
@pytest.mark.slow
def test_ci_sweep_on_slurm_equals_the_local_run(tmp_path, tmp_path_factory):
    # Checked here, not in a skipif: `sinfo` can take seconds to give up on a cluster
    # that is down, and collection should not wait for it.
    for missing, reason in ((PLUGIN_MISSING, "snakemake-executor-plugin-slurm is not "
                             "installed (pip install -e '.[slurm]')"),
                            (not slurm_answers(), "no SLURM cluster answers here (sbatch on "
                             "PATH and `sinfo` succeeding; scripts/slurm-cluster.sh up)")):
        if missing:
            if REQUIRED:
                pytest.fail(f"TLBENCH_REQUIRE_SLURM=1, but {reason}")
            pytest.skip(reason)
    # One CI pair (every rule, strategy, budget and tuning job; see CI_SUBSET_PAIRS): the
    # whole CI sweep through SLURM took 10 minutes, half of CI's time budget.
    config = ci_subset_config(tmp_path, CI_SUBSET_PAIRS)

    started = time.monotonic()
    result = snakemake(tmp_path, "--profile", str(PROFILE), configfiles=(config,), timeout=3600)
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    summary = tmp_path / CI_RESULTS / "summary.csv"
    local_summary = clean_ci_sweep(tmp_path_factory) / CI_RESULTS / "summary.csv"
    assert_same_results(summary, local_summary, pairs=CI_SUBSET_PAIRS)
    runs = comparable(summary).index
    # One job per pair: every run of the pair.
    pairs = set(runs.get_level_values("pair"))
    efficiency = set(yaml.safe_load(config.read_text())["data_efficiency"]["pairs"])
    print(f"\nCI sweep ({', '.join(CI_SUBSET_PAIRS)}) on SLURM: {elapsed:.0f} s, {len(runs)} runs "
          f"in {len(pairs)} pair cells; "
          f"summary equals the local CI sweep's for these pairs")

    # Every data preparation and run was a SLURM job that finished, with the memory,
    # time and CPUs the config asks for and no GPU; aggregation stayed on the head node.
    run_id = re.search(r"SLURM run ID: (\S+)", output).group(1)
    jobs = sacct_jobs(run_id)
    want = merged_resources(CI_CONFIG)
    runs_in_job = runs_per_job(config)
    # One SLURM job per pair for its runs and per tuned pair for its tuning (trials,
    # selections and tuned runs); the CI config's data sets are offline: no preparation job.
    results = tmp_path / CI_RESULTS
    counts = {"prepare_data": len(list((results / "cache" / "data").glob("*.prepared"))),
              "cell": len(pairs - efficiency), "cell_budgets": len(pairs & efficiency),
              "tune": len(list((results / "tuning" / "trials").glob("*")))}
    counts = {rule: count for rule, count in counts.items() if count}
    submitted = {}
    for job in jobs:
        job["rule"] = job["Comment"].split("_wildcards_")[0].removeprefix("rule_") or "?"
        submitted[job["rule"]] = submitted.get(job["rule"], 0) + 1
    on_slurm = sorted(HEAD_NODE_RULES & set(submitted))
    assert not on_slurm, (f"{', '.join(on_slurm)} ran as SLURM jobs, not on the head node: "
                          f"declare `localrules: {', '.join(sorted(HEAD_NODE_RULES))}`")
    assert len(jobs) == sum(counts.values()), (counts, submitted)
    for job in jobs:
        assert job["State"] == "COMPLETED", job
        assert job["ReqMem"].rstrip("MmNn") == str(want["mem_mb"]), job
        minutes = want["runtime"] * runs_in_job.get(job["rule"], 1)  # a job's runs in turn
        assert job["Timelimit"] == slurm_duration(minutes), job
        assert int(job["AllocCPUS"]) == want["threads"], job
        assert "gres/gpu" not in job["ReqTRES"], job
    # scripts/slurm-cluster.sh sets AccountingStoreFlags=job_comment: every job has its rule.
    uncommented = [job["JobID"] for job in jobs if job["rule"] == "?"]
    assert not uncommented, (f"jobs {', '.join(uncommented)} have no comment in sacct: set "
                             f"AccountingStoreFlags=job_comment in slurm.conf")
    assert submitted == counts, submitted
    print(f"sacct: {len(jobs)} jobs ("
          + " + ".join(f"{count} {rule}" for rule, count in counts.items()) + "),"
          f" all COMPLETED, each ReqMem={jobs[0]['ReqMem']} Timelimit={jobs[0]['Timelimit']}"
          f" AllocCPUS={jobs[0]['AllocCPUS']}, no GPU; aggregate and figures on the head node")
