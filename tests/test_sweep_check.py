"""The config check runs once per config and code (bench.sweep_check, docs/ARCHITECTURE.md).

A config that passed is kept with the facts the Snakefile needs; a later parse reads
them and imports no torch. A config that fails, or one defining its own data sets, is
never kept; other code checks again.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bench import sweep_check
from bench.config_layers import layered_config
from bench.datasets import DATASETS
from bench.settings import ConfigError
from tests.conftest import REPO, tiny_config


def sweep_config(tmp_path: Path, **changes) -> dict:
    """The tiny config as the Snakefile sees it (layered over config.yaml, defaults set)."""
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump({**tiny_config(), "results_dir": str(tmp_path / "results"),
                                    **changes}))
    return layered_config([path])


def memos(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "results" / "cache" / "checked").rglob("*.json"))


def test_a_config_that_passed_is_not_checked_again(tmp_path, monkeypatch):
    config = sweep_config(tmp_path)
    facts = sweep_check.checked_sweep(config)
    names = {config["pairs"][p][role] for p in config["pairs"] for role in ("source", "target")}
    assert facts["offline_datasets"] == sorted(n for n in names if DATASETS[n].offline)
    assert len(memos(tmp_path)) == 1

    monkeypatch.setattr(sweep_check, "_check", lambda config: pytest.fail("checked again"))
    assert sweep_check.checked_sweep(config) == facts
    # Another config (one key changed) is checked.
    with pytest.raises(pytest.fail.Exception, match="checked again"):
        sweep_check.checked_sweep({**config, "seeds": [0, 1, 2, 3]})


def test_a_config_that_fails_is_checked_every_time(tmp_path):
    config = sweep_config(tmp_path, backbone="efficientnet_litee0")
    for _ in range(2):
        with pytest.raises(ConfigError, match="`backbone`"):
            sweep_check.checked_sweep(config)
    assert memos(tmp_path) == []


def test_a_config_defining_its_data_sets_is_checked_every_time(tmp_path, monkeypatch):
    config = sweep_config(tmp_path)
    config["data"]["sets"] = {"mine": {"builder": "folder", "path": str(tmp_path)}}
    calls = []
    monkeypatch.setattr(sweep_check, "_check", lambda config: calls.append(1) or {})
    sweep_check.checked_sweep(config)
    sweep_check.checked_sweep(config)
    assert len(calls) == 2 and memos(tmp_path) == []


def test_other_code_checks_again_and_drops_the_old_checks(tmp_path, monkeypatch):
    config = sweep_config(tmp_path)
    sweep_check.checked_sweep(config)
    old = memos(tmp_path)
    monkeypatch.setattr(sweep_check, "code_fingerprint", lambda build: "0" * 16)
    calls = []
    monkeypatch.setattr(sweep_check, "_check", lambda config: calls.append(1) or {})
    sweep_check.checked_sweep(config)
    assert calls == [1]
    assert [p.parent.name for p in memos(tmp_path)] == ["0" * 16] and not old[0].exists()


@pytest.mark.slow
def test_a_dry_run_of_a_checked_config_imports_no_torch(tmp_path):
    """The second `snakemake --dry-run` on a config plans the same jobs without torch."""
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_config()))
    command = [sys.executable, "-X", "importtime", "-m", "snakemake", "--dry-run", "--cores",
               "1", "--snakefile", str(REPO / "Snakefile"), "--directory", str(tmp_path),
               "--configfile", str(path)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    plans, imported = [], []
    for _ in range(2):
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
        plans.append(sorted(line.strip() for line in result.stdout.splitlines()
                            if line.strip().startswith(("rule ", "localrule ", "output:"))))
        imported.append({line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()
                         if line.startswith("import time:")})
    assert "torch" in imported[0] and "timm" in imported[0]  # the first parse checked
    assert not {"torch", "timm", "torchvision"} & imported[1]
    assert plans[0] == plans[1]


def test_a_results_folder_that_cannot_be_written_only_costs_the_check(tmp_path, monkeypatch):
    def refuse(path, text):
        raise PermissionError(f"read-only: {path}")

    monkeypatch.setattr(sweep_check, "write_atomic", refuse)
    config = sweep_config(tmp_path)
    assert sweep_check.checked_sweep(config)["offline_datasets"]
    assert memos(tmp_path) == []


def test_a_cluster_jobs_parse_never_checks(tmp_path, monkeypatch):
    """check=False (a job's parse, after the main process checked): the kept facts, or
    the same facts worked out without the check; nothing is kept."""
    config = sweep_config(tmp_path)
    monkeypatch.setattr(sweep_check, "_check", lambda config: pytest.fail("checked"))
    facts = sweep_check.checked_sweep(config, check=False)
    names = {config["pairs"][p][role] for p in config["pairs"] for role in ("source", "target")}
    assert facts["offline_datasets"] == sorted(n for n in names if DATASETS[n].offline)
    assert memos(tmp_path) == []
