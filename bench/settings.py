"""The settings of one run and the error a bad setting raises: the package's leaf.

:class:`RunConfig` is everything one run depends on; :class:`ConfigError` names a bad
key. Every layer may import this module (it imports nothing of ``bench``); building a
RunConfig from a sweep config, which needs the strategies, is :mod:`bench.config`'s job.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

TRAIN_KEYS = ("epochs", "batch_size", "optimizer", "lr", "weight_decay", "augment",
              "label_smoothing", "warmup_epochs")
# Train keys a config may leave out, and the value they then take (older configs ran so).
TRAIN_DEFAULTS = {"warmup_epochs": 0}


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
    epochs: int
    batch_size: int
    optimizer: str
    lr: float
    weight_decay: float
    augment: bool
    label_smoothing: float
    warmup_epochs: int = TRAIN_DEFAULTS["warmup_epochs"]  # linear warm-up before the cosine
    params: dict = field(default_factory=dict)  # the strategy's own settings
    device: str = "auto"
    data_root: str = "data"
    split_seed: int = 0
    data_options: dict = field(default_factory=dict)  # data set name -> builder options
    cache_dir: str | None = None
    threads: int = 1

    def hparams(self) -> dict:
        """Every setting that can change the result, flat, for the record."""
        keep = {k: v for k, v in asdict(self).items()
                if k in TRAIN_KEYS or k in ("split_seed", "data_options")}
        return {**keep, **self.params}

    def data(self) -> DataSettings:
        """Its data settings, as the sweep config's ``data`` section gave them."""
        return DataSettings(self.data_root, self.split_seed, self.data_options)

    def config_hash(self) -> str:
        """Hash of what determines the result (not where files live or how many threads)."""
        relevant = {k: v for k, v in asdict(self).items()
                    if k not in ("data_root", "cache_dir", "threads", "device")}
        blob = json.dumps(relevant, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


@dataclass(frozen=True)
class DataSettings:
    """The config's ``data`` section: where real data sets live, the split seed, and builder options.

    The builder options are per data set (e.g. Office-31's image size).
    """

    root: str = "data"
    split_seed: int = 0
    options: dict = field(default_factory=dict)  # data set name -> builder options

    def load_kwargs(self, name: str) -> dict:
        """Keyword arguments of ``bench.datasets.load_dataset`` for data set ``name``."""
        return {"root": self.root, "split_seed": self.split_seed, **self.options.get(name, {})}


def data_settings(config: dict) -> DataSettings:
    """The ``data`` section of a sweep config, defaults filled in."""
    data = config.get("data") or {}
    return DataSettings(root=str(data.get("root", "data")), split_seed=int(data.get("split_seed", 0)),
                        options=dict(data.get("options") or {}))
