"""Run records -> ``summary.csv`` (one row per run) and the paper's tables.

Every record is validated against ``workflows/schemas/run.schema.json``; one that
fails stops the aggregation with its path, because a table silently missing a run
is worse than no table. Runs that diverged or failed stay in ``summary.csv`` and are
counted in every table ("2/3 ok"); means and intervals are over the ``ok`` runs.

Tables (``tables/NAME.{csv,md,tex,html}``): the CSV is tidy and numeric (percent,
percentage points, seconds, MiB); Markdown, LaTeX (booktabs) and HTML are the same
table formatted for a paper, with synthetic pairs marked † and a footnote. It also
prints, per strategy, the share of main-sweep runs that selected their final evaluation
and the share that did not converge (:mod:`bench.convergence` defines both). The LaTeX
is booktabs text columns by default; ``--latex siunitx`` aligns decimals in siunitx S
columns, ``--transpose`` puts the columns down the side (strategies as rows).

    python -m bench.aggregate --out-dir results results/runs
    python -m bench.aggregate --latex siunitx --transpose --out-dir results results/runs
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from bench.io import write_atomic
from bench.summary import RecordError, load_records, summary_frame
from bench.tables.paper import build_tables
from bench.tables.render import LATEX_STYLES, write_table


def aggregate_main(records: str | Path | Iterable[str | Path], out_dir: str | Path,
                   latex_style: str = "booktabs", transpose: bool = False) -> Path:
    """Write ``OUT_DIR/summary.csv`` and ``OUT_DIR/tables/*`` from run records.

    Args:
        records: record files or directories of them.
        out_dir: the results folder.
        latex_style: the tables' LaTeX style (booktabs or siunitx).
        transpose: the LaTeX tables' columns as rows.

    Returns:
        The path of summary.csv.

    Raises:
        RecordError: a record is unreadable or fails the schema, or there is none.
    """
    if isinstance(records, (str, Path)):
        records = [records]
    out_dir = Path(out_dir)
    summary = summary_frame(load_records(records))
    summary_path = out_dir / "summary.csv"
    write_atomic(summary_path, summary.to_csv(index=False))
    for table in build_tables(summary):
        write_table(table, out_dir / "tables", latex_style, transpose)
    statuses = summary["status"].value_counts().to_dict()
    print(f"{len(summary)} runs ({', '.join(f'{v} {k}' for k, v in statuses.items())}) -> "
          f"{summary_path}, {out_dir / 'tables'}/")
    print("\n".join(convergence_lines(summary)))
    return summary_path


def convergence_shares(summary: pd.DataFrame) -> pd.DataFrame:
    """Per strategy, over the main sweep's ok runs: selected final, not converged.

    Columns: ``runs``, ``selected_final`` (the share whose best evaluation was their last,
    ``best_step == steps``: still improving when training stopped) and
    ``not_converged``; a last row ``all``. Empty when the summary has no such run.
    """
    runs = summary[(summary["status"] == "ok") & (summary["shots"].astype(str) == "all")]
    flags = pd.DataFrame({"strategy": runs["strategy"],
                          "final": (runs["best_step"] == runs["steps"]).astype(bool),
                          "not_converged": ~runs["converged"].astype(bool)})
    by = flags.groupby("strategy", sort=False)
    shares = by.agg(runs=("final", "size"), selected_final=("final", "mean"),
                    not_converged=("not_converged", "mean"))
    overall = pd.DataFrame({"runs": [len(flags)], "selected_final": [flags["final"].mean()],
                            "not_converged": [flags["not_converged"].mean()]}, index=["all"])
    return pd.concat([shares, overall]) if len(flags) else shares


def convergence_lines(summary: pd.DataFrame) -> list[str]:
    """What the aggregate step prints: the shares per strategy, in percent."""
    shares = convergence_shares(summary)
    if shares.empty:
        return []
    lines = ["main-sweep runs that selected their final evaluation (goal <= 20%) and that "
             "did not converge (bench/convergence.py):"]
    lines += [f"  {name:<20} {int(row.runs):>4} runs  final {100 * row.selected_final:5.1f}%  "
              f"not converged {100 * row.not_converged:5.1f}%" for name, row in shares.iterrows()]
    return lines


def main(argv: list[str] | None = None, prog: str = "python -m bench.aggregate") -> None:
    """The command line: ``python -m bench.aggregate --out-dir OUT_DIR RECORDS...``."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("records", nargs="+", help="run record files or directories of them")
    parser.add_argument("--out-dir", required=True,
                        help="writes OUT_DIR/summary.csv and OUT_DIR/tables/")
    parser.add_argument("--latex", choices=LATEX_STYLES, default="booktabs",
                        help="the .tex tables: booktabs text columns (default) or siunitx "
                        "S columns with aligned decimals")
    parser.add_argument("--transpose", action="store_true",
                        help="the .tex tables' columns as rows (strategies down the side)")
    args = parser.parse_args(argv)
    try:
        aggregate_main(args.records, args.out_dir, args.latex, args.transpose)
    except RecordError as error:
        parser.exit(1, f"error: {error}\n")


if __name__ == "__main__":
    main()
