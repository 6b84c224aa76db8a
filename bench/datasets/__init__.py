"""The data set registry: name -> :class:`~bench.datasets.base.ImageDataset` with splits.

``load_dataset(name, resolution)`` is the one way in. Every data set, whatever its
source, comes back as decoded ``uint8 (N, 3, R, R)`` tensors with deterministic
train / val / test splits; with ``cache_dir`` the tensors are saved once as a ``.pt``
file and reloaded by every later job of a sweep.

Three kinds of data set are registered (see docs/DATASETS.md):

- synthetic stand-ins generated from a seed (:mod:`bench.datasets.synthetic`),
- real data that ships with scikit-learn / scikit-image (:mod:`bench.datasets.offline`),
- real data sets the user downloads (:mod:`bench.datasets.real`).

Builders are imported lazily, so ``import bench.datasets`` stays cheap for the CLI.
The helpers every builder shares (:func:`stratified_split`, :func:`resize_images`,
:func:`split_dataset`, :func:`official_splits`) live in :mod:`bench.datasets.splits`
and are re-exported here; the builders import them from there, not from this package.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from inspect import getmodule, signature  # `import inspect` is shadowed by .inspect
from pathlib import Path

import torch

from bench.datasets.base import (
    UNLABELLED,
    DatasetMissingError,
    ImageDataset,
    ImageSplit,
    normalize,
    shots_index,
)
from bench.datasets.splits import (
    SplitSize,
    class_coverage,
    official_splits,
    resize_images,
    split_dataset,
    stratified_split,
)
from bench.io import atomic_open

__all__ = [
    "DATASETS",
    "UNLABELLED",
    "DatasetMissingError",
    "DatasetSpec",
    "ImageDataset",
    "ImageSplit",
    "SplitSize",
    "UnknownDatasetError",
    "class_coverage",
    "is_available",
    "load_dataset",
    "normalize",
    "official_splits",
    "resize_images",
    "shots_index",
    "split_dataset",
    "stratified_split",
]

# Bumped when the cache file layout changes (a builder change is caught by its code hash).
_CACHE_FORMAT = 1

# ---------------------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------------------

class UnknownDatasetError(KeyError):
    """A data set name that is not registered; the message lists the known names."""

    def __str__(self) -> str:  # KeyError would print the message with quotes
        return str(self.args[0])


class _Lazy:
    """``module.function`` with some keywords bound, imported on first call."""

    def __init__(self, module: str, function: str, **bound):
        self.module, self.function, self.bound = module, function, bound

    def module_object(self):
        return importlib.import_module(f"{__name__}.{self.module}")

    def target(self) -> Callable:
        return getattr(self.module_object(), self.function)

    def __call__(self, *args, **kwargs):
        return self.target()(*args, **self.bound, **kwargs)

    def __repr__(self) -> str:
        bound = "".join(f", {k}={v!r}" for k, v in self.bound.items())
        return f"{self.module}.{self.function}({bound.lstrip(', ')})"


@dataclass(frozen=True)
class DatasetSpec:
    """What the registry knows about one data set before loading it.

    Attributes:
        name: registry name.
        description: one line for listings.
        synthetic: generated stand-in (results that use it must say so).
        offline: needs no files (generated, or bundled with an installed package).
        num_classes: number of classes; 0 for unlabelled sets.
        source_hint: where to get it and the folder layout expected under ``data.root``;
            ``""`` for offline sets.
        builder: ``builder(resolution, *, root, split_seed, **options) -> ImageDataset``.
        sizes: ``sizes(*, root, split_seed, **options) -> (train, val, test)`` split sizes,
            computed without decoding any image.
        check: ``check(root)`` raises :class:`DatasetMissingError` when the files are not
            there; ``None`` for offline sets.
    """

    name: str
    description: str
    synthetic: bool
    offline: bool
    num_classes: int
    source_hint: str
    builder: Callable[..., ImageDataset]
    sizes: Callable[..., tuple[int, int, int]]
    check: Callable[[Path], None] | None = None

    def option_names(self) -> tuple[str, ...]:
        """The keyword options the builder accepts (beyond root and split_seed)."""
        target = self.builder.target() if isinstance(self.builder, _Lazy) else self.builder
        bound = self.builder.bound if isinstance(self.builder, _Lazy) else {}
        return tuple(p.name for p in signature(target).parameters.values()
                     if p.kind is p.KEYWORD_ONLY and p.name not in {"root", "split_seed", *bound})

    def code_fingerprint(self) -> str:
        """Hash of the source file that builds this set: editing it invalidates caches."""
        module = (self.builder.module_object() if isinstance(self.builder, _Lazy)
                  else getmodule(self.builder))
        return hashlib.sha256(Path(module.__file__).read_bytes()).hexdigest()[:16]


def _synthetic(name: str, description: str, num_classes: int, function: str,
               **bound) -> DatasetSpec:
    return DatasetSpec(name, description, synthetic=True, offline=True,
                       num_classes=num_classes, source_hint="",
                       builder=_Lazy("synthetic", function, **bound),
                       sizes=_Lazy("synthetic", "split_sizes", dataset=name))


def _real(name: str, description: str, num_classes: int, function: str, hint: str,
          **bound) -> DatasetSpec:
    return DatasetSpec(name, description, synthetic=False, offline=False,
                       num_classes=num_classes, source_hint=hint,
                       builder=_Lazy("real", f"build_{function}", **bound),
                       sizes=_Lazy("real", f"sizes_{function}", **bound),
                       check=_Lazy("real", f"check_{function}", **bound))


_OFFICE_HINT = ("Office-31 (https://faculty.cc.gatech.edu/~judy/domainadapt/, "
                "domain_adaptation_images.tar.gz) unpacked as "
                "<data.root>/office31/{domain}/images/<class>/*.jpg")

_SPECS = [
    _synthetic("synflowers", "synthetic flowers: 12 species on grass (flowers102 stand-in)",
               12, "build_synflowers"),
    *(_synthetic(f"synoffice-{domain}",
                 f"synthetic office objects, 12 classes, {style} (office31-{domain} stand-in)",
                 12, "build_synoffice", domain=domain)
      for domain, style in [("amazon", "product shots on white"),
                            ("webcam", "low-res, noisy, dim, colour cast"),
                            ("dslr", "sharp photos on cluttered backgrounds")]),
    _synthetic("synxray", "synthetic chest radiographs, normal vs pneumonia "
               "(chest-xray stand-in)", 2, "build_synxray"),
    DatasetSpec("digits", "scikit-learn handwritten digits (real, 8x8 px, 1,797 images)",
                synthetic=False, offline=True, num_classes=10, source_hint="",
                builder=_Lazy("offline", "build_digits"),
                sizes=_Lazy("offline", "sizes_digits")),
    DatasetSpec("photos", "random crops of the real photographs bundled with scikit-learn "
                "and scikit-image (unlabelled natural images)",
                synthetic=False, offline=True, num_classes=0, source_hint="",
                builder=_Lazy("offline", "build_photos"),
                sizes=_Lazy("offline", "sizes_photos")),
    _real("flowers102", "Oxford 102 Flowers, official splits", 102, "flowers102",
          "torchvision Flowers102 (https://www.robots.ox.ac.uk/~vgg/data/flowers/102/, or "
          "option download=True) in <data.root>/flowers-102/{jpg/image_*.jpg, "
          "imagelabels.mat, setid.mat}"),
    *(_real(f"office31-{domain}", f"Office-31 {domain} domain, stratified splits", 31,
            "office31", _OFFICE_HINT.format(domain=domain), domain=domain)
      for domain in ("amazon", "webcam", "dslr")),
    _real("chest-xray", "Kermany chest X-ray pneumonia, official split folders", 2,
          "chest_xray", "Kermany ChestXRay2017 (https://data.mendeley.com/datasets/rscbjbr9sj/2)"
          " in <data.root>/chest_xray/{train,val,test}/{NORMAL,PNEUMONIA}/*.jpeg"),
    _real("pneumoniamnist", "MedMNIST PneumoniaMNIST (28 px chest X-rays), official splits", 2,
          "pneumoniamnist", "MedMNIST v2 (https://zenodo.org/records/10519652, or option "
          "download=True) as <data.root>/pneumoniamnist.npz"),
]

DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in _SPECS}


def _spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise UnknownDatasetError(f"unknown data set {name!r}; known: "
                                  f"{', '.join(sorted(DATASETS))}") from None


def is_available(name: str, root: str | Path = "data") -> bool:
    """True when ``name`` can be loaded: offline, or its files are under ``root``."""
    spec = _spec(name)
    if spec.check is None:
        return True
    try:
        spec.check(Path(root))
    except DatasetMissingError:
        return False
    return True


def load_dataset(name: str, resolution: int, *, root: str | Path = "data", split_seed: int = 0,
                 cache_dir: str | Path | None = None, **options) -> ImageDataset:
    """Materialise data set ``name`` at ``resolution`` pixels with splits drawn by ``split_seed``.

    Args:
        name: a key of :data:`DATASETS`.
        resolution: side of the square ``uint8 (N, 3, R, R)`` images, in pixels.
        root: folder holding the real data sets (config key ``data.root``).
        split_seed: fixes train / val / test membership (official splits ignore it).
        cache_dir: when given, the tensors are stored as one ``.pt`` file keyed by
            (name, resolution, split_seed, options, and root for real sets) and
            reloaded next time; a corrupt file is rebuilt.
        **options: the data set's own options (sizes, ``download=True``, ...), see
            docs/DATASETS.md; an unknown option is a ValueError listing the known ones.

    The cache key also holds a hash of the builder's source file, so a changed
    generator never serves stale tensors.

    Raises:
        UnknownDatasetError (a KeyError) listing the known names; DatasetMissingError
        naming the files expected.
    """
    spec = _spec(name)
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 8:
        raise ValueError(f"resolution must be an int >= 8 pixels, got {resolution!r}")
    unknown = sorted(set(options) - set(spec.option_names()))
    if unknown:
        raise ValueError(f"data set {name!r} has no option {', '.join(map(repr, unknown))}; "
                         f"its options: {', '.join(spec.option_names()) or '(none)'}")
    root = Path(root)
    if cache_dir is None:
        return spec.builder(resolution, root=root, split_seed=split_seed, **options)

    key = _cache_key(spec, resolution, root, split_seed, options)
    path = Path(cache_dir) / f"{name}-r{resolution}-s{split_seed}-{key[:16]}.pt"
    if path.exists():
        try:
            return _read_cache(path, key)
        except Exception as error:  # any unreadable file is rebuilt, never fatal
            warnings.warn(f"rebuilding unreadable data set cache {path}: {error}", stacklevel=2)
    dataset = spec.builder(resolution, root=root, split_seed=split_seed, **options)
    _write_cache(path, key, dataset)
    return dataset


def _cache_key(spec: DatasetSpec, resolution: int, root: Path, split_seed: int,
               options: dict) -> str:
    fields = {"format": _CACHE_FORMAT, "name": spec.name, "code": spec.code_fingerprint(),
              "resolution": resolution, "split_seed": split_seed, "options": options,
              # Real data depends on which folder it came from; offline data does not.
              "root": None if spec.offline else str(root.resolve())}
    text = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _write_cache(path: Path, key: str, dataset: ImageDataset) -> None:
    """Save atomically (:func:`bench.io.atomic_open`): a killed job leaves no torn cache."""
    payload = {"key": key, "name": dataset.name, "classes": list(dataset.classes),
               "synthetic": dataset.synthetic, "info": json.loads(json.dumps(dataset.info)),
               **{f"{split}_{part}": getattr(getattr(dataset, split), part)
                  for split in ("train", "val", "test") for part in ("images", "labels")}}
    with atomic_open(path, "wb") as file:
        torch.save(payload, file)


def _read_cache(path: Path, key: str) -> ImageDataset:
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if payload["key"] != key:
        raise ValueError("cache key mismatch")
    splits = [ImageSplit(payload[f"{split}_images"], payload[f"{split}_labels"])
              for split in ("train", "val", "test")]
    return ImageDataset(payload["name"], tuple(payload["classes"]), bool(payload["synthetic"]),
                        *splits, info=payload["info"])
