"""From a sweep config (``config.yaml``) to the config of one run, checked once.

The rules live in one place each: the JSON schema (``workflows/schemas``) says every
type, bound and allowed key it can express, completed by :func:`sweep_schema` with what
only the strategy registry knows (the strategy names and each one's settings); Python
checks only what a schema cannot (names that refer to other config entries, to timm's
models or to the data set registry). The Snakefile runs :func:`check_sweep` before any
job; ``python -m bench run`` runs the same schema through :func:`run_config`.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import timm
import yaml

from bench import schema
from bench.datasets import DATASETS
from bench.models import OFFLINE_BACKBONE
from bench.settings import (  # noqa: F401  (re-exported: the config's public face)
    TRAIN_DEFAULTS,
    TRAIN_KEYS,
    ConfigError,
    DataSettings,
    RunConfig,
    data_settings,
)
from bench.strategies import STRATEGIES, list_strategies, settings_schema
from bench.tuning import check_tuning_config


def load_config(path: str | Path) -> dict:
    """The mapping a YAML config file holds.

    Raises:
        ConfigError: the file is missing or does not hold a mapping.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    with path.open() as handle:
        config = yaml.safe_load(handle)
    if not isinstance(config, dict):
        raise ConfigError(f"{path} must hold a mapping of config keys, got {type(config).__name__}")
    return config


def sweep_schema() -> dict:
    """The config schema with the registry's strategies and their settings filled in."""
    full = schema.base_schema()
    full["$defs"]["strategy"] = {"enum": list_strategies(),
                                 "description": "a strategy registered in bench.strategies"}
    full["properties"]["strategy_params"]["properties"] = {
        name: {"$ref": "#/$defs/train_keys", "unevaluatedProperties": False,
               "properties": settings_schema(name)} for name in list_strategies()}
    return full


def check_sweep(config: dict) -> None:
    """Raise ConfigError naming the first bad key of a whole sweep config."""
    schema.check(config, sweep_schema())
    _check_data_efficiency(config)
    for strategy in list_strategies():
        _check_warmup(_train_settings(config, strategy), strategy)
    check_tuning_config(config)
    check_names(config)


def _check_data_efficiency(config: dict) -> None:
    """Budgets name pairs of this config that have target labels, and say what to run."""
    pairs, efficiency = config["pairs"], config.get("data_efficiency") or {}
    for index, pair in enumerate(efficiency.get("pairs", [])):
        where = f"`data_efficiency.pairs[{index}]` = {pair!r}"
        if pair not in pairs:
            raise ConfigError(f"{where} is not a pair of this config; allowed: {', '.join(pairs)}")
        if not pairs[pair]["target_labels"]:
            raise ConfigError(f"{where} has target_labels: false, and shots counts labelled "
                              "target examples; allowed: pairs with target_labels: true")
    if efficiency.get("pairs") and not (efficiency.get("strategies") and efficiency.get("shots")):
        raise ConfigError("`data_efficiency.pairs` is set but `data_efficiency.strategies` or "
                          "`data_efficiency.shots` is empty")


def check_names(config: dict, pairs: list[str] | None = None) -> None:
    """Raise ConfigError unless the backbone is a timm model and every data set of ``pairs`` is registered.

    ``pairs`` defaults to every pair of the config.

    Lists timm's models (about a second): a sweep checks once, before any job.
    """
    backbone = config["backbone"]
    known = timm.list_models()
    if backbone not in known:
        near = difflib.get_close_matches(str(backbone), known, n=3)
        raise ConfigError(f"config key `backbone` = {backbone!r} is not a timm model name; "
                          f"allowed: {OFFLINE_BACKBONE} (weights on disk) or any name of "
                          f"timm.list_models() (weights downloaded)"
                          + (f"; did you mean {', '.join(near)}?" if near else ""))
    for pair in config["pairs"] if pairs is None else pairs:
        for role in ("source", "target"):
            name = config["pairs"][pair][role]
            if name not in DATASETS:
                raise ConfigError(f"config key `pairs.{pair}.{role}` = {name!r} is not a "
                                  f"data set; allowed: {', '.join(DATASETS)}")


def _train_settings(config: dict, strategy: str) -> dict:
    """The `train` section as ``strategy`` sees it: defaults filled in, its overrides applied."""
    overrides = (config.get("strategy_params") or {}).get(strategy) or {}
    return {**TRAIN_DEFAULTS, **config["train"],
            **{k: v for k, v in overrides.items() if k in TRAIN_KEYS}}


def _check_warmup(train: dict, strategy: str) -> None:
    """The warm-up ends before training does (a schema cannot compare two keys)."""
    warmup = train["warmup_epochs"]
    if warmup >= train["epochs"]:
        raise ConfigError(f"`train.warmup_epochs` = {warmup} must be less than `train.epochs` = "
                          f"{train['epochs']} (as strategy {strategy} sees them, with its "
                          "strategy_params overrides)")


def _check_cell(config: dict, pair: str, strategy: str, seed: int, shots: int | None) -> None:
    """The run's own coordinates: a pair and strategy of the config, a seed, a budget."""
    if pair not in config["pairs"]:
        raise ConfigError(f"unknown pair {pair!r} (config key `pairs`); "
                          f"known: {', '.join(sorted(config['pairs']))}")
    if strategy not in STRATEGIES:
        raise ConfigError(f"unknown strategy {strategy!r}; known: {', '.join(list_strategies())}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"`seed` must be an integer >= 0, got {seed!r}")
    if shots is not None and (isinstance(shots, bool) or not isinstance(shots, int) or shots < 1):
        raise ConfigError(f"`shots` must be an integer >= 1, got {shots!r}")
    if shots is not None and not config["pairs"][pair]["target_labels"]:
        raise ConfigError(f"`shots` needs labelled target data; pair {pair!r} has "
                          "target_labels: false")


def run_config(config: dict, pair: str, strategy: str, seed: int,
               shots: int | None = None, cache_dir: str | None = None,
               threads: int = 1) -> RunConfig:
    """The RunConfig of one (pair, strategy, seed, shots) cell of a sweep config.

    Raises:
        ConfigError: naming the bad key, before any data set is loaded.
    """
    schema.check(config, sweep_schema())
    _check_cell(config, pair, strategy, seed, shots)
    check_names(config, [pair])
    spec = config["pairs"][pair]
    overrides = (config.get("strategy_params") or {}).get(strategy) or {}
    train = _train_settings(config, strategy)
    _check_warmup(train, strategy)
    params = {**STRATEGIES[strategy].defaults(),
              **{k: v for k, v in overrides.items() if k not in TRAIN_KEYS}}
    data = data_settings(config)
    return RunConfig(
        pair=pair, source=spec["source"], target=spec["target"],
        target_labels=bool(spec["target_labels"]), strategy=strategy, seed=seed, shots=shots,
        backbone=config["backbone"], resolution=config["resolution"],
        epochs=train["epochs"], batch_size=train["batch_size"], optimizer=train["optimizer"],
        lr=float(train["lr"]), weight_decay=float(train["weight_decay"]),
        augment=bool(train["augment"]), label_smoothing=float(train["label_smoothing"]),
        warmup_epochs=int(train["warmup_epochs"]),
        params=params, device=config.get("device", "auto"), data_root=data.root,
        split_seed=data.split_seed, data_options=data.options, cache_dir=cache_dir,
        threads=threads,
    )
