"""``load_dataset(name, resolution)``: the one way to a data set, registered or config-defined."""

from __future__ import annotations

from pathlib import Path

from bench.datasets.base import ImageDataset
from bench.datasets.cache import cached
from bench.datasets.registry import DatasetSpec, define, get_spec


def load_dataset(name: str, resolution: int, *, root: str | Path = "data", split_seed: int = 0,
                 cache_dir: str | Path | None = None, definition: dict | None = None,
                 **options) -> ImageDataset:
    """Materialise data set ``name`` at ``resolution`` pixels with splits drawn by ``split_seed``.

    The cache key also holds a hash of the builder's source, so a changed generator
    never serves stale tensors.

    Args:
        name: a key of :data:`~bench.datasets.registry.DATASETS`, or the name a config
            gives the set ``definition`` defines.
        resolution: side of the square ``uint8 (N, 3, R, R)`` images, in pixels.
        root: folder holding the real data sets (config key ``data.root``).
        split_seed: fixes train / val / test membership (official splits ignore it).
        cache_dir: when given, the tensors are stored as one ``.pt`` file keyed by
            (name, resolution, split_seed, options, and root for real sets) and
            reloaded next time; a corrupt file is rebuilt.
        definition: a config-defined set's ``data.sets.NAME`` mapping
            (``{builder: imagefolder | csv, path: ..., ...}``, docs/DATASETS.md); part of
            the cache key, so an edited definition is rebuilt.
        **options: the data set's own options (sizes, ``download=True``, ...), see
            docs/DATASETS.md.

    Returns:
        The data set with its train / val / test splits.

    Raises:
        UnknownDatasetError: (a KeyError) ``name`` is not registered; lists the known names.
        DatasetMissingError: a real set's files are missing; names the files expected.
        ValueError: a bad resolution, an unknown option (lists the known ones), or a bad
            definition (names the config key).
    """
    spec = get_spec(name) if definition is None else define(name, definition)
    _check_arguments(spec, resolution, options)
    root = Path(root)

    def build() -> ImageDataset:
        return spec.builder(resolution, root=root, split_seed=split_seed, **options)

    if cache_dir is None:
        return build()
    return cached(spec, resolution, root, split_seed, options, cache_dir, build)


def _check_arguments(spec: DatasetSpec, resolution: int, options: dict) -> None:
    """Reject a resolution that is not an int >= 8 and options the builder does not take."""
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 8:
        raise ValueError(f"resolution must be an int >= 8 pixels, got {resolution!r}")
    unknown = sorted(set(options) - set(spec.option_names()))
    if unknown:
        raise ValueError(f"data set {spec.name!r} has no option {', '.join(map(repr, unknown))}; "
                         f"its options: {', '.join(spec.option_names()) or '(none)'}")
