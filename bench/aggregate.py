"""Run records -> ``summary.csv`` (one row per run) and the paper's tables.

Every record is validated against ``workflows/schemas/run.schema.json``; one that
fails stops the aggregation with its path, because a table silently missing a run
is worse than no table. Runs that diverged or failed stay in ``summary.csv`` and are
counted in every table ("2/3 ok"); means and intervals are over the ``ok`` runs.

Tables (``tables/NAME.{csv,md,tex,html}``): the CSV is tidy and numeric (percent,
percentage points, seconds, MiB); Markdown, LaTeX (booktabs) and HTML are the same
table formatted for a paper, with synthetic pairs marked † and a footnote.

    python -m bench.aggregate --out-dir results results/runs
"""

from __future__ import annotations

import argparse
import html
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bench.io import write_atomic
from bench.records import SCHEMA_PATH as RUN_SCHEMA
from bench.records import read_record
from bench.stats import Interval, mean_interval, paired_differences

# Strategies in the order tables and figures show them (baseline first, then by how
# much of the backbone trains); strategies not listed follow, alphabetically.
STRATEGY_ORDER = ("scratch", "feature_extraction", "partial", "full", "dan",
                  "gradual_unfreeze", "discriminative_lr")
STRATEGY_LABELS = {
    "scratch": "Scratch",
    "feature_extraction": "Feature extraction",
    "partial": "Partial FT",
    "full": "Full FT",
    "dan": "DAN",
    "gradual_unfreeze": "Gradual unfreezing",
    "discriminative_lr": "Discriminative LR",
}
SYNTHETIC_MARK = "†"
SYNTHETIC_NOTE = f"{SYNTHETIC_MARK} synthetic: generated stand-in data, not the real data set."
NO_INTERVAL = "—"
MIB = 2**20

TABLE_NAMES = ("accuracy", "ntg", "cost", "data_efficiency")


class RecordError(ValueError):
    """One or more run records are unreadable or fail the run-record schema."""


# --------------------------------------------------------------------------- records


