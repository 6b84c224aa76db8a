"""One run, for real: every strategy on every offline pair, at a tiny budget."""

import json
import subprocess
import sys

import pytest
import torch

from bench.activations import frozen_prefix
from bench.config import ConfigError, run_config
from bench.models import create_backbone
from bench.network import Network
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
    assert record["best_step"] == record["steps"] == 5  # one evaluation, at the budget
    assert (record["stop_reason"], record["converged"]) == ("budget", False)
    assert record["cost"]["trainable_params"] > 0
    assert (record["metrics"]["mmd"] is not None) == STRATEGIES[strategy].uses_other_domain
    assert record["synthetic"] == (pair != "imagenet-digits")


def test_shots_restricts_training_to_k_per_class(cache_dir):
    record = run(run_config(tiny_config(), "imagenet-digits", "feature_extraction", 0, shots=2,
                            cache_dir=cache_dir), progress=False)
    assert record["data"]["train"] == 2 * 10
    assert record["data"]["val"] == 2 * 10  # selection has the budget's labels, no more
    assert record["shots"] == 2


def _run_in_process(config_file, out, seed, cache_dir):
    subprocess.run([sys.executable, "-m", "bench", "run", "--config", str(config_file),
                    "--pair", "imagenet-synflowers", "--strategy", "partial", "--seed", str(seed),
                    "--out", str(out), "--cache-dir", cache_dir, "--quiet"], check=True, cwd=REPO)
    return json.loads(out.read_text())


@pytest.mark.slow
def test_same_seed_in_two_processes_gives_identical_metrics(tiny_config_file, tmp_path,
                                                            cache_dir):
    first = _run_in_process(tiny_config_file, tmp_path / "a.json", 0, cache_dir)
    second = _run_in_process(tiny_config_file, tmp_path / "b.json", 0, cache_dir)
    other_seed = _run_in_process(tiny_config_file, tmp_path / "c.json", 1, cache_dir)
    assert first["metrics"] == second["metrics"]
    assert [h["train_loss"] for h in first["history"]] == [h["train_loss"] for h in second["history"]]
    assert first["config_hash"] == second["config_hash"] != other_seed["config_hash"]
    assert first["history"][0]["train_loss"] != other_seed["history"][0]["train_loss"]


def initial_heads(monkeypatch, runs: list[tuple[str, int]]) -> list[torch.Tensor]:
    """The head's weights as the Trainer built them, before training, for each
    (strategy, seed) run."""
    heads, build = [], Network.__init__

    def spy(self, *args, **kwargs):
        build(self, *args, **kwargs)
        heads.append(self.head.weight.detach().clone())

    monkeypatch.setattr(Network, "__init__", spy)
    for strategy, seed in runs:
        Trainer(run_config(tiny_config(), "imagenet-digits", strategy, seed),
                progress=False).run()
    return heads


def test_the_head_is_initialised_by_the_runs_seed_alone(monkeypatch):
    """Through the Trainer: another seed, another head; the same seed, the head a fresh
    generator seeded with it draws, whatever the strategy drew before (scratch's random
    backbone, the data set's split)."""
    seed0, seed1, scratch0 = initial_heads(
        monkeypatch, [("feature_extraction", 0), ("feature_extraction", 1), ("scratch", 0)])
    assert not torch.equal(seed0, seed1)
    torch.manual_seed(0)
    fresh = torch.nn.Linear(seed0.shape[1], seed0.shape[0]).weight.detach()
    assert torch.equal(seed0, fresh) and torch.equal(scratch0, fresh)


def _trained(strategy: str, cache_dir: str, evaluations: int = 2,
             **params) -> tuple[Trainer, dict]:
    config = tiny_config(evaluations=evaluations)
    config["strategy_params"][strategy] = {**config["strategy_params"].get(strategy, {}), **params}
    trainer = Trainer(run_config(config, "imagenet-digits", strategy, 0, cache_dir=cache_dir),
                      progress=False)
    return trainer, trainer.run()


def _pretrained_stages():
    backbone, _ = create_backbone("efficientnet_lite0", pretrained=True, resolution=32)
    return [stage.state_dict() for stage in backbone.stages]


def _unchanged(stage: torch.nn.Module, reference: dict) -> bool:
    return all(torch.equal(value, reference[name]) for name, value in stage.state_dict().items())


def test_feature_extraction_trains_only_the_head(cache_dir):
    trainer, record = _trained("feature_extraction", cache_dir)
    net = trainer.strategy.network
    assert record["cost"]["trainable_params"] == net.head.weight.numel() + net.head.bias.numel()
    for stage, reference in zip(net.backbone.stages, _pretrained_stages(), strict=True):
        assert _unchanged(stage, reference)  # weights and BatchNorm statistics


