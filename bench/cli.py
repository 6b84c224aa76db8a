"""The command line: ``tlbench COMMAND`` (the same as ``python -m bench COMMAND``).

Each subcommand is a thin shell over a library function, so everything here also
works from a notebook. Subcommands import what they need when they run, so ``--help``
and the light commands do not pay for torch; ``compare``, ``aggregate`` and ``figures``
hand their arguments to their own module's ``main`` (which imports pandas, which every
run job, parsing this same command line, would otherwise pay for).

Bad input (a missing config file, an unknown data set, a bad option) is one line on
stderr naming it, and exit status 2, before any expensive work.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import json
import os
import sys
from pathlib import Path

from bench.argparsing import Parser

DESCRIPTION = """\
tlbench: a reproducible benchmark of transfer-learning strategies.
Whole sweeps run with Snakemake (`snakemake --cores 2`); these commands run, inspect
and check its pieces one at a time."""

EPILOG = """\
examples:
  %(prog)s data list                        the data sets, and which are on disk
  %(prog)s data show digits --out digits.png
  %(prog)s strategies                       every strategy and its settings
  %(prog)s run --pair imagenet-digits --strategy full --seed 0 --out run.json
  %(prog)s run --config workflows/configs/ci.yaml --pair imagenet-digits \\
      --strategy feature_extraction --seed 0 --out run.json
  %(prog)s compare results/ci/summary.csv results/baseline/ci.csv

%(prog)s COMMAND --help says more about each command."""

CONFIG_HELP = ("a config file layered over the repository's config.yaml as Snakemake "
               "layers --configfile: mappings merge key by key, other values and `pairs` "
               "replace (repeatable, later files win; default: config.yaml alone)")

# Commands whose module has its own main(argv, prog): name -> (module of bench, help).
DELEGATED = {
    "compare": ("regress", "check a sweep's summary.csv against a baseline"),
    "aggregate": ("aggregate", "run records -> summary.csv and the tables"),
    "figures": ("figures", "summary.csv -> the figures (PNG and PDF)"),
}


class InputError(Exception):
    """Bad input to a command; :func:`main` prints its message as one line, exit 2."""


def tlbench_version() -> str:
    """The installed tlbench's version, or a note that it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tlbench")
    except PackageNotFoundError:
        return "(not installed: pip install -e .)"


class _PrintVersion(argparse.Action):
    """``--version``, looked up only when asked: importlib.metadata would slow every --help."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"tlbench {tlbench_version()}")
        parser.exit()


# ------------------------------------------------------------------ argument types


def _shots(value: str) -> int | None:
    if value == "all":
        return None
    try:
        shots = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"shots must be a positive integer or 'all', "
                                         f"got {value!r}") from None
    if shots < 1:
        raise argparse.ArgumentTypeError(f"shots must be >= 1, got {shots}")
    return shots


def _assignment(text: str) -> tuple[str, object]:
    """``KEY=VALUE`` -> (KEY, VALUE parsed as YAML: 3 is an int, [1, 2] a list, x a string)."""
    import yaml

    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key.strip(), yaml.safe_load(raw)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or " ".join(str(error).split())
        raise argparse.ArgumentTypeError(f"{key}: value {raw!r} is not YAML ({problem})") from None


def _json_mapping(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not JSON: {error}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON mapping, got {text!r}")
    return value


# ------------------------------------------------------------------------ configs


def _checked_assignment(text: str) -> str:
    """``--set``'s ``KEY=VALUE``, checked when parsed, kept as text (:func:`_apply_overrides`)."""
    _assignment(text)
    return text


def _apply_overrides(config: dict, assignments: list[str]) -> dict:
    """``train.lr=0.1`` style overrides (``--set``), applied after the config files."""
    from bench.settings import ConfigError

    for key, value in map(_assignment, assignments):
        node = config
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {key}: {part!r} is not a mapping in the config")
        node[leaf] = value
    return config


def _read_config(args: argparse.Namespace) -> dict:
    """The config a command reads: ``--config-json`` as it is, or the layered ``--config`` files.

    ``--config-json`` is what a workflow job is given: the settings it needs, complete.
    """
    if args.config_json is not None:
        return args.config_json
    from bench.config_layers import layered_config

    return layered_config(args.config or [])