def record_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, directories expanded to their ``*.json`` files (sorted, recursive)."""
    found = []
    for path in map(Path, paths):
        found += sorted(path.rglob("*.json")) if path.is_dir() else [path]
    return found


def load_records(paths: Iterable[str | Path]) -> list[dict]:
    """Read and validate run records; raise RecordError naming every bad file.

    Returns the records in the order given, each with its file as ``path``.
    """
    records, problems = [], []
    for path in record_paths(paths):
        try:
            records.append({**read_record(path), "path": str(path)})
        except ValueError as error:  # the schema's message names the file
            problems.append(str(error))
        except OSError as error:
            problems.append(f"{path}: {error}")
    if problems:
        raise RecordError(f"{len(problems)} run record(s) failed validation against "
                          f"{RUN_SCHEMA}:\n  " + "\n  ".join(problems))
    if not records:
        raise RecordError("no run records found")
    return records


# Nested record fields -> column prefix. metrics and cost keys are unique and read
# best bare (accuracy, train_seconds); the rest keep a prefix.
PREFIXES = {"metrics": "", "cost": "", "hparams": "hp_", "data": "data_", "versions": "version_"}
LEADING_COLUMNS = ("pair", "source", "target", "target_labels", "synthetic", "strategy", "seed",
                   "shots", "status", "error", "accuracy", "balanced_accuracy", "macro_f1",
                   "val_accuracy", "mmd")


def _flatten(mapping: dict, prefix: str) -> dict:
    flat = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}_"))
        elif isinstance(value, list):
            flat[f"{prefix}{key}"] = json.dumps(value)
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def flatten_record(record: dict) -> dict:
    """One record -> one flat row. ``shots`` null becomes ``"all"``; history stays JSON."""
    row = {}
    for key, value in record.items():
        if key in PREFIXES:
            row.update(_flatten(value, PREFIXES[key]))
        elif key == "history":
            row["epochs_run"] = len(value)
            row["history"] = json.dumps(value)
        else:
            row[key] = value
    row["shots"] = "all" if record["shots"] is None else int(record["shots"])
    return row


def summary_frame(records: list[dict]) -> pd.DataFrame:
    """Tidy frame, one row per run, sorted pair (first-seen order), strategy, shots, seed."""
    frame = pd.DataFrame([flatten_record(record) for record in records])
    pairs = list(dict.fromkeys(frame["pair"]))
    shots_key = frame["shots"].map(lambda s: math.inf if s == "all" else s)
    order = pd.DataFrame({"pair": frame["pair"].map(pairs.index),
                          "strategy": frame["strategy"].map(strategy_rank),
                          "shots": shots_key, "seed": frame["seed"]})
    frame = frame.loc[order.sort_values(list(order.columns), kind="stable").index]
    leading = [c for c in LEADING_COLUMNS if c in frame.columns]
    frame = frame[leading + [c for c in frame.columns if c not in leading]]
    # Nullable dtypes keep integer columns with gaps (best_epoch) integers in the CSV.
    return frame.reset_index(drop=True).convert_dtypes()


def strategy_rank(strategy: str) -> tuple[int, str]:
    """Sort key: known strategies in STRATEGY_ORDER, then the rest alphabetically."""
    known = STRATEGY_ORDER.index(strategy) if strategy in STRATEGY_ORDER else len(STRATEGY_ORDER)
    return known, strategy


def strategies_in(frame: pd.DataFrame) -> list[str]:
    return sorted(frame["strategy"].unique(), key=strategy_rank)


def pairs_in(frame: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(frame["pair"]))


def pair_label(pair: str, synthetic: bool) -> str:
    return f"{pair}{SYNTHETIC_MARK}" if synthetic else pair


def strategy_label(strategy: str) -> str:
    return STRATEGY_LABELS.get(strategy, strategy)


def read_summary(path: str | Path) -> pd.DataFrame:
    """summary.csv back into a frame; ``shots`` stays mixed (int or "all")."""
    frame = pd.read_csv(path, dtype={"shots": str, "pair": str, "strategy": str})
    frame["shots"] = frame["shots"].map(lambda s: s if s == "all" else int(s))
    return frame


# ---------------------------------------------------------------------------- tables


@dataclass
class Table:
    """A paper table: tidy numbers for CSV, and the formatted grid for MD/LaTeX/HTML.

    ``cells`` holds display strings (row labels in the index, column labels as
    columns); ``bold`` is a same-shaped boolean frame; ``notes`` are footnotes.
    """

    name: str
    caption: str
    data: pd.DataFrame
    cells: pd.DataFrame
    bold: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def to_markdown(self) -> str:
        def md(text: str) -> str:
            return text.replace("|", "\\|").replace("*", "\\*")

        grid = self.cells.copy()
        for column in grid.columns:
            grid[column] = [f"**{md(v)}**" if b and v else md(v)
                            for v, b in zip(grid[column], self.bold[column], strict=True)]
        grid.index = [md(str(i)) for i in grid.index]
        grid.index.name = md(self.cells.index.name or "")
        lines = [f"**{md(self.caption)}**", "", grid.to_markdown(), ""]
        return "\n".join(lines + [md(note) + "  " for note in self.notes]).rstrip() + "\n"

    def to_latex(self) -> str:
        """A booktabs ``tabular`` with its footnotes, in a ``threeparttable``.

        Needs ``\\usepackage{booktabs,threeparttable}``; meant for ``\\input`` inside the
        paper's own ``table`` environment, which carries the caption (repeated here as a
        comment). threeparttable sets the notes to the table's width.
        """
        columns = len(self.cells.columns) + 1
        head = [latex(self.cells.index.name or "")] + [latex(c) for c in self.cells.columns]
        lines = [f"% {self.caption}", "% needs \\usepackage{booktabs,threeparttable}",
                 "\\begin{threeparttable}", "\\begin{tabular}{l" + "r" * (columns - 1) + "}",
                 "\\toprule", " & ".join(head) + " \\\\", "\\midrule"]
        for label, row in self.cells.iterrows():
            values = [f"\\textbf{{{latex(v)}}}" if b and v else latex(v)
                      for v, b in zip(row, self.bold.loc[label], strict=True)]
            lines.append(" & ".join([latex(str(label))] + values) + " \\\\")
        lines += ["\\bottomrule", "\\end{tabular}"]
        if self.notes:
            lines += ["\\begin{tablenotes}\\footnotesize",
                      *[f"\\item {latex(note)}" for note in self.notes], "\\end{tablenotes}"]
        lines.append("\\end{threeparttable}")
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        """A self-contained HTML page (for the Snakemake report)."""
        head = "".join(f"<th>{html.escape(str(c))}</th>"
                       for c in [self.cells.index.name or "", *self.cells.columns])
        rows = []
        for label, row in self.cells.iterrows():
            values = [f"<td><b>{html.escape(v)}</b></td>" if b and v
                      else f"<td>{html.escape(v)}</td>"
                      for v, b in zip(row, self.bold.loc[label], strict=True)]
            rows.append(f"<tr><th>{html.escape(str(label))}</th>{''.join(values)}</tr>")
        notes = "".join(f"<p>{html.escape(note)}</p>" for note in self.notes)
        return (
            "<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(self.caption)}</title><style>"
            "body{font-family:sans-serif;font-size:14px}"
            "table{border-collapse:collapse}th,td{padding:3px 10px;text-align:right}"
            "th:first-child{text-align:left}thead th{border-bottom:1px solid #000}"
            "table{border-top:2px solid #000;border-bottom:2px solid #000}"
            "p{font-size:12px;margin:4px 0}</style></head><body>"
            f"<p><b>{html.escape(self.caption)}</b></p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f"{notes}</body></html>\n"
        )


LATEX_REPLACEMENTS = {
    "\\": "\\textbackslash{}", "&": "\\&", "%": "\\%", "$": "\\$", "#": "\\#", "_": "\\_",
    "{": "\\{", "}": "\\}", "~": "\\textasciitilde{}", "^": "\\textasciicircum{}",
    "±": "$\\pm$", "—": "---", "–": "--", "−": "$-$", SYNTHETIC_MARK: "\\textsuperscript{\\dag}",
    "×": "$\\times$", ">": "$>$", "<": "$<$",  # OT1 fonts set bare < > as ¡ ¿
}


def latex(text: str) -> str:
    """Plain text -> LaTeX text, escaping specials and mapping ± — † to LaTeX."""
    return "".join(LATEX_REPLACEMENTS.get(char, char) for char in text)


def format_interval(interval: Interval, scale: float = 100.0, digits: int = 1,
                    signed: bool = False) -> str:
    """``84.3 ± 2.1`` (scaled), ``84.3 ± —`` without an interval, ``—`` without a mean."""
    if math.isnan(interval.mean):
        return NO_INTERVAL
    # A typographic minus (U+2212), as a paper sets it; LaTeX output maps it to $-$.
    mean = f"{interval.mean * scale:{'+' if signed else ''}.{digits}f}".replace("-", "−")
    if math.isnan(interval.half_width):
        return f"{mean} ± {NO_INTERVAL}"
    return f"{mean} ± {interval.half_width * scale:.{digits}f}"


def ok_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """Runs that finished ok with an accuracy: the ones means and intervals are over."""
    return frame[(frame["status"] == "ok") & frame["accuracy"].notna()]


def count_note(k: int, n: int, word: str = "ok") -> str:
    """" (2/3 ok)" when only k of n runs count; "" when all do."""
    return "" if k == n else f" ({k}/{n} {word})"


def seed_count(counts: Iterable[int]) -> str:
    counts = sorted(set(counts))
    if not counts:
        return "n = 0"
    return f"n = {counts[0]}" if len(counts) == 1 else f"n = {counts[0]}–{counts[-1]}"


def synthetic_pairs(frame: pd.DataFrame) -> dict[str, bool]:
    return frame.groupby("pair", sort=False)["synthetic"].any().astype(bool).to_dict()


def table_notes(frame: pd.DataFrame, counted: bool) -> list[str]:
    notes = []
    if counted:
        notes.append("(k/n ok): only k of n runs finished ok (the rest diverged or failed; "
                     "see summary.csv); the mean is over the ok runs.")
    if frame["synthetic"].astype(bool).any():
        notes.append(SYNTHETIC_NOTE)
    return notes


def _main_runs(summary: pd.DataFrame) -> pd.DataFrame:
    """Runs of the main sweep: all target training data (shots = all)."""
    return summary[summary["shots"] == "all"]


def _bold_best(means: pd.DataFrame, digits: int = 1) -> pd.DataFrame:
    """Per row, True where the mean, rounded as shown, equals the row's best (ties all bold)."""
    shown = means.round(digits)
    return shown.eq(shown.max(axis=1), axis=0) & shown.notna()


