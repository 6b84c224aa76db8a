"""A run's optimizer and its per-step learning-rate schedule.

The strategy decides the param groups (one per stage that ever trains, each at its own
learning rate); timm decides which parameters take weight decay. Each strategy group is
split the way ``timm.optim.create_optimizer_v2`` splits a whole model: biases, norm-layer
weights and every other 1-D parameter, and the names the model's ``no_weight_decay()``
lists, take none (``timm.optim.param_groups_weight_decay``; the rule of Goyal et al.
2017 and of timm's training scripts). Handing timm the strategy's groups directly would
skip that split and decay every parameter.

The schedule: an optional linear warm-up over ``warmup_steps``, then a cosine decay to
zero over the rest of the run's budget, ``max_steps``: it is defined by the budget, not
by where early stopping ends a run, so every run of a config sees the same rate at the
same step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import timm.optim
import torch

from bench.settings import RunConfig

if TYPE_CHECKING:  # annotations only
    from bench.strategies import Strategy


def param_groups(strategy: Strategy, weight_decay: float) -> list[dict]:
    """The strategy's param groups, each split into a decayed and an undecayed part.

    Each part keeps its group's ``lr`` and ``lr_scale``; ``weight_decay`` is 0 for what
    timm exempts and ``weight_decay`` otherwise. Empty parts are left out.

    Raises:
        ValueError: a group holds a parameter that does not require a gradient (timm
            classifies trainable parameters only: build the optimizer before freezing).
    """
    decayed = _decayed_parameters(strategy.network, weight_decay)
    groups = []
    for group in strategy.param_groups():
        unclassified = [p for p in group["params"] if id(p) not in decayed]
        if unclassified:
            raise ValueError(f"a param group holds {len(unclassified)} parameter(s) that "
                             "require no gradient; build the optimizer before freezing")
        for decays in (False, True):
            params = [p for p in group["params"] if decayed[id(p)] == decays]
            if params:
                groups.append({**group, "params": params,
                               "weight_decay": weight_decay if decays else 0.0})
    return groups


def _decayed_parameters(network: torch.nn.Module, weight_decay: float) -> dict[int, bool]:
    """{id(parameter): whether timm's rule decays it}, for every trainable parameter.

    ``no_weight_decay()`` is read from the network as ``create_optimizer_v2`` reads it
    from a model (fnmatch patterns over ``named_parameters`` names).
    """
    exempt = getattr(network, "no_weight_decay", set)()
    decayed = {}
    for group in timm.optim.param_groups_weight_decay(network, weight_decay,
                                                      no_weight_decay_list=exempt):
        decayed.update({id(p): group["weight_decay"] > 0 for p in group["params"]})
    return decayed


def make_optimizer(strategy: Strategy, config: RunConfig) -> torch.optim.Optimizer:
    """The config's timm optimizer over :func:`param_groups`."""
    return timm.optim.create_optimizer_v2(
        param_groups(strategy, config.weight_decay), opt=config.optimizer, lr=config.lr,
        weight_decay=config.weight_decay)


def warmup_cosine(total_steps: int, warmup_steps: int) -> Callable[[int], float]:
    """The learning-rate factor of each optimizer step (``LambdaLR``'s ``lr_lambda``).

    Linear warm-up: step ``s < warmup_steps`` has ``(s + 1) / (warmup_steps + 1)``, so
    no step is wasted at rate 0 and the rate rises to 1 at step ``warmup_steps``. Then a
    cosine from 1 to 0 over the remaining steps (the warm-up is a prefix, as timm's
    ``warmup_prefix=True`` and transformers' ``get_cosine_schedule_with_warmup``). With
    no warm-up this is the cosine over every step, computed exactly as before warm-up
    existed (bit-identical rates).

    A ``LambdaLR`` rather than ``timm.scheduler.CosineLRScheduler``: timm's scheduler
    multiplies each group's rate by its ``lr_scale`` again (the strategy groups' rates
    already include it) and steps by ``step_update(n)``, not ``step()``.
    """
    decay_steps = total_steps - warmup_steps

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / (warmup_steps + 1)
        done = min(step - warmup_steps, decay_steps)
        return 0.5 * (1 + math.cos(math.pi * done / decay_steps))

    return factor


def make_scheduler(optimizer: torch.optim.Optimizer,
                   config: RunConfig) -> torch.optim.lr_scheduler.LambdaLR:
    """The run's schedule, stepped once per optimizer step: warm-up, then cosine to zero.

    It reaches zero at ``config.max_steps``, the budget, wherever early stopping ends a run.
    """
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, warmup_cosine(config.max_steps, config.warmup_steps))
