"""The one interface every strategy implements, and the network it trains.

A strategy says three things: whether it starts from pretrained weights, how many
leading backbone stages are frozen at each epoch, and the learning-rate multiplier of
each stage. The trainer (:mod:`bench.train`) turns that into param groups, frozen
modes and a frozen-prefix cache, so a new strategy is usually a few lines
(DomainBed's ``algorithms.py`` is the model).
"""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from bench.models import Backbone
from bench.settings import ConfigError, RunConfig

STRATEGIES: dict[str, type[Strategy]] = {}


def register(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator: make a strategy findable by its ``name``."""
    STRATEGIES[cls.name] = cls
    return cls


class Network(nn.Module):
    """Backbone stages -> pooled features -> optional bottleneck -> linear head.

    ``frozen`` leading stages take no gradient and stay in eval mode (BatchNorm
    statistics frozen) even while the network trains.
    """

    def __init__(self, backbone: Backbone, num_classes: int, bottleneck_dim: int | None = None):
        super().__init__()
        self.backbone = backbone
        width = backbone.num_features
        if bottleneck_dim:
            self.neck = nn.Sequential(nn.Linear(width, bottleneck_dim),
                                      nn.BatchNorm1d(bottleneck_dim), nn.ReLU())
            width = bottleneck_dim
        else:
            self.neck = nn.Identity()
        self.head = nn.Linear(width, num_classes)
        self.frozen = 0

    def features(self, x: torch.Tensor, start: int = 0) -> torch.Tensor:
        """(B, ...) activations entering stage ``start`` -> (B, D) features before the head."""
        return self.neck(self.backbone(x, start))

    def forward(self, x: torch.Tensor, start: int = 0) -> torch.Tensor:
        """-> (B, num_classes) logits."""
        return self.head(self.features(x, start))

    def set_frozen(self, stages: int) -> None:
        for index, stage in enumerate(self.backbone.stages):
            stage.requires_grad_(index >= stages)
        self.frozen = stages
        self.train(self.training)

    def train(self, mode: bool = True):
        """``mode`` for every module but the frozen stages, which stay in eval mode
        (fixed BatchNorm statistics). Each module is set once: a run switches modes
        twice per epoch, and visiting a frozen backbone's ~300 modules twice each time
        was a third of a cached feature-extraction run."""
        self.training = mode
        for child in self.children():
            if child is not self.backbone:
                child.train(mode)
        self.backbone.training = mode
        for child in self.backbone.children():
            if child is not self.backbone.stages:
                child.train(mode)
        self.backbone.stages.training = mode
        for index, stage in enumerate(self.backbone.stages):
            stage.train(mode and index >= self.frozen)
        return self


class Strategy:
    """Base class: fine-tune everything at one learning rate, from pretrained weights.

    Subclasses override the class attributes and, where needed, :meth:`frozen_stages`,
    :meth:`stage_lr_multiplier` and :meth:`loss`.
    """

    name: ClassVar[str]
    pretrained: ClassVar[bool] = True
    uses_other_domain: ClassVar[bool] = False  # needs unlabelled batches from the other domain
    defaults: ClassVar[dict] = {}  # the strategy's own config keys and their defaults

    def __init__(self, config: RunConfig, backbone: Backbone, num_classes: int):
        self.config = config
        self.params = {**self.defaults, **config.params}
        self.num_stages = backbone.num_stages
        self.network = Network(backbone, num_classes, self.params.get("bottleneck_dim"))

    @classmethod
    def check(cls, config: RunConfig) -> None:
        """Raise ConfigError for a bad strategy setting, before anything is loaded."""
        positive = {"backbone_lr_mult", "bottleneck_dim", "epochs_per_stage"}
        for key, value in config.params.items():
            where = f"strategy_params.{cls.name}.{key}"
            if key == "linear_mmd":
                if not isinstance(value, bool):
                    raise ConfigError(f"`{where}` must be true or false, got {value!r}")
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"`{where}` must be a number, got {value!r}")
            if key in positive and value <= 0:
                raise ConfigError(f"`{where}` must be > 0, got {value!r}")
            if value < 0:
                raise ConfigError(f"`{where}` must be >= 0, got {value!r}")

    def frozen_stages(self, epoch: int) -> int:
        """How many leading backbone stages are frozen in ``epoch`` (0-based)."""
        return 0

    def stage_lr_multiplier(self, stage: int) -> float:
        """Learning-rate multiplier of backbone stage ``stage`` (0 = stem); the head has 1."""
        return float(self.params.get("backbone_lr_mult", 1.0))

    def always_frozen(self) -> int:
        """Stages frozen in every epoch: their output can be computed once and cached."""
        return min(self.frozen_stages(e) for e in range(self.config.epochs))

    def param_groups(self) -> list[dict]:
        """Optimizer param groups: each stage that ever trains at its multiplier, head at 1."""
        net = self.network
        groups = [{"params": [*net.neck.parameters(), *net.head.parameters()], "lr_scale": 1.0}]
        for index in range(self.always_frozen(), self.num_stages):
            params = list(net.backbone.stages[index].parameters())
            if params:
                groups.append({"params": params, "lr_scale": self.stage_lr_multiplier(index)})
        for group in groups:
            group["lr"] = self.config.lr * group["lr_scale"]
        return groups

    def loss(self, x: torch.Tensor, y: torch.Tensor, other: torch.Tensor | None,
             start: int) -> tuple[torch.Tensor, dict]:
        """Training loss of one batch: ``x`` inputs to stage ``start``, ``y`` (B,) labels.

        ``other``: a batch from the other domain (only for ``uses_other_domain``).
        Returns the loss and extra scalars to log.
        """
        logits = self.network(x, start)
        return F.cross_entropy(logits, y, label_smoothing=self.config.label_smoothing), {}