def accuracy_table(summary: pd.DataFrame) -> Table:
    """Table 1: top-1 accuracy (%) per pair x strategy, mean ± 95% CI over seeds, shots=all."""
    runs = _main_runs(summary)
    synthetic = synthetic_pairs(runs)
    pairs, strategies = pairs_in(runs), strategies_in(runs)
    rows, seeds = [], []
    for (pair, strategy), group in runs.groupby(["pair", "strategy"], sort=False):
        interval = mean_interval(ok_runs(group)["accuracy"])
        seeds.append(interval.n)
        rows.append({"pair": pair, "synthetic": synthetic[pair], "strategy": strategy,
                     "n_runs": len(group), "n_ok": len(ok_runs(group)),
                     "accuracy_mean_pct": interval.mean * 100,
                     "ci_low_pct": interval.low * 100, "ci_high_pct": interval.high * 100,
                     "text": format_interval(interval)
                     + count_note(len(ok_runs(group)), len(group))})
    data = pd.DataFrame(rows)
    row_labels = [pair_label(p, synthetic[p]) for p in pairs]
    cells = _grid(data, pairs, strategies, "text", row_labels)
    means = _grid(data, pairs, strategies, "accuracy_mean_pct", row_labels, fill=np.nan)
    cells.index.name = "Pair"
    counted = bool((data["n_ok"] < data["n_runs"]).any())
    notes = [f"Top-1 accuracy (%) on the target test set: mean ± half-width of the 95% "
             f"t-interval over seeds ({seed_count(seeds)}); {NO_INTERVAL}: one seed, "
             "no interval. Bold: best per pair.", *table_notes(runs, counted)]
    return Table("accuracy", "Target test accuracy by pair and strategy", _tidy(data),
                 cells, _bold_best(means.astype(float)), notes)