def test_feature_extraction_runs_share_one_backbone_that_no_other_run_gets(cache_dir):
    """Feature extraction changes no backbone weight, so its runs in one process share
    one pretrained backbone instead of copying it; a run that trains stages gets its own."""
    first, _ = _trained("feature_extraction", cache_dir)
    second, _ = _trained("feature_extraction", cache_dir)
    full, _ = _trained("full", cache_dir)
    shared = first.strategy.network.backbone
    assert second.strategy.network.backbone is shared
    assert full.strategy.network.backbone is not shared
    for stage, reference in zip(shared.stages, _pretrained_stages(), strict=True):
        assert _unchanged(stage, reference)


def test_a_strategy_that_trains_stages_cannot_share_the_backbone(cache_dir, monkeypatch):
    monkeypatch.setattr(STRATEGIES["partial"], "trains_backbone", False)
    with pytest.raises(TypeError, match="trains_backbone = False but trains backbone stages"):
        _trained("partial", cache_dir)


@pytest.mark.parametrize("k", [1, 3])
def test_partial_changes_exactly_the_last_k_stages(k, cache_dir):
    trainer, _ = _trained("partial", cache_dir, trainable_stages=k)
    stages = trainer.strategy.network.backbone.stages
    unchanged = [_unchanged(s, r) for s, r in zip(stages, _pretrained_stages(), strict=True)]
    assert unchanged == [True] * (len(stages) - k) + [False] * k


