"""``synflowers``: 12 synthetic flower species on grass, a stand-in for Oxford 102 Flowers.

A flower head seen from above: ``n`` petals (count fixed per species, varying by up to 6
for the many-petalled ones) of one shape (ellipse, pointed, round, heart-notched,
fringed, spatulate or thin ray), one or two layers, each petal outlined in a darker
shade with a lighter inner band and, for some species, a dark base blotch; a centre
disc of the species' colour and size, stippled for composite flowers. Species come in
1–3 colour morphs that overlap between species (white, pink, violet, yellow), so count
and shape matter, not colour alone. Per image: rotation (uniform), tilt (the head
squashed to 0.6–1.0 along a random axis), radius 24–42% of the image, centre anywhere
in the middle 40%, hue / saturation / value jitter per flower and per petal, petal
length and angle jitter. Scene: a blurred grass background (green gradient,
low-frequency mottling, 60–120 blades), out-of-focus coloured blobs (other flowers), a
stem, 0–3 leaves, and in half of the images 1–4 grass blades (and sometimes a leaf) in
front of the flower. Photometric jitter: per-channel gain ±8%, contrast ±15%,
saturation ±20%, defocus in 30% of images, Gaussian noise up to σ 3 (of 255).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from bench.datasets.base import ImageDataset
from bench.datasets.registry import register
from bench.datasets.synthetic.common import (
    DEFAULT_PER_CLASS,
    RENDER_SIZE,
    Color,
    generate,
    hsv,
    jitter_hsv,
    photometric,
    poly,
    rotate,
    shade,
    sizes_counter,
    smooth_noise,
)


@dataclass(frozen=True)
class _Species:
    petals: tuple[int, int]          # petal count range per layer (inclusive)
    shape: str                       # key of _PETAL_PROFILES
    width: float                     # petal half-width / petal length
    layers: int
    morphs: tuple[tuple[float, float, float], ...]  # HSV petal colours the species comes in
    centre: tuple[float, float, float]  # HSV of the centre disc
    centre_size: float               # centre radius / flower radius
    blotch: tuple[float, float, float] | None = None  # HSV of a darker petal base
    stippled: bool = False           # composite flower: dotted centre


# Colour morphs overlap between species (white, pink, violet, yellow) so that petal
# count and shape, not colour alone, tell several species apart.
_WHITE, _PINK, _VIOLET = (0.9, 0.06, 0.96), (0.93, 0.4, 0.95), (0.76, 0.55, 0.72)
_SPECIES: dict[str, _Species] = {
    "daisy": _Species((16, 22), "ray", 0.13, 1, ((0.15, 0.04, 0.97), (0.95, 0.15, 0.97)),
                      (0.14, 0.9, 0.92), 0.27, stippled=True),
    "buttercup": _Species((5, 5), "round", 0.48, 1, ((0.15, 0.95, 0.96),), (0.22, 0.7, 0.7),
                          0.2),
    "wild_pansy": _Species((5, 5), "heart", 0.5, 1,
                           ((0.77, 0.65, 0.62), (0.15, 0.8, 0.95), (0.68, 0.6, 0.7)),
                           (0.14, 0.9, 0.95), 0.12, blotch=(0.75, 0.8, 0.25)),
    "corn_poppy": _Species((4, 4), "round", 0.72, 1, ((0.0, 0.9, 0.88), (0.05, 0.9, 0.95)),
                           (0.0, 0.2, 0.1), 0.2, blotch=(0.0, 0.6, 0.15)),
    "star_lily": _Species((6, 6), "pointed", 0.3, 1, (_PINK, _WHITE, (0.06, 0.85, 0.95)),
                          (0.25, 0.6, 0.7), 0.1, blotch=(0.95, 0.8, 0.7)),
    "sunflower": _Species((20, 26), "pointed", 0.16, 1, ((0.12, 0.95, 0.96), (0.15, 0.9, 0.98)),
                          (0.07, 0.85, 0.35), 0.45, stippled=True),
    "cornflower": _Species((8, 10), "fringed", 0.32, 1,
                           ((0.62, 0.75, 0.85), (0.83, 0.45, 0.8), _WHITE),
                           (0.66, 0.8, 0.35), 0.18),
    "periwinkle": _Species((5, 5), "spatulate", 0.45, 1, ((0.69, 0.38, 0.92), _WHITE, _PINK),
                           (0.0, 0.0, 0.96), 0.12),
    "cosmos": _Species((8, 8), "heart", 0.33, 1, ((0.89, 0.65, 0.85), _PINK, _WHITE),
                       (0.14, 0.85, 0.9), 0.2),
    "marigold": _Species((12, 14), "round", 0.35, 2, ((0.07, 0.95, 0.97), (0.12, 0.9, 0.97)),
                         (0.06, 0.9, 0.6), 0.15),
    "clematis": _Species((4, 4), "pointed", 0.42, 1, (_VIOLET, _WHITE, _PINK),
                         (0.15, 0.2, 0.95), 0.18),
    "lotus": _Species((8, 8), "ellipse", 0.36, 2, ((0.95, 0.3, 0.97), _WHITE),
                      (0.15, 0.75, 0.9), 0.16),
}
FLOWER_CLASSES = tuple(_SPECIES)

# Half-width along the petal, t in [0, 1] from base to tip, peak 1.
_PETAL_PROFILES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "ellipse": lambda t: np.sin(np.pi * t),
    "ray": lambda t: np.sin(np.pi * t) ** 0.7,
    "pointed": lambda t: (t ** 0.6 * (1 - t)) / (0.375 ** 0.6 * 0.625),
    "round": lambda t: np.sqrt(np.sin(np.pi * t ** 1.4)),
    "spatulate": lambda t: np.sin(np.pi * t ** 2.2) ** 0.6,
    "heart": lambda t: np.sqrt(np.sin(np.pi / 2 * np.minimum(t / 0.7, 1.0))),
    "fringed": lambda t: np.sqrt(np.sin(np.pi / 2 * np.minimum(t / 0.75, 1.0))),
}


@dataclass(frozen=True)
class _Head:
    """Where one flower head lies in the image and how it is seen."""

    cx: float
    cy: float
    radius: float                    # petal length of the outer layer, pixels
    spin: float                      # rotation of the first petal, radians
    tilt: np.ndarray                 # 2x2: squashes the head seen at an angle

    def place(self, points: np.ndarray) -> np.ndarray:
        """Flower coordinates ``(P, 2)`` (pixels, centred on the head) -> image pixels."""
        return points @ self.tilt.T + (self.cx, self.cy)


# ---------------------------------------------------------------------------------------
# Scene: grass, blades and leaves
# ---------------------------------------------------------------------------------------

def _blade(draw: ImageDraw.ImageDraw, x: float, y: float, length: float, angle: float,
           width: float, color: Color) -> None:
    """A tapering grass blade from (x, y) (its base) at ``angle`` from vertical."""
    bend = 0.25 * math.sin(angle)
    tip = (x + length * math.sin(angle + bend), y - length * math.cos(angle + bend))
    mid = (x + 0.55 * length * math.sin(angle), y - 0.55 * length * math.cos(angle))
    nx, ny = math.cos(angle) * width / 2, math.sin(angle) * width / 2
    draw.polygon([(x - nx, y - ny), (mid[0] - nx * 0.7, mid[1] - ny * 0.7), tip,
                  (mid[0] + nx * 0.7, mid[1] + ny * 0.7), (x + nx, y + ny)], fill=color)


def _leaf(draw: ImageDraw.ImageDraw, x: float, y: float, length: float, angle: float,
          color: Color) -> None:
    """A pointed leaf from its base (x, y) along ``angle`` (radians, 0 = right), with a midrib."""
    t = np.linspace(0, 1, 14)
    half = 0.22 * length * np.sin(np.pi * t) * (1 - 0.35 * t)
    outline = np.concatenate([np.stack([t * length, half], 1),
                              np.stack([t[::-1] * length, -half[::-1]], 1)])
    outline = rotate(outline, angle) + (x, y)
    draw.polygon(poly(outline), fill=color, outline=shade(color, 0.7))
    rib = rotate(np.array([[0.0, 0.0], [0.9 * length, 0.0]]), angle) + (x, y)
    draw.line(poly(rib), fill=shade(color, 1.3), width=1)


def _grass_base(rng: np.random.Generator, size: int, hue: float) -> Image.Image:
    """A green vertical gradient with low-frequency mottling, ``size`` px square."""
    top, bottom = (np.array(hsv(hue + rng.uniform(-0.03, 0.03), rng.uniform(0.4, 0.75), v))
                   for v in (rng.uniform(0.3, 0.6), rng.uniform(0.2, 0.45)))
    ramp = np.linspace(0, 1, size, dtype=np.float32)[:, None, None]
    base = top * (1 - ramp) + bottom * ramp
    mottle = 0.6 + 0.8 * smooth_noise(rng, size, rng.integers(4, 9))[..., None]
    return Image.fromarray(np.clip(base * mottle, 0, 255).astype(np.uint8))


def _grass_blades(draw: ImageDraw.ImageDraw, rng: np.random.Generator, size: int,
                  hue: float) -> None:
    """60–120 blades of grass around ``hue``, all over the image."""
    f = size / RENDER_SIZE
    blades = int(rng.integers(60, 121))
    hues, sats, values = (rng.uniform(lo, hi, blades) for lo, hi in
                          ((hue - 0.06, hue + 0.06), (0.35, 0.85), (0.15, 0.65)))
    xs, ys = rng.uniform(0, size, blades), rng.uniform(0.3, 1.1, blades) * size
    lengths, angles = rng.uniform(0.2, 0.7, blades) * size, rng.uniform(-0.5, 0.5, blades)
    widths = rng.uniform(1.5, 4, blades) * f
    for i in range(blades):
        _blade(draw, xs[i], ys[i], lengths[i], angles[i], widths[i],
               hsv(hues[i], sats[i], values[i]))


def _grass(rng: np.random.Generator, size: int) -> Image.Image:
    """A defocused grass / foliage background, ``size`` px square."""
    f = size / RENDER_SIZE
    hue = rng.uniform(0.2, 0.33)
    image = _grass_base(rng, size, hue)
    draw = ImageDraw.Draw(image)
    _grass_blades(draw, rng, size, hue)
    for _ in range(rng.integers(0, 6)):  # out-of-focus flowers of any colour
        r = rng.uniform(2, 7) * f
        x, y = rng.uniform(0, size, 2)
        draw.ellipse((x - r, y - r, x + r, y + r),
                     fill=hsv(rng.random(), rng.uniform(0.2, 0.9), rng.uniform(0.6, 1.0)))
    return image.filter(ImageFilter.GaussianBlur(rng.uniform(1.0, 2.5) * f))


# ---------------------------------------------------------------------------------------
# The flower
# ---------------------------------------------------------------------------------------

def _petal(shape: str, width: float) -> np.ndarray:
    """Petal outline ``(P, 2)``: x along the petal (0 base .. 1 tip), y across."""
    t = np.linspace(0, 1, 25)
    half = width * _PETAL_PROFILES[shape](t)
    x = np.concatenate([t, t[::-1]])
    y = np.concatenate([half, -half[::-1]])
    if shape == "heart":  # a notch in the middle of a broad tip
        x = x - 0.22 * np.exp(-(y / (0.45 * width)) ** 2) * np.clip((x - 0.6) / 0.4, 0, 1)
    elif shape == "fringed":  # several teeth across the tip
        x = x - 0.12 * np.abs(np.sin(2.5 * np.pi * y / width)) * np.clip((x - 0.7) / 0.3, 0, 1)
    return np.stack([x, y], 1)


def _head(rng: np.random.Generator, size: int) -> _Head:
    """Position, size, rotation and tilt of the flower head."""
    cx, cy = rng.uniform(0.3, 0.7, 2) * size
    radius = rng.uniform(0.24, 0.42) * size
    spin = rng.uniform(0, 2 * np.pi)
    # Tilt: the head seen at an angle is squashed along one axis.
    axis, squash = rng.uniform(0, np.pi), rng.uniform(0.6, 1.0)
    turn = np.array([[math.cos(axis), -math.sin(axis)], [math.sin(axis), math.cos(axis)]])
    tilt = turn @ np.diag([1.0, squash]) @ turn.T  # applied as points @ tilt.T
    return _Head(cx, cy, radius, spin, tilt)


def _stem(draw: ImageDraw.ImageDraw, rng: np.random.Generator, head: _Head,
          size: int) -> tuple[float, float, float]:
    """The stem and 0–3 leaves below the head; returns the plant's green (HSV)."""
    f = size / RENDER_SIZE
    cx, cy = head.cx, head.cy
    leaf_green = (rng.uniform(0.22, 0.36), rng.uniform(0.5, 0.85), rng.uniform(0.3, 0.6))
    stem_end = (cx + rng.uniform(-0.3, 0.3) * size, size * 1.05)
    draw.line([(cx, cy), stem_end], fill=hsv(*leaf_green), width=max(2, int(3 * f)))
    for _ in range(rng.integers(0, 4)):
        t = rng.uniform(0.3, 0.9)
        _leaf(draw, cx + t * (stem_end[0] - cx), cy + t * (stem_end[1] - cy),
              rng.uniform(0.18, 0.35) * size, rng.uniform(0, 2 * np.pi),
              hsv(*jitter_hsv(rng, leaf_green, 0.03, 0.1, 0.1)))
    return leaf_green


