"""A bad sweep config fails before any job starts, naming the key and what is allowed.

Each case runs `snakemake --dry-run` on the real Snakefile with a config file that
breaks one rule, in a temporary working directory, and checks the message.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bench.schema import check
from bench.settings import ConfigError

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflows" / "schemas" / "config.schema.yaml"


def dry_run(tmp_path: Path, *configfiles: Path, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "snakemake", "--dry-run", "--cores", "1",
               "--snakefile", str(REPO / "Snakefile"), "--directory", str(tmp_path)]
    if configfiles:
        command += ["--configfile", *map(str, configfiles)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([*command, *extra], capture_output=True, text=True, env=env,
                          timeout=120)


def write_config(tmp_path: Path, config: dict) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


BAD = [
    # (config given with --configfile, words the error must contain)
    ({"strategies": ["scratch", "finetune"]},
     ["strategies[1]", "'finetune'", "feature_extraction", "discriminative_lr"]),
    ({"train": {"epochz": 3}}, ["'epochz'", "train", "max_steps", "batch_size"]),
    # a retired key: one line naming what replaced it
    ({"train": {"epochs": 6}}, ["`train.epochs` is no longer read", "train.max_steps"]),
    ({"strategy_params": {"full": {"warmup_epochs": 2}}},
     ["`strategy_params.full.warmup_epochs` is no longer read", "train.warmup_steps"]),
    ({"resolution": "big"}, ["resolution", "'big'", "integer"]),
    ({"device": "tpu"}, ["device", "'tpu'", "auto", "cpu", "cuda"]),
    ({"strategy_params": {"dan": {"mmd_wieght": 1.0}}},
     ["'mmd_wieght'", "strategy_params.dan", "mmd_weight"]),
    ({"data_efficiency": {"shots": [0, "all"]}}, ["data_efficiency.shots[0]", "0"]),
    ({"pairs": {"a/b": {"source": "photos", "target": "digits", "target_labels": True}}},
     ["pairs", "a/b"]),
    ({"colour": "blue"}, ["'colour'", "top level", "backbone", "pairs"]),
    # semantic checks the schema cannot express
    ({"data_efficiency": {"pairs": ["imagenet-nope"]}},
     ["data_efficiency.pairs[0]", "imagenet-nope", "imagenet-digits"]),
    ({"data_efficiency": {"pairs": ["synoffice-a-w"]}},
     ["data_efficiency.pairs[0]", "synoffice-a-w", "target_labels"]),
]


@pytest.mark.parametrize(("config", "words"), BAD, ids=[str(c) for c, _ in BAD])
@pytest.mark.slow
def test_bad_config_fails_naming_key(tmp_path, config, words):
    result = dry_run(tmp_path, write_config(tmp_path, config))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "invalid config" in output, output
    for word in words:
        assert word in output, f"{word!r} missing from:\n{output}"
    # Failed before any job: nothing was planned, let alone written.
    assert "Job stats" not in output
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
def test_default_and_shipped_configs_validate(tmp_path):
    for configs in [(), (REPO / "workflows/configs/ci.yaml",),
                    (REPO / "workflows/configs/paper.yaml",)]:
        result = dry_run(tmp_path, *configs)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Job stats" in result.stdout


def job_configs(result: subprocess.CompletedProcess) -> dict[str, dict]:
    """{run record path: the config its run reads} from `--dry-run --printshellcmds`: a
    pair cell's `--strategy-configs` entry of the run's strategy."""
    configs = {}
    for line in result.stdout.splitlines():
        if "python -m bench cell --strategy-configs" in line:
            words = shlex.split(line.strip())
            settings = json.loads(words[words.index("--strategy-configs") + 1])
            start = words.index("--out") + 1
            for out in words[start:words.index(">", start)]:
                configs[out] = settings[Path(out).parts[-2]]
    return configs


@pytest.mark.slow
def test_configfile_pairs_replace_default_pairs(tmp_path):
    """A --configfile's `pairs` is the whole set of pairs, not added to config.yaml's."""
    config = {"pairs": {"only": {"source": "photos", "target": "digits", "target_labels": True}},
              "data_efficiency": {"pairs": ["only"]}, "seeds": [0]}
    result = dry_run(tmp_path, write_config(tmp_path, config), extra=("--printshellcmds",))
    assert result.returncode == 0, result.stdout + result.stderr
    runs = job_configs(result)
    assert runs and all(list(job["pairs"]) == ["only"] for job in runs.values())
    assert "imagenet-synflowers" not in result.stdout
    # Other mappings still merge: config.yaml's train settings fill what the file omits.
    assert all(job["train"]["optimizer"] == "adamw" for job in runs.values())


@pytest.mark.slow
def test_each_run_job_reads_its_own_settings_and_nothing_else(tmp_path):
    """A pair cell is given each strategy's config on the command line, from its params
    (what Snakemake tracks): each run reads its own pair and strategy only, so another
    strategy's new setting changes the settings of that strategy's runs and of no other
    run (its cell reruns, and trains only those runs: test_cell.py's
    test_new_settings_of_one_strategy_retrain_only_its_runs)."""
    before = job_configs(dry_run(tmp_path, extra=("--printshellcmds",)))
    changed = write_config(tmp_path, {"strategy_params": {"dan": {"mmd_weight": 2.0}}})
    after = job_configs(dry_run(tmp_path, changed, extra=("--printshellcmds",)))
    assert before.keys() == after.keys() and len(before) > 100
    for path, job in before.items():
        pair, strategy = Path(path).parts[-3:-1]
        assert list(job["pairs"]) == [pair] and list(job["strategy_params"]) == [strategy]
        assert (after[path] != job) == (strategy == "dan"), path
    # A dry run writes no output; only the config check's memo (bench.sweep_check).
    written = [p for p in (tmp_path / "results").rglob("*") if p.is_file()]
    assert written and all("cache/checked/" in p.as_posix() for p in written), written


@pytest.mark.slow
def test_workflow_passes_snakemake_lint(tmp_path):
    """`snakemake --lint` finds nothing: the snakemake-workflows catalog's conventions
    (a conda environment and a log per rule, helpers only in common.smk, ...)."""
    result = dry_run(tmp_path, extra=("--lint",))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Lints for" not in output, output


def test_schema_takes_strategies_and_their_settings_from_the_registry():
    """The schema's strategy names and per-strategy keys are the registry's, so a new
    strategy module is the whole change: its settings are checked with their bounds."""
    from bench.config import TRAIN_KEYS, sweep_schema
    from bench.strategies import STRATEGIES, Param, Strategy
    from bench.strategies.base import register

    schema = yaml.safe_load(SCHEMA.read_text())
    train_keys = schema["$defs"]["train_keys"]["properties"]
    live = {key for key, spec in train_keys.items() if not spec.get("deprecated")}
    assert live == set(TRAIN_KEYS)
    assert set(train_keys) - live == {"epochs", "warmup_epochs"}  # retired: refused by name

    @register
    class Probe(Strategy):
        name, label, colour, order = "probe_strategy", "Probe", "#000000", 99
        settings = {"depth": Param(2, "how deep", minimum=1)}

    try:
        full = sweep_schema()
        assert full["$defs"]["strategy"]["enum"][-1] == "probe_strategy"
        for name, strategy in STRATEGIES.items():
            declared = full["properties"]["strategy_params"]["properties"][name]["properties"]
            assert set(declared) == set(strategy.settings), name
        config = yaml.safe_load((REPO / "config.yaml").read_text())
        config["strategies"] = ["probe_strategy"]
        config["strategy_params"] = {"probe_strategy": {"depth": 0}}
        with pytest.raises(ConfigError, match=r"strategy_params\.probe_strategy\.depth.*minimum"):
            check(config, full)
        config["strategy_params"] = {"probe_strategy": {"depht": 3}}
        with pytest.raises(ConfigError, match="'depht'.*depth"):
            check(config, full)
        config["strategy_params"] = {"probe_strategy": {"depth": 3, "lr": 0.1}}
        check(config, full)
    finally:
        del STRATEGIES["probe_strategy"]