@pytest.mark.parametrize(("evals_per_stage", "trained"), [(1, 2), (2, 1)])
def test_gradual_unfreezing_adds_one_stage_from_the_top_every_evals_per_stage(
        evals_per_stage, trained, cache_dir):
    """3 validation intervals of 5 steps: the head alone, then the last stage, then the
    last two (one stage per interval); or the head for two intervals, then the last stage
    (one per two). The schedule is per optimiser step."""
    trainer, record = _trained("gradual_unfreeze", cache_dir, evaluations=3,
                               evals_per_stage=evals_per_stage)
    stages = trainer.strategy.network.backbone.stages
    assert [trainer.strategy.frozen_stages(s) for s in range(15)] == [
        len(stages) - (s // 5) // evals_per_stage for s in range(15)]
    unchanged = [_unchanged(s, r) for s, r in zip(stages, _pretrained_stages(), strict=True)]
    assert unchanged == [True] * (len(stages) - trained) + [False] * trained
    assert record["data"]["frozen_prefix_stages"] == len(stages) - trained


def _stage_learning_rates(trainer: Trainer) -> list[float | None]:
    """Each backbone stage's learning rate in the optimizer, over the head's (None: the
    stage is not in the optimizer). The schedule's starting rates: it ends at 0."""
    optimizer, net = trainer.optimizer, trainer.strategy.network
    lr_of = {id(p): group["initial_lr"] for group in optimizer.param_groups
             for p in group["params"]}
    head = lr_of[id(net.head.weight)]
    return [lr_of[id(next(stage.parameters()))] / head
            if id(next(stage.parameters())) in lr_of else None
            for stage in net.backbone.stages]


def test_discriminative_lr_decays_per_stage_from_head_to_stem_in_the_optimizer(cache_dir):
    trainer, _ = _trained("discriminative_lr", cache_dir, stage_decay=0.5)
    rates = _stage_learning_rates(trainer)
    n = len(rates)
    assert rates == pytest.approx([0.5 ** (n - i) for i in range(n)])


@pytest.mark.parametrize(("strategy", "expected"), [
    ("full", lambda n: [0.1] * n),
    ("partial", lambda n: [None] * (n - 2) + [1.0] * 2),
    ("dan", lambda n: [None] * (n - 3) + [0.1] * 3),
])
def test_stage_learning_rates_in_the_optimizer_follow_the_strategy(strategy, expected,
                                                                    cache_dir):
    trainer, _ = _trained(strategy, cache_dir)
    rates = _stage_learning_rates(trainer)
    assert rates == pytest.approx(expected(len(rates)))


def test_huge_learning_rate_is_recorded_as_diverged(cache_dir):
    config = tiny_config(evaluations=3)
    config["train"]["lr"] = 1e12
    record = run(run_config(config, "imagenet-digits", "scratch", 0, cache_dir=cache_dir),
                 progress=False)
    validate_record(record)
    assert record["status"] == "diverged"
    assert record["diverged_step"] >= 1
    assert (record["stop_reason"], record["converged"]) == ("diverged", False)
    assert record["metrics"]["accuracy"] is None


@pytest.mark.parametrize(("change", "message"), [
    (lambda c: c["train"].update(lr=-0.1), "train.lr"),
    (lambda c: c["train"].update(max_steps="three"), "train.max_steps"),
    (lambda c: c["train"].update(momentum=0.9), "momentum"),
    (lambda c: c["strategy_params"].update(partial={"trainable_stages": -1}), "trainable_stages"),
    (lambda c: c["strategy_params"].update(discriminative_lr={"stage_decay": 2}), "stage_decay"),
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


def test_unreadable_activation_cache_is_rebuilt_not_trusted(tmp_path):
    config = run_config(tiny_config(), "imagenet-digits", "feature_extraction", 0,
                        cache_dir=str(tmp_path))
    first = run(config, progress=False)
    (train_file,) = (tmp_path / "activations").glob("digits-train-*.pt")
    train_file.write_bytes(train_file.read_bytes()[:100])  # a truncated file
    with pytest.warns(UserWarning, match="rebuilding unreadable activation cache"):
        again = run(config, progress=False)
    assert again["data"]["activation_cache"] == "computed"
    assert again["metrics"] == first["metrics"]
    files = {entry["file"].split("-")[1]: entry["seconds"] for entry in again["cost"]["cache_files"]}
    before = {entry["file"].split("-")[1]: entry["seconds"] for entry in first["cost"]["cache_files"]}
    assert files["val"] == before["val"] and files["test"] == before["test"]  # read, not rebuilt
    assert files["train"] != before["train"]  # rebuilt: its own compute time


@pytest.mark.parametrize(("strategy", "shots"), [("partial", None), ("dan", None),
                                                 ("feature_extraction", 2), ("partial", 2)])
def test_cached_frozen_stages_change_speed_not_results(strategy, shots, tmp_path):
    """Every strategy with frozen stages, with and without a ``shots`` subset: the run that
    reads its frozen prefix from the activation cache trains and scores exactly like the
    one that runs the frozen stages at every step."""
    # Batches of 16: on batches of 8, oneDNN convolves the per-step prefix with other
    # kernels than the cache's batches of 256 on some CPUs (AMD EPYC: partial's losses
    # 0.5% and 2.7% apart at the two evaluations, 4 against 2 validation images right
    # of 30); on 16 the two runs' losses and accuracies agree to 4 decimals there.
    tiny = tiny_config(evaluations=2)
    tiny["train"]["batch_size"] = 16
    config = run_config(tiny, "imagenet-digits", strategy, 0, shots=shots, cache_dir=str(tmp_path))
    cached = run(config, progress=False)
    uncached = Trainer(config, progress=False, cache_frozen=False).run()
    assert cached["data"]["frozen_prefix_stages"] > 0
    assert cached["data"]["activation_cache"] == "computed"
    assert uncached["data"]["frozen_prefix_stages"] == 0
    assert cached["data"]["train"] == uncached["data"]["train"]
    # Equal up to float rounding: the cached prefix (computed in batches of 256, stored
    # NCHW) and the per-step one may round differently, and BatchNorm on small batches
    # carries that into the losses (Intel Xeon, one thread, batches of 8: 0.3% in the
    # first pass, 1.5% in the second for partial) and can flip a prediction. So
    # evaluation by evaluation: losses within 3%, validation within one image. A flipped
    # validation image can move the selection on a near tie (partial, measured: 2
    # against 3 of 30 at the first evaluation, which then selected different ones); the
    # test metrics compare when both runs selected the same step. The rows are checked
    # exactly in the next test.
    one_val, one_test = 1 / cached["data"]["val"], 1 / cached["data"]["test"]
    for ours, theirs in zip(cached["history"], uncached["history"], strict=True):
        assert ours["train_loss"] == pytest.approx(theirs["train_loss"], rel=3e-2)
        assert ours["val_accuracy"] == pytest.approx(theirs["val_accuracy"], abs=one_val * 1.01)
    if cached["best_step"] == uncached["best_step"]:
        assert cached["metrics"]["accuracy"] == pytest.approx(uncached["metrics"]["accuracy"],
                                                              abs=one_test * 1.01)


@pytest.mark.parametrize("strategy", ["partial", "feature_extraction"])
def test_cached_activations_are_the_frozen_stages_output_on_the_runs_own_rows(strategy,
                                                                              tmp_path):
    """A ``shots`` run reads the rows of its own k-per-class subset from the cache of the
    whole split: what the frozen stages compute on exactly the images it trains on."""
    config = run_config(tiny_config(), "imagenet-digits", strategy, 1, shots=2,
                        cache_dir=str(tmp_path))
    trainer = Trainer(config, progress=False)
    trainer.run()
    train = trainer._roles()["train"]
    stop = trainer.strategy.always_frozen()
    cached, status, _ = trainer._frozen_activations(train, stop)
    assert status == "hit" and len(cached) == len(train.labels) == 2 * 10
    direct = frozen_prefix(trainer.strategy.network.backbone, train.images, stop,
                           torch.device("cpu"))
    torch.testing.assert_close(cached, direct, atol=1e-4, rtol=1e-4)
