"""One run, for real: every strategy on every offline pair, at a tiny budget."""

import json
import subprocess
import sys

import pytest
import torch

from bench.config import ConfigError, run_config
from bench.models import create_backbone
from bench.records import validate_record
from bench.strategies import STRATEGIES
from bench.train import Trainer, run
from tests.conftest import REPO, tiny_config

PAIRS = list(tiny_config()["pairs"])


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("data-cache"))


@pytest.mark.parametrize("strategy", list(STRATEGIES))
@pytest.mark.parametrize("pair", PAIRS)
def test_every_strategy_on_every_pair_gives_a_valid_record(pair, strategy, cache_dir):
    record = run(run_config(tiny_config(), pair, strategy, 0, cache_dir=cache_dir),
                 progress=False)
    validate_record(record)
    assert record["status"] == "ok", record["error"]
    assert 0 <= record["metrics"]["accuracy"] <= 1
    assert record["best_epoch"] == 1
    assert record["cost"]["trainable_params"] > 0
    assert (record["metrics"]["mmd"] is not None) == (strategy == "dan")
    assert record["synthetic"] == (pair != "imagenet-digits")


def test_shots_restricts_training_to_k_per_class(cache_dir):
    record = run(run_config(tiny_config(), "imagenet-digits", "feature_extraction", 0, shots=2,
                            cache_dir=cache_dir), progress=False)
    assert record["data"]["train"] == 2 * 10
    assert record["shots"] == 2


def _run_in_process(config_file, out, seed, cache_dir):
    subprocess.run([sys.executable, "-m", "bench", "run", "--config", str(config_file),
                    "--pair", "imagenet-synflowers", "--strategy", "partial", "--seed", str(seed),
                    "--out", str(out), "--cache-dir", cache_dir, "--quiet"], check=True, cwd=REPO)
    return json.loads(out.read_text())


def test_same_seed_in_two_processes_gives_identical_metrics(tiny_config_file, tmp_path,
                                                            cache_dir):
    first = _run_in_process(tiny_config_file, tmp_path / "a.json", 0, cache_dir)
    second = _run_in_process(tiny_config_file, tmp_path / "b.json", 0, cache_dir)
    other_seed = _run_in_process(tiny_config_file, tmp_path / "c.json", 1, cache_dir)
    assert first["metrics"] == second["metrics"]
    assert [h["train_loss"] for h in first["history"]] == [h["train_loss"] for h in second["history"]]
    assert first["config_hash"] == second["config_hash"] != other_seed["config_hash"]
    assert first["history"][0]["train_loss"] != other_seed["history"][0]["train_loss"]


def test_different_seeds_initialise_the_head_differently():
    heads = []
    for seed in (0, 1):
        config = run_config(tiny_config(), "imagenet-digits", "full", seed)
        backbone, _ = create_backbone(config.backbone, pretrained=False)
        torch.manual_seed(seed)
        heads.append(STRATEGIES["full"](config, backbone, 10).network.head.weight.detach())
    assert not torch.equal(*heads)


def _trained(strategy: str, cache_dir: str, **params) -> tuple[Trainer, dict]:
    config = tiny_config(epochs=2)
    config["strategy_params"][strategy] = {**config["strategy_params"].get(strategy, {}), **params}
    trainer = Trainer(run_config(config, "imagenet-digits", strategy, 0, cache_dir=cache_dir),
                      progress=False)
    return trainer, trainer.run()


def _pretrained_stages():
    backbone, _ = create_backbone("efficientnet_lite0", pretrained=True)
    return [stage.state_dict() for stage in backbone.stages]


def _unchanged(stage: torch.nn.Module, reference: dict) -> bool:
    return all(torch.equal(value, reference[name]) for name, value in stage.state_dict().items())


def test_feature_extraction_trains_only_the_head(cache_dir):
    trainer, record = _trained("feature_extraction", cache_dir)
    net = trainer.strategy.network
    assert record["cost"]["trainable_params"] == net.head.weight.numel() + net.head.bias.numel()
    for stage, reference in zip(net.backbone.stages, _pretrained_stages(), strict=True):
        assert _unchanged(stage, reference)  # weights and BatchNorm statistics


@pytest.mark.parametrize("k", [1, 3])
def test_partial_changes_exactly_the_last_k_stages(k, cache_dir):
    trainer, _ = _trained("partial", cache_dir, trainable_stages=k)
    stages = trainer.strategy.network.backbone.stages
    unchanged = [_unchanged(s, r) for s, r in zip(stages, _pretrained_stages(), strict=True)]
    assert unchanged == [True] * (len(stages) - k) + [False] * k


