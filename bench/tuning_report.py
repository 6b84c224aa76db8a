r"""Tuning outputs: ``tuning/summary.csv`` and the tables of tuning.

``tuning/summary.csv`` has one row per trial and per tuned run; the tables are
``tuning_selected`` and ``accuracy_default_vs_tuned`` (CSV, Markdown, LaTeX booktabs,
HTML, as :mod:`bench.tables` writes them). The trials ran at the selection seed; the
tuned and the default runs compared are at the same seeds, none of them a selection
seed (:func:`like_seeds` refuses runs that are not).

    python -m bench.tuning_report --out-dir results/tuning --selected SEL.json ... \
        --tuned results/tuning/runs/... --default results/runs/...
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from bench.io import read_json, write_atomic
from bench.presentation import pair_strategy_label, strategy_rank
from bench.stats import mean_interval, paired_differences
from bench.summary import (
    load_records,
    ok_runs,
    pairs_in,
    strategies_in,
    summary_frame,
    synthetic_pairs,
)
from bench.tables.cells import (
    NO_INTERVAL,
    accuracy_cell,
    format_interval,
    format_number,
    seed_count,
    table_notes,
)
from bench.tables.paper import label_space_marks
from bench.tables.render import Table, write_table
from bench.tables.significance import bold_note, significance_marks
from bench.tuning import SIGNIFICANT_DIGITS

TABLE_NAMES = ("tuning_selected", "accuracy_default_vs_tuned")
FIGURE_NAMES = ("tuning_spread",)


class IncomparableRunsError(ValueError):
    """Tuned and default runs that "tuned − default" cannot compare (:func:`like_seeds`)."""


def tuning_summary(selections: list[dict], tuned: list[dict]) -> pd.DataFrame:
    """The tuning summary: one row per trial and per tuned run.

    Rows are records as :func:`bench.summary.summary_frame` flattens them, led by
    ``tuning_kind`` (trial | tuned), ``trial`` (the trial's index; for a tuned run, the
    selected trial) and ``selected`` (the trial that was selected).

    Args:
        selections: the selection documents (:func:`bench.tuning.selection`), one per pair and
            strategy; their trials' records are read from the paths they name.
        tuned: the tuned runs' records.
    """
    rows = []
    chosen = {(s["pair"], s["strategy"]): s["selected"]["trial"] for s in selections}
    for document in selections:
        paths = [t["path"] for t in document["trials"]]
        for entry, record in zip(document["trials"], load_records(paths), strict=True):
            rows.append({**record, "tuning_kind": "trial", "trial": entry["trial"],
                         "selected": entry["trial"] == document["selected"]["trial"]})
    for record in tuned:
        rows.append({**record, "tuning_kind": "tuned",
                     "trial": chosen[(record["pair"], record["strategy"])], "selected": True})
    frame = summary_frame(rows)
    order = frame["tuning_kind"].map({"trial": 0, "tuned": 1})
    frame = frame.assign(_kind=order).sort_values(
        ["_kind"], kind="stable").drop(columns="_kind")
    leading = ["tuning_kind", "trial", "selected"]
    return frame[leading + [c for c in frame.columns if c not in leading]].reset_index(drop=True)


def selection_seeds(selections: list[dict]) -> list[int]:
    """The seeds the trials of ``selections`` ran at (one per sweep: tuning.selection_seed)."""
    return sorted({int(document["seed"]) for document in selections})


def seeds_text(seeds) -> str:
    """Seeds for a note: ``3``, ``0, 1, 2``."""
    return ", ".join(str(int(seed)) for seed in sorted(set(seeds)))


def like_seeds(default: pd.DataFrame, tuned: pd.DataFrame,
               selecting: list[int]) -> pd.DataFrame:
    """The default runs at exactly the tuned runs' (pair, strategy, seed).

    So "tuned − default" and both columns' means compare like seeds.

    Raises:
        IncomparableRunsError: a tuned run is at a selection seed (``selecting``), or has
            no default run at its seed.
    """
    keys = ["pair", "strategy", "seed"]
    cursed = tuned[tuned["seed"].isin(selecting)]
    if len(cursed):
        first = cursed.iloc[0]
        raise IncomparableRunsError(
            f"tuned run {first['pair']}/{first['strategy']} seed {first['seed']} is at a "
            f"selection seed (tuning.selection_seed {seeds_text(selecting)}): tuned results "
            f"must be fresh runs at the config's seeds")
    matched = tuned[keys].merge(default, on=keys, how="left", indicator=True)
    missing = matched[matched["_merge"] == "left_only"]
    if len(missing):
        first = missing.iloc[0]
        raise IncomparableRunsError(
            f"no default run of {first['pair']}/{first['strategy']} at seed {first['seed']}, "
            f"the seed of a tuned run: tuned − default needs both")
    return matched.drop(columns="_merge")


def _value_text(value) -> str:
    """A hyper-parameter's value as the table shows it (floats to SIGNIFICANT_DIGITS)."""
    if isinstance(value, float):
        return f"{value:.{SIGNIFICANT_DIGITS}g}"
    return str(value)


