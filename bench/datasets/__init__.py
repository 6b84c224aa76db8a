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
:func:`split_dataset`, :func:`official_splits`) live here so the builder modules stay
about their data.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from inspect import getmodule, signature  # `import inspect` is shadowed by .inspect
from pathlib import Path

import numpy as np
import torch
from torchvision.transforms.v2 import functional as TF

from bench.datasets.base import (
    UNLABELLED,
    DatasetMissingError,
    ImageDataset,
    ImageSplit,
    normalize,
    shots_index,
)
from bench.io import atomic_open

__all__ = [
    "DATASETS",
    "UNLABELLED",
    "DatasetMissingError",
    "DatasetSpec",
    "ImageDataset",
    "ImageSplit",
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

SplitSize = int | float | None


# ---------------------------------------------------------------------------------------
# Helpers shared by the builders
# ---------------------------------------------------------------------------------------

def stratified_split(labels: Sequence[int] | np.ndarray | torch.Tensor,
                     sizes: Sequence[SplitSize], seed: int,
                     classes: Sequence[str] = ()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class random train / val / test indices, drawn by ``seed``.

    Args:
        labels: ``(N,)`` integer labels; an unlabelled set (all ``UNLABELLED``) is one class.
        sizes: ``(train, val, test)`` per class, each an ``int`` (exactly that many
            examples), a ``float`` in (0, 1] (that fraction of the class, rounded, at least
            1 while the class has examples left) or ``None`` (what the other two leave; at
            most one ``None``).
        seed: the split seed. Same seed -> same indices; the draw of one class does not
            depend on the other classes.
        classes: class names, only to name a class that is too small.

    Each class is permuted once; test takes the first examples, then val, then train,
    so asking for fewer training examples never changes which examples are tested.

    Returns:
        Three sorted, disjoint ``int64`` index arrays (train, val, test).

    Raises:
        ValueError naming the class when it has fewer examples than an ``int`` size asks.
    """
    labels = np.asarray(labels, dtype=np.int64)
    if len(sizes) != 3 or sum(size is None for size in sizes) > 1:
        raise ValueError(f"sizes must be (train, val, test) with at most one None, got {sizes}")
    chosen: list[list[np.ndarray]] = [[], [], []]
    for label in np.unique(labels).tolist():
        members = np.flatnonzero(labels == label)
        name = classes[label] if 0 <= label < len(classes) else label
        counts = _class_counts(sizes, len(members), name)
        # One generator per (seed, class): a class's draw is independent of the others.
        order = np.random.default_rng([seed, label + 1]).permutation(members)
        start = 0
        for split in (2, 1, 0):  # test, val, train
            chosen[split].append(order[start:start + counts[split]])
            start += counts[split]
    train, val, test = (np.sort(np.concatenate(parts)).astype(np.int64) if parts
                        else np.zeros(0, np.int64) for parts in chosen)
    return train, val, test


def _class_counts(sizes: Sequence[SplitSize], n: int, name: object) -> list[int]:
    """(train, val, test) counts for one class of ``n`` examples; see :func:`stratified_split`."""
    counts: list[int | None] = [None, None, None]
    left = n
    for split in (2, 1, 0):  # test first, as drawn
        size = sizes[split]
        if size is None:
            continue
        if isinstance(size, bool) or not isinstance(size, int | float) or size < 0:
            raise ValueError(f"a split size must be an int >= 0, a fraction in (0, 1] or None, "
                             f"got {size!r}")
        if isinstance(size, float):
            if not 0 < size <= 1:
                raise ValueError(f"a split fraction must be in (0, 1], got {size}")
            count = min(left, max(1, round(size * n)))
        elif size > left:
            asked = sum(s for s in sizes if isinstance(s, int) and not isinstance(s, bool))
            raise ValueError(f"class {name!r} has {n} examples, fewer than the {asked} asked "
                             f"for by split sizes {tuple(sizes)}")
        else:
            count = size
        counts[split] = count
        left -= count
    return [left if count is None else count for count in counts]


def class_coverage(classes: Sequence[str], train: torch.Tensor, val: torch.Tensor,
                   test: torch.Tensor) -> dict[str, list[str]]:
    """Classes a split lacks, by name: ``{"train": [...], "test": [...]}``.

    ``train`` lists classes with no training example; ``val`` / ``test`` list classes
    that are trained but never validated / tested. Empty when nothing is missing; a
    split asked to be empty (size 0) and unlabelled sets are not reported.
    """
    if not classes:
        return {}
    present = {split: set(torch.unique(labels).tolist())
               for split, labels in (("train", train), ("val", val), ("test", test))}
    expected = {"train": set(range(len(classes))), "val": present["train"],
                "test": present["train"]}
    sizes = {"train": len(train), "val": len(val), "test": len(test)}
    return {split: [classes[label] for label in sorted(expected[split] - present[split])]
            for split in ("train", "val", "test")
            if sizes[split] and expected[split] - present[split]}


def resize_images(images: np.ndarray | torch.Tensor, resolution: int) -> torch.Tensor:
    """Square images of one size -> ``uint8 (N, 3, R, R)`` at ``resolution``.

    Accepts ``uint8`` ``(N, H, W)`` (grayscale, replicated to RGB), ``(N, H, W, 3)`` or
    ``(N, 3, H, W)`` with ``H == W``; resizes with bilinear antialiasing (a no-op at the
    same size). Deterministic on one machine.
    """
    images = torch.as_tensor(images)
    if images.dtype != torch.uint8:
        raise ValueError(f"images must be uint8, got {images.dtype}")
    if images.ndim == 3:
        images = images.unsqueeze(1).expand(-1, 3, -1, -1)
    elif images.ndim == 4 and images.shape[-1] == 3 and images.shape[1] != 3:
        images = images.permute(0, 3, 1, 2)
    if images.ndim != 4 or images.shape[1] != 3 or images.shape[2] != images.shape[3]:
        raise ValueError(f"expected square images (N, H, W[, 3]), got {tuple(images.shape)}")
    if images.shape[-1] != resolution:
        images = TF.resize(images.contiguous(), [resolution, resolution], antialias=True)
    return images.contiguous()


def split_dataset(name: str, classes: Sequence[str], synthetic: bool, images: torch.Tensor,
                  labels: Sequence[int] | np.ndarray | torch.Tensor,
                  sizes: Sequence[SplitSize], split_seed: int,
                  info: dict | None = None) -> ImageDataset:
    """A data set without official splits: ``images`` ``uint8 (N, 3, R, R)`` and
    ``(N,)`` labels split per class by :func:`stratified_split`."""
    labels = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    index = stratified_split(labels.numpy(), sizes, split_seed, classes)
    splits = [ImageSplit(images[torch.from_numpy(i)], labels[torch.from_numpy(i)])
              for i in index]
    return official_splits(name, classes, synthetic, *splits, info=info)


def official_splits(name: str, classes: Sequence[str], synthetic: bool, train: ImageSplit,
                    val: ImageSplit, test: ImageSplit, info: dict | None = None) -> ImageDataset:
    """An :class:`ImageDataset` from ready splits; records in ``info["classes_missing"]``
    (and warns about) the classes :func:`class_coverage` finds missing."""
    info = dict(info or {})
    missing = class_coverage(classes, train.labels, val.labels, test.labels)
    if missing:
        info["classes_missing"] = missing
        summary = "; ".join(f"{split}: {', '.join(names[:8])}"
                            f"{f' and {len(names) - 8} more' if len(names) > 8 else ''}"
                            for split, names in missing.items())
        warnings.warn(f"{name}: classes missing from splits ({summary})", stacklevel=2)
    return ImageDataset(name, tuple(classes), synthetic, train, val, test, info=info)


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
