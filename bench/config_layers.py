"""Config files layered as the Snakefile layers them: each ``--config`` over ``config.yaml``.

Snakemake reads the workflow's ``config.yaml``, merges every ``--configfile`` into one
overlay, in order, and merges the overlay over ``config.yaml``; each merge is
``snakemake.utils.update_config``: key by key, recursively, a mapping into the mapping
below it, anything else (a list, a number, a string) replacing what was there. One key
is tlbench's own rule: a config that names ``pairs`` means exactly those pairs, so its
``pairs`` replaces the default map instead of adding to it.

:func:`layer` is that rule, written once: ``workflows/rules/common.smk`` applies it to the
config Snakemake merged, and ``python -m bench`` to the ``--config`` files it is given
(:func:`layered_config`), so a run of any sweep can be repeated by hand and the two never
differ. The base is the repository's ``config.yaml`` (:func:`base_config_path`), the
file the Snakefile names, wherever the command runs from.

Torch-free and quick to import: Snakemake's parse of the workflow imports it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from pathlib import Path

import yaml
from snakemake.utils import update_config

from bench.settings import ConfigError

# Keys a config replaces wholesale rather than merging into the default's mapping.
REPLACED_KEYS = ("pairs",)

# The repository holding this package: config.yaml and the Snakefile sit at its root.
_REPOSITORY = Path(__file__).resolve().parent.parent


def layer(base: dict, overlay: dict) -> dict:
    """``overlay`` merged over ``base`` as the Snakefile merges ``--configfile`` over config.yaml.

    Args:
        base: the config below (config.yaml's mapping); not modified.
        overlay: the merged ``--config`` files (see :func:`merge_overlays`); not modified.

    Returns:
        A new mapping: snakemake's recursive ``update_config``, except that a key of
        :data:`REPLACED_KEYS` present in ``overlay`` is ``overlay``'s value alone.
    """
    merged = copy.deepcopy(dict(base))
    update_config(merged, copy.deepcopy(dict(overlay)))
    for key in REPLACED_KEYS:
        if key in overlay:
            merged[key] = copy.deepcopy(overlay[key])
    return merged


def merge_overlays(overlays: Iterable[dict]) -> dict:
    """Several ``--config`` mappings as one overlay, later ones winning (Snakemake's order)."""
    merged: dict = {}
    for overlay in overlays:
        update_config(merged, copy.deepcopy(dict(overlay)))
    return merged


def base_config_path() -> Path | None:
    """The repository's ``config.yaml``, or None when this package is not in a checkout.

    The checkout is the folder above the ``bench`` package holding a ``Snakefile`` (an
    editable install, or ``python -m bench`` from the repository root); a package installed
    from a wheel has none, and then the ``--config`` files are read as they are.
    """
    path = _REPOSITORY / "config.yaml"
    return path if path.is_file() and (_REPOSITORY / "Snakefile").is_file() else None


def read_config_file(path: str | Path) -> dict:
    """The mapping a YAML config file holds.

    Raises:
        ConfigError: the file is missing, is not YAML, or does not hold a mapping.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        config = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ConfigError(f"config file {path} is not valid YAML: "
                          f"{' '.join(str(error).split())}") from None
    if not isinstance(config, dict):
        raise ConfigError(f"config file {path} must hold a mapping of config keys, "
                          f"got {type(config).__name__}")
    return config


def layered_config(paths: Iterable[str | Path] = (), base: str | Path | None = None) -> dict:
    """The config of ``paths`` layered over the base config, as a sweep with them sees it.

    Args:
        paths: config files, later ones winning (``--config A --config B``); a complete
            config (every key set) works the same, since it overrides every key.
        base: the config below them; default: :func:`base_config_path`.

    Raises:
        ConfigError: a file is missing or bad, or there is neither a base nor a path.
    """
    paths = list(paths)
    base = base_config_path() if base is None else Path(base)
    if base is None and not paths:
        raise ConfigError("no config: pass --config FILE (no config.yaml beside the bench "
                          f"package, in {_REPOSITORY})")
    below = read_config_file(base) if base is not None else {}
    return layer(below, merge_overlays(read_config_file(path) for path in paths))