def _petals(draw: ImageDraw.ImageDraw, rng: np.random.Generator, species: _Species,
            head: _Head) -> None:
    """Every petal of every layer, in one colour morph of the species."""
    morph = jitter_hsv(rng, species.morphs[rng.integers(len(species.morphs))], 0.025, 0.12, 0.1)
    count = rng.integers(species.petals[0], species.petals[1] + 1)
    outline = _petal(species.shape, species.width)
    for layer in range(species.layers):
        # Inner layers are shorter, rotated by half a petal and a little lighter.
        length = head.radius * (1.0 - 0.3 * layer)
        offset = head.spin + layer * np.pi / count
        for k in range(count):
            angle = offset + 2 * np.pi * k / count + rng.normal(0, 0.06)
            petal_len = length * rng.uniform(0.88, 1.08)
            color = hsv(*jitter_hsv(rng, (morph[0], morph[1], morph[2] + 0.08 * layer),
                                    0.01, 0.05, 0.06))
            _one_petal(draw, rng, species, head, outline, angle, petal_len, color)


def _one_petal(draw: ImageDraw.ImageDraw, rng: np.random.Generator, species: _Species,
               head: _Head, outline: np.ndarray, angle: float, petal_len: float,
               color: Color) -> None:
    """One petal: outlined body, lighter inner band, and the species' base blotch if any."""
    points = outline * petal_len + (0.08 * head.radius, 0)
    draw.polygon(poly(head.place(rotate(points, angle))), fill=color, outline=shade(color, 0.72))
    # A lighter inner band gives the petal some relief.
    inner = outline * (petal_len * 0.8, 0.45) + (0.2 * head.radius, 0)
    draw.polygon(poly(head.place(rotate(inner, angle))), fill=shade(color, 1.12))
    if species.blotch is not None:
        base = outline[outline[:, 0] < 0.9] * (0.42 * petal_len) + (0.08 * head.radius, 0)
        draw.polygon(poly(head.place(rotate(base, angle))),
                     fill=hsv(*jitter_hsv(rng, species.blotch, 0.02, 0.1, 0.08)))


