r"""The source-model axis: does a better ImageNet model transfer better?

A sweep with ``backbones: [...]`` runs every pair x strategy x seed of its main sweep
once per source model. This module turns those runs into the table ``backbones`` (CSV,
Markdown, LaTeX, HTML, as :mod:`bench.tables` writes them) and the figure
``backbones`` (PNG, PDF): transfer accuracy per backbone against the backbone's
published ImageNet-1k top-1, with Spearman's rank correlation between the two, the
question of Kornblith, Shlens & Le, "Do Better ImageNet Models Transfer Better?"
(CVPR 2019), asked offline.

    python -m bench.backbone_report --out-dir results results/runs results/backbones
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy.stats import spearmanr

from bench.plotting import save, set_style, small_multiples
from bench.presentation import LABEL_SPACE_NOTE, strategy_label
from bench.stats import mean_interval
from bench.summary import RecordError, load_records, main_runs, ok_runs, summary_frame
from bench.tables.cells import format_number, seed_count, table_notes
from bench.tables.paper import label_space_marks
from bench.tables.render import Table, write_table

NAME = "backbones"
CAPTION = "Transfer accuracy (%) by source model against its ImageNet-1k top-1"


def backbone_runs(summary: pd.DataFrame, top1: dict[str, float]) -> pd.DataFrame:
    """The main sweep's runs (shots = all) with each backbone's ImageNet top-1 (%).

    Raises:
        ValueError: a backbone has no published top-1 in ``top1``, naming it.
    """
    runs = main_runs(summary).copy()
    missing = sorted(set(runs["backbone"]) - set(top1))
    if missing:
        raise ValueError(f"no published ImageNet-1k top-1 for backbone(s) {', '.join(missing)}; "
                         f"known: {', '.join(sorted(top1))}")
    runs["imagenet_top1"] = runs["backbone"].map(top1).astype(float)
    return runs


def pair_means(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (backbone, pair, strategy): mean accuracy (%) over ok seeds, counts.

    ``mark`` is the cell's ‡ ("" where none): any strategy may be swept on the backbone
    axis, DAN included, and DAN where the label spaces differ is marked as everywhere.
    """
    rows = []
    keys = ["backbone", "imagenet_top1", "pair", "strategy"]
    for key, group in runs.groupby(keys, sort=False):
        interval = mean_interval(ok_runs(group)["accuracy"])
        rows.append({**dict(zip(keys, key, strict=True)), "accuracy": interval.mean * 100,
                     "low": interval.low * 100, "high": interval.high * 100,
                     "n_ok": len(ok_runs(group)), "n": len(group),
                     "synthetic": bool(group["synthetic"].astype(bool).any())})
    means = pd.DataFrame(rows)
    return means.assign(mark=label_space_marks(runs, means)[0])


def rank_correlations(means: pd.DataFrame) -> pd.DataFrame:
    """Spearman's rho between ImageNet top-1 and transfer accuracy, per strategy.

    Two views, as Kornblith et al. report per data set: ``rho_mean`` correlates top-1
    with accuracy averaged over the pairs; ``rho_pairs_median`` is the median of the
    per-pair rhos and ``pairs_positive`` how many pairs have rho > 0. With k backbones
    rho takes few values (k = 3: -1, -0.5, 0.5, 1) and no permutation p-value is below
    1/k!, so the figures describe; they do not test.
    """
    rows = []
    for strategy, group in means.groupby("strategy", sort=False):
        averaged = group.groupby("imagenet_top1")["accuracy"].mean()
        per_pair = [_rho(cell["imagenet_top1"], cell["accuracy"])
                    for _, cell in group.groupby("pair", sort=False)]
        per_pair = [rho for rho in per_pair if not math.isnan(rho)]
        rows.append({"strategy": strategy, "backbones": len(averaged),
                     "rho_mean": _rho(pd.Series(averaged.index), pd.Series(averaged.values)),
                     "rho_pairs_median": float(np.median(per_pair)) if per_pair else math.nan,
                     "pairs_positive": sum(rho > 0 for rho in per_pair),
                     "pairs": len(per_pair)})
    return pd.DataFrame(rows)


def _rho(x: pd.Series, y: pd.Series) -> float:
    """Spearman's rho; NaN with fewer than two distinct values on either side."""
    if x.nunique() < 2 or y.dropna().nunique() < 2:
        return math.nan
    return float(spearmanr(x, y, nan_policy="omit").statistic)


