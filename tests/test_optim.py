"""The optimizer: timm's weight-decay split inside every strategy's groups; the warm-up."""

import copy
import dataclasses
import math

import pytest
import torch

from bench.config import ConfigError, check_sweep, run_config
from bench.models import create_backbone
from bench.optim import make_optimizer, make_scheduler, param_groups, warmup_cosine
from bench.strategies import STRATEGIES
from bench.tuning import default_hparams
from tests.conftest import tiny_config

WEIGHT_DECAY = 1e-3


@pytest.fixture(scope="module")
def backbone():
    """One backbone, copied for each test (building one takes seconds; weights do not
    matter to which parameters decay)."""
    return create_backbone(tiny_config()["backbone"], pretrained=False, resolution=32)[0]


def _strategy(name: str, backbone):
    config = tiny_config()
    config["train"]["weight_decay"] = WEIGHT_DECAY
    config["strategy_params"] = {"discriminative_lr": {"stage_decay": 0.5},
                                 "full": {"backbone_lr_mult": 0.1},
                                 "dan": {"bottleneck_dim": 16}}  # a neck with BatchNorm1d
    run = run_config(config, "imagenet-digits", name, 0)
    return STRATEGIES[name](run, copy.deepcopy(backbone), num_classes=10), run


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_biases_and_1d_params_take_no_weight_decay_and_every_group_keeps_its_lr(name, backbone):
    """EfficientNet-Lite0 has BatchNorm weights and biases and a biased head: each takes
    weight decay 0, every other parameter the configured value, at its stage's rate."""
    strategy, run = _strategy(name, backbone)
    lr_of = {id(p): group["lr"] for group in strategy.param_groups() for p in group["params"]}
    optimizer = make_optimizer(strategy, run)
    names = {id(p): n for n, p in strategy.network.named_parameters()}
    seen = {}
    for group in optimizer.param_groups:
        for p in group["params"]:
            one_d = p.ndim <= 1 or names[id(p)].endswith(".bias")
            assert group["weight_decay"] == (0.0 if one_d else WEIGHT_DECAY), names[id(p)]
            assert group["lr"] == lr_of[id(p)], names[id(p)]
            seen[id(p)] = one_d
    assert seen.keys() == lr_of.keys()  # nothing lost, nothing added
    assert any(seen.values()) and not all(seen.values())  # both kinds present
    assert len({group["lr"] for group in optimizer.param_groups}) == len(
        set(lr_of.values()))


def test_the_networks_no_weight_decay_names_take_none(backbone):
    """A backbone listing names (timm's model.no_weight_decay()) exempts those too."""
    strategy, _ = _strategy("full", backbone)
    own = strategy.network.backbone
    own.no_weight_decay = lambda: {"stages.0.*"}
    stem = {id(p) for p in own.stages[0].parameters()}
    assert any(p.ndim > 1 for p in own.stages[0].parameters())
    for group in param_groups(strategy, WEIGHT_DECAY):
        for p in group["params"]:
            if id(p) in stem:
                assert group["weight_decay"] == 0.0


def test_a_vits_position_embedding_and_class_token_take_no_weight_decay():
    """timm's ViT lists pos_embed and cls_token in no_weight_decay(); our Backbone holds
    them under other names (stages.0.*), and they must still take no decay."""
    vit = create_backbone("vit_tiny_patch16_224", pretrained=False, resolution=32)[0]
    strategy, _ = _strategy("full", vit)
    decay_of = {id(p): g["weight_decay"] for g in param_groups(strategy, WEIGHT_DECAY)
                for p in g["params"]}
    named = dict(strategy.network.named_parameters())
    assert decay_of[id(named["backbone.stages.0.pos_embed"])] == 0.0
    assert decay_of[id(named["backbone.stages.0.cls_token"])] == 0.0
    assert decay_of[id(named["backbone.stages.0.patch_embed.proj.weight"])] == WEIGHT_DECAY


def test_weight_decay_zero_decays_nothing(backbone):
    strategy, _ = _strategy("full", backbone)
    assert {g["weight_decay"] for g in param_groups(strategy, 0.0)} == {0.0}


def test_a_frozen_parameter_in_a_group_is_refused_not_misclassified(backbone):
    strategy, _ = _strategy("full", backbone)
    strategy.network.set_frozen(1)
    with pytest.raises(ValueError, match="require no gradient"):
        param_groups(strategy, WEIGHT_DECAY)


def _rates(warmup_steps: int, max_steps: int = 20) -> list[float]:
    """The learning rate of every step of a run, as the Trainer's scheduler sets it."""
    run = dataclasses.replace(run_config(tiny_config(), "imagenet-digits", "full", 0), lr=0.1,
                              max_steps=max_steps, warmup_steps=warmup_steps)
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=run.lr)
    scheduler = make_scheduler(optimizer, run)
    rates = []
    for _ in range(max_steps + 1):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def test_warmup_rises_linearly_then_decays_by_cosine_to_zero():
    rates = _rates(warmup_steps=10)  # 20 steps, the first 10 warm-up
    assert rates[0] == pytest.approx(0.1 / 11)  # no step at rate 0
    assert rates[5] == pytest.approx(0.1 * 6 / 11)  # mid-warm-up: linear
    assert rates[10] == pytest.approx(0.1)  # warm-up done: the peak
    assert rates[15] == pytest.approx(0.05)  # half-way down the cosine
    assert rates[20] == pytest.approx(0.0, abs=1e-12)
    assert all(a < b for a, b in zip(rates[:10], rates[1:11], strict=True))
    assert all(a > b for a, b in zip(rates[10:20], rates[11:21], strict=True))


def test_no_warmup_is_the_cosine_of_before_to_the_bit():
    total = 20
    before = [0.1 * (0.5 * (1 + math.cos(math.pi * min(step, total) / total)))
              for step in range(total + 1)]
    assert _rates(warmup_steps=0) == before
    assert warmup_cosine(total, 0)(total + 3) == 0.0


def test_warmup_steps_is_read_and_must_end_before_the_budget_does():
    config = tiny_config(evaluations=3)  # 15 steps
    assert run_config(config, "imagenet-digits", "full", 0).warmup_steps == 0
    config["train"]["warmup_steps"] = 2
    assert run_config(config, "imagenet-digits", "full", 0).warmup_steps == 2
    config["strategy_params"] = {"full": {"warmup_steps": 15}}
    with pytest.raises(ConfigError,
                       match=r"`train.warmup_steps` = 15 .* `train.max_steps` = 15"):
        run_config(config, "imagenet-digits", "full", 0)
    with pytest.raises(ConfigError, match="strategy full"):
        check_sweep(config)
    config["strategy_params"] = {}
    config["train"]["warmup_steps"] = -1
    with pytest.raises(ConfigError, match="warmup_steps"):
        run_config(config, "imagenet-digits", "full", 0)


def test_tuning_can_search_warmup_from_a_config_that_leaves_it_out():
    config = tiny_config(evaluations=3)
    config["search_space"] = {"full": {"train.warmup_steps": {"distribution": "choice",
                                                              "values": [0, 1, 2]}}}
    assert default_hparams(config, "full") == {"train.warmup_steps": 0}