def _centre(draw: ImageDraw.ImageDraw, rng: np.random.Generator, species: _Species,
            head: _Head, size: int) -> None:
    """The centre disc, stippled for composite flowers."""
    f = size / RENDER_SIZE
    centre_r = head.radius * species.centre_size * rng.uniform(0.85, 1.15)
    ring = np.stack([np.cos(np.linspace(0, 2 * np.pi, 32)),
                     np.sin(np.linspace(0, 2 * np.pi, 32))], 1)
    centre_color = hsv(*jitter_hsv(rng, species.centre, 0.02, 0.1, 0.08))
    draw.polygon(poly(head.place(ring * centre_r)), fill=centre_color,
                 outline=shade(centre_color, 0.6))
    if species.stippled:
        dots = rng.uniform(-1, 1, (int(60 * species.centre_size * f ** 2) + 10, 2))
        dots = head.place(dots[(dots ** 2).sum(1) < 0.8] * centre_r)
        for x, y in dots:
            factor = rng.choice([0.55, 0.75, 1.3])
            draw.point((float(x), float(y)), fill=shade(centre_color, factor))


def _foreground(draw: ImageDraw.ImageDraw, rng: np.random.Generator, head: _Head,
                leaf_green: tuple[float, float, float], size: int) -> None:
    """In half of the images, grass blades (and sometimes a leaf) in front of the flower."""
    f = size / RENDER_SIZE
    if rng.random() >= 0.5:
        return
    cx, cy, radius = head.cx, head.cy, head.radius
    for _ in range(rng.integers(1, 5)):
        _blade(draw, cx + rng.uniform(-0.5, 0.5) * radius, size * rng.uniform(0.9, 1.1),
               rng.uniform(0.4, 0.9) * size, rng.uniform(-0.4, 0.4), rng.uniform(2, 5) * f,
               hsv(*jitter_hsv(rng, leaf_green, 0.04, 0.1, 0.15)))
    if rng.random() < 0.3:
        _leaf(draw, cx + rng.uniform(-1, 1) * radius, cy + rng.uniform(0.2, 1.2) * radius,
              rng.uniform(0.25, 0.4) * size, rng.uniform(0, 2 * np.pi),
              hsv(*jitter_hsv(rng, leaf_green, 0.03, 0.1, 0.1)))