# ----------------------------------------------------------------------- commands


def cmd_run(args: argparse.Namespace) -> int:
    """Train and measure one run; a run that fails is recorded as failed."""
    from bench.config import run_config

    config = _apply_overrides(_read_config(args), args.set)
    run_cfg = run_config(config, args.pair, args.strategy, args.seed, args.shots,
                         cache_dir=args.cache_dir, threads=args.threads)
    _run_cell(args, [(run_cfg, args.out)], store=None)
    return 0


def cmd_cell(args: argparse.Namespace) -> int:
    """Every run of one cell in this process: one record per run, in ``--out``'s order.

    The runs are ``--runs STRATEGY:SHOTS:SEED ...`` (a pair cell: any strategies and
    budgets of one pair), or ``--strategy`` at every ``--seeds`` entry. ``--run-sets``
    gives each run its own overrides on top of ``--set`` (the tuning trials of a pair:
    one seed, a draw of values per trial).
    """
    planned = _planned_runs(args)
    run_sets = args.run_sets if args.run_sets is not None else [[] for _ in planned]
    _train_cell(args, planned, run_sets, args.out)
    return 0


def _train_cell(args: argparse.Namespace, planned: list, run_sets: list,
                outs: list) -> list[dict]:
    """Train ``planned`` (strategy, shots, seed) runs, each with its ``run_sets``, to ``outs``.

    Returns their records, in ``planned``'s order.
    """
    from bench.config import run_config

    for option, values in (("--out", outs), ("--run-sets", run_sets)):
        if len(values) != len(planned):
            raise InputError(f"{option} names {len(values)} item(s) for {len(planned)} "
                             "runs: give one per run, in the same order")
    # Every run's config first: a bad value stops the cell before any training.
    runs = [(run_config(_apply_overrides(_strategy_config(args, strategy), [*args.set, *sets]),
                        args.pair, strategy, seed, shots, cache_dir=args.cache_dir,
                        threads=args.threads), out)
            for (strategy, shots, seed), out, sets in zip(planned, outs, run_sets, strict=True)]
    return _run_cell(args, runs, store=args.store)


def _planned_runs(args: argparse.Namespace) -> list[tuple[str, int | None, int]]:
    """The cell's runs as (strategy, shots, seed): ``--runs``, or ``--strategy`` x ``--seeds``."""
    if (args.runs is None) == (args.seeds is None) or (args.runs and args.strategy):
        raise InputError("give the runs either as --runs STRATEGY:SHOTS:SEED ... or as "
                         "--strategy NAME --seeds N ..., not both")
    if args.runs is not None:
        return args.runs
    if args.strategy is None:
        raise InputError("--seeds needs --strategy (or give --runs STRATEGY:SHOTS:SEED ...)")
    return [(args.strategy, args.shots, seed) for seed in args.seeds]


def _strategy_config(args: argparse.Namespace, strategy: str) -> dict:
    """The config a run of ``strategy`` reads.

    Its entry of ``--strategy-configs``, else the command's one config (a fresh copy:
    each run applies its own overrides).
    """
    if args.strategy_configs is None:
        return copy.deepcopy(_read_config(args))
    if strategy not in args.strategy_configs:
        raise InputError(f"--strategy-configs has no config for strategy {strategy!r} "
                         f"(it has {', '.join(sorted(args.strategy_configs)) or 'none'})")
    return copy.deepcopy(args.strategy_configs[strategy])


def _cell_run(text: str) -> tuple[str, int | None, int]:
    """``--runs``' ``STRATEGY:SHOTS:SEED`` (SHOTS a number or ``all``) -> (strategy, shots, seed)."""
    parts = text.split(":")
    if len(parts) != 3 or not parts[0] or not parts[2].isdigit():
        raise argparse.ArgumentTypeError(f"expected STRATEGY:SHOTS:SEED (e.g. full:all:0 or "
                                         f"full:5:1), got {text!r}")
    return parts[0], _shots(parts[1]), int(parts[2])


