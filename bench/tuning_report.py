"""Tuning outputs: ``tuning/summary.csv`` (one row per trial and per tuned run) and the
tables ``tuning_selected`` and ``accuracy_default_vs_tuned`` (CSV, Markdown, LaTeX
booktabs, HTML, as :mod:`bench.aggregate` writes its tables).

    python -m bench.tuning report --out-dir results/tuning --selected SEL.json ... \
        --tuned results/tuning/runs/... --default results/runs/...
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from bench.aggregate import (
    NO_INTERVAL,
    Table,
    count_note,
    format_interval,
    load_records,
    ok_runs,
    pair_label,
    pairs_in,
    seed_count,
    strategies_in,
    strategy_label,
    strategy_rank,
    summary_frame,
    synthetic_pairs,
    table_notes,
    write_table,
)
from bench.io import read_json, write_atomic
from bench.stats import mean_interval, paired_differences
from bench.tuning import SIGNIFICANT_DIGITS

TABLE_NAMES = ("tuning_selected", "accuracy_default_vs_tuned")
FIGURE_NAMES = ("tuning_spread",)



def tuning_summary(selections: list[dict], tuned: list[dict]) -> pd.DataFrame:
    """One row per trial and per tuned run (records as bench.aggregate flattens them),
    with ``tuning_kind`` (trial | tuned), ``trial`` (the trial's index; for a tuned run,
    the selected trial) and ``selected`` (the trial that was selected)."""
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


def _value_text(value) -> str:
    if isinstance(value, float):
        return f"{value:.{SIGNIFICANT_DIGITS}g}"
    return str(value)


def _short_key(key: str) -> str:
    """``strategy_params.dan.mmd_weight`` -> ``mmd_weight``; ``train.lr`` -> ``lr``."""
    return key.rsplit(".", 1)[1]


def selected_table(selections: list[dict], synthetic: dict[str, bool]) -> Table:
    """Selected hyper-parameters per pair x strategy: the trial, its validation accuracy
    (%) and its values; ``default`` marks trial 0."""
    rows = []
    for document in selections:
        chosen = document["selected"]
        rows.append({"pair": document["pair"], "synthetic": synthetic.get(document["pair"], False),
                     "strategy": document["strategy"], "trial": chosen["trial"],
                     "n_trials": len(document["trials"]),
                     "val_accuracy_pct": (np.nan if chosen["val_accuracy"] is None
                                          else 100 * chosen["val_accuracy"]),
                     **{f"hp_{_short_key(k)}": v for k, v in chosen["hparams"].items()},
                     "hparams_text": ", ".join(  # train keys first, then the strategy's
                         f"{_short_key(k)} = {_value_text(v)}" for k, v in sorted(
                             chosen["hparams"].items(),
                             key=lambda item: (not item[0].startswith("train."), item[0])))})
    data = pd.DataFrame(rows)
    data = data.assign(_pair=data["pair"].map(list(dict.fromkeys(data["pair"])).index),
                       _strategy=data["strategy"].map(strategy_rank))
    data = data.sort_values(["_pair", "_strategy"]).drop(columns=["_pair", "_strategy"])
    index = pd.Index([f"{pair_label(r.pair, r.synthetic)} / {strategy_label(r.strategy)}"
                      for r in data.itertuples()], name="Pair / strategy")
    cells = pd.DataFrame({
        "Trial": [("0 (default)" if r.trial == 0 else str(r.trial)) + f" of {r.n_trials}"
                  for r in data.itertuples()],
        "Val. acc. (%)": [NO_INTERVAL if pd.isna(v) else f"{v:.1f}"
                          for v in data["val_accuracy_pct"]],
        "Selected hyper-parameters": list(data["hparams_text"]),
    }, index=index)
    notes = ["The trial with the best validation accuracy of N trials per pair and strategy "
             "(trial 0: the config's defaults; trials 1..N-1: random draws from the strategy's "
             "search space, docs/TUNING.md), at the first seed; ties go to the lower trial. "
             "Test metrics are never read.",
             *table_notes(data, counted=False)]
    return Table("tuning_selected", "Selected hyper-parameters by pair and strategy",
                 data.drop(columns=["hparams_text"]).round(6), cells,
                 pd.DataFrame(False, index=cells.index, columns=cells.columns), notes)


def _ranks(means: pd.Series) -> pd.Series:
    """1 = best mean accuracy within a pair, on the values as shown (0.1 %); ties share."""
    return means.round(1).rank(ascending=False, method="min")


def default_vs_tuned_table(default: pd.DataFrame, tuned: pd.DataFrame) -> Table:
    """Test accuracy (%) per pair x strategy with defaults and with tuning (mean ± 95% CI
    over seeds), the paired difference tuned − default (percentage points), and the
    strategy's rank within its pair under each. Bold: best per pair in each column."""
    default = default[default["shots"] == "all"]
    synthetic = synthetic_pairs(pd.concat([default, tuned]))
    rows, seeds = [], []
    for pair in pairs_in(tuned):
        for strategy in strategies_in(tuned[tuned["pair"] == pair]):
            cell = {}
            for name, frame in (("default", default), ("tuned", tuned)):
                group = frame[(frame["pair"] == pair) & (frame["strategy"] == strategy)]
                interval = mean_interval(ok_runs(group)["accuracy"])
                seeds.append(interval.n)
                cell[name] = (group, interval)
            (d_group, d), (t_group, t) = cell["default"], cell["tuned"]
            diff = mean_interval(paired_differences(ok_runs(t_group).set_index("seed")["accuracy"],
                                                    ok_runs(d_group).set_index("seed")["accuracy"]))
            rows.append({
                "pair": pair, "synthetic": synthetic[pair], "strategy": strategy,
                "n_default": len(d_group), "n_default_ok": len(ok_runs(d_group)),
                "default_mean_pct": d.mean * 100, "default_ci_low_pct": d.low * 100,
                "default_ci_high_pct": d.high * 100,
                "n_tuned": len(t_group), "n_tuned_ok": len(ok_runs(t_group)),
                "tuned_mean_pct": t.mean * 100, "tuned_ci_low_pct": t.low * 100,
                "tuned_ci_high_pct": t.high * 100,
                "diff_mean_pp": diff.mean * 100, "diff_ci_low_pp": diff.low * 100,
                "diff_ci_high_pp": diff.high * 100, "n_paired": diff.n,
                "default_text": format_interval(d) + count_note(len(ok_runs(d_group)), len(d_group)),
                "tuned_text": format_interval(t) + count_note(len(ok_runs(t_group)), len(t_group)),
                "diff_text": format_interval(diff, signed=True),
            })
    data = pd.DataFrame(rows)
    data["rank_default"] = data.groupby("pair", sort=False)["default_mean_pct"].transform(_ranks)
    data["rank_tuned"] = data.groupby("pair", sort=False)["tuned_mean_pct"].transform(_ranks)

    def rank_text(row) -> str:
        ranks = [NO_INTERVAL if pd.isna(r) else str(int(r))
                 for r in (row.rank_default, row.rank_tuned)]
        return f"{ranks[0]} → {ranks[1]}"

    index = pd.Index([f"{pair_label(r.pair, r.synthetic)} / {strategy_label(r.strategy)}"
                      for r in data.itertuples()], name="Pair / strategy")
    cells = pd.DataFrame({
        "Default (%)": list(data["default_text"]), "Tuned (%)": list(data["tuned_text"]),
        "Tuned − default (pp)": list(data["diff_text"]),
        "Rank (default → tuned)": [rank_text(r) for r in data.itertuples()],
    }, index=index)
    bold = pd.DataFrame(False, index=index, columns=cells.columns)
    bold["Default (%)"] = (data["rank_default"] == 1).to_numpy()
    bold["Tuned (%)"] = (data["rank_tuned"] == 1).to_numpy()
    counted = bool(((data["n_default_ok"] < data["n_default"])
                    | (data["n_tuned_ok"] < data["n_tuned"])).any())
    notes = [f"Top-1 accuracy (%) on the target test set, mean ± half-width of the 95% "
             f"t-interval over seeds ({seed_count(seeds)}; {NO_INTERVAL}: one seed), with the "
             f"config's default hyper-parameters and with those selected on validation "
             f"accuracy. Tuned − default: paired by seed, in percentage points. Rank: place of "
             f"the strategy within its pair (1 = best). Bold: best per pair.",
             *table_notes(data, counted)]
    tidy = data.drop(columns=["default_text", "tuned_text", "diff_text"]).round(4)
    return Table("accuracy_default_vs_tuned",
                 "Target test accuracy with default and with tuned hyper-parameters",
                 tidy, cells, bold, notes)


