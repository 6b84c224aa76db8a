"""The data set registry: :data:`DATASETS` and :data:`FAMILIES`, filled by :func:`register`.

A leaf of the package: it imports no builder. Each builder module decorates its own
builder function with :func:`register`; the package ``bench.datasets`` imports the
builder modules, so every set is registered once the package is imported, in the
order the package imports them (the order ``python -m bench data list`` shows).

A *family* (``register(..., family=True)``) is a builder that a config points at a
folder or a file (``data.sets.NAME: {builder: imagefolder, path: ...}``);
:func:`define` makes the spec of such a config-defined data set.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from inspect import getmodule, signature  # `import inspect` is shadowed by .inspect
from pathlib import Path
from typing import TypeVar

from bench.datasets.base import DatasetMissingError, ImageDataset

_PACKAGE = Path(__file__).resolve().parent
_Builder = TypeVar("_Builder", bound=Callable[..., ImageDataset])


class UnknownDatasetError(KeyError):
    """A data set name that is not registered; the message lists the known names."""

    def __str__(self) -> str:  # KeyError would print the message with quotes
        return str(self.args[0])


@dataclass(frozen=True)
class DatasetSpec:
    """What the registry knows about one data set before loading it.

    Attributes:
        name: registry name.
        description: one line for listings.
        synthetic: generated stand-in (results that use it must say so).
        offline: needs no files (generated, or bundled with an installed package).
        num_classes: number of classes; 0 for unlabelled sets; None when only reading the
            files tells (config-defined sets).
        source_hint: where to get it and the folder layout expected under ``data.root``;
            ``""`` for offline sets.
        builder: ``builder(resolution, *, root, split_seed, **options) -> ImageDataset``.
        sizes: ``sizes(*, root, split_seed, **options) -> (train, val, test)`` split sizes,
            computed without decoding any image.
        check: ``check(root)`` raises :class:`DatasetMissingError` when the files are not
            there; ``None`` for offline sets.
        definition: a config-defined set's ``data.sets.NAME`` mapping (part of its cache
            key); ``None`` for registered sets.
    """

    name: str
    description: str
    synthetic: bool
    offline: bool
    num_classes: int | None
    source_hint: str
    builder: Callable[..., ImageDataset]
    sizes: Callable[..., tuple[int, int, int]]
    check: Callable[[Path], None] | None = None
    definition: dict | None = None

    def _target(self) -> Callable[..., ImageDataset]:
        """The builder function itself, without the keywords this name binds."""
        return self.builder.func if isinstance(self.builder, partial) else self.builder

    def option_names(self) -> tuple[str, ...]:
        """The keyword options the builder accepts (beyond root and split_seed)."""
        bound = self.builder.keywords if isinstance(self.builder, partial) else {}
        return tuple(p.name for p in signature(self._target()).parameters.values()
                     if p.kind is p.KEYWORD_ONLY and p.name not in {"root", "split_seed", *bound})

    def code_fingerprint(self) -> str:
        """Hash of the source that builds this set: editing it invalidates caches.

        That is the builder's module or, for a builder in a subpackage (the synthetic
        generators, which share their drawing helpers), every module of the subpackage;
        and the split and decode helpers (``splits.py``, ``decode.py``) builders share.
        """
        path = Path(getmodule(self._target()).__file__).resolve()
        files = [path] if path.parent == _PACKAGE else sorted(path.parent.glob("*.py"))
        files += [_PACKAGE / "splits.py", _PACKAGE / "decode.py"]  # helpers builders share
        digest = hashlib.sha256()
        for file in files:
            digest.update(file.read_bytes())
        return digest.hexdigest()[:16]


DATASETS: dict[str, DatasetSpec] = {}
# Builders a config points at its own files with (data.sets.NAME.builder), by name.
FAMILIES: dict[str, DatasetSpec] = {}


def register(name: str, description: str, *, num_classes: int | None,
             sizes: Callable[..., tuple[int, int, int]], synthetic: bool = False,
             source_hint: str = "", check: Callable[..., None] | None = None,
             family: bool = False, **bound) -> Callable[[_Builder], _Builder]:
    """Decorator: register the decorated builder as data set ``name``.

    Args:
        name: registry name; registering a name twice is a ValueError.
        description: one line for listings.
        num_classes: number of classes; 0 for unlabelled sets.
        sizes: counts the (train, val, test) sizes without decoding; it takes the
            builder's keywords (all but ``resolution``).
        synthetic: the set is a generated stand-in.
        source_hint: where to get a set that needs files; ``""`` for offline sets.
        check: ``check(root, **bound)`` raises :class:`DatasetMissingError` when the files
            are missing; ``None`` marks the set offline.
        family: register a family (:data:`FAMILIES`) rather than a data set: its builder,
            ``sizes`` and ``check`` also take ``name`` and the definition's keys.
        **bound: keywords fixed for this name, passed to the builder, ``sizes`` and
            ``check`` (one builder serves several names, e.g. one per domain).

    Returns:
        A decorator that records the set and returns the builder unchanged.
    """

    def bind(function):
        return partial(function, **bound) if bound and function is not None else function

    registry = FAMILIES if family else DATASETS

    def decorate(builder: _Builder) -> _Builder:
        if name in registry:
            raise ValueError(f"data set {name!r} is registered twice")
        registry[name] = DatasetSpec(name, description, synthetic, offline=check is None,
                                     num_classes=num_classes, source_hint=source_hint,
                                     builder=bind(builder), sizes=bind(sizes), check=bind(check))
        return builder

    return decorate


def get_spec(name: str) -> DatasetSpec:
    """The registered spec of ``name``.

    Raises:
        UnknownDatasetError: (a KeyError) ``name`` is not registered; lists the known names.
    """
    try:
        return DATASETS[name]
    except KeyError:
        raise UnknownDatasetError(f"unknown data set {name!r}; known: "
                                  f"{', '.join(sorted(DATASETS))}") from None


def define(name: str, definition: Mapping) -> DatasetSpec:
    """The spec of data set ``name`` that a config defines (``data.sets.NAME``).

    The definition's ``builder`` names a family; its other keys are bound as the
    family's options, so the spec builds, counts and checks that one set.

    Raises:
        ValueError: the name is a registered set's, the family is unknown, or a key is
            not one of the family's options (each names the config key).
    """
    key = f"data.sets.{name}"
    if name in DATASETS:
        raise ValueError(f"config key `{key}`: {name!r} is a built-in data set; give yours "
                         f"another name")
    options = dict(definition)
    family = options.pop("builder", None)
    if family not in FAMILIES:
        raise ValueError(f"config key `{key}.builder` = {family!r} is not a builder of "
                         f"config-defined data sets; allowed: {', '.join(FAMILIES)}")
    spec = FAMILIES[family]
    allowed = [option for option in spec.option_names() if option != "name"]
    for option in options:
        if option not in allowed:
            raise ValueError(f"config key `{key}.{option}` is not an option of builder "
                             f"{family}; allowed: builder, {', '.join(allowed)}")
    bound = {"name": name, **options}
    return replace(spec, name=name, description=f"{family} {options.get('path', '')}",
                   builder=partial(spec.builder, **bound), sizes=partial(spec.sizes, **bound),
                   check=partial(spec.check, **bound), definition={"builder": family, **options})


def is_available(name: str | DatasetSpec, root: str | Path = "data") -> bool:
    """True when ``name`` can be loaded: offline, or its files are under ``root``.

    ``name`` may be a spec (a config-defined set's, from :func:`define`).
    """
    spec = name if isinstance(name, DatasetSpec) else get_spec(name)
    if spec.check is None:
        return True
    try:
        spec.check(Path(root))
    except DatasetMissingError:
        return False
    return True