def _short_key(key: str) -> str:
    """``strategy_params.dan.mmd_weight`` -> ``mmd_weight``; ``train.lr`` -> ``lr``."""
    return key.rsplit(".", 1)[1]


def _selected_row(document: dict, synthetic: dict[str, bool]) -> dict:
    """One selection document -> the selected trial's row (``hp_*`` columns, display text)."""
    chosen = document["selected"]
    return {"pair": document["pair"], "synthetic": synthetic.get(document["pair"], False),
            "strategy": document["strategy"], "trial": chosen["trial"],
            "n_trials": len(document["trials"]),
            "val_accuracy_pct": (np.nan if chosen["val_accuracy"] is None
                                 else 100 * chosen["val_accuracy"]),
            **{f"hp_{_short_key(k)}": v for k, v in chosen["hparams"].items()},
            "hparams_text": ", ".join(  # train keys first, then the strategy's
                f"{_short_key(k)} = {_value_text(v)}" for k, v in sorted(
                    chosen["hparams"].items(),
                    key=lambda item: (not item[0].startswith("train."), item[0])))}


def selected_table(selections: list[dict], summary: pd.DataFrame) -> Table:
    """Selected hyper-parameters per pair x strategy.

    Each row: the selected trial (``default`` marks trial 0), its validation accuracy (%)
    and its values; ‡ on the accuracy of DAN where the label spaces differ.

    Args:
        selections: the selection documents, one per pair and strategy.
        summary: the tuning summary (:func:`tuning_summary`): which pairs are synthetic
            (the † mark) and which do not share a label space (the ‡ mark).
    """
    synthetic = synthetic_pairs(summary)
    data = pd.DataFrame([_selected_row(document, synthetic) for document in selections])
    data = data.assign(_pair=data["pair"].map(list(dict.fromkeys(data["pair"])).index),
                       _strategy=data["strategy"].map(strategy_rank))
    data = data.sort_values(["_pair", "_strategy"]).drop(columns=["_pair", "_strategy"])
    index = pd.Index([pair_strategy_label(r.pair, r.synthetic, r.strategy)
                      for r in data.itertuples()], name="Pair / strategy")
    marks, label_space_notes = label_space_marks(summary, data)
    cells = pd.DataFrame({
        "Trial": [("0 (default)" if r.trial == 0 else str(r.trial)) + f" of {r.n_trials}"
                  for r in data.itertuples()],
        "Val. acc. (%)": _with_marks([format_number(v) for v in data["val_accuracy_pct"]],
                                     marks),
        "Selected hyper-parameters": list(data["hparams_text"]),
    }, index=index)
    notes = ["The trial with the best validation accuracy of N trials per pair and strategy "
             "(trial 0: the config's defaults; trials 1..N-1: random draws from the strategy's "
             "search space, docs/TUNING.md), every trial trained at selection seed "
             f"{seeds_text(selection_seeds(selections))} (tuning.selection_seed), which no "
             "reported result uses; ties go to the lower trial. Test metrics are never read.",
             *label_space_notes, *table_notes(data, counted=False)]
    return Table("tuning_selected", "Selected hyper-parameters by pair and strategy",
                 data.drop(columns=["hparams_text"]).round(6), cells,
                 pd.DataFrame(False, index=cells.index, columns=cells.columns), notes)


def _with_marks(texts, marks: pd.Series) -> list[str]:
    """Each text with its row's ‡ (:func:`bench.tables.paper.label_space_marks`) after it."""
    return [f"{text} {mark}" if mark else text for text, mark in zip(texts, marks, strict=True)]


def _ranks(means: pd.Series) -> pd.Series:
    """1 = best mean accuracy within a pair, on the values as shown (0.1 %); ties share."""
    return means.round(1).rank(ascending=False, method="min")