def _grid(data: pd.DataFrame, pairs: list[str], strategies: list[str], column: str,
          row_labels: list[str], fill="") -> pd.DataFrame:
    """Tidy rows -> pair x strategy grid of ``column`` (strategy labels as columns)."""
    grid = data.pivot(index="pair", columns="strategy", values=column)
    grid = grid.reindex(index=pairs, columns=strategies)
    if fill == "":
        grid = grid.fillna(NO_INTERVAL)
    grid.index = row_labels
    grid.columns = [strategy_label(s) for s in strategies]
    return grid


def _tidy(data: pd.DataFrame) -> pd.DataFrame:
    """The CSV form: numbers only (the display text is for the formatted tables)."""
    return data.drop(columns=["text"]).round(4)


def ntg_table(summary: pd.DataFrame) -> Table:
    """Table 2: negative transfer gap NTG = err(strategy) − err(scratch), paired by seed.

    In percentage points; > 0 means the strategy is worse than training from scratch.
    Marked (bold, *) where the whole 95% interval lies above 0.
    """
    runs = _main_runs(summary)
    synthetic = synthetic_pairs(runs)
    pairs = pairs_in(runs)
    strategies = [s for s in strategies_in(runs) if s != "scratch"]
    rows, seeds = [], []
    for pair in pairs:
        in_pair = ok_runs(runs[runs["pair"] == pair])
        scratch_error = 1 - in_pair[in_pair["strategy"] == "scratch"].set_index("seed")["accuracy"]
        for strategy in strategies:
            group = runs[(runs["pair"] == pair) & (runs["strategy"] == strategy)]
            if group.empty:
                continue
            error = 1 - ok_runs(group).set_index("seed")["accuracy"]
            interval = mean_interval(paired_differences(error, scratch_error))
            seeds.append(interval.n)
            text = format_interval(interval, signed=True)
            if interval.above_zero():
                text += "*"
            rows.append({"pair": pair, "synthetic": synthetic[pair], "strategy": strategy,
                         "n_runs": len(group), "n_paired": interval.n,
                         "ntg_mean_pp": interval.mean * 100, "ci_low_pp": interval.low * 100,
                         "ci_high_pp": interval.high * 100,
                         "negative_transfer": interval.above_zero(),
                         "text": text + count_note(interval.n, len(group), "paired")})
    columns = ["pair", "synthetic", "strategy", "n_runs", "n_paired", "ntg_mean_pp",
               "ci_low_pp", "ci_high_pp", "negative_transfer", "text"]
    data = pd.DataFrame(rows, columns=columns)
    row_labels = [pair_label(p, synthetic[p]) for p in pairs]
    if data.empty or data["n_paired"].eq(0).all():
        cells = pd.DataFrame(index=pd.Index(row_labels, name="Pair"))
        bold = cells.astype(bool)
        notes = ["No NTG: it needs scratch runs and at least one other strategy, both ok, "
                 "on the same seeds."]
    else:
        cells = _grid(data, pairs, strategies, "text", row_labels)
        flags = data.assign(flag=data["negative_transfer"].astype(float))
        bold = _grid(flags, pairs, strategies, "flag", row_labels, fill=np.nan) == 1.0
        notes = [f"Negative transfer gap NTG = err(strategy) − err(scratch) on the target test "
                 f"set, in percentage points, paired by seed: mean ± half-width of the 95% "
                 f"t-interval ({seed_count(seeds)}). NTG > 0: worse than training from "
                 f"scratch. Bold*: the whole interval is above 0 (negative transfer).",
                 "(k/n paired): only k of n seeds have both this strategy's and scratch's run "
                 "ok." if (data["n_paired"] < data["n_runs"]).any() else "",
                 *table_notes(runs, counted=False)]
    cells.index.name = "Pair"
    return Table("ntg", "Negative transfer gap by pair and strategy", _tidy(data), cells,
                 bold, [note for note in notes if note])