def _run_sets(text: str) -> list[list[str]]:
    """``--run-sets``: a JSON list with one list of ``KEY=VALUE`` overrides per run."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not JSON: {error}") from None
    return _checked_run_sets(value, text)


def _checked_run_sets(value, text: str) -> list[list[str]]:
    """``value`` (parsed from ``text``), checked to be lists of ``KEY=VALUE`` strings."""
    if not (isinstance(value, list) and all(isinstance(sets, list) for sets in value)):
        raise argparse.ArgumentTypeError(f"expected a JSON list of lists of KEY=VALUE, got {text!r}")
    return [[_checked_assignment(item) for item in sets] for sets in value]


def _trials(text: str) -> dict[str, list[list[str]]]:
    """``tune --trials``: JSON, strategy -> one list of ``KEY=VALUE`` overrides per trial."""
    return {strategy: _checked_run_sets(sets, text)
            for strategy, sets in _json_mapping(text).items()}


def _searched(text: str) -> dict[str, list[str]]:
    """``tune --searched``: JSON, strategy -> its search-space keys (a list of strings)."""
    value = _json_mapping(text)
    if not all(isinstance(keys, list) and all(isinstance(key, str) for key in keys)
               for keys in value.values()):
        raise argparse.ArgumentTypeError(f"expected strategy -> a list of keys, got {text!r}")
    return value


def _run_cell(args: argparse.Namespace, runs: list, store: Path | None) -> list[dict]:
    """bench.cell.run_cell over (RunConfig, record path) pairs: their records, in order.

    A missing data set is bad input.
    """
    from bench.cell import CellRun, run_cell
    from bench.datasets.base import DatasetMissingError

    try:
        return run_cell([CellRun(config, Path(out)) for config, out in runs], store,
                        progress=not args.quiet)
    except DatasetMissingError as error:
        # Bad input, not a failed run: nothing is written, so fixing it reruns the job.
        raise InputError(str(error)) from None


def cmd_tune(args: argparse.Namespace) -> int:
    """Tune one pair in this process: trials, selection and tuned runs of every strategy.

    Every trial trains (or is restored from ``--store``) as one cell; each strategy's trial
    with the best validation accuracy is selected and its selection written; then its
    tuned runs at ``--seeds``: copies of the default runs where trial 0 (the defaults)
    won, the others trained with the selected values, as a second cell. Every argument
    is checked before anything trains.
    """
    _check_tune_arguments(args)
    trial_runs = [(strategy, None, args.selection_seed)
                  for strategy in args.strategies for _ in args.trials[strategy]]
    trial_sets = [sets for strategy in args.strategies for sets in args.trials[strategy]]
    records = _train_cell(args, trial_runs, trial_sets, args.out_trials)
    documents = _select_trials(args, records)
    _train_tuned_runs(args, documents)
    return 0


def _check_tune_arguments(args: argparse.Namespace) -> None:
    """``tune``'s arguments agree with each other and the default runs exist; else InputError."""
    for option, mapping in (("--trials", args.trials), ("--searched", args.searched)):
        missing = [strategy for strategy in args.strategies if strategy not in mapping]
        if missing:
            raise InputError(f"{option} has no entry for strategy {', '.join(missing)} "
                             "(give one per --strategies entry)")
    budgets = {len(args.trials[strategy]) for strategy in args.strategies}
    if len(budgets) != 1 or budgets == {0}:
        raise InputError("--trials must give every strategy the same number of trials, one "
                         f"or more (got {', '.join(map(str, sorted(budgets)))})")
    if args.selection_seed in args.seeds:
        raise InputError(f"--seeds {' '.join(map(str, args.seeds))} include the "
                         f"--selection-seed {args.selection_seed}: a tuned result at it would "
                         "be reported by the run that selected it")
    files_per_strategy = {"--out-trials": budgets.pop(), "--out-selected": 1,
                          "--default": len(args.seeds), "--out-runs": len(args.seeds)}
    for option, count in files_per_strategy.items():
        given = getattr(args, option.removeprefix("--").replace("-", "_"))
        if len(given) != count * len(args.strategies):
            raise InputError(f"{option} names {len(given)} file(s) for {len(args.strategies)} "
                             f"strategies x {count}: give {count} per strategy, strategy by "
                             "strategy, in --strategies' order")
    absent = [str(path) for path in args.default if not path.is_file()]
    if absent:
        raise InputError(f"--default {absent[0]}: no such file (the default runs, which a "
                         "strategy whose defaults win copies, come from the pair's cell)")


