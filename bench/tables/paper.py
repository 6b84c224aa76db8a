"""The paper's tables of the main sweep: accuracy, negative transfer gap, cost, data efficiency, aggregates.

Each counts every run ("2/3 ok"); means and intervals are over the ok runs.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bench.presentation import (
    LABEL_SPACE_MARK,
    LABEL_SPACE_NOTE,
    needs_shared_labels,
    pair_label,
    pair_strategy_label,
    strategy_label,
)
from bench.stats import (
    average_ranks,
)
from bench.summary import (
    MIB,
    data_efficiency_runs,
    labelled_target_runs,
    main_runs,
    pairs_in,
    strategies_in,
    synthetic_pairs,
)
from bench.tables.aggregates import aggregates_table
from bench.tables.cells import (
    NO_INTERVAL,
    accuracy_cell,
    count_note,
    format_number,
    seed_count,
    table_notes,
)
from bench.tables.gaps import gap_rows, holm_marks
from bench.tables.render import Table
from bench.tables.significance import (
    ALPHA,
    bold_note,
    seeds_only_note,
    significance_marks,
)

TABLE_NAMES = ("accuracy", "ntg", "source_gain", "cost", "data_efficiency", "aggregates")


def build_tables(summary: pd.DataFrame) -> list[Table]:
    """All of :data:`TABLE_NAMES`, in that order, from the summary frame."""
    return [accuracy_table(summary), ntg_table(summary), source_gain_table(summary),
            cost_table(summary),
            data_efficiency_table(summary), aggregates_table(summary)]


# ----------------------------------------------------------------------------- helpers


def accuracy_rows(runs: pd.DataFrame, by: list[str],
                  synthetic: dict[str, bool]) -> tuple[pd.DataFrame, list[int]]:
    """Accuracy (%) per group of runs: mean, 95% interval, run counts, marks and the text.

    Args:
        runs: the runs to group.
        by: the grouping columns, ``pair`` first and ``strategy`` second (e.g. pair,
            strategy, shots); a comparison for bold holds all but ``strategy`` fixed.
        synthetic: pair -> synthetic, for the rows' ``synthetic`` column.

    Returns:
        One row per group (in first-seen order) with the columns of
        :func:`bench.tables.significance.significance_marks`, and the seeds behind
        each interval.
    """
    columns = ["pair", "synthetic", *by[1:], "n_runs", "n_ok", "accuracy_mean_pct",
               "ci_low_pct", "ci_high_pct", "text"]
    rows, seeds = [], []
    for key, group in runs.groupby(by, sort=False):
        interval, n_ok, text = accuracy_cell(group, bare=True)
        seeds.append(interval.n)
        rows.append([key[0], synthetic[key[0]], *key[1:], len(group), n_ok, interval.mean * 100,
                     interval.low * 100, interval.high * 100, text])
    data = pd.DataFrame(rows, columns=columns)
    fixed = [column for column in by if column != "strategy"]
    marks = significance_marks(runs, fixed)
    data = data.merge(marks, on=[*fixed, "strategy"], how="left", validate="one_to_one")
    return data.astype({"bold": bool, "beats_chance": bool}), seeds


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


P_COLUMNS = ("p_vs_best", "p_value", "q_value")


def _tidy(data: pd.DataFrame) -> pd.DataFrame:
    """The CSV form: numbers only (the display text is for the formatted tables).

    Rounded to 4 decimals, but for p- and q-values, which keep every digit.
    """
    tidy = data.drop(columns=["text"], errors="ignore")
    return tidy.round({c: 4 for c in tidy.columns if c not in P_COLUMNS})


# ------------------------------------------------------------------------------ tables


def accuracy_note(seeds: list[int], what: str) -> str:
    """The first note of an accuracy table: ``what`` (e.g. "Top-1 accuracy (%) on ...")."""
    if seeds and max(seeds) <= 1:
        return f"{what}: one seed (n = 1), the plain mean, no interval."
    return (f"{what}: mean ± half-width of the 95% t-interval over seeds ({seed_count(seeds)}); "
            f"one seed: the plain mean, no interval.")


OVERALL_NOTE = ("Mean: per strategy, the mean of its per-pair mean accuracies. Mean rank: its "
                "rank within each pair (1 = best mean accuracy; ties share the average "
                "rank), averaged over the pairs. Both over the pairs the strategy ran "
                "on; (k/n pairs) where that is fewer than all. Not bold: no test compares them.")


def overall_rows(data: pd.DataFrame, pairs: list[str], strategies: list[str]) -> pd.DataFrame:
    """Per strategy: its mean accuracy and mean rank over pairs (VTAB/DomainBed convention).

    Args:
        data: :func:`accuracy_rows` by pair and strategy.
        pairs: the pairs, the table's rows.
        strategies: the strategies, the table's columns.

    Returns:
        One row per strategy: ``accuracy_mean_pct`` (mean over pairs), ``rank`` (mean
        rank; within a pair 1 = best mean, ties share the average rank) and ``n_pairs``
        (the pairs it has a mean on).
    """
    means = data.pivot(index="pair", columns="strategy", values="accuracy_mean_pct")
    means = means.reindex(index=pairs, columns=strategies).astype(float)
    _, mean_ranks = average_ranks(means)
    return pd.DataFrame({"strategy": strategies, "accuracy_mean_pct": means.mean().to_numpy(),
                         "rank": mean_ranks.to_numpy(),
                         "n_pairs": means.notna().sum().to_numpy()})


def _overall_cells(overall: pd.DataFrame, n_pairs: int) -> pd.DataFrame:
    """The table's "Mean" and "Mean rank" rows (strategy labels as columns)."""
    def text(value: float, digits: int, n: int) -> str:
        return format_number(value, digits) + ("" if pd.isna(value) else count_note(n, n_pairs,
                                                                                  "pairs"))
    rows = {"Mean": [text(r.accuracy_mean_pct, 1, r.n_pairs) for r in overall.itertuples()],
            "Mean rank": [text(r.rank, 2, r.n_pairs) for r in overall.itertuples()]}
    return pd.DataFrame.from_dict(rows, orient="index",
                                  columns=[strategy_label(s) for s in overall["strategy"]])


