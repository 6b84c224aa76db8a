"""Hyper-parameter tuning: the same random-search budget for every strategy.

Trials are selected on validation accuracy, never on test metrics.

Config (checked by ``workflows/schemas/config.schema.yaml`` and :func:`check_tuning_config`):

    tuning: {trials: N, seed: S, selection_seed: T, pairs: [...]}   # N = 0: no tuning
    search_space:
      STRATEGY:
        train.lr: {distribution: log_uniform, low: 1.0e-4, high: 3.0e-2}
        strategy_params.partial.trainable_stages: {distribution: choice, values: [1, 2, 3]}

Each (pair, strategy) gets exactly N trials, all trained at the selection seed T
(``tuning.selection_seed``, default ``max(seeds) + 1``), which is never one of the
config's ``seeds``. Trial 0 is the defaults; trials 1..N-1 draw every parameter of the
strategy's search space (:func:`draw_trial`). The trial with the best validation
accuracy is selected (:func:`select_trial`), and the reported tuned results are fresh
runs of its hyper-parameters at every seed of ``seeds``: the run that selected a
configuration never reports it, so "tuned - default" carries no winner's curse from
training noise (:func:`tuned_run_source`).

The search space of a strategy the config does not name under ``search_space`` is the
one its class declares (:meth:`bench.strategies.Strategy.search_space`). Tables are
:mod:`bench.tuning_report`'s, the figure ``python -m bench.figures --tuning``.

Trials, selection and tuned runs of a pair are one workflow job, ``python -m bench tune``
(:func:`bench.cli.cmd_tune`).
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import yaml

from bench.io import write_atomic
from bench.settings import TRAIN_DEFAULTS, TRAIN_KEYS, ConfigError
from bench.strategies import STRATEGIES, list_strategies

DISTRIBUTIONS = ("log_uniform", "choice")
SIGNIFICANT_DIGITS = 3  # log-uniform draws are rounded to this many digits, as tables show them
# The only metric selection reads. Test metrics (accuracy, balanced_accuracy, macro_f1)
# never enter select_trial.
SELECTION_METRIC = "val_accuracy"


# ---------------------------------------------------------------------- search space


def strategy_keys() -> dict[str, tuple[str, ...]]:
    """Strategy -> its own config keys (``strategy_params.STRATEGY.*`` beyond train keys)."""
    return {name: tuple(STRATEGIES[name].settings) for name in list_strategies()}


def tunable_keys(strategy: str) -> list[str]:
    """Search-space keys allowed for ``strategy``.

    ``train.K`` for every train key, and ``strategy_params.STRATEGY.K`` for the strategy's
    own keys.
    """
    return ([f"train.{key}" for key in TRAIN_KEYS]
            + [f"strategy_params.{strategy}.{key}" for key in strategy_keys().get(strategy, ())])


def search_space(config: dict) -> dict[str, dict]:
    """Every registered strategy's search space.

    The config's where it names the strategy under ``search_space``, else the one the
    strategy's class declares.
    """
    configured = config.get("search_space") or {}
    return {name: dict(configured[name] if name in configured else STRATEGIES[name].search_space())
            for name in list_strategies()}


def tuning_settings(config: dict) -> dict:
    """``config['tuning']`` with its defaults.

    trials 0, seed 0, pairs = every pair, selection_seed = ``max(seeds) + 1`` (the first
    seed above the reporting seeds, so that adding a seed to the end of ``seeds`` moves
    it instead of colliding with it; :func:`check_tuning_config` rejects a set one that
    is in ``seeds``).
    """
    tuning = dict(config.get("tuning") or {})
    pairs = tuning.get("pairs")
    selection_seed = tuning.get("selection_seed")
    if selection_seed is None:
        selection_seed = max(config["seeds"]) + 1
    return {"trials": int(tuning.get("trials", 0)), "seed": int(tuning.get("seed", 0)),
            "selection_seed": int(selection_seed),
            "pairs": list(config["pairs"]) if pairs is None else list(pairs)}


def check_tuning_config(config: dict) -> None:
    """Raise ConfigError (a ValueError) naming the config key when tuning cannot work.

    What the schema cannot say: every ``search_space`` key names a known strategy and a
    key that strategy accepts; a log-uniform range has 0 < low < high; ``tuning.pairs``
    are pairs of the config; ``tuning.selection_seed`` is not one of ``seeds``; with 2
    or more trials, every strategy of the sweep has a non-empty search space (else its
    trials 1.. would all repeat its defaults).
    """
    _check_search_space(config)
    tuning = tuning_settings(config)
    for index, pair in enumerate(tuning["pairs"]):
        if pair not in config["pairs"]:
            raise ConfigError(f"`tuning.pairs[{index}]` = {pair!r} is not a pair of this "
                              f"config; allowed: {', '.join(config['pairs'])}")
    if tuning["selection_seed"] in config["seeds"]:
        raise ConfigError(f"`tuning.selection_seed` = {tuning['selection_seed']} is one of "
                          f"`seeds` {config['seeds']}: the tuned results are reported at "
                          f"`seeds`, so the run that selects a configuration would also "
                          f"report it (the winner's curse); choose a seed outside `seeds`, "
                          f"or leave it unset (default max(seeds) + 1 = {max(config['seeds']) + 1})")
    space = search_space(config)
    if tuning["trials"] >= 2:
        missing = [s for s in config["strategies"] if not space.get(s)]
        if missing:
            raise ConfigError(f"`tuning.trials` = {tuning['trials']} but `search_space` has no "
                              f"parameters for {', '.join(missing)}; every strategy of the sweep "
                              f"needs a search space so that all get the same budget")


def _check_search_space(config: dict) -> None:
    """Every ``search_space`` key is a tunable key of a known strategy; 0 < low < high."""
    known = strategy_keys()
    for strategy in config.get("search_space") or {}:
        if strategy not in known:
            raise ConfigError(f"`search_space.{strategy}` is not a strategy; "
                              f"allowed: {', '.join(known)}")
    for strategy, params in search_space(config).items():
        allowed = tunable_keys(strategy)
        for key, spec in (params or {}).items():
            where = f"search_space.{strategy}.{key}"
            if key not in allowed:
                raise ConfigError(f"`{where}` is not a tunable key of {strategy}; "
                                 f"allowed: {', '.join(allowed)}")
            if spec["distribution"] == "log_uniform" and not 0 < spec["low"] < spec["high"]:
                raise ConfigError(f"`{where}` needs 0 < low < high, got low={spec['low']!r}, "
                                  f"high={spec['high']!r}")


def _stream(name: str) -> int:
    """A stable 32-bit integer for a name (Python's hash() changes between processes)."""
    return zlib.crc32(name.encode())


def draw_value(spec: dict, rng: np.random.Generator):
    """One value of a parameter spec.

    Log-uniform in [low, high], rounded to SIGNIFICANT_DIGITS and kept inside the range;
    or one of ``values``, uniformly.
    """
    if spec["distribution"] == "log_uniform":
        low, high = float(spec["low"]), float(spec["high"])
        value = math.exp(rng.uniform(math.log(low), math.log(high)))
        return min(max(float(f"{value:.{SIGNIFICANT_DIGITS}g}"), low), high)
    if spec["distribution"] == "choice":
        values = list(spec["values"])
        return values[int(rng.integers(len(values)))]
    raise ValueError(f"unknown distribution {spec['distribution']!r}; "
                     f"allowed: {', '.join(DISTRIBUTIONS)}")


def draw_trial(search_space: dict, strategy: str, trial: int, seed: int) -> dict:
    """Hyper-parameters of trial ``trial`` >= 1 of ``strategy``: {search-space key: value}.

    Each parameter is drawn from ``numpy.random.default_rng([seed, crc32(strategy), trial,
    crc32(key)])``: deterministic in (tuning seed, strategy, trial, parameter), and
    independent of the pair (every pair gets the same N draws of a strategy), of the other
    strategies, and of the other parameters (adding one to a space leaves the others'
    draws unchanged). Trial 0 is the defaults: see :func:`default_hparams`.
    """
    if trial < 1:
        raise ValueError(f"trial 0 is the defaults, not a draw (got trial={trial})")
    space = search_space.get(strategy) or {}
    return {key: draw_value(spec, np.random.default_rng(
        [seed, _stream(strategy), trial, _stream(key)])) for key, spec in sorted(space.items())}


def default_hparams(config: dict, strategy: str) -> dict:
    """Values the searched keys of ``strategy`` take without tuning: trial 0.

    ``train.K``: the strategy's override ``strategy_params.STRATEGY.K`` if set, else
    ``train.K``; ``strategy_params.STRATEGY.K``: the config's value, else the strategy
    class's default.
    """
    overrides = (config.get("strategy_params") or {}).get(strategy) or {}
    defaults = {**STRATEGIES[strategy].defaults(), **overrides}
    values = {}
    for key in sorted(search_space(config)[strategy]):
        name = key.rsplit(".", 1)[1]
        if key.startswith("train."):
            values[key] = overrides.get(name, {**TRAIN_DEFAULTS, **config["train"]}[name])
        else:
            values[key] = defaults[name]
    return values


def trial_hparams(config: dict, strategy: str, trial: int) -> dict:
    """Hyper-parameters of any trial: the defaults for 0, a draw for 1..N-1."""
    if trial == 0:
        return default_hparams(config, strategy)
    return draw_trial(search_space(config), strategy, trial, tuning_settings(config)["seed"])


def all_trials(config: dict) -> dict:
    """{strategy: [hparams of trial 0, ..., trial N-1]} for every strategy of the sweep."""
    trials = tuning_settings(config)["trials"]
    return {strategy: [trial_hparams(config, strategy, k) for k in range(trials)]
            for strategy in config["strategies"]}


def yaml_value(value) -> str:
    """A value as YAML text that ``--set KEY=VALUE`` (yaml.safe_load) reads back unchanged.

    1e-05 would come back a string, so floats are written as YAML writes them (1.0e-05).
    """
    return yaml.safe_dump(value, default_flow_style=True).split("\n", 1)[0]


def set_arguments(strategy: str, hparams: dict) -> list[str]:
    """Hyper-parameters (``hparams``) -> ``KEY=VALUE`` strings for ``python -m bench run --set``.

    ``train.K`` is set as the strategy's override ``strategy_params.STRATEGY.K``, which
    wins over ``train.K`` (a strategy such as feature_extraction overrides train.lr in
    config.yaml; setting train.lr alone would not reach it).
    """
    arguments = []
    for key, value in sorted(hparams.items()):
        if key.startswith("train."):
            key = f"strategy_params.{strategy}.{key.split('.', 1)[1]}"
        arguments.append(f"{key}={yaml_value(value)}")
    return arguments


# ------------------------------------------------------------------------- selection


def tuned_run_source(document: dict, seed: int, default: str) -> str | None:
    """The record a tuned run at ``seed`` copies, or None when it must train.

    With trial 0 (the defaults) selected, the tuned run at a reporting seed is the
    default run at that seed (``default``): same config, same seed, same run. A trial's
    record is never copied: every trial ran at the selection seed (``document["seed"]``),
    which no tuned result may use.

    Raises:
        ConfigError: ``seed`` is the selection seed.
    """
    if seed == document["seed"]:
        raise ConfigError(f"seed {seed} is the selection seed of {document['pair']}/"
                          f"{document['strategy']} (`tuning.selection_seed`): a tuned result "
                          f"at it would be reported by the run that selected it")
    return default if document["selected"]["trial"] == 0 else None


def select_trial(trials: list[dict]) -> dict:
    """The trial with the best validation accuracy; ties go to the lower trial index.

    ``trials``: [{"trial": k, "status": str, "val_accuracy": float | None, ...}] (one
    entry per trial, any order). Trials that are not ``ok`` or have no validation
    accuracy never win; when none qualifies, trial 0 (the defaults) is selected. Only
    ``val_accuracy`` (a fraction in [0, 1]) is read: test metrics play no part.
    """
    candidates = [t for t in trials if t["status"] == "ok" and t["val_accuracy"] is not None
                  and not math.isnan(t["val_accuracy"])]
    if not candidates:
        return min(trials, key=lambda t: t["trial"])
    return min(candidates, key=lambda t: (-t["val_accuracy"], t["trial"]))


def trial_entry(trial: int, record: dict, path: str, searched: Iterable[str]) -> dict:
    """What selection keeps of one trial's run record.

    Its searched hyper-parameters (as the record says the run used them), status and
    validation accuracy. Nothing else of ``record["metrics"]`` is copied, so no test
    metric can reach the selection.
    """
    hparams = {}
    for key in searched:
        name = key.rsplit(".", 1)[1]
        hparams[key] = record["hparams"].get(name)
    return {"trial": trial, "path": str(path), "status": record["status"],
            "val_accuracy": record["metrics"].get(SELECTION_METRIC), "hparams": hparams}


def selection(pair: str, strategy: str, records: list[tuple[str, dict]],
              searched: Iterable[str]) -> dict:
    """Selection document for one (pair, strategy).

    ``records``: [(path, run record)] for trials 0..N-1, in trial order, all of this
    pair and strategy and at one seed (the selection seed). Returns {"pair", "strategy",
    "seed": the selection seed, "metric": "val_accuracy", "selected": trial entry,
    "trials": [trial entries]}; val_accuracy is a fraction in [0, 1].

    Raises:
        ValueError: a record of another pair or strategy, or at another seed than trial 0.
    """
    searched = sorted(searched)
    trials = [trial_entry(k, record, path, searched) for k, (path, record) in enumerate(records)]
    seed = records[0][1]["seed"]
    for entry, (_, record) in zip(trials, records, strict=True):
        if record["pair"] != pair or record["strategy"] != strategy:
            raise ValueError(f"{entry['path']} is a run of {record['pair']}/{record['strategy']}, "
                             f"not {pair}/{strategy}")
        if record["seed"] != seed:
            raise ValueError(f"{entry['path']} ran at seed {record['seed']}, trial 0 at seed "
                             f"{seed}: every trial runs at the one selection seed")
    return {"pair": pair, "strategy": strategy, "seed": seed, "metric": SELECTION_METRIC,
            "selected": select_trial(trials), "trials": trials}


def write_selection(document: dict, out: str | Path) -> None:
    """Write a selection document (:func:`selection`) atomically; say what was selected."""
    write_atomic(out, json.dumps(document, indent=2) + "\n")
    chosen = document["selected"]
    print(f"{document['pair']} {document['strategy']}: trial {chosen['trial']} of "
          f"{len(document['trials'])} selected (val accuracy {chosen['val_accuracy']}, "
          f"seed {document['seed']}) -> {out}")
