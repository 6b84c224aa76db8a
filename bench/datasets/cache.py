"""The disk cache of built data sets: one ``.pt`` file per set, resolution and options.

A sweep's jobs all load the same few data sets; the first job builds each one and
saves its tensors, every later job reloads them. The key holds everything the tensors
depend on, including a hash of the builder's source, so a changed generator never
serves stale tensors.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

from bench.datasets.base import ImageDataset, ImageSplit
from bench.datasets.registry import DatasetSpec
from bench.io import atomic_open

# Bumped when the cache file layout changes (a builder change is caught by its code hash).
_CACHE_FORMAT = 1
_SPLITS = ("train", "val", "test")


def cached(spec: DatasetSpec, resolution: int, root: Path, split_seed: int, options: dict,
           cache_dir: str | Path, build: Callable[[], ImageDataset]) -> ImageDataset:
    """The data set from its cache file under ``cache_dir``, else ``build()`` saved there.

    Args:
        spec: the registered set; with the other arguments it makes the cache key.
        resolution: image side in pixels.
        root: folder the real sets are read from (part of their key only).
        split_seed: the split seed.
        options: the builder's options.
        cache_dir: folder of the cache files.
        build: makes the data set when no sound cache file has it.

    Returns:
        The data set; an unreadable cache file is rebuilt with a warning, never fatal.
    """
    key = cache_key(spec, resolution, root, split_seed, options)
    path = Path(cache_dir) / f"{spec.name}-r{resolution}-s{split_seed}-{key[:16]}.pt"
    if path.exists():
        try:
            return read_cache(path, key)
        except Exception as error:  # any unreadable file is rebuilt, never fatal
            # stacklevel 3: the warning points at the caller of load_dataset.
            warnings.warn(f"rebuilding unreadable data set cache {path}: {error}", stacklevel=3)
    dataset = build()
    write_cache(path, key, dataset)
    return dataset


def cache_key(spec: DatasetSpec, resolution: int, root: Path, split_seed: int,
              options: dict) -> str:
    """sha256 hex digest of everything the built tensors depend on."""
    fields = {"format": _CACHE_FORMAT, "name": spec.name, "code": spec.code_fingerprint(),
              "resolution": resolution, "split_seed": split_seed, "options": options,
              # Real data depends on which folder it came from; offline data does not.
              "root": None if spec.offline else str(root.resolve()),
              # A config-defined set: its definition (path, layout, splits) is the set.
              **({"definition": spec.definition} if spec.definition is not None else {})}
    text = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def write_cache(path: Path, key: str, dataset: ImageDataset) -> None:
    """Save atomically (:func:`bench.io.atomic_open`): a killed job leaves no torn cache."""
    payload = {"key": key, "name": dataset.name, "classes": list(dataset.classes),
               "synthetic": dataset.synthetic, "info": json.loads(json.dumps(dataset.info)),
               **{f"{split}_{part}": getattr(getattr(dataset, split), part)
                  for split in _SPLITS for part in ("images", "labels")}}
    with atomic_open(path, "wb") as file:
        torch.save(payload, file)


def read_cache(path: Path, key: str) -> ImageDataset:
    """The data set saved at ``path``.

    Raises:
        ValueError: the file was saved under another key.
    """
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if payload["key"] != key:
        raise ValueError("cache key mismatch")
    splits = [ImageSplit(payload[f"{split}_images"], payload[f"{split}_labels"])
              for split in _SPLITS]
    return ImageDataset(payload["name"], tuple(payload["classes"]), bool(payload["synthetic"]),
                        *splits, info=payload["info"])
