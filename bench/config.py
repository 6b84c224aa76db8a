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

from bench import schema
from bench.config_layers import layered_config
from bench.datasets import DATASETS, define
from bench.models import OFFLINE_NAMES, check_backbone
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


def load_config(*paths: str | Path) -> dict:
    """The sweep config of ``paths`` layered over the repository's config.yaml.

    Layered as the Snakefile layers ``--configfile`` (:func:`bench.config_layers.layered_config`):
    ``load_config("workflows/configs/ci.yaml")`` is the config the CI sweep's jobs see, and
    a complete config file reads as itself.

    Raises:
        ConfigError: a file is missing or does not hold a mapping.
    """
    return layered_config(paths)


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
    for pair in config["pairs"]:
        _check_protocol(config, pair)
    _check_data_efficiency(config)
    for strategy in list_strategies():
        _check_warmup(_train_settings(config, strategy), strategy)
    check_tuning_config(config)
    check_names(config)


def _check_protocol(config: dict, pair: str) -> None:
    """A protocol is a choice of unlabelled-target pairs only."""
    spec = config["pairs"][pair]
    if "protocol" in spec and spec["target_labels"]:
        raise ConfigError(f"`pairs.{pair}.protocol` applies only to pairs with "
                          "target_labels: false (a labelled target trains and is scored on "
                          "its own splits); remove it")


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


def check_names(config: dict, pairs: list[str] | None = None, stages: bool = True) -> None:
    """Raise ConfigError unless every backbone is a stageable timm model and the data sets exist.

    The backbones are ``backbone`` and those of ``backbones`` (the source-model axis).
    Every data set of ``pairs`` (default: every pair of the config) must be registered
    or defined.

    Lists timm's models and, with ``stages``, builds each backbone once with random
    weights at the config's resolution to cut it into stages (a second or two each): a
    sweep checks once, before any job, and its run jobs skip it (``stages=False``),
    since a run builds the backbone anyway and records a failure to stage it.
    """
    known = timm.list_models()
    keys = {"backbone": config["backbone"],
            **{f"backbones[{i}]": name for i, name in enumerate(config.get("backbones", []))}}
    for key, backbone in keys.items():
        _check_backbone(key, backbone, known, config["resolution"] if stages else None)
    _check_datasets(config, list(config["pairs"]) if pairs is None else pairs)


def _check_backbone(key: str, backbone: str, known: list[str], resolution: int | None) -> None:
    """A timm model name that, at ``resolution`` (None: not built), stages."""
    if backbone not in known:
        near = difflib.get_close_matches(str(backbone), known, n=3)
        raise ConfigError(f"config key `{key}` = {backbone!r} is not a timm model name; "
                          f"allowed: {OFFLINE_NAMES} (weights on disk) or any name "
                          f"of timm.list_models() (weights downloaded)"
                          + (f"; did you mean {', '.join(near)}?" if near else ""))
    if resolution is not None:
        try:
            check_backbone(backbone, resolution)
        except ValueError as error:
            raise ConfigError(f"config key `{key}`: {error}") from None


def _check_datasets(config: dict, pairs: list[str]) -> None:
    """Every data set of ``pairs`` is registered or defined, and a defined one's files are there.

    A config-defined set (``data.sets``) is checked to its folder's top level or its
    CSV's rows (cheap); a registered set's files are checked by the job preparing it.
    ``data.roots`` may name only data sets.
    """
    data = data_settings(config)
    known = [*DATASETS, *data.sets]
    for name in data.roots:
        if name not in known:
            raise ConfigError(f"config key `data.roots.{name}` names no data set; "
                              f"allowed: {', '.join(known)}")
    for pair in pairs:
        for role in ("source", "target"):
            name = config["pairs"][pair][role]
            if name not in known:
                raise ConfigError(f"config key `pairs.{pair}.{role}` = {name!r} is not a "
                                  f"data set; allowed: {', '.join(known)} (or define it "
                                  f"under `data.sets`)")
            if name in data.sets:
                _check_defined(name, data)


def _check_defined(name: str, data: DataSettings) -> None:
    """A config-defined set: a known builder and options, and its files as it says."""
    try:
        define(name, data.sets[name]).check(Path(data.root_of(name)))
    except (ValueError, OSError) as error:  # DatasetMissingError is an OSError
        raise ConfigError(str(error)) from None


def _train_settings(config: dict, strategy: str) -> dict:
    """The `train` section as ``strategy`` sees it: defaults filled in, its overrides applied."""
    overrides = (config.get("strategy_params") or {}).get(strategy) or {}
    return {**TRAIN_DEFAULTS, **config["train"],
            **{k: v for k, v in overrides.items() if k in TRAIN_KEYS}}


def _check_warmup(train: dict, strategy: str) -> None:
    """The warm-up ends before training does (a schema cannot compare two keys)."""
    warmup = train["warmup_steps"]
    if warmup >= train["max_steps"]:
        raise ConfigError(f"`train.warmup_steps` = {warmup} must be less than `train.max_steps` "
                          f"= {train['max_steps']} (as strategy {strategy} sees them, with its "
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
    _check_protocol(config, pair)
    check_names(config, [pair], stages=False)
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
        max_steps=train["max_steps"], eval_every=train["eval_every"], patience=train["patience"],
        batch_size=train["batch_size"], optimizer=train["optimizer"],
        lr=float(train["lr"]), weight_decay=float(train["weight_decay"]),
        augment=bool(train["augment"]), label_smoothing=float(train["label_smoothing"]),
        warmup_steps=int(train["warmup_steps"]),
        params=params, device=config.get("device", "auto"), data_root=data.root,
        split_seed=data.split_seed, data_roots=data.roots, cache_dir=cache_dir, threads=threads,
        protocol=spec.get("protocol", "held_out"),
        # The pair's own sets only, as a workflow job gets them: a run by hand from a
        # sweep config then records the job's config_hash.
        data_options={name: data.options.get(name, {})
                      for name in (spec["source"], spec["target"])},
    )
