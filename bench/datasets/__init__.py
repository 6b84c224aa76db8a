"""Data sets by name: ``load_dataset(name, resolution)`` is the one way in.

Every data set, whatever its source, comes back as decoded ``uint8 (N, 3, R, R)``
tensors with deterministic train / val / test splits; with ``cache_dir`` the tensors
are saved once as a ``.pt`` file and reloaded by every later job of a sweep.

Three kinds of data set are registered (see docs/DATASETS.md):

- synthetic stand-ins generated from a seed (:mod:`bench.datasets.synthetic`),
- real data that ships with scikit-learn / scikit-image (:mod:`bench.datasets.offline`),
- real data sets the user downloads (:mod:`bench.datasets.real`);

and a config may define its own from a folder or a CSV file
(``data.sets.NAME: {builder: imagefolder | csv, path: ...}``, :mod:`bench.datasets.defined`).

The modules, each importing only the ones listed before it:

- :mod:`~bench.datasets.base`: :class:`ImageDataset` and :class:`ImageSplit`, shots;
- :mod:`~bench.datasets.splits`: what every builder shares (per-class splits, resizing);
- :mod:`~bench.datasets.decode`: reading image files, for every file-based builder;
- :mod:`~bench.datasets.registry`: :data:`DATASETS` and :data:`FAMILIES`, filled by
  the ``@register`` decorator on each builder; ``define`` for config-defined sets;
- the builders: :mod:`~bench.datasets.synthetic`, :mod:`~bench.datasets.offline`,
  :mod:`~bench.datasets.real`, :mod:`~bench.datasets.defined` (the families);
- :mod:`~bench.datasets.cache` (the disk cache) and :mod:`~bench.datasets.loader`
  (:func:`load_dataset`);
- :mod:`~bench.datasets.inspect`: ``python -m bench data list`` / ``show``.

This package imports the builder modules so that their sets are registered; that
order is the registry's order.
"""

# Importing the builder modules registers their sets, in this order: the registry's.
# isort: off
from bench.datasets import synthetic  # noqa: F401
from bench.datasets import offline  # noqa: F401
from bench.datasets import real  # noqa: F401
from bench.datasets import defined  # noqa: F401
# isort: on
from bench.datasets.base import (
    UNLABELLED,
    XRAY_CLASSES,
    DatasetMissingError,
    ImageDataset,
    ImageSplit,
    normalize,
    shots_index,
)
from bench.datasets.loader import load_dataset
from bench.datasets.registry import (
    DATASETS,
    FAMILIES,
    DatasetSpec,
    UnknownDatasetError,
    define,
    get_spec,
    is_available,
    register,
)
from bench.datasets.splits import (
    SplitSize,
    class_coverage,
    official_splits,
    resize_images,
    split_dataset,
    stratified_split,
)

__all__ = [
    "DATASETS",
    "UNLABELLED",
    "XRAY_CLASSES",
    "DatasetMissingError",
    "DatasetSpec",
    "FAMILIES",
    "ImageDataset",
    "ImageSplit",
    "SplitSize",
    "UnknownDatasetError",
    "class_coverage",
    "define",
    "get_spec",
    "is_available",
    "load_dataset",
    "normalize",
    "official_splits",
    "register",
    "resize_images",
    "shots_index",
    "split_dataset",
    "stratified_split",
]
