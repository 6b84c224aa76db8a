"""Command line: ``python -m bench {run,data,...}``.

Each subcommand is a thin shell over a library function, so everything here also
works from a notebook. Subcommands import what they need when they run, so ``--help``
and the light commands do not pay for torch.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml


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


def _apply_overrides(config: dict, assignments: list[str]) -> dict:
    """``train.lr=0.1`` style overrides; values are parsed as YAML."""
    for assignment in assignments:
        key, sep, raw = assignment.partition("=")
        if not sep:
            raise SystemExit(f"--set takes KEY=VALUE, got {assignment!r}")
        node = config
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise SystemExit(f"--set {key}: {part!r} is not a mapping in the config")
        node[leaf] = yaml.safe_load(raw)
    return config


def _read_config(args: argparse.Namespace) -> dict:
    """The config a command reads: ``--config-json`` text or the ``--config`` file.

    ``--config-json`` is what a workflow job is given, all the DAG tracks.
    """
    from bench.config import ConfigError, load_config

    if args.config_json is None:
        return load_config(args.config)
    try:
        config = json.loads(args.config_json)
    except json.JSONDecodeError as error:
        raise ConfigError(f"--config-json is not JSON: {error}") from None
    if not isinstance(config, dict):
        raise ConfigError("--config-json must hold a mapping of config keys")
    return config


def cmd_run(args: argparse.Namespace) -> int:
    """Train and measure one run; a run that fails is recorded as failed."""
    from bench.config import ConfigError, run_config
    from bench.datasets.base import DatasetMissingError
    from bench.records import write_record

    try:
        config = _apply_overrides(_read_config(args), args.set)
        run_cfg = run_config(config, args.pair, args.strategy, args.seed, args.shots,
                             cache_dir=args.cache_dir, threads=args.threads)
    except ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2

    from bench.train import failed_record, run

    try:
        record = run(run_cfg, progress=not args.quiet)
    except (DatasetMissingError, ConfigError) as error:
        # Bad input, not a failed run: nothing is written, so fixing it reruns the job.
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 - a failed run is recorded, the sweep goes on
        record = failed_record(run_cfg, error)
        print(f"run failed: {record['error']}", file=sys.stderr)
    write_record(record, args.out)
    m = record["metrics"]
    accuracy = "—" if m["accuracy"] is None else f"{100 * m['accuracy']:.1f}%"
    print(f"{args.pair} {args.strategy} seed={args.seed} shots={args.shots or 'all'}: "
          f"{record['status']}, test accuracy {accuracy}, "
          f"{record['cost']['train_seconds']:.1f} s -> {args.out}")
    return 0


def cmd_tuned_run(args: argparse.Namespace) -> int:
    """A tuned run: the default run's copy when the defaults won, else a run with the selection."""
    from bench.config import ConfigError
    from bench.io import read_json, write_atomic
    from bench.tuning import set_arguments, tuned_run_source

    document = read_json(args.selection)
    try:
        source = tuned_run_source(document, args.seed, args.default)
    except ConfigError as error:  # a tuned result at the selection seed
        print(f"config error: {error}", file=sys.stderr)
        return 2
    if source is not None:
        write_atomic(args.out, Path(source).read_text())
        print(f"the defaults (trial 0) selected: seed {args.seed} is the default run {source}, "
              f"copied -> {args.out}")
        return 0
    args.set = [*args.set, *set_arguments(document["strategy"], document["selected"]["hparams"])]
    return cmd_run(args)


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
    from bench.datasets.inspect import list_datasets

    table = list_datasets(args.root)
    if not args.long:
        table = table.drop(columns=["description", "source_hint"])
    print(table.to_string(index=False))
    return 0


def cmd_data_show(args: argparse.Namespace) -> int:
    from bench.datasets.inspect import show_grid

    show_grid(args.name, args.out, root=args.root, resolution=args.resolution)
    print(f"wrote {args.out}")
    return 0


def cmd_data_prepare(args: argparse.Namespace) -> int:
    from bench.datasets import load_dataset
    from bench.datasets.base import DatasetMissingError

    options = json.loads(args.options) if args.options else {}
    if args.config:
        from bench.config import data_settings, load_config

        options = data_settings(load_config(args.config)).options.get(args.name, {})
    try:
        dataset = load_dataset(args.name, args.resolution, root=args.root,
                               split_seed=args.split_seed, cache_dir=args.cache_dir, **options)
    except DatasetMissingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
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


