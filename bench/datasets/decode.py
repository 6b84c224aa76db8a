"""Reading image files: every file-based data set's decode, in parallel, skipping bad files.

The real data sets (:mod:`~bench.datasets.real`) and the data sets a config defines
(:mod:`~bench.datasets.defined`) both go through :func:`read_splits`: each image is
decoded once (JPEGs at reduced DCT scale when much larger than needed), converted to
RGB (grayscale replicated), its shorter side resized to the resolution with
antialiasing and centre-cropped square. An unreadable or truncated file is skipped
and listed; a folder whose files are all unreadable fails naming it.

Image files are those with torchvision's ``IMG_EXTENSIONS``, the suffixes
``torchvision.datasets.ImageFolder`` reads, so a folder laid out for torchvision reads
the same here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps
from torchvision.datasets.folder import IMG_EXTENSIONS

from bench.datasets.base import ImageSplit

# {split: [(image file, label), ...]}: what a file-based builder hands to read_splits.
SplitFiles = dict[str, list[tuple[Path, int]]]


def image_files(folder: Path) -> list[Path]:
    """Image files directly in ``folder``, sorted by name (hidden files ignored)."""
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in IMG_EXTENSIONS and
                  not p.name.startswith("."))


def class_folder_files(folder: Path) -> list[Path]:
    """The image files of one class folder.

    Raises:
        ValueError: the folder holds no image file (the message names it).
    """
    files = image_files(folder)
    if not files:
        raise ValueError(f"empty class folder {folder}: it holds no image "
                         f"({', '.join(IMG_EXTENSIONS)})")
    return files


def decode(path: Path, resolution: int) -> torch.Tensor:
    """One image file -> ``uint8 (3, R, R)``: RGB, shorter side resized, centre-cropped."""
    with Image.open(path) as image:
        image.draft("RGB", (2 * resolution, 2 * resolution))  # JPEG: decode at reduced scale
        image = image.convert("RGB")
        image = ImageOps.fit(image, (resolution, resolution), Image.BICUBIC)
    return torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1)


def _decode_or_none(path: Path, resolution: int) -> torch.Tensor | None:
    try:
        return decode(path, resolution)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None  # corrupt or truncated: counted by the caller, not fatal


def _decode_workers() -> int:
    """Decoding threads: the job's CPU budget, else every CPU this process may use.

    The budget is OMP_NUM_THREADS, which the Snakemake rules set from their `threads`.
    """
    budget = os.environ.get("OMP_NUM_THREADS", "")
    return int(budget) if budget.isdigit() and int(budget) > 0 else len(os.sched_getaffinity(0))


def _read_split(files: Sequence[Path], labels: Sequence[int], resolution: int,
                skipped: list[str]) -> ImageSplit:
    """Decode ``files`` in order, in parallel threads; unreadable ones are left out.

    Threads pay off because PIL releases the GIL while it decodes and resizes. The
    paths of unreadable files are appended to ``skipped``.
    """
    with ThreadPoolExecutor(_decode_workers()) as pool:
        decoded = list(pool.map(lambda path: _decode_or_none(path, resolution), files))
    images, kept = [], []
    for path, label, image in zip(files, labels, decoded, strict=True):
        if image is None:
            skipped.append(str(path))
            continue
        images.append(image)
        kept.append(label)
    stacked = (torch.stack(images) if images
               else torch.zeros((0, 3, resolution, resolution), dtype=torch.uint8))
    return ImageSplit(stacked, torch.tensor(kept, dtype=torch.int64))


def _check_readable(groups: dict[Path, list[Path]], skipped: list[str]) -> None:
    """Fail when every file of a class folder (or of the whole set) was unreadable."""
    bad = set(skipped)
    for folder, files in groups.items():
        if files and all(str(f) in bad for f in files):
            raise ValueError(f"no readable image in {folder}: every file failed to decode, "
                             f"e.g. {files[0]}")


def read_splits(splits: SplitFiles, resolution: int) -> tuple[dict[str, ImageSplit], list[str]]:
    """Decode ``{split: [(file, label), ...]}``; returns the splits and the skipped files.

    Raises:
        ValueError: every file of one folder failed to decode (names the folder).
    """
    skipped: list[str] = []
    read = {}
    for split, items in splits.items():
        files = [path for path, _ in items]
        read[split] = _read_split(files, [label for _, label in items], resolution, skipped)
    groups: dict[Path, list[Path]] = {}
    for items in splits.values():
        for path, _ in items:
            groups.setdefault(path.parent, []).append(path)
    _check_readable(groups, skipped)
    return read, skipped


def skipped_info(skipped: list[str], **facts) -> dict:
    """A data set's ``info``: ``facts``, plus ``skipped_files`` when any file was skipped."""
    return {**facts, **({"skipped_files": skipped} if skipped else {})}
