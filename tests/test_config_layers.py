"""Config layering: `--config` files over config.yaml, exactly as the Snakefile layers them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from snakemake.settings.types import ConfigSettings
from snakemake.utils import validate

from bench import config_layers
from bench.config import load_config
from bench.config_layers import base_config_path, layer, layered_config, merge_overlays
from bench.schema import SCHEMA_PATH
from bench.settings import ConfigError

REPO = Path(__file__).resolve().parents[1]
CI_CONFIG = REPO / "workflows" / "configs" / "ci.yaml"
BASE = {"backbone": "b", "seeds": [0, 1, 2], "train": {"epochs": 6, "lr": 0.1},
        "pairs": {"p": {"source": "s", "target": "t"}, "q": {"source": "s", "target": "u"}}}


def write(path: Path, config: dict) -> Path:
    path.write_text(yaml.safe_dump(config))
    return path


def test_mappings_merge_lists_and_pairs_replace():
    overlay = {"seeds": [0], "train": {"epochs": 1},
               "pairs": {"r": {"source": "s", "target": "v"}}}
    merged = layer(BASE, overlay)
    assert merged == {"backbone": "b", "seeds": [0], "train": {"epochs": 1, "lr": 0.1},
                      "pairs": {"r": {"source": "s", "target": "v"}}}
    # A config without `pairs` keeps the default pairs; neither input is changed.
    assert layer(BASE, {"train": {"lr": 1}})["pairs"] == BASE["pairs"]
    assert BASE["train"] == {"epochs": 6, "lr": 0.1} and "r" not in BASE["pairs"]


def test_several_files_merge_as_snakemakes_configfiles(tmp_path):
    """Snakemake's own merge of several --configfile (its ConfigSettings) is the overlay."""
    first = write(tmp_path / "a.yaml", {"train": {"lr": 1, "epochs": 2}, "seeds": [5],
                                        "pairs": {"x": {"source": "s", "target": "t"}}})
    second = write(tmp_path / "b.yaml", {"train": {"lr": 2}, "backbone": "c",
                                         "pairs": {"y": {"source": "s", "target": "u"}}})
    snakemakes = ConfigSettings(configfiles=[first, second]).overwrite_config
    ours = merge_overlays([yaml.safe_load(first.read_text()), yaml.safe_load(second.read_text())])
    assert ours == snakemakes
    assert ours["train"] == {"lr": 2, "epochs": 2}


def test_the_base_is_the_repositorys_config_yaml():
    assert base_config_path() == REPO / "config.yaml"
    default = yaml.safe_load((REPO / "config.yaml").read_text())
    assert layered_config() == default
    assert load_config(REPO / "config.yaml") == default  # a complete config reads as itself


def test_ci_config_is_completed_by_the_base():
    ci = yaml.safe_load(CI_CONFIG.read_text())
    config = load_config(CI_CONFIG)
    assert "backbone" not in ci and config["backbone"] == "efficientnet_lite0"
    assert config["train"]["max_steps"] == 4 and config["train"]["optimizer"] == "adamw"
    assert config["pairs"] == ci["pairs"] and config["resolution"] == 32


def test_a_complete_config_reads_as_itself(tiny_config_file):
    assert load_config(tiny_config_file) == yaml.safe_load(tiny_config_file.read_text())


@pytest.mark.parametrize("text, words", [
    (None, ["does not exist"]),
    ("- a list\n", ["must hold a mapping", "list"]),
    ("train: [1,\n", ["is not valid YAML"]),
])
def test_bad_config_file_names_it(tmp_path, text, words):
    path = tmp_path / "bad.yaml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        layered_config([path])
    assert str(path) in str(raised.value) and "\n" not in str(raised.value)
    assert all(word in str(raised.value) for word in words), raised.value


def test_without_a_checkout_the_config_files_stand_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(config_layers, "base_config_path", lambda: None)
    with pytest.raises(ConfigError, match="no config: pass --config"):
        layered_config()
    path = write(tmp_path / "c.yaml", {"seeds": [0]})
    assert layered_config([path]) == {"seeds": [0]}


@pytest.mark.slow
def test_layering_equals_the_config_snakemake_computes(tmp_path):
    """The config the Snakefile's rules see (after common.smk's checks) for two --configfile
    files is what `bench --config A --config B` reads. A wrapper Snakefile includes the
    repository's and dumps its `config`; its base config.yaml (the one beside the wrapper)
    has one pair more, which the files' `pairs` must replace. Snakemake's schema
    validation fills in the schema's defaults; the same validation of ours does too."""
    base = yaml.safe_load((REPO / "config.yaml").read_text())
    base["pairs"]["base-only"] = {"source": "photos", "target": "synxray", "target_labels": True}
    write(tmp_path / "config.yaml", base)
    (tmp_path / "Snakefile").write_text(
        f'include: "{REPO / "Snakefile"}"\n\nimport json\n\n'
        'with open("merged.json", "w") as handle:\n    json.dump(config, handle)\n')
    extra = write(tmp_path / "extra.yaml", {
        "pairs": {"mine": {"source": "photos", "target": "digits", "target_labels": True}},
        "train": {"lr": 0.5}, "data_efficiency": {"pairs": []}, "tuning": {"pairs": ["mine"]}})
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(tmp_path / "Snakefile"),
         "--directory", str(tmp_path), "--configfile", str(CI_CONFIG), str(extra), "--list-rules"],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr[-3000:]
    snakemakes = json.loads((tmp_path / "merged.json").read_text())
    ours = layered_config([CI_CONFIG, extra], base=tmp_path / "config.yaml")
    validate(ours, str(SCHEMA_PATH))
    # The one key the workflow derives rather than reads: tuning's selection seed,
    # resolved after layering (bench.tuning.tuning_settings: max(seeds) + 1).
    assert snakemakes["tuning"].pop("selection_seed") == max(ours["seeds"]) + 1
    assert ours == snakemakes
    # Several files merge among themselves first (Snakemake's --configfile), then replace.
    assert set(ours["pairs"]) == {*yaml.safe_load(CI_CONFIG.read_text())["pairs"], "mine"}
    assert ours["train"]["lr"] == 0.5 and ours["resolution"] == 32