def _per_strategy(items: list, strategies: list[str]) -> list:
    """``items`` listed strategy by strategy, cut into one equal slice per strategy."""
    size = len(items) // len(strategies)
    return [items[index * size:(index + 1) * size] for index in range(len(strategies))]


def _select_trials(args: argparse.Namespace, records: list[dict]) -> list[dict]:
    """Each strategy's selection (bench.tuning.selection), written to its ``--out-selected``."""
    from bench.tuning import selection, write_selection

    documents = []
    for strategy, outs, runs, out in zip(
            args.strategies, _per_strategy(args.out_trials, args.strategies),
            _per_strategy(records, args.strategies), args.out_selected, strict=True):
        documents.append(selection(args.pair, strategy, list(zip(map(str, outs), runs, strict=True)),
                                   args.searched[strategy]))
        write_selection(documents[-1], out)
    return documents


def _train_tuned_runs(args: argparse.Namespace, documents: list[dict]) -> None:
    """Each selection's runs at ``--seeds``: the default runs' copies where the defaults won.

    The others, with their strategy's selected values, trained in one cell.
    """
    from bench.tuning import set_arguments, tuned_run_source

    planned, run_sets, outs = [], [], []
    for document, defaults, tuned_outs in zip(
            documents, _per_strategy(args.default, args.strategies),
            _per_strategy(args.out_runs, args.strategies), strict=True):
        sources = [tuned_run_source(document, seed, default)
                   for seed, default in zip(args.seeds, defaults, strict=True)]
        if all(source is not None for source in sources):  # the defaults won: copy
            _copy_default_runs(args.seeds, sources, tuned_outs)
            continue
        planned += [(document["strategy"], None, seed) for seed in args.seeds]
        run_sets += [set_arguments(document["strategy"], document["selected"]["hparams"])
                     ] * len(args.seeds)
        outs += tuned_outs
    if planned:
        _train_cell(args, planned, run_sets, outs)


def _copy_default_runs(seeds: list[int], sources: list, outs: list) -> None:
    """The defaults (trial 0) were selected: each seed's tuned run is its default run."""
    from bench.io import write_atomic

    for seed, source, out in zip(seeds, sources, outs, strict=True):
        write_atomic(out, Path(source).read_text())
        print(f"the defaults (trial 0) selected: seed {seed} is the default run {source}, "
              f"copied -> {out}")


def cmd_strategies(args: argparse.Namespace) -> int:
    """Print every registered strategy, its settings and its search space."""
    from bench.strategies import STRATEGIES, list_strategies

    for name in list_strategies():
        strategy = STRATEGIES[name]
        summary = sys.modules[strategy.__module__].__doc__.strip().splitlines()[0]
        print(f"{name}  ({strategy.label}): {summary}")
        for key, param in strategy.settings.items():
            print(f"    strategy_params.{name}.{key}: default {param.default!r}; {param.help}")
        for key, spec in strategy.search_space().items():
            values = spec.get("values") or [spec.get("low"), spec.get("high")]
            print(f"    search {key}: {spec['distribution']} {values}")
    return 0


def cmd_data_list(args: argparse.Namespace) -> int:
    """Print the table of registered data sets, and those the ``--config`` files define."""
    from bench.datasets.inspect import list_datasets

    data = _config_data(args) if args.config else None
    try:
        table = list_datasets(data.root if data else args.root, data=data)
    except ValueError as error:  # a defined set's folder or CSV is not as its definition says
        raise InputError(str(error)) from None
    if not args.long:
        table = table.drop(columns=["description", "source_hint"])
    print(table.to_string(index=False))
    return 0


