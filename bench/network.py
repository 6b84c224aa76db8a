"""The network every strategy trains: backbone stages, pooled features, a new head."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:  # annotations only: the network needs torch, not timm
    from bench.models import Backbone


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

    def features(self, x: torch.Tensor, applied: int = 0) -> torch.Tensor:
        """Features before the head of a batch whose first ``applied`` stages are done.

        Args:
            x: (B, ...) activations entering stage ``applied`` (images when 0).
            applied: how many leading backbone stages ``x`` has already been through.

        Returns:
            (B, D) features.
        """
        return self.neck(self.backbone(x, applied))

    def forward(self, x: torch.Tensor, applied: int = 0) -> torch.Tensor:
        """(B, num_classes) logits of a batch whose first ``applied`` stages are done."""
        return self.head(self.features(x, applied))

    def no_weight_decay(self) -> set[str]:
        """Names (fnmatch patterns) of parameters that take no weight decay besides the 1-D ones.

        timm's convention (``model.no_weight_decay()``, e.g. a ViT's position embedding),
        read by :mod:`bench.optim` as ``timm.optim.create_optimizer_v2`` reads it: the
        backbone's list, when it has one, under this network's ``backbone.`` prefix.
        """
        own = getattr(self.backbone, "no_weight_decay", set)()
        return {f"backbone.{name}" for name in own}

    def set_frozen(self, stages: int) -> None:
        """Freeze the first ``stages`` backbone stages (no gradient, eval mode)."""
        for index, stage in enumerate(self.backbone.stages):
            stage.requires_grad_(index >= stages)
        # timm's pooling may hold layers (MobileNetV3's and GhostNet's conv_head, after
        # the pool): they are the last stage's continuation and freeze with it.
        self.backbone.pool_modules.requires_grad_(stages < len(self.backbone.stages))
        self.frozen = stages
        self.train(self.training)

    def train(self, mode: bool = True):
        """Set ``mode`` on every module but the frozen stages, which stay in eval mode.

        Each module is set once, not visited again by ``nn.Module.train``'s recursion:
        a run switches modes twice per evaluation, and a frozen backbone has hundreds of
        modules (docs/PERFORMANCE.md, "Mode switches").
        """
        self.training = mode
        for child in self.children():
            if child is not self.backbone:
                child.train(mode)
        self.backbone.training = mode
        last_trains = self.frozen < len(self.backbone.stages)
        for child in self.backbone.children():
            if child is self.backbone.pool_modules:
                child.train(mode and last_trains)
            elif child is not self.backbone.stages:
                child.train(mode)
        self.backbone.stages.training = mode
        for index, stage in enumerate(self.backbone.stages):
            stage.train(mode and index >= self.frozen)
        return self
