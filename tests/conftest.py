"""Shared fixtures: a tiny version of the default config that trains in seconds."""

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent

# Few images per class, small images, one or two epochs: every strategy on every pair
# in seconds, with the real data sets, backbone and code path.
TINY_DATA = {name: {"per_class": [4, 3, 4]} for name in (
    "synflowers", "synoffice-amazon", "synoffice-webcam", "synoffice-dslr", "digits")}
TINY_DATA["synxray"] = {"per_class": [8, 4, 6]}
TINY_DATA["photos"] = {"crops": [24, 4, 4]}


def tiny_config(epochs: int = 1) -> dict:
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["resolution"] = 32
    config["train"].update(epochs=epochs, batch_size=8)
    config["data"]["options"] = TINY_DATA
    return config


@pytest.fixture
def tiny_config_file(tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_config()))
    return path