def _data_options(args: argparse.Namespace, base: dict) -> dict:
    """The builder options of ``args.name``: ``base``, then ``--option``, then ``--download``.

    Raises:
        InputError: the name is not a data set, or ``--download`` is given for a set
            tlbench cannot download (the message says where to get it).
    """
    from bench.datasets.registry import UnknownDatasetError, define, get_spec

    try:
        spec = (define(args.name, base["definition"]) if "definition" in base
                else get_spec(args.name))
    except UnknownDatasetError as error:
        raise InputError(str(error)) from None
    options = {**base, **dict(args.option)}
    if args.download:
        if "download" not in spec.option_names():
            raise InputError(f"data set {spec.name!r} cannot be downloaded by tlbench; "
                             + (spec.source_hint or "it needs no files (generated or bundled)"))
        options["download"] = True
    return options


def _loading(args: argparse.Namespace, load, **kwargs):
    """``load(args.name, ...)`` with a data set's expected errors as :class:`InputError`."""
    from bench.datasets.base import DatasetMissingError
    from bench.datasets.registry import get_spec

    try:
        return load(args.name, **kwargs)
    except DatasetMissingError as error:
        hint = ("; or add --download to this command"
                if "download" in get_spec(args.name).option_names() else "")
        raise InputError(f"{error}{hint}") from None
    except ValueError as error:  # a bad resolution, an unknown option or option value
        named = repr(args.name) in str(error)
        raise InputError(str(error) if named else f"data set {args.name!r}: {error}") from None


def _config_data(args: argparse.Namespace):
    """The ``data`` settings of the ``--config`` files, layered over config.yaml."""
    from bench.config_layers import layered_config
    from bench.settings import data_settings

    return data_settings(layered_config(args.config))


def _config_kwargs(args: argparse.Namespace) -> dict:
    """``args.name``'s load_dataset keywords from the ``--config`` files; {} without them.

    Its root, split seed and builder options; for a set the config defines, its
    definition among the options.
    """
    return _config_data(args).load_kwargs(args.name) if args.config else {}


def cmd_data_show(args: argparse.Namespace) -> int:
    """Write a labelled grid of a data set's training images."""
    from bench.datasets.inspect import show_grid

    kwargs = _config_kwargs(args)
    root = kwargs.pop("root", args.root)
    kwargs.pop("split_seed", None)
    _loading(args, show_grid, out=args.out, root=root, resolution=args.resolution,
             cache_dir=args.cache_dir, options=_data_options(args, kwargs))
    print(f"wrote {args.out}")
    return 0


def cmd_data_prepare(args: argparse.Namespace) -> int:
    """Materialise a data set into the cache; print (and write) its summary."""
    from bench.datasets import load_dataset

    base = _config_kwargs(args) or dict(args.options or {})
    root, split_seed = base.pop("root", args.root), base.pop("split_seed", args.split_seed)
    dataset = _loading(args, load_dataset, resolution=args.resolution, root=root,
                       split_seed=split_seed, cache_dir=args.cache_dir,
                       **_data_options(args, base))
    summary = {"name": dataset.name, "resolution": dataset.resolution,
               "classes": list(dataset.classes), "synthetic": dataset.synthetic,
               "train": len(dataset.train), "val": len(dataset.val), "test": len(dataset.test),
               "info": dataset.info}
    if args.out:
        from bench.io import write_atomic

        write_atomic(args.out, json.dumps(summary, indent=2, default=str) + "\n")
    print(f"{dataset.name}: {summary['train']}/{summary['val']}/{summary['test']} "
          f"train/val/test at {dataset.resolution} px")
    return 0


# ------------------------------------------------------------------------ parsers


def _add_config_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--config", action="append", metavar="FILE", help=CONFIG_HELP)
    source.add_argument("--config-json", type=_json_mapping, metavar="JSON",
                        help="the whole config as JSON text, not layered (what workflow "
                             "jobs are given)")


def _add_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=int, default=1, metavar="N",
                        help="CPU threads for torch")


