r"""Regression check: a sweep's ``summary.csv`` against a committed baseline.

    python -m bench compare results/summary.csv results/baseline/ci.csv \
        [--config FILE] [--markdown FILE]

Runs are matched by (pair, strategy, seed, shots). A run *regresses* when

- an accuracy metric (accuracy, balanced accuracy, macro-F1) drops by more than its
  tolerance (absolute, a fraction: 0.01 = 1 percentage point),
- its status is no longer ``ok`` (diverged or failed) where the baseline's was,
- training time or peak memory (host RSS, accelerator) grows beyond a factor, or
- it is in the baseline and missing from the current summary.

Runs only in the current summary are reported as new; runs that got better beyond a
tolerance, or whose accuracy moved at all, are listed too, so a change of numbers is
never silent. Exit status: 0 clean, 1 regression, 2 bad input (a missing file, missing
columns, a bad tolerance), each named.

The default tolerances follow from what moves between two sweeps of the same code: on
one machine accuracy does not move at all and time moves with the load; on another CPU
accuracy moves by a few test examples, so a baseline made elsewhere gets the looser
``accuracy_drop_other_machine``. docs/REGRESSION.md has the measurements and commands.

Tolerances come from the ``regression`` mapping of a sweep config (see
:meth:`Tolerances.from_config`); every key is optional.
"""

from __future__ import annotations

import argparse
import json
import sys

from bench.argparsing import Parser
from bench.io import write_atomic
from bench.regress._baseline import baseline_cpu, machine_description
from bench.regress._columns import RegressionInputError
from bench.regress._compare import compare
from bench.regress._summary import read_summary
from bench.regress._tolerances import Tolerances, load_tolerances

DESCRIPTION = """\
Check a sweep's summary.csv against a baseline summary.csv. A run regresses when its
accuracy drops beyond a tolerance, its status is no longer ok, its training time or
peak memory grows beyond a factor, or it is missing. Exit status: 0 clean,
1 regression, 2 bad input."""

EPILOG = """\
examples:
  %(prog)s results/ci/summary.csv results/baseline/ci.csv
  %(prog)s results/ci/summary.csv results/baseline/ci.csv \\
      --config workflows/configs/ci.yaml --markdown report.md

Tolerances: the config's `regression` mapping (config.yaml and the --config files,
layered as the Snakefile layers them); docs/REGRESSION.md explains each and its default."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The check's arguments: CURRENT BASELINE [--config] [--markdown] [--all]."""
    parser.add_argument("current", help="summary.csv of the sweep to check")
    parser.add_argument("baseline", help="summary.csv to compare against")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--config", action="append", metavar="FILE",
                        help="a config whose `regression` mapping sets the tolerances, "
                             "layered over config.yaml (repeatable; default: config.yaml's, "
                             "else the built-in tolerances)")
    source.add_argument("--regression-json", default=None, metavar="JSON",
                        help="the `regression` mapping as JSON text, instead of --config "
                             "(what `snakemake regress` passes)")
    parser.add_argument("--markdown", default=None, metavar="FILE",
                        help="also write the report as Markdown, e.g. $GITHUB_STEP_SUMMARY "
                             "(default: none)")
    parser.add_argument("--all", action="store_true", dest="every_run",
                        help="list every run, not only those that moved")


def _tolerances(args: argparse.Namespace) -> Tolerances:
    """The tolerances of ``--regression-json``, or of the layered ``--config`` files."""
    if args.regression_json is None:
        return load_tolerances(args.config or [])
    try:
        return Tolerances.from_config(json.loads(args.regression_json))
    except json.JSONDecodeError as error:
        raise RegressionInputError(f"--regression-json is not JSON: {error}") from None


def run_compare(args: argparse.Namespace) -> int:
    """Run the check on parsed arguments, print the report (and write its Markdown).

    Returns:
        The exit status: 0 clean, 1 regression, 2 bad input (named on stderr).
    """
    try:
        tolerances = _tolerances(args)
        made_on, here = baseline_cpu(args.baseline), machine_description()["cpu"]
        other_machine = made_on is not None and made_on != here
        if other_machine:
            tolerances = tolerances.for_other_machine()
        comparison = compare(read_summary(args.current, "current summary"),
                             read_summary(args.baseline, "baseline"), tolerances)
    except RegressionInputError as error:
        print(f"compare: error: {error}", file=sys.stderr)
        return 2
    if other_machine:
        comparison.notes.insert(0, f"the baseline was made on another CPU ({made_on}; this is "
                                   f"{here}): accuracy tolerance "
                                   f"{100 * tolerances.accuracy_drop:.2f} pp "
                                   "(regression.accuracy_drop_other_machine)")
    print(comparison.to_text(args.every_run), end="")
    if args.markdown:
        write_atomic(args.markdown, comparison.to_markdown(args.every_run))
    return 0 if comparison.ok else 1


def main(argv: list[str] | None = None, prog: str = "python -m bench compare") -> int:
    """The command line ``PROG CURRENT BASELINE [options]``; returns the exit status."""
    parser = Parser(prog=prog, description=DESCRIPTION, epilog=EPILOG)
    add_arguments(parser)
    return run_compare(parser.parse_args(argv))