def report_main(selected: list[str], tuned: list[str], default: list[str],
                out_dir: str | Path) -> Path:
    """Selections, tuned-run records and default-run records -> OUT/summary.csv and
    OUT/tables/{tuning_selected,accuracy_default_vs_tuned}.*; returns the summary path."""
    out_dir = Path(out_dir)
    selections = [read_json(path) for path in selected]
    tuned_records = load_records(tuned)
    summary = tuning_summary(selections, tuned_records)
    summary_path = out_dir / "summary.csv"
    write_atomic(summary_path, summary.to_csv(index=False))
    default_frame = summary_frame(load_records(default))
    tuned_frame = summary[summary["tuning_kind"] == "tuned"]
    synthetic = synthetic_pairs(summary)
    for table in (selected_table(selections, synthetic),
                  default_vs_tuned_table(default_frame, tuned_frame)):
        write_table(table, out_dir / "tables")
    print(f"{len(summary)} rows ({(summary['tuning_kind'] == 'trial').sum()} trials, "
          f"{len(tuned_frame)} tuned runs) -> {summary_path}, {out_dir / 'tables'}/")
    return summary_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tuning_report",
                                     description="Tuning summary.csv and tables from the "
                                                 "selections, tuned runs and default runs.")
    parser.add_argument("--selected", nargs="+", required=True, help="selection JSON files")
    parser.add_argument("--tuned", nargs="+", required=True, help="tuned-run records")
    parser.add_argument("--default", nargs="+", required=True, help="default-run records")
    parser.add_argument("--out-dir", required=True)
    args = parser.parse_args(argv)
    report_main(args.selected, args.tuned, args.default, args.out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