def _default_vs_tuned_row(pair: str, strategy: str, default: pd.DataFrame,
                          tuned: pd.DataFrame, synthetic: bool) -> tuple[dict, list[int]]:
    """One pair and strategy: accuracy with defaults and tuned, and tuned − default.

    Returns:
        The table's row, and the seeds behind its two accuracy intervals.
    """
    cell = {}
    for name, frame in (("default", default), ("tuned", tuned)):
        group = frame[(frame["pair"] == pair) & (frame["strategy"] == strategy)]
        cell[name] = (group, *accuracy_cell(group))
    (d_group, d, d_ok, d_text), (t_group, t, t_ok, t_text) = cell["default"], cell["tuned"]
    diff = mean_interval(paired_differences(ok_runs(t_group).set_index("seed")["accuracy"],
                                            ok_runs(d_group).set_index("seed")["accuracy"]))
    row = {
        "pair": pair, "synthetic": synthetic, "strategy": strategy,
        "n_default": len(d_group), "n_default_ok": d_ok,
        "default_mean_pct": d.mean * 100, "default_ci_low_pct": d.low * 100,
        "default_ci_high_pct": d.high * 100,
        "n_tuned": len(t_group), "n_tuned_ok": t_ok,
        "tuned_mean_pct": t.mean * 100, "tuned_ci_low_pct": t.low * 100,
        "tuned_ci_high_pct": t.high * 100,
        "diff_mean_pp": diff.mean * 100, "diff_ci_low_pp": diff.low * 100,
        "diff_ci_high_pp": diff.high * 100, "n_paired": diff.n,
        "default_text": d_text, "tuned_text": t_text,
        "diff_text": format_interval(diff, signed=True),
    }
    return row, [d.n, t.n]


def _bold_columns(data: pd.DataFrame, default: pd.DataFrame,
                  tuned: pd.DataFrame) -> pd.DataFrame:
    """``bold_default`` and ``bold_tuned``: bold by significance within each pair.

    Per column, :func:`bench.tables.significance.significance_marks` over the table's
    strategies of the pair: the best and every strategy not significantly worse (paired
    by seed), nothing at chance; ``p_vs_best_default`` and ``p_vs_best_tuned`` its p.
    """
    for name, runs in (("default", default), ("tuned", tuned)):
        shown = runs.merge(data[["pair", "strategy"]], on=["pair", "strategy"])
        marks = significance_marks(shown, ["pair"])[["pair", "strategy", "p_vs_best", "bold"]]
        data = data.merge(marks.rename(columns={"p_vs_best": f"p_vs_best_{name}",
                                                "bold": f"bold_{name}"}),
                          on=["pair", "strategy"], how="left", validate="one_to_one")
        data[f"bold_{name}"] = data[f"bold_{name}"].eq(True)
    return data


def _rank_text(row) -> str:
    """``2 → 1``: the rank with defaults and tuned; NO_INTERVAL where there is none."""
    ranks = [NO_INTERVAL if pd.isna(r) else str(int(r)) for r in (row.rank_default, row.rank_tuned)]
    return f"{ranks[0]} → {ranks[1]}"


