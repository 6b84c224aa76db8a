"""How strategies and pairs are shown in every table and figure: order, names, colours, marks.

The one place these are defined; the tables (:mod:`bench.tables`) and the figures
(:mod:`bench.figures`) import them from here. A leaf: imports nothing from ``bench``.
"""

from __future__ import annotations

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
# Okabe & Ito (2008), safe for colour-blind readers. Scratch, the baseline, is grey;
# the yellow is left out, too faint on white.
STRATEGY_COLOURS = {
    "scratch": "#999999",
    "feature_extraction": "#E69F00",
    "partial": "#56B4E9",
    "full": "#0072B2",
    "dan": "#D55E00",
    "gradual_unfreeze": "#009E73",
    "discriminative_lr": "#CC79A7",
}
# For strategies added later, until they get a colour above.
EXTRA_COLOURS = ("#000000", "#F0E442", "#8C564B", "#17BECF")

SYNTHETIC_MARK = "†"
SYNTHETIC_NOTE = f"{SYNTHETIC_MARK} synthetic: generated stand-in data, not the real data set."


def strategy_rank(strategy: str) -> tuple[int, str]:
    """Sort key: known strategies in STRATEGY_ORDER, then the rest alphabetically."""
    known = STRATEGY_ORDER.index(strategy) if strategy in STRATEGY_ORDER else len(STRATEGY_ORDER)
    return known, strategy


def strategy_label(strategy: str) -> str:
    """The strategy's display name; its identifier when it has none."""
    return STRATEGY_LABELS.get(strategy, strategy)


def strategy_colours(strategies: list[str]) -> dict[str, str]:
    """Colour per strategy: the fixed ones, then EXTRA_COLOURS in order for unknown ones.

    Args:
        strategies: the strategies one figure shows. Unknown ones are coloured in
            alphabetical order, so the same set gets the same colours in every figure.

    Returns:
        Strategy -> hex colour.
    """
    unknown = [s for s in strategies if s not in STRATEGY_COLOURS]
    extra = {s: EXTRA_COLOURS[i % len(EXTRA_COLOURS)] for i, s in enumerate(sorted(unknown))}
    return {s: STRATEGY_COLOURS.get(s, extra.get(s)) for s in strategies}


def pair_label(pair: str, synthetic: bool) -> str:
    """The pair's name, marked with SYNTHETIC_MARK when its data are synthetic."""
    return f"{pair}{SYNTHETIC_MARK}" if synthetic else pair


def pair_strategy_label(pair: str, synthetic: bool, strategy: str) -> str:
    """A row label for a table by pair and strategy: ``imagenet-digits / Full FT``."""
    return f"{pair_label(pair, synthetic)} / {strategy_label(strategy)}"
