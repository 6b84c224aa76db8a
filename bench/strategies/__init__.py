"""Strategies, one module each, found by name in :data:`STRATEGIES`.

To add one: write a module with a :class:`Strategy` subclass decorated with
``@register``, import it below, and name it in ``config.yaml``'s ``strategies``.
"""

from bench.strategies import (  # noqa: F401  (each import registers its strategy)
    dan,
    discriminative_lr,
    feature_extraction,
    full,
    gradual_unfreeze,
    partial,
    scratch,
)
from bench.strategies.base import STRATEGIES, Network, Strategy, register

__all__ = ["STRATEGIES", "Network", "Strategy", "register"]
