"""Real images that ship inside installed packages: no download, no files under data.root.

``digits``
    scikit-learn's handwritten digits (``sklearn.datasets.load_digits``): 1,797 real
    8×8 grayscale scans, ink values 0–16, 10 classes. Scaled to 0–255, upsampled
    (bilinear) to the resolution, replicated to 3 channels. Splits per class, drawn by
    ``split_seed``: 30 train / 20 val / the rest (about 130) test.

``photos``
    Unlabelled random crops of the real photographs bundled with scikit-learn
    (``china.jpg``, ``flower.jpg``) and scikit-image (astronaut, brick, camera, chelsea,
    clock, coffee, coins, grass, gravel, hubble_deep_field, moon, rocket, the left view
    of stereo_motorcycle; grayscale ones replicated to RGB). Each crop picks a photo
    uniformly, a square side of 25–90% of the photo's shorter side, a uniform position
    and a horizontal flip with probability 1/2, drawn from ``generation_seed``; then it
    is resized with antialiasing. 600 train / 100 val / 100 test crops, split at
    random by ``split_seed``. The natural-image source set for DAN.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from bench.datasets.base import UNLABELLED, ImageDataset
from bench.datasets.registry import register
from bench.datasets.splits import SplitSize, resize_images, split_dataset, stratified_split

DIGITS_PER_CLASS: tuple[SplitSize, SplitSize, SplitSize] = (30, 20, None)
PHOTO_CROPS = (600, 100, 100)

# scikit-image photographs that need no download (checked with scikit-image 0.26): the
# natural scenes, not the microscopy, medical, text or synthetic test images.
_SKIMAGE_PHOTOS = ("astronaut", "brick", "camera", "chelsea", "clock", "coffee", "coins",
                   "grass", "gravel", "hubble_deep_field", "moon", "rocket", "stereo_motorcycle")


def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits
    digits = load_digits()
    images = np.round(digits.images * (255 / 16)).astype(np.uint8)  # (1797, 8, 8)
    return images, digits.target.astype(np.int64)


def sizes_digits(*, root: Path, split_seed: int,
                 per_class: tuple[SplitSize, SplitSize, SplitSize] = DIGITS_PER_CLASS
                 ) -> tuple[int, int, int]:
    """(train, val, test) sizes of :func:`build_digits`, from the labels alone."""
    _, labels = _digits()
    return tuple(len(i) for i in stratified_split(labels, tuple(per_class), split_seed))


@register("digits", "scikit-learn handwritten digits (real, 8x8 px, 1,797 images)",
          num_classes=10, sizes=sizes_digits)
def build_digits(resolution: int, *, root: Path, split_seed: int,
                 per_class: tuple[SplitSize, SplitSize, SplitSize] = DIGITS_PER_CLASS
                 ) -> ImageDataset:
    """scikit-learn digits at ``resolution`` px.

    Args:
        resolution: image side in pixels.
        root: unused (the set ships with scikit-learn); every builder takes it.
        split_seed: fixes which images go to train, val and test.
        per_class: (train, val, test) per class: an int count, a fraction, or None for
            the rest (see :func:`~bench.datasets.splits.stratified_split`).
    """
    images, labels = _digits()
    return split_dataset("digits", tuple(str(d) for d in range(10)), False,
                         resize_images(images, resolution), labels, tuple(per_class),
                         split_seed, info={"source": "sklearn.datasets.load_digits"})


def bundled_photos() -> dict[str, np.ndarray]:
    """The bundled photographs, name -> ``uint8 (H, W, 3)``, in a fixed order.

    A photo the installed scikit-image cannot provide offline is left out (the set
    records which were used in ``info["photos"]``).
    """
    import skimage.data
    from sklearn.datasets import load_sample_images

    sample = load_sample_images()
    photos = {Path(name).stem: image for name, image in zip(sample.filenames, sample.images,
                                                              strict=True)}
    for name in _SKIMAGE_PHOTOS:
        try:
            image = getattr(skimage.data, name)()
        except (AttributeError, ImportError, OSError, ValueError):
            continue  # needs a download (pooch) in this scikit-image version
        if isinstance(image, tuple):  # stereo pairs: keep the left view
            image = image[0]
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        photos[name] = np.ascontiguousarray(image[..., :3], dtype=np.uint8)
    return photos


def sizes_photos(*, root: Path, split_seed: int, crops: tuple[int, int, int] = PHOTO_CROPS,
                 generation_seed: int = 0) -> tuple[int, int, int]:
    """(train, val, test) sizes of :func:`build_photos`: the crop counts."""
    return tuple(int(n) for n in crops)


@register("photos", "random crops of the real photographs bundled with scikit-learn and "
          "scikit-image (unlabelled natural images)", num_classes=0, sizes=sizes_photos)
def build_photos(resolution: int, *, root: Path, split_seed: int,
                 crops: tuple[int, int, int] = PHOTO_CROPS,
                 generation_seed: int = 0) -> ImageDataset:
    """Unlabelled random crops of the bundled photographs; ``crops`` = (train, val, test)."""
    photos = bundled_photos()
    names = list(photos)
    rng = np.random.default_rng([generation_seed, 6])
    images = torch.empty((sum(crops), 3, resolution, resolution), dtype=torch.uint8)
    for i in range(len(images)):
        photo = photos[names[rng.integers(len(names))]]
        height, width = photo.shape[:2]
        side = rng.uniform(0.25, 0.9) * min(height, width)
        left, top = rng.uniform(0, width - side), rng.uniform(0, height - side)
        crop = Image.fromarray(photo).resize((resolution, resolution), Image.BICUBIC,
                                             box=(left, top, left + side, top + side))
        if rng.random() < 0.5:
            crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        images[i] = torch.from_numpy(np.array(crop)).permute(2, 0, 1)
    labels = np.full(len(images), UNLABELLED)
    return split_dataset("photos", (), False, images, labels, tuple(crops), split_seed,
                         info={"photos": names, "generation_seed": generation_seed})
