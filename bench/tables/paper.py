"""The paper's four tables of the main sweep: accuracy, negative transfer gap, cost, data efficiency.

Each counts every run ("2/3 ok"); means and intervals are over the ok runs.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bench.presentation import pair_label, pair_strategy_label, strategy_label
from bench.stats import mean_interval, paired_differences
from bench.summary import (
    MIB,
    data_efficiency_runs,
    main_runs,
    ok_runs,
    pairs_in,
    strategies_in,
    synthetic_pairs,
)
from bench.tables.cells import (
    NO_INTERVAL,
    accuracy_cell,
    count_note,
    format_interval,
    seed_count,
    table_notes,
)
from bench.tables.render import Table

TABLE_NAMES = ("accuracy", "ntg", "cost", "data_efficiency")


def build_tables(summary: pd.DataFrame) -> list[Table]:
    """All of :data:`TABLE_NAMES`, in that order, from the summary frame."""
    return [accuracy_table(summary), ntg_table(summary), cost_table(summary),
            data_efficiency_table(summary)]


# ----------------------------------------------------------------------------- helpers


def accuracy_rows(runs: pd.DataFrame, by: list[str],
                  synthetic: dict[str, bool]) -> tuple[pd.DataFrame, list[int]]:
    """Accuracy (%) per group of runs: mean, 95% interval, run counts and the cell's text.

    Args:
        runs: the runs to group.
        by: the grouping columns, ``pair`` first (e.g. pair, strategy, shots).
        synthetic: pair -> synthetic, for the rows' ``synthetic`` column.

    Returns:
        One row per group (in first-seen order), and the seeds behind each interval.
    """
    columns = ["pair", "synthetic", *by[1:], "n_runs", "n_ok", "accuracy_mean_pct",
               "ci_low_pct", "ci_high_pct", "text"]
    rows, seeds = [], []
    for key, group in runs.groupby(by, sort=False):
        interval, n_ok, text = accuracy_cell(group)
        seeds.append(interval.n)
        rows.append([key[0], synthetic[key[0]], *key[1:], len(group), n_ok, interval.mean * 100,
                     interval.low * 100, interval.high * 100, text])
    return pd.DataFrame(rows, columns=columns), seeds


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


def _bold_best(means: pd.DataFrame, digits: int = 1) -> pd.DataFrame:
    """Per row, True where the mean, rounded as shown, equals the row's best (ties all bold)."""
    shown = means.round(digits)
    return shown.eq(shown.max(axis=1), axis=0) & shown.notna()


def _tidy(data: pd.DataFrame) -> pd.DataFrame:
    """The CSV form: numbers only (the display text is for the formatted tables)."""
    return data.drop(columns=["text"]).round(4)


# ------------------------------------------------------------------------------ tables


def accuracy_table(summary: pd.DataFrame) -> Table:
    """Table 1: top-1 accuracy (%) per pair x strategy, mean ± 95% CI over seeds, shots=all."""
    runs = main_runs(summary)
    synthetic = synthetic_pairs(runs)
    pairs, strategies = pairs_in(runs), strategies_in(runs)
    data, seeds = accuracy_rows(runs, ["pair", "strategy"], synthetic)
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


NTG_COLUMNS = ["pair", "synthetic", "strategy", "n_runs", "n_paired", "ntg_mean_pp",
               "ci_low_pp", "ci_high_pp", "negative_transfer", "text"]


def _ntg_rows(runs: pd.DataFrame, strategies: list[str],
              synthetic: dict[str, bool]) -> tuple[pd.DataFrame, list[int]]:
    """NTG per pair x strategy (columns NTG_COLUMNS), and the seeds behind each interval."""
    rows, seeds = [], []
    for pair in pairs_in(runs):
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
            rows.append([pair, synthetic[pair], strategy, len(group), interval.n,
                         interval.mean * 100, interval.low * 100, interval.high * 100,
                         interval.above_zero(),
                         text + count_note(interval.n, len(group), "paired")])
    return pd.DataFrame(rows, columns=NTG_COLUMNS), seeds


def ntg_table(summary: pd.DataFrame) -> Table:
    """Table 2: negative transfer gap NTG = err(strategy) − err(scratch), paired by seed.

    In percentage points; > 0 means the strategy is worse than training from scratch.
    Marked (bold, *) where the whole 95% interval lies above 0.
    """
    runs = main_runs(summary)
    synthetic = synthetic_pairs(runs)
    pairs = pairs_in(runs)
    strategies = [s for s in strategies_in(runs) if s != "scratch"]
    data, seeds = _ntg_rows(runs, strategies, synthetic)
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


def _cost_rows(runs: pd.DataFrame) -> pd.DataFrame:
    """Per strategy: run counts and the mean cost of its ok runs (seconds, MiB, millions)."""
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
    return pd.DataFrame(rows)


def _number(value: float, digits: int) -> str:
    """``1,234.5`` with ``digits`` decimals; NO_INTERVAL for a missing value."""
    return NO_INTERVAL if pd.isna(value) else f"{value:,.{digits}f}"


def cost_table(summary: pd.DataFrame) -> Table:
    """Table 3: what each strategy costs, mean over its ok runs (all pairs and seeds, shots=all)."""
    runs = main_runs(summary)
    data = _cost_rows(runs)
    cells = pd.DataFrame({
        "Runs ok": [f"{r.n_ok}/{r.n_runs}" for r in data.itertuples()],
        "Train time (s)": [_number(v, 1) for v in data["train_seconds"]],
        "Images/s": [_number(v, 0) for v in data["images_per_second"]],
        "Peak host RSS (MiB)": [_number(v, 0) for v in data["peak_host_rss_mib"]],
        "Peak accel. (MiB)": [_number(v, 0) for v in data["peak_accelerator_mib"]],
        "Trainable params (M)": [_number(v, 2) for v in data["trainable_params_m"]],
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


def _by_budget(data: pd.DataFrame, column: str, missing, keys: list[tuple[str, str]],
               shots: list) -> list[list]:
    """``column`` per (pair, strategy) key and budget; ``missing`` where there is no run."""
    value = {(r.pair, r.strategy, r.shots): getattr(r, column) for r in data.itertuples()}
    return [[value.get((pair, strategy, k), missing) for k in shots] for pair, strategy in keys]


def data_efficiency_table(summary: pd.DataFrame) -> Table:
    """Table 4: accuracy (%) per pair x strategy x shots per class, mean ± 95% CI.

    Covers the (pair, strategy) combinations with a limited-shots run; their ``all``
    column is the main sweep's run. Bold: best strategy per pair and budget.
    """
    budgets, runs = data_efficiency_runs(summary)
    synthetic = synthetic_pairs(summary)
    data, seeds = accuracy_rows(runs, ["pair", "strategy", "shots"], synthetic)
    shown = data["accuracy_mean_pct"].round(1)
    best = data.assign(shown=shown).groupby(["pair", "shots"], sort=False)["shown"].transform("max")
    data["best"] = shown.eq(best)
    shots = sorted(data["shots"].unique(), key=lambda k: math.inf if k == "all" else k)
    keys = list(budgets.itertuples(index=False, name=None))
    index = pd.Index([pair_strategy_label(p, synthetic[p], s) for p, s in keys],
                     name="Pair / strategy")
    header = ["all" if k == "all" else f"{k} shot{'' if k == 1 else 's'}" for k in shots]
    cells = pd.DataFrame(_by_budget(data, "text", NO_INTERVAL, keys, shots), index=index,
                         columns=header)
    bold = pd.DataFrame(_by_budget(data, "best", False, keys, shots), index=index, columns=header)
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
