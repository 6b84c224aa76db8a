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

from bench.io import write_atomic
from bench.regress._baseline import baseline_cpu, machine_description
from bench.regress._columns import RegressionInputError
from bench.regress._compare import compare
from bench.regress._summary import read_summary
from bench.regress._tolerances import Tolerances, load_tolerances


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The check's arguments: CURRENT BASELINE [--config] [--markdown] [--all]."""
    parser.add_argument("current", help="summary.csv of the sweep to check")
    parser.add_argument("baseline", help="summary.csv to compare against")
    parser.add_argument("--config", default=None,
                        help="YAML config whose `regression` key sets the tolerances "
                             "(default: built-in tolerances)")
    parser.add_argument("--regression-json", default=None, metavar="JSON",
                        help="the `regression` mapping as JSON text, instead of --config "
                             "(what `snakemake regress` passes)")
    parser.add_argument("--markdown", default=None, metavar="FILE",
                        help="also write the report as Markdown (e.g. $GITHUB_STEP_SUMMARY)")
    parser.add_argument("--all", action="store_true", dest="every_run",
                        help="list every run, not only those that moved")


def run_compare(args: argparse.Namespace) -> int:
    """Run the check on parsed arguments, print the report (and write its Markdown).

    Returns:
        The exit status: 0 clean, 1 regression, 2 bad input (named on stderr).
    """
    try:
        tolerances = (load_tolerances(args.config) if args.regression_json is None
                      else Tolerances.from_config(json.loads(args.regression_json)))
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


def main(argv: list[str] | None = None) -> int:
    """``python -m bench compare`` without the ``compare``: CURRENT BASELINE [options]."""
    parser = argparse.ArgumentParser(prog="python -m bench compare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run_compare(parser.parse_args(argv))