def test_huge_learning_rate_is_recorded_as_diverged(cache_dir):
    config = tiny_config(epochs=3)
    config["train"]["lr"] = 1e12
    record = run(run_config(config, "imagenet-digits", "scratch", 0, cache_dir=cache_dir),
                 progress=False)
    validate_record(record)
    assert record["status"] == "diverged"
    assert record["diverged_epoch"] >= 1
    assert record["metrics"]["accuracy"] is None


@pytest.mark.parametrize(("change", "message"), [
    (lambda c: c["train"].update(lr=-0.1), "train.lr"),
    (lambda c: c["train"].update(epochs="three"), "train.epochs"),
    (lambda c: c["train"].update(momentum=0.9), "momentum"),
    (lambda c: c["strategy_params"]["partial"].update(trainable_stages=-1), "trainable_stages"),
    (lambda c: c["strategy_params"]["discriminative_lr"].update(stage_decay=2), "stage_decay"),
    (lambda c: c.update(device="tpu"), "device"),
])
def test_bad_config_names_the_key(change, message):
    config = tiny_config()
    change(config)
    strategy = {"trainable_stages": "partial", "stage_decay": "discriminative_lr"}.get(message, "full")
    with pytest.raises(ConfigError, match=message):
        run_config(config, "imagenet-digits", strategy, 0)


def test_unknown_pair_and_strategy_list_the_known_ones():
    with pytest.raises(ConfigError, match="imagenet-digits"):
        run_config(tiny_config(), "no-such-pair", "full", 0)
    with pytest.raises(ConfigError, match="feature_extraction"):
        run_config(tiny_config(), "imagenet-digits", "finetune", 0)


def test_shots_larger_than_a_class_fails_before_training(cache_dir):
    config = run_config(tiny_config(), "imagenet-digits", "full", 0, shots=50, cache_dir=cache_dir)
    with pytest.raises(ConfigError, match="shots"):
        run(config, progress=False)


def test_frozen_features_are_cached_once_and_shared_across_seeds_and_shots(cache_dir, tmp_path):
    config = tiny_config()
    first = run(run_config(config, "imagenet-digits", "feature_extraction", 0,
                           cache_dir=str(tmp_path)), progress=False)
    second = run(run_config(config, "imagenet-digits", "feature_extraction", 1, shots=2,
                            cache_dir=str(tmp_path)), progress=False)
    uncached = Trainer(run_config(config, "imagenet-digits", "feature_extraction", 0,
                                  cache_dir=str(tmp_path)), progress=False, cache_frozen=False)
    assert first["data"]["activation_cache"] == "computed"
    assert second["data"]["activation_cache"] == "hit"
    assert len(list((tmp_path / "activations").glob("digits-*.pt"))) == 3  # train, val, test
    assert uncached.run()["metrics"] == first["metrics"]  # the cache changes speed, not results


def test_features_job_makes_the_cache_every_feature_extraction_run_reads(tmp_path):
    """`python -m bench features` (the sweep's cache_features job) computes every split once;
    feature-extraction runs then only read it, and get what they would compute themselves."""
    from bench.activations import cache_features

    config = tiny_config()
    assert cache_features(config, "digits", tmp_path) == dict.fromkeys(("train", "val", "test"),
                                                                        "computed")
    assert cache_features(config, "digits", tmp_path) == dict.fromkeys(("train", "val", "test"), "hit")
    cached = run(run_config(config, "imagenet-digits", "feature_extraction", 0,
                            cache_dir=str(tmp_path)), progress=False)
    assert cached["data"]["activation_cache"] == "hit"
    fresh = run(run_config(config, "imagenet-digits", "feature_extraction", 0,
                           cache_dir=str(tmp_path / "elsewhere")), progress=False)
    assert fresh["data"]["activation_cache"] == "computed"
    assert cached["metrics"] == fresh["metrics"]


def test_unreadable_activation_cache_is_rebuilt_not_trusted(tmp_path):
    from bench.activations import cache_features

    config = tiny_config()
    cache_features(config, "digits", tmp_path)
    (train_file,) = (tmp_path / "activations").glob("digits-train-*.pt")
    train_file.write_bytes(train_file.read_bytes()[:100])  # a truncated file
    with pytest.warns(UserWarning, match="rebuilding unreadable activation cache"):
        statuses = cache_features(config, "digits", tmp_path)
    assert statuses == {"train": "computed", "val": "hit", "test": "hit"}
