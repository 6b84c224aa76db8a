"""Shared fixtures: a tiny version of the default config that trains in seconds."""

import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent

# Few images per class, small images, one or a few evaluations of 5 steps (5 steps of 8
# images: one pass over digits' 40 training images): every strategy on every pair in
# seconds, with the real data sets, backbone and code path.
TINY_DATA = {name: {"per_class": [4, 3, 4]} for name in (
    "synflowers", "synoffice-amazon", "synoffice-webcam", "synoffice-dslr", "digits")}
TINY_DATA["synxray"] = {"per_class": [8, 4, 6]}
TINY_DATA["photos"] = {"crops": [24, 4, 4]}


def tiny_config(evaluations: int = 1, eval_every: int = 5, patience: int = 0) -> dict:
    """config.yaml at 32 px on tiny data: ``evaluations`` validations ``eval_every`` steps
    apart, no early stopping unless ``patience`` says so."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["resolution"] = 32
    config["train"].update(max_steps=evaluations * eval_every, eval_every=eval_every,
                           patience=patience, batch_size=8)
    config["data"]["options"] = TINY_DATA
    return config


@pytest.fixture
def tiny_config_file(tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_config()))
    return path


def _starts_a_workflow_or_run(args) -> bool:
    argv = [str(a) for a in ([args] if isinstance(args, str | Path) else args)]
    text = " ".join(argv)
    return "snakemake" in text or any(a == "-m" and b.split(".")[0] == "bench"
                                      for a, b in zip(argv, argv[1:], strict=False))


@pytest.fixture(autouse=True)
def fast_tests_start_no_sweep(request, monkeypatch):
    """A test not marked ``slow`` may start no Snakemake (sweep or dry run) and no
    ``python -m bench`` process, so ``pytest -m "not slow"`` stays a signal of a minute or two.
    Such a test fails here, naming the marker it needs."""
    if request.node.get_closest_marker("slow"):
        return

    class GuardedPopen(subprocess.Popen):
        def __init__(self, args, *rest, **options):
            if _starts_a_workflow_or_run(args):
                pytest.fail(f"{request.node.nodeid} starts {' '.join(map(str, args))[:120]}"
                            f"...; mark it @pytest.mark.slow", pytrace=False)
            super().__init__(args, *rest, **options)

    monkeypatch.setattr(subprocess, "Popen", GuardedPopen)
