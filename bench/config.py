"""From a sweep config (``config.yaml``) to the config of one run.

The sweep config is checked in full by the workflow's JSON schema; this module
re-checks what a single run needs, so ``python -m bench run`` fails with the key,
the value and the allowed values before any data set is loaded or any weight trained.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import timm
import yaml

from bench.datasets import DATASETS
from bench.models import OFFLINE_BACKBONE
from bench.settings import (  # noqa: F401  (re-exported: the config's public face)
    TRAIN_KEYS,
    ConfigError,
    DataSettings,
    RunConfig,
    data_settings,
)
from bench.strategies import STRATEGIES


def load_config(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    with path.open() as handle:
        config = yaml.safe_load(handle)
    if not isinstance(config, dict):
        raise ConfigError(f"{path} must hold a mapping of config keys, got {type(config).__name__}")
    return config


def _require(mapping: dict, key: str, where: str):
    if key not in mapping:
        raise ConfigError(f"missing config key `{where}{key}`")
    return mapping[key]


def _check_number(key: str, value, kind, minimum=None, exclusive=False):
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ConfigError(f"`{key}` must be {kind.__name__ if isinstance(kind, type) else 'a number'}"
                          f", got {value!r}")
    if minimum is not None and (value <= minimum if exclusive else value < minimum):
        raise ConfigError(f"`{key}` must be {'>' if exclusive else '>='} {minimum}, got {value!r}")


def check_names(config: dict, pairs: list[str] | None = None) -> None:
    """Raise ConfigError unless the backbone is a timm model and every data set of
    ``pairs`` (default: every pair of the config) is registered.

    Lists timm's models (about a second): a sweep checks once, before any job.
    """
    backbone = _require(config, "backbone", "")
    known = timm.list_models()
    if backbone not in known:
        near = difflib.get_close_matches(str(backbone), known, n=3)
        raise ConfigError(f"config key `backbone` = {backbone!r} is not a timm model name; "
                          f"allowed: {OFFLINE_BACKBONE} (weights on disk) or any name of "
                          f"timm.list_models() (weights downloaded)"
                          + (f"; did you mean {', '.join(near)}?" if near else ""))
    all_pairs = _require(config, "pairs", "")
    for pair in all_pairs if pairs is None else pairs:
        for role in ("source", "target"):
            name = _require(all_pairs[pair], role, f"pairs.{pair}.")
            if name not in DATASETS:
                raise ConfigError(f"config key `pairs.{pair}.{role}` = {name!r} is not a "
                                  f"data set; allowed: {', '.join(DATASETS)}")


def run_config(config: dict, pair: str, strategy: str, seed: int,
               shots: int | None = None, cache_dir: str | None = None,
               threads: int = 1) -> RunConfig:
    """The RunConfig of one (pair, strategy, seed, shots) cell of a sweep config."""
    pairs = _require(config, "pairs", "")
    if pair not in pairs:
        raise ConfigError(f"unknown pair {pair!r} (config key `pairs`); "
                          f"known: {', '.join(sorted(pairs))}")
    if strategy not in STRATEGIES:
        raise ConfigError(f"unknown strategy {strategy!r}; known: {', '.join(STRATEGIES)}")
    spec = pairs[pair]
    for key in ("source", "target", "target_labels"):
        _require(spec, key, f"pairs.{pair}.")
    check_names(config, [pair])
    _check_number("seed", seed, int, 0)
    if shots is not None:
        _check_number("shots", shots, int, 1)
        if not spec["target_labels"]:
            raise ConfigError(f"`shots` needs labelled target data; pair {pair!r} has "
                              "target_labels: false")
    train = dict(_require(config, "train", ""))
    overrides = dict((config.get("strategy_params") or {}).get(strategy) or {})
    unknown_train = set(train) - set(TRAIN_KEYS)
    if unknown_train:
        raise ConfigError(f"unknown key(s) {sorted(unknown_train)} in `train`; "
                          f"allowed: {', '.join(TRAIN_KEYS)}")
    for key in TRAIN_KEYS:
        _require(train, key, "train.")
    params = {}
    allowed = STRATEGIES[strategy].defaults
    for key, value in overrides.items():
        if key in TRAIN_KEYS:
            train[key] = value
        elif key in allowed:
            params[key] = value
        else:
            raise ConfigError(f"unknown key `strategy_params.{strategy}.{key}`; allowed: "
                              f"{', '.join([*TRAIN_KEYS, *allowed])}")
    params = {**allowed, **params}
    _check_number("train.epochs", train["epochs"], int, 1)
    _check_number("train.batch_size", train["batch_size"], int, 2)
    _check_number("train.lr", train["lr"], (int, float), 0, exclusive=True)
    _check_number("train.weight_decay", train["weight_decay"], (int, float), 0)
    _check_number("train.label_smoothing", train["label_smoothing"], (int, float), 0)
    resolution = _require(config, "resolution", "")
    _check_number("resolution", resolution, int, 16)
    device = config.get("device", "auto")
    if device not in ("auto", "cpu", "cuda"):
        raise ConfigError(f"`device` must be auto, cpu or cuda, got {device!r}")
    data = data_settings(config)
    run = RunConfig(
        pair=pair, source=spec["source"], target=spec["target"],
        target_labels=bool(spec["target_labels"]), strategy=strategy, seed=seed, shots=shots,
        backbone=_require(config, "backbone", ""), resolution=resolution,
        epochs=train["epochs"], batch_size=train["batch_size"], optimizer=train["optimizer"],
        lr=float(train["lr"]), weight_decay=float(train["weight_decay"]),
        augment=bool(train["augment"]), label_smoothing=float(train["label_smoothing"]),
        params=params, device=device, data_root=data.root, split_seed=data.split_seed,
        data_options=data.options,
        cache_dir=cache_dir, threads=threads,
    )
    STRATEGIES[strategy].check(run)
    return run