def _add_run_arguments(parser: argparse.ArgumentParser, cell: bool = False) -> None:
    """The options of ``run`` (one run), or with ``cell`` of ``cell`` (several runs of a pair).

    A cell's runs are ``--strategy`` at every ``--seeds`` entry, or ``--runs
    STRATEGY:SHOTS:SEED ...`` (any strategies of the pair, so ``--strategy`` is optional
    and ``--strategy-configs`` may give each strategy its own config).
    """
    _add_config_arguments(parser)
    _add_pair(parser)
    parser.add_argument("--strategy", required=not cell,
                        metavar="NAME",
                        help="a registered strategy, e.g. full (the `strategies` command "
                             "lists them)")
    if cell:
        _add_strategy_configs(parser, required=False)
        _add_cell_arguments(parser)
    else:
        parser.add_argument("--seed", type=int, required=True, metavar="N",
                            help="the run's seed (weights of new layers, batch order, "
                                 "augmentation)")
        parser.add_argument("--out", type=Path, required=True, metavar="FILE",
                            help="where to write the JSON record")
    _add_training_arguments(parser)


def _add_pair(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pair", required=True, metavar="NAME",
                        help="a key of the config's `pairs`, e.g. imagenet-digits")


def _add_strategy_configs(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--strategy-configs", type=_json_mapping, required=required,
                        metavar="JSON",
                        help="JSON: strategy -> its whole config (as --config-json)")


def _add_training_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of every command that trains: data cache, threads, overrides, progress."""
    parser.add_argument("--cache-dir", metavar="DIR", help="data set tensor cache folder (default: no cache, "
                                            "every data set is built afresh)")
    _add_threads(parser)
    parser.add_argument("--set", action="append", default=[], type=_checked_assignment,
                        metavar="KEY=VALUE", help="override a config key after the config "
                        "files, e.g. train.lr=0.01; VALUE is YAML (repeatable)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_store(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", type=Path, metavar="DIR",
                        help="folder of finished records that a rerun restores instead of "
                        "training them again (default: none)")


def _add_cell_arguments(parser: argparse.ArgumentParser) -> None:
    # `--seed N` is `--seeds N`: a cell of one run.
    parser.add_argument("--seeds", "--seed", type=int, nargs="+",
                        metavar="N", help="the runs' seeds, one run each, trained in this order")
    parser.add_argument("--runs", type=_cell_run, nargs="+", metavar="STRATEGY:SHOTS:SEED",
                        help="the cell's runs instead of --strategy and --seeds, in this "
                        "order, e.g. full:all:0 dan:all:0 full:5:0 (SHOTS: a number or all)")
    parser.add_argument("--out", type=Path, nargs="+", required=True, metavar="FILE",
                        help="each run's JSON record, in the runs' order")
    _add_store(parser)
    parser.add_argument("--run-sets", type=_run_sets, metavar="JSON",
                        help="per-run overrides after --set: a JSON list, one list of "
                        "KEY=VALUE per run, e.g. '[[], [\"train.lr=0.01\"]]'")


def _add_tune_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``tune``: the pair, its strategies and trials, seeds, every file."""
    _add_pair(parser)
    parser.add_argument("--strategies", nargs="+", required=True, metavar="NAME",
                        help="the tuned strategies; each file list goes strategy by "
                        "strategy, in this order")
    _add_strategy_configs(parser, required=True)
    parser.add_argument("--trials", type=_trials, required=True, metavar="JSON",
                        help="JSON: strategy -> one list of KEY=VALUE overrides per trial "
                        "(trial 0, the defaults: [])")
    parser.add_argument("--searched", type=_searched, required=True, metavar="JSON",
                        help="JSON: strategy -> its search-space keys")
    parser.add_argument("--selection-seed", type=int, required=True, metavar="N",
                        help="every trial's seed (tuning.selection_seed)")
    parser.add_argument("--seeds", type=int, nargs="+", required=True, metavar="N",
                        help="the tuned runs' seeds")
    for option, files in (("--default", "the default runs (copied where trial 0 wins), per "
                                        "strategy one per seed"),
                          ("--out-trials", "the trials' records, per strategy one per trial"),
                          ("--out-selected", "the selections (JSON), one per strategy"),
                          ("--out-runs", "the tuned runs' records, per strategy one per seed")):
        parser.add_argument(option, type=Path, nargs="+", required=True, metavar="FILE",
                            help=files)
    _add_store(parser)
    _add_training_arguments(parser)