def cmd_features(args: argparse.Namespace) -> int:
    import torch

    from bench.activations import cache_features

    torch.set_num_threads(args.threads)
    statuses = cache_features(_read_config(args), args.dataset, args.cache_dir)
    print(f"{args.dataset} features: " + ", ".join(f"{split} {status}"
                                                   for split, status in statuses.items()))
    return 0


def _add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default="config.yaml", help="sweep config (config.yaml schema)")
    parser.add_argument("--config-json", default=None, metavar="JSON",
                        help="the config as JSON text, instead of --config (workflow jobs)")


def _add_run_arguments(parser: argparse.ArgumentParser) -> None:
    _add_config_arguments(parser)
    parser.add_argument("--pair", required=True)
    parser.add_argument("--strategy", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True, help="where to write the JSON record")
    parser.add_argument("--cache-dir", default=None, help="data set tensor cache folder")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. train.lr=0.01 (repeatable)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_run_parsers(sub) -> None:
    run = sub.add_parser("run", help="train and measure one run, write its record")
    _add_run_arguments(run)
    run.add_argument("--shots", type=_shots, default=None, help="examples per class, or 'all'")
    run.set_defaults(func=cmd_run)
    tuned = sub.add_parser("tuned-run", help="a final tuned run at one seed: a copy of the "
                           "run that already exists, or a run with the selected values")
    _add_run_arguments(tuned)
    tuned.add_argument("--selection", required=True, help="bench.tuning select's JSON")
    tuned.add_argument("--default", required=True, help="the default run's record at this seed")
    tuned.set_defaults(func=cmd_tuned_run, shots=None)
    features = sub.add_parser("features", help="cache a data set's frozen pretrained features")
    features.add_argument("dataset")
    _add_config_arguments(features)
    features.add_argument("--cache-dir", required=True, help="data set tensor cache folder")
    features.add_argument("--threads", type=int, default=1, help="CPU threads for torch")
    features.set_defaults(func=cmd_features)
    strategies = sub.add_parser("strategies", help="every strategy, its settings and search space")
    strategies.set_defaults(func=cmd_strategies)


def _add_data_parsers(sub) -> None:
    data_sub = sub.add_parser("data", help="list, look at or prepare data sets").add_subparsers(
        dest="data_command", required=True)
    listing = data_sub.add_parser("list", help="every data set, its size and availability")
    listing.add_argument("--root", default="data")
    listing.add_argument("--long", action="store_true", help="with descriptions and sources")
    listing.set_defaults(func=cmd_data_list)
    show = data_sub.add_parser("show", help="write a labelled grid of samples")
    show.add_argument("name")
    show.add_argument("--out", type=Path, required=True)
    show.add_argument("--root", default="data")
    show.add_argument("--resolution", type=int, default=96)
    show.set_defaults(func=cmd_data_show)
    prepare = data_sub.add_parser("prepare", help="materialise a data set into the cache")
    prepare.add_argument("name")
    prepare.add_argument("--resolution", type=int, required=True)
    prepare.add_argument("--root", default="data")
    prepare.add_argument("--split-seed", type=int, default=0)
    prepare.add_argument("--cache-dir", required=True)
    prepare.add_argument("--config", default=None,
                         help="sweep config whose data.options.NAME are the builder options")
    prepare.add_argument("--options", default=None, metavar="JSON",
                         help="the builder options as JSON text, instead of --config")
    prepare.add_argument("--out", type=Path, default=None, help="JSON summary of the data set")
    prepare.set_defaults(func=cmd_data_prepare)


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m bench`` command line."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_run_parsers(sub)
    _add_data_parsers(sub)
    # Listed here for --help; main() hands its arguments to bench.regress, which imports
    # pandas, which every run job, parsing this same command line, would pay for.
    sub.add_parser("compare", help="check a summary against a baseline "
                   "(python -m bench compare --help)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["compare"]:
        from bench.regress import main as compare_main

        return compare_main(argv[1:])
    args = build_parser().parse_args(argv)
    return args.func(args)
