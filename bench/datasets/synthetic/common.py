"""What the synthetic generators share: the generation driver and the drawing helpers."""

from __future__ import annotations

import colorsys
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from bench.datasets.base import ImageDataset
from bench.datasets.splits import resize_images, split_dataset

RENDER_SIZE = 128  # minimum canvas side in pixels; larger resolutions draw larger

DEFAULT_PER_CLASS = {
    "synflowers": (30, 10, 20),
    "synoffice": (30, 10, 20),
    "synxray": (150, 50, 100),
}

# Stable tags that separate the random streams of the data sets.
_TAGS = {"synflowers": 1, "synoffice-amazon": 2, "synoffice-webcam": 3, "synoffice-dslr": 4,
         "synxray": 5}

Color = tuple[int, int, int]


# ---------------------------------------------------------------------------------------
# Generation driver
# ---------------------------------------------------------------------------------------

def generate(name: str, classes: tuple[str, ...], render: Callable[..., np.ndarray],
             resolution: int, split_seed: int, per_class: tuple[int, int, int],
             generation_seed: int, info: dict | None = None) -> ImageDataset:
    """Render ``sum(per_class)`` images per class and split them per class.

    Args:
        name: the data set's registry name, which picks its random stream.
        classes: class names, index = label.
        render: ``render(rng, label, size) -> uint8 (size, size, 3)``, one image.
        resolution: side of the images returned, in pixels.
        split_seed: draws which images land in train / val / test.
        per_class: (train, val, test) images per class.
        generation_seed: picks the images themselves.
        info: facts recorded with the data set, beside ``generation_seed``.

    Returns:
        The data set, split per class by :func:`bench.datasets.splits.split_dataset`.

    Raises:
        ValueError: ``per_class`` is not three counts >= 0.
    """
    per_class = tuple(int(n) for n in per_class)
    if len(per_class) != 3 or min(per_class) < 0:
        raise ValueError(f"per_class must be (train, val, test) counts >= 0, got {per_class}")
    size = max(RENDER_SIZE, resolution)
    count = sum(per_class)
    canvas = np.empty((len(classes) * count, size, size, 3), np.uint8)
    labels = np.repeat(np.arange(len(classes)), count)
    for label in range(len(classes)):
        for i in range(count):
            rng = np.random.default_rng([_TAGS[name], generation_seed, label, i])
            canvas[label * count + i] = render(rng, label, size)
    images = resize_images(canvas, resolution)
    return split_dataset(name, classes, True, images, labels, per_class, split_seed,
                         info={"generation_seed": generation_seed, **(info or {})})


def sizes_counter(classes: tuple[str, ...], default_per_class: tuple[int, int, int]
                  ) -> Callable[..., tuple[int, int, int]]:
    """The registry's ``sizes`` function of a synthetic set with ``classes``.

    Returns:
        ``sizes(*, root, split_seed, per_class, generation_seed)``: the (train, val,
        test) sizes, counted without rendering; it takes the ``domain`` the registry
        binds for synoffice too, which does not change the sizes.
    """

    def sizes(*, root: Path, split_seed: int,
              per_class: tuple[int, int, int] = default_per_class, generation_seed: int = 0,
              domain: str | None = None) -> tuple[int, int, int]:
        return tuple(int(n) * len(classes) for n in per_class or default_per_class)

    return sizes


# ---------------------------------------------------------------------------------------
# Drawing helpers
# ---------------------------------------------------------------------------------------

def hsv(h: float, s: float, v: float) -> Color:
    """An RGB colour from hue (wrapped to [0, 1)), saturation and value (clipped to [0, 1])."""
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0.0), 1.0), min(max(v, 0.0), 1.0))
    return int(r * 255), int(g * 255), int(b * 255)


def jitter_hsv(rng: np.random.Generator, color: tuple[float, float, float],
               dh: float, ds: float, dv: float) -> tuple[float, float, float]:
    """An HSV colour with each component moved uniformly by up to ``dh``, ``ds``, ``dv``."""
    h, s, v = color
    return (h + rng.uniform(-dh, dh), s + rng.uniform(-ds, ds), v + rng.uniform(-dv, dv))


def shade(color: Color, factor: float) -> Color:
    """``color`` scaled by ``factor`` (darker below 1, lighter above), clipped to 0..255."""
    return tuple(int(min(255, max(0, c * factor))) for c in color)


def smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """``(size, size)`` float32 noise in about [0, 1], smooth over ``size / cells`` px."""
    coarse = rng.random((cells, cells), dtype=np.float32)
    return np.asarray(Image.fromarray(coarse).resize((size, size), Image.BICUBIC))


def rotate(points: np.ndarray, angle: float) -> np.ndarray:
    """``(P, 2)`` points rotated by ``angle`` radians about the origin."""
    c, s = math.cos(angle), math.sin(angle)
    return points @ np.array([[c, s], [-s, c]], dtype=np.float64)


def poly(points: np.ndarray) -> list[float]:
    """``(P, 2)`` points -> the flat ``[x0, y0, x1, y1, ...]`` list PIL draws."""
    return np.asarray(points, dtype=np.float64).ravel().tolist()


def photometric(rng: np.random.Generator, image: np.ndarray, gain: float = 0.08,
                contrast: float = 0.15, saturation: float = 0.2, noise: float = 3.0
                ) -> np.ndarray:
    """Per-channel gain, contrast, saturation jitter and Gaussian noise on ``uint8 HxWx3``."""
    x = image.astype(np.float32)
    x *= rng.uniform(1 - gain, 1 + gain, 3).astype(np.float32)
    gray = x.mean(axis=2, keepdims=True)
    x = gray + (x - gray) * rng.uniform(1 - saturation, 1 + saturation)
    x = x.mean() + (x - x.mean()) * rng.uniform(1 - contrast, 1 + contrast)
    x += rng.normal(0, rng.uniform(0, noise), x.shape).astype(np.float32)
    return np.clip(x, 0, 255).astype(np.uint8)
