"""Which accuracy cells a table sets in bold, and the notes that say why.

Bold is the best strategy of a comparison (a pair, or a pair and budget: the highest
mean accuracy) and every strategy *not significantly worse* than it: a one-sided
paired t-test, by seed, of best − strategy > 0 at :data:`ALPHA`
(:func:`bench.stats.paired_p_greater`). Nothing is bold where no strategy beats
chance (1 / classes): with seeds, its 95% interval must lie above chance; with one
seed, its mean. A strategy that shares fewer than two seeds with the best cannot be
tested, and is bold only when its mean, as shown, equals the best's.
"""

from __future__ import annotations

import math

import pandas as pd

from bench.presentation import pair_label
from bench.stats import Interval, mean_interval, paired_p_greater
from bench.summary import ok_runs, pairs_in, synthetic_pairs

ALPHA = 0.05
MARK_COLUMNS = ["beats_chance", "p_vs_best", "bold"]


def chance_levels(runs: pd.DataFrame) -> dict[str, float]:
    """Pair -> chance accuracy, 1 / classes (the records' ``data.num_classes``); NaN unknown."""
    if "data_num_classes" not in runs.columns:
        return dict.fromkeys(pairs_in(runs), math.nan)
    classes = pd.to_numeric(runs["data_num_classes"], errors="coerce").astype(float)
    most = classes.groupby(runs["pair"], sort=False).max()
    return {pair: 1 / most[pair] if most[pair] >= 1 else math.nan for pair in pairs_in(runs)}


def beats_chance(interval: Interval, chance: float) -> bool:
    """Whether the 95% interval (one seed: the mean) lies above chance; True when unknown."""
    if math.isnan(interval.mean):
        return False
    if math.isnan(chance):
        return True
    if interval.n >= 2:
        return bool(interval.low > chance)
    return bool(interval.mean > chance)


def compare_to_best(accuracy: dict[str, pd.Series], chance: float) -> dict[str, tuple]:
    """One comparison: strategy -> (beats chance, p of best > strategy, bold).

    Args:
        accuracy: strategy -> its ok runs' accuracy, indexed by seed.
        chance: the pair's chance accuracy (NaN: unknown, no chance check).
    """
    intervals = {s: mean_interval(values) for s, values in accuracy.items()}
    shown = {s: round(i.mean * 100, 1) for s, i in intervals.items() if not math.isnan(i.mean)}
    if not shown:
        return {s: (False, math.nan, False) for s in accuracy}
    best = max(shown, key=lambda s: intervals[s].mean)
    above = {s: beats_chance(i, chance) for s, i in intervals.items()}
    marks = {}
    for strategy in accuracy:
        p = math.nan
        if strategy in shown and strategy != best:
            p, _ = paired_p_greater(accuracy[best], accuracy[strategy])
        tied = strategy in shown and shown[strategy] == shown[best]
        not_worse = strategy == best or (tied if math.isnan(p) else p >= ALPHA)
        marks[strategy] = (above[strategy], p, any(above.values()) and not_worse)
    return marks


def significance_marks(runs: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """:func:`compare_to_best` for every comparison group of ``runs``.

    Args:
        runs: the runs (ok or not) of a table.
        by: what a comparison holds fixed, ``pair`` first (e.g. pair, or pair and shots).

    Returns:
        One row per group and strategy: ``by``, strategy and :data:`MARK_COLUMNS`.
    """
    chance = chance_levels(runs)
    rows = []
    for key, group in runs.groupby(by, sort=False):
        accuracy = {strategy: ok_runs(runs_of).set_index("seed")["accuracy"].astype(float)
                    for strategy, runs_of in group.groupby("strategy", sort=False)}
        for strategy, marks in compare_to_best(accuracy, chance[key[0]]).items():
            rows.append([*key, strategy, *marks])
    return pd.DataFrame(rows, columns=[*by, "strategy", *MARK_COLUMNS])


def bold_note(seeds: list[int], within: str) -> str:
    """What bold means in an accuracy table; ``within``: the comparison, e.g. "per pair"."""
    if seeds and max(seeds) <= 1:
        return (f"Bold: the highest mean {within} (one seed: no test; ties as shown all "
                f"bold); nothing bold where no mean is above chance (1 / number of classes).")
    return (f"Bold: the best strategy {within} (highest mean) and every strategy not "
            f"significantly worse than it: one-sided paired t-test of best − strategy > 0 "
            f"on the per-seed accuracies (scipy.stats.ttest_rel, alternative=greater), "
            f"p ≥ {ALPHA}, no multiplicity correction; a strategy sharing fewer than two "
            f"seeds with the best is bold only when its mean as shown equals the best's. "
            f"Nothing bold where no strategy beats chance (1 / number of classes): its 95% "
            f"interval (one seed: its mean) must lie above chance.")


def seeds_only_note(runs: pd.DataFrame) -> str:
    """"Intervals cover seeds only; test set: N images", N per pair where they differ."""
    lead = ("Intervals cover training seeds only, not the sampling of the test set "
            "(the same images for every seed); test set: ")
    if "data_test" not in runs.columns or runs["data_test"].isna().all():
        return lead + "size not recorded."
    sizes = pd.to_numeric(runs["data_test"], errors="coerce").groupby(runs["pair"],
                                                                      sort=False).max()
    if sizes.nunique(dropna=False) == 1:
        return lead + f"{int(sizes.iloc[0]):,} images per pair."
    synthetic = synthetic_pairs(runs)
    return lead + ", ".join(
        f"{pair_label(pair, synthetic[pair])} {'?' if pd.isna(n) else f'{int(n):,}'}"
        for pair, n in sizes.items()) + " images."