def _default_vs_tuned_cells(data: pd.DataFrame,
                            marks: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The table's display cells and which are bold (:func:`_bold_columns`).

    ``marks``: each row's ‡ (:func:`bench.tables.paper.label_space_marks`), set after
    its three numbers.
    """
    index = pd.Index([pair_strategy_label(r.pair, r.synthetic, r.strategy)
                      for r in data.itertuples()], name="Pair / strategy")
    cells = pd.DataFrame({
        "Default (%)": _with_marks(data["default_text"], marks),
        "Tuned (%)": _with_marks(data["tuned_text"], marks),
        "Tuned − default (pp)": _with_marks(data["diff_text"], marks),
        "Rank (default → tuned)": [_rank_text(r) for r in data.itertuples()],
    }, index=index)
    bold = pd.DataFrame(False, index=index, columns=cells.columns)
    bold["Default (%)"] = data["bold_default"].to_numpy(dtype=bool)
    bold["Tuned (%)"] = data["bold_tuned"].to_numpy(dtype=bool)
    return cells, bold


def default_vs_tuned_table(default: pd.DataFrame, tuned: pd.DataFrame,
                           selecting: list[int]) -> Table:
    """Test accuracy (%) with default and with tuned hyper-parameters, per pair x strategy.

    Each is a mean ± 95% CI over the same seeds (:func:`like_seeds`); the paired
    difference tuned − default is in percentage points; the strategy's rank within its
    pair is shown under each. Bold, in each column: by significance within the pair
    (:func:`_bold_columns`).

    Args:
        default: the main sweep's summary (its shots = all runs at the tuned runs' seeds
            are used).
        tuned: the tuning summary's tuned runs; their pairs and strategies are the rows.
        selecting: the selection seeds, which no tuned run may use.
    """
    default = like_seeds(default[default["shots"] == "all"], tuned, selecting)
    synthetic = synthetic_pairs(pd.concat([default, tuned]))
    rows, seeds = [], []
    for pair in pairs_in(tuned):
        for strategy in strategies_in(tuned[tuned["pair"] == pair]):
            row, counts = _default_vs_tuned_row(pair, strategy, default, tuned, synthetic[pair])
            rows.append(row)
            seeds += counts
    data = pd.DataFrame(rows)
    data["rank_default"] = data.groupby("pair", sort=False)["default_mean_pct"].transform(_ranks)
    data["rank_tuned"] = data.groupby("pair", sort=False)["tuned_mean_pct"].transform(_ranks)
    data = _bold_columns(data, default, tuned)
    marks, label_space_notes = label_space_marks(pd.concat([default, tuned]), data)
    cells, bold = _default_vs_tuned_cells(data, marks)
    counted = bool(((data["n_default_ok"] < data["n_default"])
                    | (data["n_tuned_ok"] < data["n_tuned"])).any())
    notes = [f"Top-1 accuracy (%) on the target test set, mean ± half-width of the 95% "
             f"t-interval over seeds {seeds_text(tuned['seed'])} ({seed_count(seeds)}; "
             f"{NO_INTERVAL}: one seed), the same seeds in both columns, with the config's "
             f"default hyper-parameters and with those selected on validation accuracy at "
             f"seed {seeds_text(selecting)} (tuning.selection_seed): every tuned result is a "
             f"fresh run, none the trial that selected it. Tuned − default: paired by seed, in "
             f"percentage points. Rank: place of the strategy within its pair (1 = best).",
             bold_note(seeds, "per pair, in each column"), *label_space_notes,
             *table_notes(data, counted)]
    tidy = data.drop(columns=["default_text", "tuned_text", "diff_text"])
    tidy = tidy.round({c: 4 for c in tidy.columns if not c.startswith("p_vs_best")})
    return Table("accuracy_default_vs_tuned",
                 "Target test accuracy with default and with tuned hyper-parameters",
                 tidy, cells, bold, notes)


def report_main(selected: list[str], tuned: list[str], default: list[str],
                out_dir: str | Path) -> Path:
    """Write the tuning summary and its two tables.

    Args:
        selected: selection JSON files.
        tuned: tuned-run records (files or directories).
        default: the main sweep's run records (files or directories).
        out_dir: writes OUT_DIR/summary.csv and
            OUT_DIR/tables/{tuning_selected,accuracy_default_vs_tuned}.*.

    Returns:
        The path of summary.csv.
    """
    out_dir = Path(out_dir)
    selections = [read_json(path) for path in selected]
    tuned_records = load_records(tuned)
    summary = tuning_summary(selections, tuned_records)
    tuned_frame = summary[summary["tuning_kind"] == "tuned"]
    # Both tables before any file, so runs that cannot be compared write nothing.
    tables = (selected_table(selections, summary),
              default_vs_tuned_table(summary_frame(load_records(default)), tuned_frame,
                                     selection_seeds(selections)))
    summary_path = out_dir / "summary.csv"
    write_atomic(summary_path, summary.to_csv(index=False))
    for table in tables:
        write_table(table, out_dir / "tables")
    print(f"{len(summary)} rows ({(summary['tuning_kind'] == 'trial').sum()} trials, "
          f"{len(tuned_frame)} tuned runs) -> {summary_path}, {out_dir / 'tables'}/")
    return summary_path


def main(argv: list[str] | None = None) -> int:
    """The command line (``python -m bench.tuning_report``); returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench.tuning_report",
                                     description="Tuning summary.csv and tables from the "
                                                 "selections, tuned runs and default runs.")
    parser.add_argument("--selected", nargs="+", required=True, help="selection JSON files")
    parser.add_argument("--tuned", nargs="+", required=True, help="tuned-run records")
    parser.add_argument("--default", nargs="+", required=True, help="default-run records")
    parser.add_argument("--out-dir", required=True)
    args = parser.parse_args(argv)
    try:
        report_main(args.selected, args.tuned, args.default, args.out_dir)
    except IncomparableRunsError as error:  # nothing is written
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