def accuracy_table(summary: pd.DataFrame) -> Table:
    """Table 1: top-1 accuracy (%) per pair x strategy, mean ± 95% CI over seeds, shots=all.

    Bold by significance (:mod:`bench.tables.significance`); under the pairs, each
    strategy's mean accuracy and mean rank over pairs (:func:`overall_rows`).
    """
    runs = main_runs(summary)
    synthetic = synthetic_pairs(runs)
    pairs, strategies = pairs_in(runs), strategies_in(runs)
    data, seeds = accuracy_rows(runs, ["pair", "strategy"], synthetic)
    data, label_space_notes = mark_label_space(runs, data)
    overall = overall_rows(data, pairs, strategies)
    row_labels = [pair_label(p, synthetic[p]) for p in pairs]
    summary_cells = _overall_cells(overall, len(pairs))
    cells = pd.concat([_grid(data, pairs, strategies, "text", row_labels), summary_cells])
    bold = _grid(data.assign(bold=data["bold"].astype(float)), pairs, strategies, "bold",
                 row_labels, fill=np.nan) == 1.0
    bold = pd.concat([bold, pd.DataFrame(False, index=summary_cells.index,
                                         columns=summary_cells.columns)])
    cells.index.name = "Pair"
    counted = bool((data["n_ok"] < data["n_runs"]).any())
    notes = [accuracy_note(seeds, "Top-1 accuracy (%) on the target test set"),
             bold_note(seeds, "per pair"), OVERALL_NOTE, seeds_only_note(runs),
             *label_space_notes, *table_notes(runs, counted)]
    tidy = pd.concat([data.assign(rank=data.groupby("pair", sort=False)["accuracy_mean_pct"]
                                  .rank(ascending=False, method="average")),
                      overall.assign(pair="mean over pairs", synthetic=any(synthetic.values()),
                                     bold=False)], ignore_index=True)
    return Table("accuracy", "Target test accuracy by pair and strategy", _tidy(tidy),
                 cells, bold, notes)


