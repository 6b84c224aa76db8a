"""Strategies, one module each, found by name in :data:`STRATEGIES`.

To add one: write a module in this package with a :class:`Strategy` subclass decorated
with ``@register`` (its name, label, colour, order and typed settings on the class), and
name it in ``config.yaml``'s ``strategies``. Every module here is imported below, so the
module itself is the whole change: the config schema, tuning's search space, table order
and figure colours come from the class.
"""

import importlib
import pkgutil

from bench.strategies.base import STRATEGIES, Param, Strategy, choice, log_uniform, register

# Each strategy module registers its class when imported.
for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")


def list_strategies() -> list[str]:
    """Registered strategy names in table order (``order``, then name)."""
    return sorted(STRATEGIES, key=lambda name: (STRATEGIES[name].order, name))


def settings_schema(name: str) -> dict:
    """JSON schema of ``strategy_params.NAME`` beyond the train keys: {key: property}."""
    return {key: param.json_schema() for key, param in STRATEGIES[name].settings.items()}


__all__ = ["STRATEGIES", "Param", "Strategy", "choice", "list_strategies",
           "log_uniform", "register", "settings_schema"]