def cost_table(summary: pd.DataFrame) -> Table:
    """Table 3: what each strategy costs, mean over its ok runs (all pairs and seeds, shots=all)."""
    runs = _main_runs(summary)
    rows = []
    for strategy in strategies_in(runs):
        group = runs[runs["strategy"] == strategy]
        ok = group[group["status"] == "ok"]
        accelerator = ok["peak_accelerator_bytes"].dropna()
        rows.append({
            "strategy": strategy, "n_runs": len(group), "n_ok": len(ok),
            "train_seconds": ok["train_seconds"].mean(),
            "images_per_second": ok["images_per_second"].mean(),
            "peak_host_rss_mib": ok["peak_host_rss_bytes"].mean() / MIB,
            "peak_accelerator_mib": accelerator.mean() / MIB if len(accelerator) else np.nan,
            "trainable_params_m": ok["trainable_params"].mean() / 1e6,
            "total_params_m": ok["total_params"].mean() / 1e6,
        })
    data = pd.DataFrame(rows)

    def number(value: float, digits: int) -> str:
        return NO_INTERVAL if pd.isna(value) else f"{value:,.{digits}f}"

    cells = pd.DataFrame({
        "Runs ok": [f"{r.n_ok}/{r.n_runs}" for r in data.itertuples()],
        "Train time (s)": [number(v, 1) for v in data["train_seconds"]],
        "Images/s": [number(v, 0) for v in data["images_per_second"]],
        "Peak host RSS (MiB)": [number(v, 0) for v in data["peak_host_rss_mib"]],
        "Peak accel. (MiB)": [number(v, 0) for v in data["peak_accelerator_mib"]],
        "Trainable params (M)": [number(v, 2) for v in data["trainable_params_m"]],
    }, index=pd.Index([strategy_label(s) for s in data["strategy"]], name="Strategy"))
    devices = ", ".join(sorted(runs["device"].astype(str).unique()))
    synthetic = synthetic_pairs(runs)
    pairs = ", ".join(pair_label(p, synthetic[p]) for p in pairs_in(runs))
    notes = [f"Mean over each strategy's ok runs across all seeds and the pairs {pairs} "
             f"(all target data; device: {devices}). Train time: wall seconds of the training "
             f"loop, evaluation excluded. Peak accel.: torch.cuda.max_memory_allocated; "
             f"{NO_INTERVAL} on CPU.", *table_notes(runs, counted=False)]
    return Table("cost", "Cost per strategy", data.round(4), cells,
                 pd.DataFrame(False, index=cells.index, columns=cells.columns), notes)