def mark_label_space(runs: pd.DataFrame, data: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Mark ‡ the cells of a strategy that needs a shared label space on pairs without one.

    Every table and figure marks by this rule (issue 15: DAN where source and target
    label spaces differ is MK-MMD on the adapted layers only, no logit term).

    Args:
        runs: the runs behind ``data``, with their ``data_shared_label_space``.
        data: rows with ``pair``, ``strategy`` and the display ``text``.

    Returns:
        ``data`` with the marks in ``text`` and a ``shared_label_space`` column (from
        the records' ``data.shared_label_space``; True where not recorded), and the note.
    """
    if "data_shared_label_space" not in runs.columns:
        return data.assign(shared_label_space=True), []
    shared = runs.groupby("pair", sort=False)["data_shared_label_space"].agg(
        lambda values: bool(values.fillna(True).astype(bool).all()))
    data = data.assign(shared_label_space=data["pair"].map(shared).fillna(True).astype(bool))
    marked = ~data["shared_label_space"] & data["strategy"].map(needs_shared_labels)
    data.loc[marked, "text"] = data.loc[marked, "text"] + f" {LABEL_SPACE_MARK}"
    return data, [LABEL_SPACE_NOTE] if marked.any() else []


def label_space_marks(runs: pd.DataFrame, rows: pd.DataFrame) -> tuple[pd.Series, list[str]]:
    """The ‡ of each (pair, strategy) row of ``rows`` ("" where none), and the note.

    :func:`mark_label_space` asked about blank cells (the ones it marks are the ones it
    fills), for a table or figure that puts the mark somewhere other than one text.
    """
    marked, notes = mark_label_space(runs, rows[["pair", "strategy"]].assign(text=""))
    return marked["text"].str.strip().set_axis(rows.index), notes


# The NTG table's names for gap_rows' columns (ntg.csv, the heat map).
NTG_NAMES = {"gap_mean_pp": "ntg_mean_pp", "interval_above_zero": "negative_transfer"}


def ntg_note(data: pd.DataFrame, seeds: list[int]) -> str:
    """What the NTG table shows, its test and its multiplicity correction."""
    return (f"Negative transfer gap NTG = err(strategy) − err(scratch) on the target test set, "
            f"in percentage points, paired by seed: mean ± half-width of the 95% t-interval "
            f"({seed_count(seeds)}). One seed: the plain mean. NTG > 0: worse than training "
            f"from scratch. Bold*: negative transfer, " + _test_note(data, "NTG > 0", "ntg")
            + " Labelled-target pairs only: without target labels NTG is undefined "
            "(tables/source_gain has those pairs).")


def source_gain_note(data: pd.DataFrame, seeds: list[int]) -> str:
    """What the gain-over-source-only table shows, its test and its correction."""
    return (f"Gain over source only = acc(strategy) − acc(source only) on the target test "
            f"set, in percentage points, paired by seed: mean ± half-width of the 95% "
            f"t-interval ({seed_count(seeds)}). One seed: the plain mean. Source only is "
            f"DAN's network, stages and batches trained without the MK-MMD term, so the DAN "
            f"column is DAN's gain from MK-MMD alone. Bold*: a gain, "
            + _test_note(data, "gain > 0", "source_gain")
            + " Unlabelled-target pairs only (where NTG is undefined).")


def _test_note(data: pd.DataFrame, hypothesis: str, name: str) -> str:
    tests = int(data["p_value"].notna().sum())
    return (f"q < {ALPHA}: q is the p-value of a one-sided paired t-test of {hypothesis} on "
            f"the per-seed accuracies (scipy.stats.ttest_rel), Holm-adjusted across the "
            f"table's {tests} tests (family-wise error {ALPHA:.0%}); fewer than two paired "
            f"seeds: no test. {name}.csv has both p_value and q_value.")


def ntg_table(summary: pd.DataFrame) -> Table:
    """Table 2: negative transfer gap NTG = err(strategy) − err(scratch), paired by seed.

    Labelled-target pairs only. In percentage points; > 0 means the strategy is worse
    than training from scratch. Marked (bold, *) where the one-sided paired test of
    NTG > 0 has q < ALPHA after Holm's correction across the whole table.
    """
    runs = labelled_target_runs(main_runs(summary))
    data, cells, bold, notes = _gap_table(runs, "scratch", True, ntg_note)
    return Table("ntg", "Negative transfer gap by pair and strategy",
                 data.rename(columns=NTG_NAMES), cells, bold, notes)


def source_gain_table(summary: pd.DataFrame) -> Table:
    """Gain over source only, acc(strategy) − acc(source_only), on unlabelled-target pairs."""
    runs = main_runs(summary)
    if "target_labels" in runs.columns:
        runs = runs[~runs["target_labels"].astype(bool)]
    return Table("source_gain", "Gain over source only by pair and strategy (unlabelled target)",
                 *_gap_table(runs, "source_only", False, source_gain_note))


def _gap_table(runs: pd.DataFrame, baseline: str, worse: bool,
               note) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[str]]:
    """A pair x strategy table of paired gaps to ``baseline`` (:mod:`bench.tables.gaps`).

    Returns:
        The tidy data, the cells, the bold marks and the notes of the table.
    """
    synthetic = synthetic_pairs(runs) if len(runs) else {}
    pairs = pairs_in(runs)
    strategies = [s for s in strategies_in(runs) if s != baseline] if len(runs) else []
    data, seeds = gap_rows(runs, strategies, synthetic, baseline, worse)
    row_labels = [pair_label(p, synthetic[p]) for p in pairs]
    if data.empty or data["n_paired"].eq(0).all():
        cells = pd.DataFrame(index=pd.Index(row_labels, name="Pair"))
        bold = cells.astype(bool)
        notes = [f"Empty: it needs pairs of this protocol with {strategy_label(baseline)} runs "
                 "and at least one other strategy, both ok, on the same seeds."]
    else:
        data, label_space_notes = mark_label_space(runs, holm_marks(data))
        cells = _grid(data, pairs, strategies, "text", row_labels)
        flags = data.assign(flag=data["significant"].astype(float))
        bold = _grid(flags, pairs, strategies, "flag", row_labels, fill=np.nan) == 1.0
        notes = [note(data, seeds),
                 f"(k/n paired): only k of n seeds have both this strategy's and "
                 f"{strategy_label(baseline)}'s run ok."
                 if (data["n_paired"] < data["n_runs"]).any() else "",
                 seeds_only_note(runs), *label_space_notes,
                 *(table_notes(runs, counted=False) if len(runs) else [])]
    cells.index.name = "Pair"
    return _tidy(data), cells, bold, [n for n in notes if n]


def _cost_rows(runs: pd.DataFrame) -> pd.DataFrame:
    """Per strategy: run counts and the mean cost of its ok runs (seconds, MiB, millions, FLOPs)."""
    rows = []
    for strategy in strategies_in(runs):
        group = runs[runs["strategy"] == strategy]
        ok = group[group["status"] == "ok"]
        accelerator = ok["peak_accelerator_bytes"].dropna()
        rows.append({
            "strategy": strategy, "n_runs": len(group), "n_ok": len(ok),
            "train_seconds": ok["train_seconds"].mean(),
            **{column: _mean_of_all(ok, column) for column in AMORTISED_COLUMNS},
            "train_flops": _mean_of_all(ok, "train_flops"),
            "images_per_second": ok["images_per_second"].mean(),
            "peak_host_rss_mib": ok["peak_host_rss_bytes"].mean() / MIB,
            "data_accelerator_mib": _mean_of_all(ok, "data_accelerator_bytes") / MIB,
            "peak_accelerator_mib": accelerator.mean() / MIB if len(accelerator) else np.nan,
            "trainable_params_m": ok["trainable_params"].mean() / 1e6,
            "total_params_m": ok["total_params"].mean() / 1e6,
        })
    return pd.DataFrame(rows)


# The summary's amortised-cost columns (bench.cost), as the cost table's tidy data keeps them.
AMORTISED_COLUMNS = ("prepare_seconds", "cache_seconds_amortised", "total_seconds_amortised")
FLOP_UNITS = ((1e15, "PFLOP"), (1e12, "TFLOP"), (1e9, "GFLOP"), (1e6, "MFLOP"))


def _mean_of_all(runs: pd.DataFrame, column: str) -> float:
    """Mean of ``column`` over the runs, NaN unless every run has it (older records do not)."""
    if column not in runs.columns or runs[column].isna().any():
        return np.nan
    return float(runs[column].astype(float).mean())


def _flop_unit(flops: pd.Series) -> tuple[float, str]:
    """The largest unit that leaves the column's largest value at 1 or more."""
    largest = flops.max()
    return next(((scale, unit) for scale, unit in FLOP_UNITS if largest >= scale),
                FLOP_UNITS[-1])


def cost_table(summary: pd.DataFrame) -> Table:
    """Table 3: what each strategy costs, mean over its ok runs (all pairs and seeds, shots=all)."""
    runs = main_runs(summary)
    data = _cost_rows(runs)
    scale, unit = _flop_unit(data["train_flops"])
    cells = pd.DataFrame({
        "Runs ok": [f"{r.n_ok}/{r.n_runs}" for r in data.itertuples()],
        "Train time (s)": [format_number(v, 1) for v in data["train_seconds"]],
        "Total, amortised (s)": [format_number(v, 1) for v in data["total_seconds_amortised"]],
        # Feature extraction's head is ~1e-5 of full fine-tuning's: not a rounded 0.0.
        f"Train compute ({unit})": ["< 0.1" if 0 < v / scale < 0.05 else format_number(v / scale, 1)
                                    for v in data["train_flops"]],
        "Images/s": [format_number(v, 0) for v in data["images_per_second"]],
        "Peak host RSS (MiB)": [format_number(v, 0) for v in data["peak_host_rss_mib"]],
        "Accel. data (MiB)": [format_number(v, 0) for v in data["data_accelerator_mib"]],
        "Peak accel. (MiB)": [format_number(v, 0) for v in data["peak_accelerator_mib"]],
        "Trainable params (M)": [format_number(v, 2) for v in data["trainable_params_m"]],
    }, index=pd.Index([strategy_label(s) for s in data["strategy"]], name="Strategy"))
    return Table("cost", "Cost per strategy", data.round(4), cells,
                 pd.DataFrame(False, index=cells.index, columns=cells.columns),
                 cost_notes(runs, f"1 {unit} = {scale:.0e} FLOPs"))


def cost_notes(runs: pd.DataFrame, unit: str) -> list[str]:
    """What the cost table's columns measure, over which runs and on which device.

    Args:
        runs: the runs the table is over.
        unit: the compute column's unit, defined (``1 TFLOP = 1e+12 FLOPs``).
    """
    devices = ", ".join(sorted(runs["device"].astype(str).unique()))
    synthetic = synthetic_pairs(runs)
    pairs = ", ".join(pair_label(p, synthetic[p]) for p in pairs_in(runs))
    return [f"Mean over each strategy's ok runs across all seeds and the pairs {pairs} "
            f"(all target data; device: {devices}). Train time: wall seconds of the run's "
            "own training loop (validation, test, input preparation and shared cache work "
            "excluded). Total, amortised: train time + input preparation + the run's share "
            "of the activation caches it reads (feature extraction's features, a frozen "
            "prefix): each cache file's compute time divided by the number of the sweep's "
            "runs that read it. Train compute: training FLOPs (forward and backward, "
            f"counted by torch FlopCounterMode; {unit}), cached frozen "
            "stages not counted. Images/s: every image a training step processes, the other "
            "domain's batch included (DAN, Source only). Accel. data: accelerator memory the "
            "data holds; Peak accel.: the training peak measured from once the data is on "
            f"the device (torch.cuda.max_memory_allocated); {NO_INTERVAL} on CPU, and "
            f"{NO_INTERVAL} in the timing and compute columns for records that predate them.",
            *table_notes(runs, counted=False)]


def _by_budget(data: pd.DataFrame, column: str, missing, keys: list[tuple[str, str]],
               shots: list) -> list[list]:
    """``column`` per (pair, strategy) key and budget; ``missing`` where there is no run."""
    value = {(r.pair, r.strategy, r.shots): getattr(r, column) for r in data.itertuples()}
    return [[value.get((pair, strategy, k), missing) for k in shots] for pair, strategy in keys]


def data_efficiency_table(summary: pd.DataFrame) -> Table:
    """Table 4: accuracy (%) per pair x strategy x shots per class, mean ± 95% CI.

    Covers the (pair, strategy) combinations with a limited-shots run; their ``all``
    column is the main sweep's run. Bold by significance among the strategies of a
    pair and budget (:mod:`bench.tables.significance`).
    """
    budgets, runs = data_efficiency_runs(summary)
    synthetic = synthetic_pairs(summary)
    data, seeds = accuracy_rows(runs, ["pair", "strategy", "shots"], synthetic)
    data, label_space_notes = mark_label_space(runs, data)
    shots = sorted(data["shots"].unique(), key=lambda k: math.inf if k == "all" else k)
    keys = list(budgets.itertuples(index=False, name=None))
    index = pd.Index([pair_strategy_label(p, synthetic[p], s) for p, s in keys],
                     name="Pair / strategy")
    header = ["all" if k == "all" else f"{k} shot{'' if k == 1 else 's'}" for k in shots]
    cells = pd.DataFrame(_by_budget(data, "text", NO_INTERVAL, keys, shots), index=index,
                         columns=header)
    bold = pd.DataFrame(_by_budget(data, "bold", False, keys, shots), index=index, columns=header)
    if data.empty:
        notes = ["No data-efficiency runs (config key data_efficiency) in this sweep."]
    else:
        notes = [accuracy_note(seeds, "Top-1 accuracy (%) on the target test set against "
                               "labelled training examples per class (all: the whole "
                               "training split)"),
                 bold_note(seeds, "per pair and budget"), seeds_only_note(runs),
                 *label_space_notes, *table_notes(runs, bool((data["n_ok"] < data["n_runs"]).any()))]
    return Table("data_efficiency", "Data efficiency: accuracy against shots per class",
                 _tidy(data), cells, bold, notes)