def _add_shots(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--shots", type=_shots, default="all", metavar="N|all",
                        help="labelled target examples per class, or all")


RUN_EPILOG = """\
examples:
  %(prog)s --pair imagenet-digits --strategy full --seed 0 --out run.json
  %(prog)s --config workflows/configs/ci.yaml --pair imagenet-digits \\
      --strategy feature_extraction --seed 0 --out run.json --set train.max_steps=8

The record (metrics, cost, provenance) is written atomically; a run that fails is
recorded with status `failed`. Bad input exits 2 and writes nothing."""


CELL_EPILOG = """\
examples:
  %(prog)s --pair imagenet-digits --strategy full --seeds 0 1 2 \\
      --out seed0.json seed1.json seed2.json --store results/cache/records
  %(prog)s --config workflows/configs/ci.yaml --pair imagenet-digits \\
      --runs full:all:0 dan:all:0 full:1:0 --out full.json dan.json full1.json

Each record is written atomically as its run finishes, byte for byte what `run` would
write for that run (timings and timestamps aside). With --store, a run whose record the
store holds for the same config and the same code is restored, not trained again: a
killed cell started again, or a cell with one strategy's settings changed, trains only
what is new (delete the store folder to retrain everything)."""


TUNE_EPILOG = """\
What the workflow's `tune` job runs, one per tuned pair. --trials, for example:
  '{"full": [[], ["strategy_params.full.lr=0.003"]], "dan": [[], [...]]}'"""


def _add_run_parsers(sub) -> None:
    run = sub.add_parser("run", help="train and measure one run, write its record",
                         description="Train and measure one (pair, strategy, seed[, shots]) "
                         "run of a sweep config and write its JSON record.", epilog=RUN_EPILOG)
    _add_run_arguments(run)
    _add_shots(run)
    run.set_defaults(func=cmd_run)
    cell = sub.add_parser("cell", help="several runs of one pair, one process",
                          description="Train and measure several runs of one pair of a sweep "
                          "config (strategies, seeds, shots) in one process (imports and data "
                          "paid once) and write one JSON record per run, as `run` would.",
                          epilog=CELL_EPILOG)
    _add_run_arguments(cell, cell=True)
    _add_shots(cell)
    cell.set_defaults(func=cmd_cell)
    tune = sub.add_parser("tune", help="trials, selection and tuned runs of one pair "
                          "(tuning workflow)",
                          description="Tune one pair in one process: every strategy's trials, "
                          "its best on validation accuracy, its tuned runs (docs/TUNING.md).",
                          epilog=TUNE_EPILOG)
    _add_tune_arguments(tune)
    tune.set_defaults(func=cmd_tune)
    strategies = sub.add_parser("strategies", help="every strategy, its settings and search space",
                                description="Every registered strategy: its settings (config "
                                "key strategy_params.NAME.KEY) with defaults, and its search space.")
    strategies.set_defaults(func=cmd_strategies)


def _add_data_set_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="a registered data set (the `data list` command lists them)")
    parser.add_argument("--root", default="data", metavar="DIR", help="folder of the real data sets "
                        "(config key data.root)")
    parser.add_argument("--option", action="append", default=[], type=_assignment,
                        metavar="KEY=VALUE", help="a builder option, e.g. per_class=[10,5,10]; "
                        "VALUE is YAML (repeatable; docs/DATASETS.md lists each set's)")
    parser.add_argument("--download", action="store_true",
                        help="download the data set first, for those tlbench can download "
                             "(e.g. flowers102, pneumoniamnist)")


DATA_EPILOG = """\
examples:
  %(prog)s list --long
  %(prog)s show synflowers --out synflowers.png --option 'per_class=[4,2,2]'
  %(prog)s show flowers102 --out flowers.png --download
  %(prog)s prepare digits --resolution 32 --cache-dir results/cache/data \\
      --config workflows/configs/ci.yaml"""