def _render_flower(rng: np.random.Generator, label: int, size: int) -> np.ndarray:
    """One ``uint8 (size, size, 3)`` image of species ``label``."""
    species = _SPECIES[FLOWER_CLASSES[label]]
    f = size / RENDER_SIZE
    image = _grass(rng, size)
    draw = ImageDraw.Draw(image)
    head = _head(rng, size)
    leaf_green = _stem(draw, rng, head, size)
    _petals(draw, rng, species, head)
    _centre(draw, rng, species, head, size)
    _foreground(draw, rng, head, leaf_green, size)
    if rng.random() < 0.3:  # slightly out of focus
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.9) * f))
    return photometric(rng, np.asarray(image))


@register("synflowers", "synthetic flowers: 12 species on grass (flowers102 stand-in)",
          num_classes=12, synthetic=True,
          sizes=sizes_counter(FLOWER_CLASSES, DEFAULT_PER_CLASS["synflowers"]))
def build_synflowers(resolution: int, *, root: Path, split_seed: int,
                     per_class: tuple[int, int, int] = DEFAULT_PER_CLASS["synflowers"],
                     generation_seed: int = 0) -> ImageDataset:
    """12 synthetic flower species; ``per_class`` = (train, val, test) images per class."""
    return generate("synflowers", FLOWER_CLASSES, _render_flower, resolution, split_seed,
                    per_class, generation_seed)
