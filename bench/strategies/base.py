"""The one interface every strategy implements, its typed settings, and the registry.

A strategy says what it is (``label``, ``colour``, ``order`` in tables and figures),
which settings it takes (:class:`Param`: default, bounds, search range, side by side as
in DomainBed's ``hparams_registry``), whether it starts from pretrained weights, how
many leading backbone stages are frozen at each optimiser step, and each stage's learning-rate
multiplier. The trainer (:mod:`bench.train`) turns that into param groups, frozen modes
and a frozen-prefix cache; the config schema, tuning's default search space, table
order and figure colours are read from the class (:mod:`bench.strategies`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from bench.settings import RunConfig

# What a strategy declares (name, settings, search space, colour) is read without torch:
# the Snakefile's parse and the report jobs read the registry and would otherwise pay
# torch's import (about 2 s a process, docs/PERFORMANCE.md). Only what computes imports it.
if TYPE_CHECKING:
    import torch

    from bench.models import Backbone

STRATEGIES: dict[str, type[Strategy]] = {}


def log_uniform(low: float, high: float) -> dict:
    """A search range: log-uniform in [low, high] (the config's ``search_space`` form)."""
    return {"distribution": "log_uniform", "low": low, "high": high}


def choice(*values) -> dict:
    """A search range: one of ``values``, uniformly."""
    return {"distribution": "choice", "values": list(values)}


@dataclass(frozen=True)
class Param:
    """One setting of a strategy: default, bounds and search range in one place.

    The type is the default's (bool, int or float). ``search`` is the range tuning
    draws from by default (:func:`log_uniform`, :func:`choice`), None = not searched.
    """

    default: bool | int | float
    help: str
    minimum: float | None = None
    exclusive_minimum: float | None = None
    maximum: float | None = None
    search: dict | None = None

    def json_schema(self) -> dict:
        """The setting as a JSON-schema property (what the config schema checks)."""
        kind = {bool: "boolean", int: "integer", float: "number"}[type(self.default)]
        bounds = {"minimum": self.minimum, "exclusiveMinimum": self.exclusive_minimum,
                  "maximum": self.maximum}
        return {"type": kind, **{k: v for k, v in bounds.items() if v is not None},
                "description": f"{self.help} (default {self.default})"}


def register(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator: make a strategy findable by its ``name``.

    Raises:
        TypeError: the class lacks what tables and figures need, or the name is taken.
    """
    missing = [a for a in ("name", "label", "colour", "order") if not hasattr(cls, a)]
    if missing:
        raise TypeError(f"strategy {cls.__name__} must set {', '.join(missing)}")
    if cls.name in STRATEGIES:
        raise TypeError(f"two strategies are named {cls.name!r}")
    STRATEGIES[cls.name] = cls
    return cls


class Strategy:
    """Base class: fine-tune everything at one learning rate, from pretrained weights.

    Subclasses set ``name``, ``label``, ``colour``, ``order`` and ``settings``, and override
    :meth:`frozen_stages`, :meth:`stage_lr_multiplier`, :meth:`bottleneck_dim` and
    :meth:`loss` where needed.
    """

    name: ClassVar[str]
    label: ClassVar[str]  # how tables and figures name it
    colour: ClassVar[str]  # its colour in every figure (Okabe–Ito: safe for colour-blind readers)
    order: ClassVar[int]  # its place in tables and figures, smallest first
    pretrained: ClassVar[bool] = True
    # False: no backbone stage ever trains, so a run may use the process's shared copy
    # of the pretrained backbone (bench.models.create_backbone); the trainer checks it.
    trains_backbone: ClassVar[bool] = True
    uses_other_domain: ClassVar[bool] = False  # needs unlabelled batches from the other domain
    # Is itself only where both domains share one label space (DAN's logit term); the
    # tables mark its cells on pairs whose data sets' classes differ.
    needs_shared_labels: ClassVar[bool] = False
    settings: ClassVar[dict[str, Param]] = {}  # its own config keys (strategy_params.NAME)
    # Default search ranges of `train` keys, per strategy (docs/TUNING.md).
    train_search: ClassVar[dict[str, dict]] = {"lr": log_uniform(3.0e-4, 3.0e-2),
                                               "weight_decay": log_uniform(1.0e-6, 1.0e-2)}

    def __init__(self, config: RunConfig, backbone: Backbone, num_classes: int,
                 shared_label_space: bool = True):
        self.config = config
        # Whether the other domain's classes are the labelled one's (Office pairs), so
        # that its logits are comparable (DAN's logit term).
        self.shared_label_space = shared_label_space
        self.params = {**self.defaults(), **config.params}
        self.num_stages = backbone.num_stages
        from bench.network import Network  # torch: see the imports above

        self.network = Network(backbone, num_classes, self.bottleneck_dim())

    @classmethod
    def defaults(cls) -> dict:
        """{key: default} of the strategy's own settings."""
        return {key: param.default for key, param in cls.settings.items()}

    @classmethod
    def search_space(cls) -> dict[str, dict]:
        """Tuning's default search space: {dotted config key: range}."""
        own = {f"strategy_params.{cls.name}.{key}": param.search
               for key, param in cls.settings.items() if param.search is not None}
        return {**{f"train.{key}": spec for key, spec in cls.train_search.items()}, **own}

    def bottleneck_dim(self) -> int | None:
        """Width of a layer between the pooled features and the head; None = none."""
        return None

    def frozen_stages(self, step: int) -> int:
        """How many leading backbone stages are frozen at optimiser step ``step`` (0-based)."""
        return 0

    def stage_lr_multiplier(self, stage: int) -> float:
        """Learning-rate multiplier of backbone stage ``stage`` (0 = stem); the head has 1."""
        return float(self.params.get("backbone_lr_mult", 1.0))

    def always_frozen(self) -> int:
        """Stages frozen at every step of the budget: their output can be cached."""
        return min(self.frozen_stages(s) for s in range(self.config.max_steps))

    def settled_step(self) -> int:
        """The step from which the freezing schedule no longer changes within the budget.

        0 for a fixed schedule; early stopping counts patience only after it.
        """
        step, final = self.config.max_steps - 1, self.frozen_stages(self.config.max_steps - 1)
        while step > 0 and self.frozen_stages(step - 1) == final:
            step -= 1
        return step

    def param_groups(self) -> list[dict]:
        """Optimizer param groups: each stage that ever trains at its multiplier, head at 1."""
        net = self.network
        groups = [{"params": [*net.neck.parameters(), *net.head.parameters()], "lr_scale": 1.0}]
        for index in range(self.always_frozen(), self.num_stages):
            params = list(net.backbone.stages[index].parameters())
            if index == self.num_stages - 1:  # timm's pooling layers go with the last stage
                params += list(net.backbone.pool_modules.parameters())
            if params:
                groups.append({"params": params, "lr_scale": self.stage_lr_multiplier(index)})
        for group in groups:
            group["lr"] = self.config.lr * group["lr_scale"]
        return groups

    def loss(self, x: torch.Tensor, y: torch.Tensor, other: torch.Tensor | None,
             applied: int) -> tuple[torch.Tensor, dict]:
        """Training loss of one batch.

        Args:
            x: inputs to stage ``applied`` (the first ``applied`` stages are done).
            y: (B,) labels.
            other: a batch from the other domain (only for ``uses_other_domain``).
            applied: how many leading stages ``x`` and ``other`` have been through.

        Returns:
            The loss and extra scalars to log.
        """
        import torch.nn.functional as F  # torch: see the imports above

        logits = self.network(x, applied)
        return F.cross_entropy(logits, y, label_smoothing=self.config.label_smoothing), {}