def _add_data_parsers(sub) -> None:
    data = sub.add_parser("data", help="list, look at or prepare data sets", epilog=DATA_EPILOG,
                          description="List, look at or prepare the registered data sets.")
    data_sub = data.add_subparsers(dest="data_command", required=True, metavar="COMMAND")
    listing = data_sub.add_parser("list", help="every data set, its size and availability",
                                  description="A table of every registered data set: size, "
                                  "classes, and whether its files are on disk.")
    listing.add_argument("--root", default="data", metavar="DIR", help="folder of the real data sets")
    listing.add_argument("--long", action="store_true", help="with descriptions and sources")
    listing.add_argument("--config", action="append", metavar="FILE",
                         help="also list the data sets these config files define (data.sets), "
                         "layered over config.yaml as for `run`; their data.root replaces --root")
    listing.set_defaults(func=cmd_data_list)
    show = data_sub.add_parser("show", help="write a labelled grid of training images",
                               description="Write a PNG of random training images of a data "
                               "set, one row per class.")
    _add_data_set_arguments(show)
    show.add_argument("--out", type=Path, required=True, metavar="FILE", help="the PNG to write")
    show.add_argument("--resolution", type=int, default=96, metavar="PX", help="image side, pixels")
    show.add_argument("--cache-dir", metavar="DIR", help="data set tensor cache folder (default: no cache)")
    show.add_argument("--config", action="append", metavar="FILE",
                      help="take the data set's root and options (or its definition, data.sets) "
                      "from these config files, layered over config.yaml as for `run`")
    show.set_defaults(func=cmd_data_show)
    prepare = data_sub.add_parser("prepare", help="materialise a data set into the cache",
                                  description="Build a data set's tensors at one resolution "
                                  "into the cache, as the workflow does before any run.")
    _add_data_set_arguments(prepare)
    prepare.add_argument("--resolution", type=int, required=True, metavar="PX", help="image side, pixels")
    prepare.add_argument("--split-seed", type=int, default=0, metavar="N", help="fixes split membership "
                         "(config key data.split_seed)")
    prepare.add_argument("--cache-dir", required=True, metavar="DIR", help="data set tensor cache folder")
    base = prepare.add_mutually_exclusive_group()
    base.add_argument("--config", action="append", metavar="FILE",
                      help="take the data set's root, split seed and options (or its definition, "
                      "data.sets) from these config files, layered over config.yaml as for `run` "
                      "(repeatable; default: the builder's defaults)")
    base.add_argument("--options", type=_json_mapping, metavar="JSON",
                      help="the builder options as JSON text (what the workflow passes)")
    prepare.add_argument("--out", type=Path, metavar="FILE", help="also write a JSON summary of the data set")
    prepare.set_defaults(func=cmd_data_prepare)


def build_parser(prog: str = "tlbench") -> argparse.ArgumentParser:
    """The ``tlbench`` command line; ``prog`` is the name its help and errors use."""
    parser = Parser(prog=prog, description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action=_PrintVersion, help="print tlbench's version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_run_parsers(sub)
    _add_data_parsers(sub)
    # Listed for --help only: main() hands their arguments to their own module.
    for name, (_, summary) in DELEGATED.items():
        sub.add_parser(name, help=summary, add_help=False)
    return parser


def main(argv: list[str] | None = None, prog: str = "tlbench") -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit status.

    Args:
        argv: the arguments after the program's name.
        prog: the program's name in help and errors: ``tlbench`` (the installed script)
            or ``python -m bench`` (``bench/__main__.py``).
    """
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] and argv[0] in DELEGATED:
        module = importlib.import_module(f"bench.{DELEGATED[argv[0]][0]}")
        return module.main(argv[1:], prog=f"{prog} {argv[0]}") or 0
    args = build_parser(prog).parse_args(argv)
    from bench.logs import configure_logging
    from bench.settings import ConfigError  # not before parsing: --help stays quick

    configure_logging()  # a run's evaluation lines (bench.train) on stderr, into the job's log

    try:
        return args.func(args)
    except (ConfigError, InputError) as error:
        command = " ".join(filter(None, (args.command, getattr(args, "data_command", None))))
        print(f"{prog} {command}: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `tlbench data list | head`: the reader left; not an error
        # Python's documented recipe: stdout to devnull, so the exit's flush stays silent.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
