"""The activation cache: the output of frozen pretrained stages, computed once per split.

A pretrained stage that a strategy never trains (every stage for feature extraction,
the first ones for ``partial`` and ``dan``) computes the same thing for every seed and
``shots`` budget of a sweep. Its output over a whole split is saved once, keyed by
everything it depends on, and each run takes the rows it needs:

    {cache_dir}/activations/{data set}-{split}-stop{k}-{digest}.pt

Each file is made by the first run that needs it -- feature extraction's (all stages
frozen) by the first feature-extraction run of the data set, a prefix cache of
``partial`` / ``dan`` by the first such run -- and read by every later one, in its pair
cell (:mod:`bench.cell`) or another.
Files are written through a temporary file and a rename, so a killed job leaves none
half-written, and an unreadable file is rebuilt, never trusted.

Each file also stores how long computing it took (``seconds``, wall time on the device
that made it): every run that reads the file records that time as the shared work it
reused (``cost.cache_files``), and the summary divides it among the runs that share the
file (``total_seconds_amortised``, :mod:`bench.cost`).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import torch

from bench.datasets.base import ImageDataset, normalize
from bench.device import autocast, clock
from bench.io import atomic_open
from bench.models import Backbone

EVAL_BATCH = 256  # images per forward pass when nothing trains
# Cache files this process has read or written, by path, key and the file's modification
# time and size (a file rewritten, truncated or deleted since is read again, and so
# checked again): every run of a cell (bench.cell) reads the same splits, so each file is
# read once per process. Runs take rows (indexing copies) and never write into the tensor.
_READ: dict[tuple, Cached] = {}


def _version(path: Path, key: str) -> tuple | None:
    """What identifies a cache file's content as this process saw it; None when it is missing."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return path, key, stat.st_mtime_ns, stat.st_size


def model_inputs(backbone: Backbone, images: torch.Tensor) -> torch.Tensor:
    """``uint8 (N, 3, R, R)`` images -> the backbone's normalised float input.

    Channels-last, the layout the networks are in (bench.train): the fastest for
    cuDNN's and oneDNN's convolutions alike.
    """
    x = normalize(images, backbone.mean, backbone.std)
    return x.contiguous(memory_format=torch.channels_last)


@torch.no_grad()
def frozen_prefix(backbone: Backbone, images: torch.Tensor, stop: int,
                  device: torch.device) -> torch.Tensor:
    """Output of the first ``stop`` stages (eval mode) for ``uint8 (N, 3, R, R)`` images.

    Returns a float32 tensor on ``device``: ``(N, C, H, W)`` after a convolutional stage,
    ``(N, D)`` after the head's pooling.
    """
    backbone.eval()
    out = []
    for begin in range(0, len(images), EVAL_BATCH):
        x = model_inputs(backbone, images[begin:begin + EVAL_BATCH].to(device, non_blocking=True))
        with autocast(device):
            out.append(backbone.prefix(x, stop).float())
    return torch.cat(out)


class Cached(NamedTuple):
    """One cache file's activations and what making them cost."""

    activations: torch.Tensor  # on the CPU
    status: str  # "hit" (read from the file) or "computed" (by this call, then written)
    seconds: float | None  # wall seconds computing them took (None: a file from before timing)
    file: str  # the file's name: what identifies the shared work


class ActivationCache:
    """Frozen-stage outputs on disk for one backbone and data configuration.

    Args:
        cache_dir: the sweep's data cache folder; files go to its ``activations/``.
        backbone: timm name of the backbone.
        weights: where its pretrained weights came from (part of the key: other
            weights, other activations).
        resolution: image side in pixels.
        split_seed: the data sets' split seed.
        data_options: builder options per data set name (config ``data.options``).
        device: where activations are computed (``cpu`` and ``cuda`` differ by rounding).
    """

    def __init__(self, cache_dir: str | Path, backbone: str, weights: str, resolution: int,
                 split_seed: int, data_options: dict, device: torch.device):
        self.folder = Path(cache_dir) / "activations"
        self.fields = {"backbone": backbone, "weights": weights, "resolution": resolution,
                       "split_seed": split_seed, "device": device.type}
        self.data_options = data_options
        self.device = device

    def _key(self, dataset: ImageDataset, split: str, stop: int) -> str:
        return json.dumps({**self.fields, "dataset": dataset.name, "split": split, "stop": stop,
                           "options": self.data_options.get(dataset.name, {})}, sort_keys=True)

    def path(self, dataset: ImageDataset, split: str, stop: int) -> Path:
        digest = hashlib.sha256(self._key(dataset, split, stop).encode()).hexdigest()[:16]
        return self.folder / f"{dataset.name}-{split}-stop{stop}-{digest}.pt"

    def get(self, dataset: ImageDataset, split: str, stop: int,
            compute: Callable[[torch.Tensor], torch.Tensor]) -> Cached:
        """Activations of a whole split at stage ``stop``, on the CPU, and their cost.

        ``compute`` maps the split's images to their activations; it is called only when
        the file is missing or unreadable, and its wall time is stored in the file.
        """
        key, path = self._key(dataset, split, stop), self.path(dataset, split, stop)
        version = _version(path, key)
        if version in _READ:
            return _READ[version]
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
            if payload["key"] == key:
                _READ[version] = Cached(payload["activations"], "hit", payload.get("seconds"),
                                        path.name)
                return _READ[version]
            warnings.warn(f"rebuilding activation cache {path}: its key does not match", stacklevel=2)
        except FileNotFoundError:
            pass
        except Exception as error:  # an unreadable cache is rebuilt, never trusted
            warnings.warn(f"rebuilding unreadable activation cache {path}: {error}", stacklevel=2)
        started = clock(self.device)
        activations = compute(getattr(dataset, split).images).cpu()
        seconds = clock(self.device) - started
        with atomic_open(path, "wb") as out:
            torch.save({"key": key, "activations": activations, "seconds": seconds}, out)
        _READ[_version(path, key)] = Cached(activations, "hit", seconds, path.name)
        return Cached(activations, "computed", seconds, path.name)