def data_efficiency_table(summary: pd.DataFrame) -> Table:
    """Table 4: accuracy (%) per pair x strategy x shots per class, mean ± 95% CI.

    Covers the (pair, strategy) combinations with a limited-shots run; their ``all``
    column is the main sweep's run. Bold: best strategy per pair and budget.
    """
    budgets = summary[summary["shots"] != "all"][["pair", "strategy"]].drop_duplicates()
    runs = summary.merge(budgets, on=["pair", "strategy"])
    synthetic = synthetic_pairs(summary)
    rows, seeds = [], []
    for (pair, strategy, shots), group in runs.groupby(["pair", "strategy", "shots"],
                                                        sort=False):
        interval = mean_interval(ok_runs(group)["accuracy"])
        seeds.append(interval.n)
        rows.append({"pair": pair, "synthetic": synthetic[pair], "strategy": strategy,
                     "shots": shots, "n_runs": len(group), "n_ok": len(ok_runs(group)),
                     "accuracy_mean_pct": interval.mean * 100,
                     "ci_low_pct": interval.low * 100, "ci_high_pct": interval.high * 100,
                     "text": format_interval(interval)
                     + count_note(len(ok_runs(group)), len(group))})
    columns = ["pair", "synthetic", "strategy", "shots", "n_runs", "n_ok", "accuracy_mean_pct",
               "ci_low_pct", "ci_high_pct", "text"]
    data = pd.DataFrame(rows, columns=columns)
    shown = data["accuracy_mean_pct"].round(1)
    best = data.assign(shown=shown).groupby(["pair", "shots"], sort=False)["shown"].transform("max")
    data["best"] = shown.eq(best)
    cell = {(r.pair, r.strategy, r.shots): r for r in data.itertuples()}
    shots = sorted(data["shots"].unique(), key=lambda k: math.inf if k == "all" else k)
    keys = list(budgets.itertuples(index=False, name=None))
    index = pd.Index([f"{pair_label(p, synthetic[p])} / {strategy_label(s)}" for p, s in keys],
                     name="Pair / strategy")
    header = ["all" if k == "all" else f"{k} shot{'' if k == 1 else 's'}" for k in shots]
    cells = pd.DataFrame([[cell[(p, s, k)].text if (p, s, k) in cell else NO_INTERVAL
                           for k in shots] for p, s in keys], index=index, columns=header)
    bold = pd.DataFrame([[bool(cell[(p, s, k)].best) if (p, s, k) in cell else False
                          for k in shots] for p, s in keys], index=index, columns=header)
    if data.empty:
        notes = ["No data-efficiency runs (config key data_efficiency) in this sweep."]
    else:
        notes = [f"Top-1 accuracy (%) on the target test set against labelled training "
                 f"examples per class: mean ± half-width of the 95% t-interval over seeds "
                 f"({seed_count(seeds)}); all: the whole training split. Bold: best strategy "
                 f"per pair and budget.",
                 *table_notes(runs, bool((data["n_ok"] < data["n_runs"]).any()))]
    return Table("data_efficiency", "Data efficiency: accuracy against shots per class",
                 _tidy(data.drop(columns=["best"])), cells, bold, notes)


def build_tables(summary: pd.DataFrame) -> list[Table]:
    return [accuracy_table(summary), ntg_table(summary), cost_table(summary),
            data_efficiency_table(summary)]


# ----------------------------------------------------------------------------- files


def write_table(table: Table, directory: Path) -> list[Path]:
    """tables/NAME.{csv,md,tex,html}."""
    texts = {"csv": table.data.to_csv(index=False), "md": table.to_markdown(),
             "tex": table.to_latex(), "html": table.to_html()}
    paths = []
    for extension, text in texts.items():
        paths.append(directory / f"{table.name}.{extension}")
        write_atomic(paths[-1], text)
    return paths


def aggregate_main(records: str | Path | Iterable[str | Path], out_dir: str | Path) -> Path:
    """Records (files or directories) -> OUT/summary.csv and OUT/tables/*; returns the summary."""
    if isinstance(records, (str, Path)):
        records = [records]
    out_dir = Path(out_dir)
    summary = summary_frame(load_records(records))
    summary_path = out_dir / "summary.csv"
    write_atomic(summary_path, summary.to_csv(index=False))
    for table in build_tables(summary):
        write_table(table, out_dir / "tables")
    statuses = summary["status"].value_counts().to_dict()
    print(f"{len(summary)} runs ({', '.join(f'{v} {k}' for k, v in statuses.items())}) -> "
          f"{summary_path}, {out_dir / 'tables'}/")
    return summary_path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.aggregate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("records", nargs="+", help="run record files or directories of them")
    parser.add_argument("--out-dir", required=True,
                        help="writes OUT_DIR/summary.csv and OUT_DIR/tables/")
    args = parser.parse_args(argv)
    try:
        aggregate_main(args.records, args.out_dir)
    except RecordError as error:
        parser.exit(1, f"error: {error}\n")


if __name__ == "__main__":
    main()
