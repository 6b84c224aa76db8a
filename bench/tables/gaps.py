"""Paired accuracy gaps against a baseline strategy, one per protocol.

Which baseline a transfer strategy is measured against depends on what the pair's
protocol can define (Wang et al., "Characterizing and Avoiding Negative Transfer",
CVPR 2019):

* labelled-target pairs: the negative transfer gap NTG = err(strategy) − err(scratch),
  scratch trained on the target's own labels (tables/ntg, the NTG heat map);
* unlabelled-target pairs (Office-31): NTG is not defined without target labels (a
  scratch run there trains on *source* labels), so the table is the gain over
  ``source_only`` — DAN's network trained on source labels alone — acc(strategy) −
  acc(source only) (tables/source_gain); its DAN column is DAN's gain from MK-MMD.

Both are paired by seed, in percentage points, each cell a one-sided paired t-test
with Holm's correction across its table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.stats import holm, mean_interval, paired_differences, paired_p_greater
from bench.summary import ok_runs, pairs_in
from bench.tables.cells import count_note, format_interval
from bench.tables.significance import ALPHA

GAP_COLUMNS = ["pair", "synthetic", "strategy", "n_runs", "n_paired", "gap_mean_pp",
               "ci_low_pp", "ci_high_pp", "interval_above_zero", "p_value", "q_value",
               "significant", "text"]


def gap_rows(runs: pd.DataFrame, strategies: list[str], synthetic: dict[str, bool],
             baseline: str, worse: bool) -> tuple[pd.DataFrame, list[int]]:
    """Per pair x strategy, the paired gap to ``baseline`` (GAP_COLUMNS), and its seeds.

    Args:
        runs: the runs of the table's pairs.
        strategies: the columns.
        synthetic: pair -> synthetic.
        baseline: the strategy every other is paired with, by seed.
        worse: True: the gap is err(strategy) − err(baseline) (NTG; > 0 = worse);
            False: acc(strategy) − acc(baseline) (a gain; > 0 = better).

    ``p_value`` tests gap > 0 (one-sided, paired); ``q_value`` and ``significant`` are
    left for :func:`holm_marks`, as are the star and the count in ``text``.
    """
    rows, seeds = [], []
    for pair in pairs_in(runs):
        in_pair = ok_runs(runs[runs["pair"] == pair])
        base = in_pair[in_pair["strategy"] == baseline].set_index("seed")["accuracy"]
        for strategy in strategies:
            group = runs[(runs["pair"] == pair) & (runs["strategy"] == strategy)]
            if group.empty:
                continue
            accuracy = ok_runs(group).set_index("seed")["accuracy"]
            # err(s) − err(b) = acc(b) − acc(s): NTG pairs the baseline first.
            high, low = (base, accuracy) if worse else (accuracy, base)
            interval = mean_interval(paired_differences(high, low))
            seeds.append(interval.n)
            p_value, _ = paired_p_greater(high.astype(float), low.astype(float))
            rows.append([pair, synthetic[pair], strategy, len(group), interval.n,
                         interval.mean * 100, interval.low * 100, interval.high * 100,
                         interval.above_zero(), p_value, np.nan, False,
                         format_interval(interval, signed=True, bare=True)])
    return pd.DataFrame(rows, columns=GAP_COLUMNS), seeds


def holm_marks(data: pd.DataFrame) -> pd.DataFrame:
    """Holm's q over the table's p-values; ``significant`` where q < ALPHA; star and count."""
    data = data.copy()
    data["q_value"] = holm(data["p_value"].to_numpy(dtype=float))
    data["significant"] = data["q_value"] < ALPHA  # NaN (fewer than two seeds) is False
    data["text"] = [text + ("*" if significant else "") + count_note(n, runs, "paired")
                    for text, significant, n, runs in zip(data["text"], data["significant"],
                                                          data["n_paired"], data["n_runs"],
                                                          strict=True)]
    return data