def backbones_table(means: pd.DataFrame) -> Table:
    """Rows: backbones by top-1, then Spearman's rho; columns: strategies (mean over pairs)."""
    strategies = list(dict.fromkeys(means["strategy"]))
    correlations = rank_correlations(means).set_index("strategy")
    averaged = means.groupby(["backbone", "imagenet_top1", "strategy"], sort=False)["accuracy"]
    averaged = averaged.mean().unstack("strategy")[strategies].sort_index(level="imagenet_top1")
    # ‡ on a mean over pairs when one of the pairs is marked (LABEL_SPACE_OVER_PAIRS).
    marked = means.groupby("strategy", sort=False)["mark"].max()  # "‡" > ""
    cells = pd.DataFrame(
        {strategy_label(s): [format_number(v) + (f" {marked[s]}" if marked[s] else "")
                             for v in averaged[s]] for s in strategies},
        index=[f"{b} ({t:.1f})" for b, t in averaged.index])
    cells.index.name = "Backbone (ImageNet top-1 %)"
    cells.loc["Spearman ρ (mean over pairs)"] = [
        format_number(correlations.loc[s, "rho_mean"], 2, signed=True) for s in strategies]
    cells.loc["Spearman ρ per pair: median (ρ > 0)"] = [
        f"{format_number(correlations.loc[s, 'rho_pairs_median'], 2, signed=True)} "
        f"({correlations.loc[s, 'pairs_positive']}/{correlations.loc[s, 'pairs']})"
        for s in strategies]
    data = means.merge(correlations.reset_index(), on="strategy")
    bold = pd.DataFrame(False, index=cells.index, columns=cells.columns)
    return Table(NAME, CAPTION, data, cells, bold, _notes(means))


def _notes(means: pd.DataFrame) -> list[str]:
    """The table's footnotes: what a cell is, what rho is, and why it is not a test."""
    backbones = means["backbone"].nunique()
    return [
        "Cells: accuracy on each pair's test set, mean over ok seeds "
        f"({seed_count(means['n_ok'])}), then mean over the {means['pair'].nunique()} pairs.",
        "ImageNet top-1: the weights' published figure (bench.models.IMAGENET_TOP1).",
        f"Spearman ρ over {backbones} backbones between ImageNet top-1 and transfer accuracy; "
        f"with {backbones} models the smallest possible permutation p-value is "
        f"1/{math.factorial(backbones)}, so ρ describes the ordering and is not a test.",
        *_failed_note(means),
        *_label_space_notes(means, LABEL_SPACE_OVER_PAIRS),
        *table_notes(means, counted=False),
    ]


LABEL_SPACE_OVER_PAIRS = "In this table ‡ marks a mean over pairs that includes such a pair."


def _label_space_notes(means: pd.DataFrame, scope: str) -> list[str]:
    """The ‡ note (:data:`bench.presentation.LABEL_SPACE_NOTE`) where a cell is marked."""
    return [f"{LABEL_SPACE_NOTE} {scope}".rstrip()] if means["mark"].astype(bool).any() else []


def _failed_note(means: pd.DataFrame) -> list[str]:
    """A note when some runs diverged or failed: the means are over the others."""
    failed = int((means["n"] - means["n_ok"]).sum())
    return [f"{failed} of {int(means['n'].sum())} runs diverged or failed (summary.csv); "
            "means are over the ok ones."] if failed else []


def backbones_figure(means: pd.DataFrame) -> Figure:
    """Per pair: transfer accuracy (%) against ImageNet top-1 (%), a line per strategy."""
    grid = small_multiples(means, sharex=True, sharey=False)
    for ax, pair in grid.panels():
        for strategy, cell in means[means["pair"] == pair].groupby("strategy", sort=False):
            cell = cell.sort_values("imagenet_top1")
            yerr = np.nan_to_num(np.vstack([cell["accuracy"] - cell["low"],
                                            cell["high"] - cell["accuracy"]]))
            ax.errorbar(cell["imagenet_top1"], cell["accuracy"], yerr=yerr, marker="o",
                        markersize=4, linewidth=1, capsize=2, color=grid.colours[strategy])
            if cell["mark"].iloc[-1]:  # by the line's last point, as data_efficiency does
                ax.annotate(cell["mark"].iloc[-1], (cell["imagenet_top1"].iloc[-1],
                                                    cell["accuracy"].iloc[-1]),
                            xytext=(5, 0), textcoords="offset points", va="center",
                            fontsize=9, color=grid.colours[strategy], fontweight="bold")
    note = " ".join(["One point per backbone: mean over seeds, whiskers 95% t-interval; lines "
                     "join the backbones of one strategy.", *_label_space_notes(means, "")])
    return grid.finish(means, note, xlabel="ImageNet-1k top-1 of the source model (%)")


def report_main(records: list[str | Path], out_dir: str | Path,
                top1: dict[str, float]) -> list[Path]:
    """Write tables/backbones.* and figures/backbones.{png,pdf} below ``out_dir``."""
    summary = summary_frame(load_records(records))
    means = pair_means(backbone_runs(summary, top1))
    out_dir = Path(out_dir)
    paths = write_table(backbones_table(means), out_dir / "tables")
    set_style()
    return paths + save(backbones_figure(means), out_dir / "figures" / NAME)


def main(argv: list[str] | None = None) -> int:
    """The command line (``python -m bench.backbone_report``); returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench.backbone_report",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("records", nargs="+", help="run records, or folders of them")
    parser.add_argument("--out-dir", required=True, help="writes tables/ and figures/ here")
    args = parser.parse_args(argv)
    from bench.models import IMAGENET_TOP1

    try:
        paths = report_main(args.records, args.out_dir, IMAGENET_TOP1)
    except (RecordError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("wrote " + ", ".join(map(str, paths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
