"""How strategies and pairs are shown in every table and figure: order, names, colours, marks.

A strategy's place, name and colour are its class's (``order``, ``label``, ``colour`` in
:mod:`bench.strategies`); this module reads them there, and gives strategies that are not
registered (a summary from elsewhere) a place after them, their identifier as name and a
spare colour. The tables (:mod:`bench.tables`) and the figures (:mod:`bench.figures`)
import all of it from here.
"""

from __future__ import annotations

from bench.strategies import STRATEGIES, list_strategies

# For strategies that are not registered: Okabe & Ito's (2008) yellow (the registered
# strategies take their other seven and grey), then three more, so that every strategy
# of a figure is told apart.
EXTRA_COLOURS = ("#F0E442", "#8C564B", "#17BECF", "#BCBD22")

SYNTHETIC_MARK = "†"
SYNTHETIC_NOTE = f"{SYNTHETIC_MARK} synthetic: generated stand-in data, not the real data set."


def strategy_rank(strategy: str) -> tuple[int, str]:
    """Sort key: registered strategies in their ``order``, then the rest alphabetically."""
    order = list_strategies()
    return (order.index(strategy) if strategy in order else len(order)), strategy


def strategy_label(strategy: str) -> str:
    """The strategy's display name; its identifier when it has none."""
    return STRATEGIES[strategy].label if strategy in STRATEGIES else strategy


def strategy_colours(strategies: list[str]) -> dict[str, str]:
    """Colour per strategy: its class's, then EXTRA_COLOURS in order for unknown ones.

    Args:
        strategies: the strategies one figure shows. Unknown ones are coloured in
            alphabetical order, so the same set gets the same colours in every figure.

    Returns:
        Strategy -> hex colour.
    """
    unknown = sorted(s for s in strategies if s not in STRATEGIES)
    extra = {s: EXTRA_COLOURS[i % len(EXTRA_COLOURS)] for i, s in enumerate(unknown)}
    return {s: STRATEGIES[s].colour if s in STRATEGIES else extra[s] for s in strategies}


def pair_label(pair: str, synthetic: bool) -> str:
    """The pair's name, marked with SYNTHETIC_MARK when its data are synthetic."""
    return f"{pair}{SYNTHETIC_MARK}" if synthetic else pair


def pair_strategy_label(pair: str, synthetic: bool, strategy: str) -> str:
    """A row label for a table by pair and strategy: ``imagenet-digits / Full FT``."""
    return f"{pair_label(pair, synthetic)} / {strategy_label(strategy)}"


LABEL_SPACE_MARK = "‡"
LABEL_SPACE_NOTE = (f"{LABEL_SPACE_MARK} source and target do not share a label space, so DAN "
                    "aligns the bottleneck features only (MK-MMD without the logit term): not "
                    "DAN as Long et al. (2015) define it.")


def needs_shared_labels(strategy: str) -> bool:
    """Whether the strategy is itself only where both domains share one label space."""
    return strategy in STRATEGIES and STRATEGIES[strategy].needs_shared_labels
