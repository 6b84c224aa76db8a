"""The settings of one run and the error a bad setting raises: the package's leaf.

:class:`RunConfig` is everything one run depends on; :class:`ConfigError` names a bad
key. Every layer may import this module (it imports nothing of ``bench``); building a
RunConfig from a sweep config, which needs the strategies, is :mod:`bench.config`'s job.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

TRAIN_KEYS = ("max_steps", "eval_every", "patience", "batch_size", "optimizer", "lr",
              "weight_decay", "augment", "label_smoothing", "warmup_steps")
# Train keys a config may leave out, and the value they then take (older configs ran so).
TRAIN_DEFAULTS = {"warmup_steps": 0}


class ConfigError(ValueError):
    """A config key or value is wrong; the message names the key and what is allowed."""


@dataclass(frozen=True)
class RunConfig:
    """Everything one run depends on. A run is a pure function of it (and the code)."""

    pair: str
    source: str
    target: str
    target_labels: bool
    strategy: str
    seed: int
    shots: int | None
    backbone: str
    resolution: int
    max_steps: int  # optimiser steps a run may take, whatever its data size
    eval_every: int  # optimiser steps between two validations
    patience: int  # validations without a strictly better accuracy before stopping; 0 = never
    batch_size: int
    optimizer: str
    lr: float
    weight_decay: float
    augment: bool
    label_smoothing: float
    warmup_steps: int = TRAIN_DEFAULTS["warmup_steps"]  # linear warm-up before the cosine
    params: dict = field(default_factory=dict)  # the strategy's own settings
    device: str = "auto"
    data_root: str = "data"
    split_seed: int = 0
    data_options: dict = field(default_factory=dict)  # see DataSettings.options
    data_roots: dict = field(default_factory=dict)  # data set name -> its own root
    cache_dir: str | None = None
    threads: int = 1
    protocol: str = "held_out"  # unlabelled-target pairs: held_out | standard (bench.roles)

    def hparams(self) -> dict:
        """Every setting that can change the result, flat, for the record."""
        keep = {k: v for k, v in asdict(self).items()
                if k in TRAIN_KEYS or k in ("split_seed", "data_options")}
        return {**keep, **self.params}

    def data(self) -> DataSettings:
        """Its data settings, as the sweep config's ``data`` section gave them."""
        return DataSettings(self.data_root, self.split_seed, self.data_options, self.data_roots)

    def config_hash(self) -> str:
        """Hash of what determines the result (not where files live or how many threads)."""
        relevant = {k: v for k, v in asdict(self).items()
                    if k not in ("data_root", "data_roots", "cache_dir", "threads", "device")}
        blob = json.dumps(relevant, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


@dataclass(frozen=True)
class DataSettings:
    """The config's ``data`` section: where data sets live, the split seed, each one's options.

    Attributes:
        root: folder of the real data sets (``data.root``).
        split_seed: fixes train / val / test membership (``data.split_seed``).
        options: data set name -> its keywords of ``bench.datasets.load_dataset``: the
            builder options (``data.options.NAME``, e.g. Office-31's ``per_class``) and,
            for a set the config defines, its ``definition`` (``data.sets.NAME``). One
            mapping, so whatever keys the data (cache keys, a run's hash) sees both.
        roots: data set name -> its own folder, instead of ``root`` (``data.roots.NAME``).
    """

    root: str = "data"
    split_seed: int = 0
    options: dict = field(default_factory=dict)
    roots: dict = field(default_factory=dict)

    @property
    def sets(self) -> dict:
        """The config-defined data sets: name -> definition (``data.sets``)."""
        return {name: options["definition"] for name, options in self.options.items()
                if "definition" in options}

    def root_of(self, name: str) -> str:
        """The folder data set ``name`` is read from: its own root, else ``root``."""
        return str(self.roots.get(name, self.root))

    def load_kwargs(self, name: str) -> dict:
        """Keyword arguments of ``bench.datasets.load_dataset`` for data set ``name``."""
        return {"root": self.root_of(name), "split_seed": self.split_seed,
                **self.options.get(name, {})}


def data_settings(config: dict) -> DataSettings:
    """The ``data`` section of a sweep config, defaults filled in, definitions folded in."""
    data = config.get("data") or {}
    options = {name: dict(value) for name, value in (data.get("options") or {}).items()}
    for name, definition in (data.get("sets") or {}).items():
        options[name] = {**options.get(name, {}), "definition": dict(definition)}
    return DataSettings(root=str(data.get("root", "data")), split_seed=int(data.get("split_seed", 0)),
                        options=options, roots=dict(data.get("roots") or {}))
