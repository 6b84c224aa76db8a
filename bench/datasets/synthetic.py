"""Synthetic stand-ins for the paper's target data sets, generated from a seed, no files.

Each image is drawn with PIL ``ImageDraw`` (shapes) and numpy (backgrounds, noise) on a
square canvas of ``max(128, resolution)`` pixels, then resized with antialiasing to the
requested resolution. Image ``i`` of class ``c`` comes from its own
``numpy.random.default_rng([set_tag, generation_seed, c, i])``, so the same images are
produced on every machine, asking for more images per class only appends images, and
``split_seed`` changes only which images land in train / val / test
(:func:`bench.datasets.stratified_split`). Geometry is drawn in units of the canvas,
so every resolution shows the same scenes.

``synflowers`` (12 species; stand-in for Oxford 102 Flowers)
    A flower head seen from above: ``n`` petals (count fixed per species, varying by
    up to 6 for the many-petalled ones) of one shape (ellipse, pointed, round,
    heart-notched, fringed, spatulate or thin ray), one or two layers, each petal
    outlined in a darker shade with a lighter inner band and, for some species, a dark
    base blotch; a centre disc of the species' colour and size, stippled for composite
    flowers. Species come in 1–3 colour morphs that overlap between species (white,
    pink, violet, yellow), so count and shape matter, not colour alone. Per image:
    rotation (uniform), tilt (the head squashed to 0.6–1.0 along a random axis), radius
    24–42% of the image, centre anywhere in the middle 40%, hue / saturation / value
    jitter per flower and per petal, petal length and angle jitter. Scene: a blurred
    grass background (green gradient, low-frequency mottling, 60–120 blades),
    out-of-focus coloured blobs (other flowers), a stem, 0–3 leaves, and in half of the
    images 1–4 grass blades (and sometimes a leaf) in front of the flower. Photometric
    jitter: per-channel gain ±8%, contrast ±15%, saturation ±20%, defocus in 30% of
    images, Gaussian noise up to σ 3 (of 255).

``synoffice-{amazon,webcam,dslr}`` (12 classes named as in Office-31; its stand-in)
    One drawing routine per class (back_pack, bottle, desk_chair, desk_lamp, keyboard,
    laptop_computer, mobile_phone, monitor, mouse, mug, paper_notebook, scissors)
    draws an object instance from class-specific distributions of shape and colour
    (aspect, colours, handle side, key grid, desk or table lamp, spiral or bound
    notebook, lit or dark screen, ...), mirrored with probability 1/2. The routines and
    their distributions are shared by the three domains; each image draws its own
    instance and only the rendering differs, as in Office-31 (object half-size, offset
    of its centre and rotation are fractions of the image side):

    - amazon: product shot: on white with a soft drop shadow, near-centred (±5%), large
      (half-size 32–43%), nearly upright (±8°), no noise; in 20% of images a small
      accessory of another class sits in a corner, as on shop pages;
    - webcam: on a plain office wall above a desk (sometimes a dark furniture edge),
      off-centre (±10%), half-size 28–38%, tilted ±12°; dim light (×0.5–0.85) with a
      colour cast (per-channel gains, σ 12%), downsampled to 36–56 px (on the 128 px
      canvas) and back, blurred, with luminance and chroma noise (σ 4–10 of 255);
    - dslr: sharp (unsharp mask) photo on a textured table top (wood grain, fabric or
      laminate) strewn with 2–6 papers, pens, sticky notes and cables, the surface a
      little out of focus; off-centre (±14%), half-size 26–40%, tilted ±18°, warm white
      balance, vignetting.

``synxray`` (2 classes, ``normal`` / ``pneumonia``; stand-in for chest X-ray sets)
    A grayscale posteroanterior chest radiograph built as an attenuation map: trunk
    soft tissue narrowing to the neck inside dark air, two dark lung fields bounded by
    domed hemidiaphragms (the right one higher), a bright mediastinum and a heart
    shadow widening down to the diaphragm and bulging to the patient's left, a trachea,
    the spine with vertebral banding, 9 posterior and 5 fainter anterior ribs per side,
    clavicles, humeral heads, branching vascular markings, and in 30% of images breast
    shadows over the lower zones. Per image: patient size (chest 78–95% of the image),
    position (±5%), rotation (±4°), trunk width, lung width, apex and dome heights,
    heart size and offset, exposure window and gamma, blur, film noise and mottle.
    ``pneumonia`` adds 1–3 patchy opacities: smooth noise thresholded inside a Gaussian
    envelope (σ about 5–20% of the image), confined to the lung fields, with amplitude
    0.06–0.35 drawn log-uniformly (subtle to dense; the lungs are 0.42 darker than
    soft tissue).
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

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

def _generate(name: str, classes: tuple[str, ...], render: Callable[..., np.ndarray],
              resolution: int, split_seed: int, per_class: tuple[int, int, int],
              generation_seed: int, info: dict | None = None) -> ImageDataset:
    """Render ``sum(per_class)`` images per class and split them per class."""
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


def split_sizes(*, dataset: str, root: Path, split_seed: int,
                per_class: tuple[int, int, int] | None = None,
                generation_seed: int = 0) -> tuple[int, int, int]:
    """(train, val, test) sizes of a synthetic set, without rendering it."""
    family = dataset.split("-")[0]
    per_class = per_class or DEFAULT_PER_CLASS[family]
    classes = {"synflowers": FLOWER_CLASSES, "synoffice": OFFICE_CLASSES,
               "synxray": XRAY_CLASSES}[family]
    return tuple(int(n) * len(classes) for n in per_class)


# ---------------------------------------------------------------------------------------
# Drawing helpers
# ---------------------------------------------------------------------------------------

def _hsv(h: float, s: float, v: float) -> Color:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0.0), 1.0), min(max(v, 0.0), 1.0))
    return int(r * 255), int(g * 255), int(b * 255)


def _jitter_hsv(rng: np.random.Generator, hsv: tuple[float, float, float],
                dh: float, ds: float, dv: float) -> tuple[float, float, float]:
    h, s, v = hsv
    return (h + rng.uniform(-dh, dh), s + rng.uniform(-ds, ds), v + rng.uniform(-dv, dv))


def _shade(color: Color, factor: float) -> Color:
    return tuple(int(min(255, max(0, c * factor))) for c in color)


def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """``(size, size)`` float32 noise in about [0, 1], smooth over ``size / cells`` px."""
    coarse = rng.random((cells, cells), dtype=np.float32)
    return np.asarray(Image.fromarray(coarse).resize((size, size), Image.BICUBIC))


def _rotate(points: np.ndarray, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return points @ np.array([[c, s], [-s, c]], dtype=np.float64)


def _poly(points: np.ndarray) -> list[float]:
    """``(P, 2)`` points -> the flat ``[x0, y0, x1, y1, ...]`` list PIL draws."""
    return np.asarray(points, dtype=np.float64).ravel().tolist()


def _photometric(rng: np.random.Generator, image: np.ndarray, gain: float = 0.08,
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
    outline = _rotate(outline, angle) + (x, y)
    draw.polygon(_poly(outline), fill=color, outline=_shade(color, 0.7))
    rib = _rotate(np.array([[0.0, 0.0], [0.9 * length, 0.0]]), angle) + (x, y)
    draw.line(_poly(rib), fill=_shade(color, 1.3), width=1)


# ---------------------------------------------------------------------------------------
# synflowers
# ---------------------------------------------------------------------------------------

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


def _grass(rng: np.random.Generator, size: int) -> Image.Image:
    """A defocused grass / foliage background, ``size`` px square."""
    f = size / RENDER_SIZE
    hue = rng.uniform(0.2, 0.33)
    top, bottom = (np.array(_hsv(hue + rng.uniform(-0.03, 0.03), rng.uniform(0.4, 0.75), v))
                   for v in (rng.uniform(0.3, 0.6), rng.uniform(0.2, 0.45)))
    ramp = np.linspace(0, 1, size, dtype=np.float32)[:, None, None]
    base = top * (1 - ramp) + bottom * ramp
    mottle = 0.6 + 0.8 * _smooth_noise(rng, size, rng.integers(4, 9))[..., None]
    image = Image.fromarray(np.clip(base * mottle, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    blades = int(rng.integers(60, 121))
    hues, sats, values = (rng.uniform(lo, hi, blades) for lo, hi in
                          ((hue - 0.06, hue + 0.06), (0.35, 0.85), (0.15, 0.65)))
    xs, ys = rng.uniform(0, size, blades), rng.uniform(0.3, 1.1, blades) * size
    lengths, angles = rng.uniform(0.2, 0.7, blades) * size, rng.uniform(-0.5, 0.5, blades)
    widths = rng.uniform(1.5, 4, blades) * f
    for i in range(blades):
        _blade(draw, xs[i], ys[i], lengths[i], angles[i], widths[i],
               _hsv(hues[i], sats[i], values[i]))
    for _ in range(rng.integers(0, 6)):  # out-of-focus flowers of any colour
        r = rng.uniform(2, 7) * f
        x, y = rng.uniform(0, size, 2)
        draw.ellipse((x - r, y - r, x + r, y + r),
                     fill=_hsv(rng.random(), rng.uniform(0.2, 0.9), rng.uniform(0.6, 1.0)))
    return image.filter(ImageFilter.GaussianBlur(rng.uniform(1.0, 2.5) * f))


def _render_flower(rng: np.random.Generator, label: int, size: int) -> np.ndarray:
    species = _SPECIES[FLOWER_CLASSES[label]]
    f = size / RENDER_SIZE
    image = _grass(rng, size)
    draw = ImageDraw.Draw(image)

    cx, cy = rng.uniform(0.3, 0.7, 2) * size
    radius = rng.uniform(0.24, 0.42) * size
    spin = rng.uniform(0, 2 * np.pi)
    # Tilt: the head seen at an angle is squashed along one axis.
    axis, squash = rng.uniform(0, np.pi), rng.uniform(0.6, 1.0)
    turn = np.array([[math.cos(axis), -math.sin(axis)], [math.sin(axis), math.cos(axis)]])
    tilt = turn @ np.diag([1.0, squash]) @ turn.T  # applied as points @ tilt.T

    leaf_green = (rng.uniform(0.22, 0.36), rng.uniform(0.5, 0.85), rng.uniform(0.3, 0.6))
    stem_end = (cx + rng.uniform(-0.3, 0.3) * size, size * 1.05)
    draw.line([(cx, cy), stem_end], fill=_hsv(*leaf_green), width=max(2, int(3 * f)))
    for _ in range(rng.integers(0, 4)):
        t = rng.uniform(0.3, 0.9)
        _leaf(draw, cx + t * (stem_end[0] - cx), cy + t * (stem_end[1] - cy),
              rng.uniform(0.18, 0.35) * size, rng.uniform(0, 2 * np.pi),
              _hsv(*_jitter_hsv(rng, leaf_green, 0.03, 0.1, 0.1)))

    hsv = _jitter_hsv(rng, species.morphs[rng.integers(len(species.morphs))], 0.025, 0.12, 0.1)
    count = rng.integers(species.petals[0], species.petals[1] + 1)
    outline = _petal(species.shape, species.width)
    for layer in range(species.layers):
        # Inner layers are shorter, rotated by half a petal and a little lighter.
        length = radius * (1.0 - 0.3 * layer)
        offset = spin + layer * np.pi / count
        for k in range(count):
            angle = offset + 2 * np.pi * k / count + rng.normal(0, 0.06)
            petal_len = length * rng.uniform(0.88, 1.08)
            points = outline * petal_len + (0.08 * radius, 0)
            points = _rotate(points, angle) @ tilt.T + (cx, cy)
            color = _hsv(*_jitter_hsv(rng, (hsv[0], hsv[1], hsv[2] + 0.08 * layer),
                                      0.01, 0.05, 0.06))
            draw.polygon(_poly(points), fill=color, outline=_shade(color, 0.72))
            # A lighter inner band gives the petal some relief.
            inner = outline * (petal_len * 0.8, 0.45) + (0.2 * radius, 0)
            draw.polygon(_poly(_rotate(inner, angle) @ tilt.T + (cx, cy)),
                         fill=_shade(color, 1.12))
            if species.blotch is not None:
                base = outline[outline[:, 0] < 0.9] * (0.42 * petal_len) + (0.08 * radius, 0)
                draw.polygon(_poly(_rotate(base, angle) @ tilt.T + (cx, cy)),
                             fill=_hsv(*_jitter_hsv(rng, species.blotch, 0.02, 0.1, 0.08)))

    centre_r = radius * species.centre_size * rng.uniform(0.85, 1.15)
    ring = np.stack([np.cos(np.linspace(0, 2 * np.pi, 32)),
                     np.sin(np.linspace(0, 2 * np.pi, 32))], 1)
    centre_color = _hsv(*_jitter_hsv(rng, species.centre, 0.02, 0.1, 0.08))
    draw.polygon(_poly(ring * centre_r @ tilt.T + (cx, cy)), fill=centre_color,
                 outline=_shade(centre_color, 0.6))
    if species.stippled:
        dots = rng.uniform(-1, 1, (int(60 * species.centre_size * f ** 2) + 10, 2))
        dots = dots[(dots ** 2).sum(1) < 0.8] * centre_r @ tilt.T + (cx, cy)
        for x, y in dots:
            shade = rng.choice([0.55, 0.75, 1.3])
            draw.point((float(x), float(y)), fill=_shade(centre_color, shade))

    if rng.random() < 0.5:  # something in front of the flower
        for _ in range(rng.integers(1, 5)):
            _blade(draw, cx + rng.uniform(-0.5, 0.5) * radius, size * rng.uniform(0.9, 1.1),
                   rng.uniform(0.4, 0.9) * size, rng.uniform(-0.4, 0.4), rng.uniform(2, 5) * f,
                   _hsv(*_jitter_hsv(rng, leaf_green, 0.04, 0.1, 0.15)))
        if rng.random() < 0.3:
            _leaf(draw, cx + rng.uniform(-1, 1) * radius, cy + rng.uniform(0.2, 1.2) * radius,
                  rng.uniform(0.25, 0.4) * size, rng.uniform(0, 2 * np.pi),
                  _hsv(*_jitter_hsv(rng, leaf_green, 0.03, 0.1, 0.1)))

    if rng.random() < 0.3:  # slightly out of focus
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.9) * f))
    return _photometric(rng, np.asarray(image))


def build_synflowers(resolution: int, *, root: Path, split_seed: int,
                     per_class: tuple[int, int, int] = DEFAULT_PER_CLASS["synflowers"],
                     generation_seed: int = 0) -> ImageDataset:
    """12 synthetic flower species; ``per_class`` = (train, val, test) images per class."""
    return _generate("synflowers", FLOWER_CLASSES, _render_flower, resolution, split_seed,
                     per_class, generation_seed)


# ---------------------------------------------------------------------------------------
# synoffice: object drawings shared by the three domains
# ---------------------------------------------------------------------------------------
# Each routine draws one object instance centred on (cx, cy) with half-size s pixels on an
# RGBA layer, upright; shape and colour parameters come from the class's distributions.

def _neutral(rng: np.random.Generator) -> Color:
    """Black, grey, silver or white plastic."""
    return _hsv(rng.uniform(0.5, 0.7), rng.uniform(0, 0.08),
                rng.choice([rng.uniform(0.1, 0.25), rng.uniform(0.4, 0.65),
                            rng.uniform(0.8, 0.95)]))


def _vivid(rng: np.random.Generator) -> Color:
    return _hsv(rng.random(), rng.uniform(0.45, 0.9), rng.uniform(0.45, 0.95))


def _any_color(rng: np.random.Generator) -> Color:
    return _vivid(rng) if rng.random() < 0.5 else _neutral(rng)


def _width(s: float, fraction: float) -> int:
    return max(1, round(s * fraction))


def _quad(corners: np.ndarray, u: float, v: float) -> tuple[float, float]:
    """Bilinear map of (u, v) in [0, 1]^2 onto a quad given as TL, TR, BR, BL corners."""
    top = corners[0] + u * (corners[1] - corners[0])
    bottom = corners[3] + u * (corners[2] - corners[3])
    x, y = top + v * (bottom - top)
    return float(x), float(y)


def _key_grid(draw: ImageDraw.ImageDraw, corners: np.ndarray, rows: int, cols: int,
              box: tuple[float, float, float, float], color: Color) -> None:
    """A grid of keys inside ``box`` = (u0, v0, u1, v1) of a quad; the last row has a space bar."""
    u0, v0, u1, v1 = box
    du, dv = (u1 - u0) / cols, (v1 - v0) / rows
    for r in range(rows):
        spans = [(c, c + 1) for c in range(cols)]
        if r == rows - 1:  # space bar in the middle of the bottom row
            spans = spans[:cols // 3] + [(cols // 3, cols - cols // 3)] + spans[cols - cols // 3:]
        for a, b in spans:
            ua, ub = u0 + a * du + 0.12 * du, u0 + b * du - 0.12 * du
            va, vb = v0 + r * dv + 0.14 * dv, v0 + (r + 1) * dv - 0.14 * dv
            draw.polygon([_quad(corners, ua, va), _quad(corners, ub, va),
                          _quad(corners, ub, vb), _quad(corners, ua, vb)], fill=color)


def _draw_back_pack(draw, rng, cx, cy, s):
    color = _vivid(rng) if rng.random() < 0.7 else _neutral(rng)
    dark = _shade(color, 0.6)
    w, top, bottom = s * rng.uniform(0.55, 0.7), cy - s * rng.uniform(0.7, 0.85), cy + s * 0.9
    for side in (-1, 1):  # shoulder straps peeking out behind the body
        x = cx + side * w
        draw.rounded_rectangle((min(x, x + side * s * 0.14), top + s * 0.3,
                                max(x, x + side * s * 0.14), bottom - s * 0.25),
                               radius=s * 0.05, fill=dark)
    draw.arc((cx - s * 0.22, top - s * 0.25, cx + s * 0.22, top + s * 0.15), 180, 360,
             fill=dark, width=_width(s, 0.07))
    draw.rounded_rectangle((cx - w, top, cx + w, bottom), radius=s * 0.35, fill=color,
                           outline=dark, width=_width(s, 0.03))
    draw.arc((cx - w * 0.85, top + s * 0.08, cx + w * 0.85, top + s * 1.0), 190, 350,
             fill=dark, width=_width(s, 0.025))
    pocket = _shade(color, rng.uniform(0.75, 0.9)) if rng.random() < 0.7 else _vivid(rng)
    draw.rounded_rectangle((cx - w * 0.72, cy + s * 0.05, cx + w * 0.72, bottom - s * 0.12),
                           radius=s * 0.15, fill=pocket, outline=dark, width=_width(s, 0.03))
    draw.line([(cx - w * 0.5, cy + s * 0.2), (cx + w * 0.5, cy + s * 0.2)], fill=dark,
              width=_width(s, 0.025))
    draw.rectangle((cx + w * 0.35, cy + s * 0.2, cx + w * 0.43, cy + s * 0.33), fill=dark)


def _draw_bottle(draw, rng, cx, cy, s):
    plastic = rng.random() < 0.6
    color = (_hsv(rng.uniform(0.45, 0.62), rng.uniform(0.1, 0.4), rng.uniform(0.75, 0.95))
             if plastic else _vivid(rng))
    dark = _shade(color, 0.65)
    w = s * rng.uniform(0.24, 0.36)
    neck = s * rng.uniform(0.08, 0.13)
    shoulder, neck_top = cy - s * rng.uniform(0.05, 0.3), cy - s * 0.72
    draw.rounded_rectangle((cx - w, shoulder, cx + w, cy + s * 0.95), radius=w * 0.3,
                           fill=color, outline=dark, width=_width(s, 0.025))
    draw.polygon([(cx - w, shoulder + s * 0.05), (cx - neck, neck_top + s * 0.12),
                  (cx - neck, neck_top), (cx + neck, neck_top), (cx + neck, neck_top + s * 0.12),
                  (cx + w, shoulder + s * 0.05)], fill=color, outline=dark)
    draw.rectangle((cx - neck * 1.2, cy - s * 0.95, cx + neck * 1.2, neck_top), fill=_vivid(rng)
                   if rng.random() < 0.6 else _neutral(rng), outline=dark)
    if rng.random() < 0.75:  # label
        y0 = cy + s * rng.uniform(0.05, 0.25)
        draw.rectangle((cx - w, y0, cx + w, y0 + s * rng.uniform(0.25, 0.45)), fill=_vivid(rng))
    draw.rectangle((cx - w * 0.6, shoulder + s * 0.1, cx - w * 0.4, cy + s * 0.85),
                   fill=_shade(color, 1.25))


def _draw_desk_chair(draw, rng, cx, cy, s):
    color = _neutral(rng) if rng.random() < 0.6 else _vivid(rng)
    metal = _hsv(0.6, 0.05, rng.uniform(0.2, 0.6))
    hub = (cx, cy + s * 0.62)
    # Five-star base with castors, drawn first (it is behind the post).
    for k in range(5):
        a = np.pi / 2 + 2 * np.pi * k / 5 + rng.normal(0, 0.05)
        end = (cx + s * 0.6 * math.cos(a), hub[1] + s * 0.2 * math.sin(a))
        draw.line([hub, end], fill=metal, width=_width(s, 0.07))
        r = s * 0.06
        draw.ellipse((end[0] - r, end[1], end[0] + r, end[1] + 2 * r), fill=(20, 20, 20))
    draw.rectangle((cx - s * 0.04, cy + s * 0.1, cx + s * 0.04, hub[1]), fill=metal)
    back_w, back_top = s * rng.uniform(0.32, 0.45), cy - s * rng.uniform(0.8, 0.95)
    draw.rectangle((cx - s * 0.05, cy - s * 0.3, cx + s * 0.05, cy), fill=metal)
    draw.rounded_rectangle((cx - back_w, back_top, cx + back_w, cy - s * 0.15),
                           radius=s * 0.15, fill=color, outline=_shade(color, 0.6),
                           width=_width(s, 0.03))
    draw.rounded_rectangle((cx - s * 0.52, cy - s * 0.08, cx + s * 0.52, cy + s * 0.14),
                           radius=s * 0.08, fill=_shade(color, 0.85), outline=_shade(color, 0.6),
                           width=_width(s, 0.03))
    if rng.random() < 0.6:  # armrests
        for side in (-1, 1):
            x = cx + side * s * 0.5
            draw.line([(x, cy - s * 0.05), (x, cy - s * 0.3), (x - side * s * 0.18,
                       cy - s * 0.3)], fill=(25, 25, 25), width=_width(s, 0.06))


def _draw_desk_lamp(draw, rng, cx, cy, s):
    color = _any_color(rng)
    dark = _shade(color, 0.6)
    light = _hsv(0.13, rng.uniform(0.2, 0.6), 1.0)
    if rng.random() < 0.65:  # articulated desk lamp
        draw.rounded_rectangle((cx - s * 0.4, cy + s * 0.78, cx + s * 0.4, cy + s * 0.95),
                               radius=s * 0.06, fill=color, outline=dark)
        joint = (cx + s * rng.uniform(0.15, 0.45), cy - s * rng.uniform(0.0, 0.2))
        head = (cx - s * rng.uniform(0.1, 0.4), cy - s * rng.uniform(0.6, 0.8))
        arm = _width(s, 0.05)
        draw.line([(cx, cy + s * 0.8), joint, head], fill=dark, width=arm, joint="curve")
        draw.ellipse((joint[0] - arm, joint[1] - arm, joint[0] + arm, joint[1] + arm), fill=dark)
        a = rng.uniform(0.35, 0.75) * np.pi  # shade axis, pointing down and to the side
        axis = np.array([math.cos(a), math.sin(a)])
        perp = np.array([-axis[1], axis[0]])
        apex, mouth = np.array(head), np.array(head) + s * 0.45 * axis
        half = s * rng.uniform(0.22, 0.3)
        draw.polygon(_poly([apex + perp * s * 0.06, apex - perp * s * 0.06,
                            mouth - perp * half, mouth + perp * half]), fill=color, outline=dark)
        draw.line(_poly([mouth - perp * half * 0.9, mouth + perp * half * 0.9]), fill=light,
                  width=_width(s, 0.06))
    else:  # table lamp: fabric shade on a vase
        shade = _hsv(rng.uniform(0.05, 0.15), rng.uniform(0.05, 0.4), rng.uniform(0.8, 0.98))
        draw.ellipse((cx - s * 0.28, cy + s * 0.2, cx + s * 0.28, cy + s * 0.92), fill=color,
                     outline=dark)
        draw.rectangle((cx - s * 0.04, cy - s * 0.15, cx + s * 0.04, cy + s * 0.22), fill=dark)
        top, bottom = s * rng.uniform(0.25, 0.35), s * rng.uniform(0.55, 0.7)
        draw.polygon([(cx - top, cy - s * 0.85), (cx + top, cy - s * 0.85),
                      (cx + bottom, cy - s * 0.1), (cx - bottom, cy - s * 0.1)], fill=shade,
                     outline=_shade(shade, 0.7))


def _draw_keyboard(draw, rng, cx, cy, s):
    body = _neutral(rng)
    keys = _shade(body, 1.6) if sum(body) < 300 else _shade(body, 0.8)
    w, h, narrow = s * 0.97, s * rng.uniform(0.3, 0.42), rng.uniform(0.78, 1.0)
    corners = np.array([[cx - w * narrow, cy - h], [cx + w * narrow, cy - h],
                        [cx + w, cy + h], [cx - w, cy + h]])
    draw.polygon(_poly(corners + (0, s * 0.06)), fill=_shade(body, 0.6))
    draw.polygon(_poly(corners), fill=body, outline=_shade(body, 0.6))
    cols = int(rng.integers(12, 16))
    _key_grid(draw, corners, 5, cols, (0.04, 0.1, 0.78 if rng.random() < 0.5 else 0.96, 0.92),
              keys)


def _draw_laptop_computer(draw, rng, cx, cy, s):
    body = _neutral(rng)
    dark = _shade(body, 0.6)
    hinge = cy + s * rng.uniform(-0.05, 0.1)
    w = s * rng.uniform(0.72, 0.85)
    draw.rounded_rectangle((cx - w, cy - s * 0.95, cx + w, hinge), radius=s * 0.04, fill=body,
                           outline=dark)
    screen = _hsv(rng.uniform(0.5, 0.7), rng.uniform(0.3, 0.8), rng.uniform(0.3, 0.9))
    draw.rectangle((cx - w + s * 0.07, cy - s * 0.88, cx + w - s * 0.07, hinge - s * 0.07),
                   fill=screen)
    deck = np.array([[cx - w, hinge], [cx + w, hinge], [cx + w * 1.2, cy + s * 0.7],
                     [cx - w * 1.2, cy + s * 0.7]])
    draw.polygon(_poly(deck + (0, s * 0.05)), fill=dark)
    draw.polygon(_poly(deck), fill=_shade(body, 1.1), outline=dark)
    keys = _shade(body, 0.5) if sum(body) > 300 else _shade(body, 1.7)
    _key_grid(draw, deck, 4, 12, (0.08, 0.08, 0.92, 0.58), keys)
    draw.polygon([_quad(deck, 0.38, 0.66), _quad(deck, 0.62, 0.66), _quad(deck, 0.62, 0.92),
                  _quad(deck, 0.38, 0.92)], fill=_shade(body, 0.9), outline=dark)


def _draw_mobile_phone(draw, rng, cx, cy, s):
    body = _neutral(rng) if rng.random() < 0.7 else _vivid(rng)
    w, h = s * rng.uniform(0.4, 0.52), s * 0.95
    draw.rounded_rectangle((cx - w, cy - h, cx + w, cy + h), radius=s * 0.12, fill=body,
                           outline=_shade(body, 0.5), width=_width(s, 0.03))
    lit = rng.random() < 0.6
    screen = (_hsv(rng.random(), rng.uniform(0.3, 0.8), rng.uniform(0.6, 0.95)) if lit
              else (15, 15, 20))
    home = rng.random() < 0.5  # older phones: bezels and a home button
    top, bottom = (h - s * 0.17, h - s * 0.2) if home else (h - s * 0.06, h - s * 0.06)
    draw.rounded_rectangle((cx - w + s * 0.05, cy - top, cx + w - s * 0.05, cy + bottom),
                           radius=s * 0.05, fill=screen)
    if lit:  # app icons
        for r in range(5):
            for c in range(4):
                x = cx - w + s * 0.1 + c * (2 * w - s * 0.2) / 4
                y = cy - top + s * 0.1 + r * s * 0.25
                draw.rectangle((x, y, x + s * 0.1, y + s * 0.1), fill=_vivid(rng))
    draw.line([(cx - s * 0.08, cy - h + s * 0.07), (cx + s * 0.08, cy - h + s * 0.07)],
              fill=(30, 30, 30), width=_width(s, 0.025))
    if home:
        r = s * 0.07
        draw.ellipse((cx - r, cy + h - s * 0.17, cx + r, cy + h - s * 0.03),
                     outline=_shade(body, 0.6), width=_width(s, 0.02))


def _draw_monitor(draw, rng, cx, cy, s):
    bezel = _neutral(rng)
    dark = _shade(bezel, 0.6)
    w = s * 0.97
    h = w * rng.choice([0.56, 0.62, 0.75]) / 1.0 * 0.9
    sy = cy - s * 0.95 + h
    base_y = min(cy + s * 0.92, sy + h + s * 0.45)
    draw.rectangle((cx - s * 0.07, sy + h, cx + s * 0.07, base_y), fill=dark)
    draw.polygon([(cx - s * 0.4, base_y + s * 0.04), (cx - s * 0.3, base_y - s * 0.04),
                  (cx + s * 0.3, base_y - s * 0.04), (cx + s * 0.4, base_y + s * 0.04)],
                 fill=bezel, outline=dark)
    draw.rectangle((cx - w, sy - h, cx + w, sy + h), fill=bezel, outline=dark)
    screen = _hsv(rng.uniform(0.5, 0.7), rng.uniform(0.3, 0.9), rng.uniform(0.15, 0.85))
    draw.rectangle((cx - w + s * 0.05, sy - h + s * 0.05, cx + w - s * 0.05, sy + h - s * 0.09),
                   fill=screen)
    for _ in range(rng.integers(0, 3)):  # open windows
        x0, y0 = cx + rng.uniform(-0.8, 0.2) * w, sy + rng.uniform(-0.8, 0.1) * h
        draw.rectangle((x0, y0, x0 + rng.uniform(0.3, 0.7) * w, y0 + rng.uniform(0.3, 0.7) * h),
                       fill=(235, 235, 235), outline=(90, 90, 90))


def _draw_mouse(draw, rng, cx, cy, s):
    color = _neutral(rng) if rng.random() < 0.7 else _vivid(rng)
    dark = _shade(color, 0.55)
    rx, ry = s * rng.uniform(0.34, 0.46), s * rng.uniform(0.62, 0.75)
    theta = np.linspace(0, 2 * np.pi, 40)
    # An egg: narrower at the top (buttons) than at the palm end.
    egg = np.stack([rx * np.cos(theta) * (1 + 0.15 * np.sin(theta)), ry * np.sin(theta)], 1)
    if rng.random() < 0.5:  # cable
        draw.line([(cx, cy - ry), (cx + s * 0.1, cy - ry - s * 0.15),
                   (cx - s * 0.05, cy - ry - s * 0.3)], fill=(30, 30, 30),
                  width=_width(s, 0.03), joint="curve")
    draw.polygon(_poly(egg + (cx, cy + s * 0.1)), fill=color, outline=dark)
    split = cy + s * 0.1 - ry * 0.15
    draw.line([(cx, cy + s * 0.1 - ry), (cx, split)], fill=dark, width=_width(s, 0.025))
    draw.arc((cx - rx, split - ry * 0.3, cx + rx, split + ry * 0.3), 10, 170, fill=dark,
             width=_width(s, 0.02))
    draw.rounded_rectangle((cx - s * 0.04, cy + s * 0.1 - ry * 0.78, cx + s * 0.04,
                            cy + s * 0.1 - ry * 0.45), radius=s * 0.03, fill=(40, 40, 40))


def _draw_mug(draw, rng, cx, cy, s):
    color = _any_color(rng)
    dark = _shade(color, 0.6)
    bw, bh = s * rng.uniform(0.45, 0.6), s * rng.uniform(0.55, 0.8)
    bx, rim = cx - s * 0.15, bw * 0.25
    hr, hh = s * rng.uniform(0.25, 0.35), bh * rng.uniform(0.45, 0.6)
    draw.ellipse((bx + bw - hr, cy - hh, bx + bw + hr, cy + hh), outline=color,
                 width=_width(s, 0.12))
    draw.ellipse((bx - bw, cy + bh - rim, bx + bw, cy + bh + rim), fill=color, outline=dark)
    draw.rectangle((bx - bw, cy - bh, bx + bw, cy + bh), fill=color)
    draw.line([(bx - bw, cy - bh), (bx - bw, cy + bh)], fill=dark)
    draw.line([(bx + bw, cy - bh), (bx + bw, cy + bh)], fill=dark)
    if rng.random() < 0.4:  # a printed band
        y0 = cy + rng.uniform(-0.5, 0.2) * bh
        draw.rectangle((bx - bw, y0, bx + bw, y0 + bh * rng.uniform(0.2, 0.5)),
                       fill=_vivid(rng))
    draw.rectangle((bx - bw * 0.65, cy - bh * 0.8, bx - bw * 0.45, cy + bh * 0.9),
                   fill=_shade(color, 1.25))
    draw.ellipse((bx - bw, cy - bh - rim, bx + bw, cy - bh + rim), fill=_shade(color, 0.45),
                 outline=dark, width=_width(s, 0.03))


def _draw_paper_notebook(draw, rng, cx, cy, s):
    cover = _vivid(rng) if rng.random() < 0.8 else _neutral(rng)
    dark = _shade(cover, 0.6)
    w, h = s * rng.uniform(0.5, 0.65), s * rng.uniform(0.75, 0.92)
    depth = s * rng.uniform(0.05, 0.12)
    # Page block behind the cover, seen from the side and bottom.
    draw.polygon([(cx - w + depth, cy - h + depth), (cx + w + depth, cy - h + depth),
                  (cx + w + depth, cy + h + depth), (cx - w + depth, cy + h + depth)],
                 fill=(238, 232, 215), outline=(150, 140, 120))
    for k in range(1, 4):
        d = depth * k / 4
        draw.line([(cx + w + d, cy - h + d), (cx + w + d, cy + h + d)], fill=(180, 170, 150))
    draw.rectangle((cx - w, cy - h, cx + w, cy + h), fill=cover, outline=dark)
    if rng.random() < 0.5:  # spiral binding
        for y in np.arange(cy - h + s * 0.08, cy + h - s * 0.05, s * 0.13):
            draw.ellipse((cx - w - s * 0.06, y - s * 0.04, cx - w + s * 0.06, y + s * 0.04),
                         outline=(70, 70, 70), width=_width(s, 0.02))
    else:  # bound spine
        draw.rectangle((cx - w, cy - h, cx - w + s * 0.13, cy + h), fill=dark)
    y0 = cy - h * rng.uniform(0.55, 0.75)
    draw.rectangle((cx - w * 0.55, y0, cx + w * 0.7, y0 + s * 0.25), fill=(245, 245, 240),
                   outline=dark)
    draw.line([(cx - w * 0.4, y0 + s * 0.09), (cx + w * 0.55, y0 + s * 0.09)], fill=(60, 60, 60),
              width=_width(s, 0.03))


def _draw_scissors(draw, rng, cx, cy, s):
    handle = _vivid(rng) if rng.random() < 0.8 else (25, 25, 25)
    steel = _hsv(0.6, 0.05, rng.uniform(0.55, 0.8))
    pivot = np.array([cx, cy - s * 0.05])
    opening = rng.uniform(0.1, 0.45)
    for side in (-1, 1):
        a = side * opening / 2
        up = np.array([math.sin(a), -math.cos(a)])
        across = np.array([-up[1], up[0]])
        ring = pivot - up * s * 0.55 + across * side * s * 0.18
        draw.line(_poly([pivot, ring]), fill=handle, width=_width(s, 0.09))
        r = np.array([s * 0.17, s * 0.24])
        draw.ellipse((*(ring - r), *(ring + r)), outline=handle, width=_width(s, 0.08))
        blade = [pivot - across * s * 0.09 - up * s * 0.1, pivot + up * s * 0.95,
                 pivot + across * s * 0.05 - up * s * 0.1]
        draw.polygon(_poly(blade), fill=steel, outline=_shade(steel, 0.55))
    r = s * 0.05
    draw.ellipse((pivot[0] - r, pivot[1] - r, pivot[0] + r, pivot[1] + r), fill=(60, 60, 60))


_OFFICE_OBJECTS = {
    "back_pack": _draw_back_pack,
    "bottle": _draw_bottle,
    "desk_chair": _draw_desk_chair,
    "desk_lamp": _draw_desk_lamp,
    "keyboard": _draw_keyboard,
    "laptop_computer": _draw_laptop_computer,
    "mobile_phone": _draw_mobile_phone,
    "monitor": _draw_monitor,
    "mouse": _draw_mouse,
    "mug": _draw_mug,
    "paper_notebook": _draw_paper_notebook,
    "scissors": _draw_scissors,
}
OFFICE_CLASSES = tuple(_OFFICE_OBJECTS)  # Office-31's names for these classes


# ---------------------------------------------------------------------------------------
# synoffice: the three domains
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Domain:
    half: tuple[float, float]  # object half-size range, fraction of the image
    shift: float               # largest offset of the object centre, fraction of the image
    angle: float               # largest in-plane rotation, degrees


_DOMAINS = {
    "amazon": _Domain((0.32, 0.43), 0.05, 8.0),
    "webcam": _Domain((0.28, 0.38), 0.10, 12.0),
    "dslr": _Domain((0.26, 0.40), 0.14, 18.0),
}


def _object_layer(rng: np.random.Generator, label: int, size: int, domain: _Domain
                  ) -> Image.Image:
    """The object alone on a transparent ``size`` px RGBA layer, posed for the domain."""
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    half = rng.uniform(*domain.half) * size
    _OFFICE_OBJECTS[OFFICE_CLASSES[label]](ImageDraw.Draw(layer), rng, size / 2, size / 2, half)
    if rng.random() < 0.5:
        layer = layer.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    shift = tuple(rng.uniform(-domain.shift, domain.shift, 2) * size)
    return layer.rotate(rng.uniform(-domain.angle, domain.angle), resample=Image.BICUBIC,
                        translate=shift)


def _shadow(image: Image.Image, layer: Image.Image, rng: np.random.Generator,
            blur: float, offset: tuple[int, int], strength: float) -> None:
    """Darken ``image`` in place under a blurred, offset copy of the layer's alpha."""
    alpha = layer.getchannel("A").filter(ImageFilter.GaussianBlur(blur))
    alpha = alpha.transform(alpha.size, Image.AFFINE, (1, 0, -offset[0], 0, 1, -offset[1]))
    mask = alpha.point(lambda a: int(a * strength))
    image.paste((40, 40, 40), (0, 0), mask)


def _render_amazon(rng: np.random.Generator, layer: Image.Image, size: int) -> np.ndarray:
    """Product shot: white studio background, soft drop shadow, clean colours."""
    f = size / RENDER_SIZE
    white = rng.uniform(244, 255)
    image = Image.new("RGB", (size, size), tuple(int(white + d) for d in rng.uniform(-2, 0, 3)))
    _shadow(image, layer, rng, 3 * f, (round(2 * f), round(3 * f)), rng.uniform(0.15, 0.35))
    image.paste(layer, (0, 0), layer)
    return _photometric(rng, np.asarray(image), gain=0.01, contrast=0.05, saturation=0.1,
                        noise=0.0)


def _render_webcam(rng: np.random.Generator, layer: Image.Image, size: int) -> np.ndarray:
    """Webcam frame: office wall and desk, dim, colour cast, low resolution, noisy."""
    f = size / RENDER_SIZE
    wall = np.array(_hsv(rng.uniform(0.05, 0.65), rng.uniform(0.05, 0.25),
                         rng.uniform(0.55, 0.85)), np.float32)
    desk = np.array(_hsv(rng.uniform(0.05, 0.12), rng.uniform(0.0, 0.5),
                         rng.uniform(0.3, 0.75)), np.float32)
    rows = np.arange(size)[:, None, None]
    background = np.where(rows < rng.uniform(0.55, 0.9) * size, wall, desk)
    background = background * (0.75 + 0.4 * _smooth_noise(rng, size, 3)[..., None])
    image = Image.fromarray(np.clip(background, 0, 255).astype(np.uint8))
    if rng.random() < 0.4:  # a dark edge of some furniture or screen
        x = rng.uniform(0, 0.25) * size
        box = (0, 0, x, size) if rng.random() < 0.5 else (size - x, 0, size, size)
        ImageDraw.Draw(image).rectangle(box, fill=_neutral(rng))
    image.paste(layer, (0, 0), layer)

    x = np.asarray(image).astype(np.float32)
    x *= rng.uniform(0.5, 0.85) * (1 + rng.normal(0, 0.12, 3)).astype(np.float32)
    image = Image.fromarray(np.clip(x, 0, 255).astype(np.uint8))
    low = max(8, round(rng.uniform(36, 56) * f))
    image = image.resize((low, low), Image.BILINEAR).resize((size, size), Image.BILINEAR)
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.8) * f))
    x = np.asarray(image).astype(np.float32)
    sigma = rng.uniform(4, 10)
    x += rng.normal(0, sigma, x.shape[:2] + (1,)).astype(np.float32)  # luminance noise
    x += rng.normal(0, sigma / 2, x.shape).astype(np.float32)        # chroma noise
    return np.clip(x, 0, 255).astype(np.uint8)


def _surface(rng: np.random.Generator, size: int) -> np.ndarray:
    """A textured table top, ``(size, size, 3)`` float32: wood grain, fabric or laminate."""
    kind = rng.integers(3)
    grid = np.arange(size, dtype=np.float32)
    if kind == 0:  # wood: warped stripes
        light = np.array(_hsv(rng.uniform(0.05, 0.1), rng.uniform(0.4, 0.7),
                              rng.uniform(0.55, 0.85)), np.float32)
        warp = _smooth_noise(rng, size, 3) * size * rng.uniform(0.2, 0.5)
        coords = grid[:, None] if rng.random() < 0.5 else grid[None, :]
        grain = np.sin((coords + warp) * 2 * np.pi / (rng.uniform(5, 12) * size / RENDER_SIZE))
        value = 0.75 + 0.15 * grain + 0.15 * _smooth_noise(rng, size, 24)
    elif kind == 1:  # fabric: fine weave and noise
        light = np.array(_vivid(rng), np.float32)
        weave = np.sin(grid[:, None] * 2.1) * np.sin(grid[None, :] * 2.1)
        value = 0.85 + 0.08 * weave + 0.1 * rng.standard_normal((size, size)).astype(np.float32)
    else:  # laminate desk: pale, faint mottling
        light = np.array(_hsv(rng.uniform(0, 1), rng.uniform(0, 0.15), rng.uniform(0.7, 0.95)),
                         np.float32)
        value = 0.9 + 0.15 * _smooth_noise(rng, size, 6)
    return light * value[..., None]


def _clutter(draw: ImageDraw.ImageDraw, rng: np.random.Generator, size: int) -> None:
    """Papers, pens, sticky notes and cables scattered on the surface."""
    f = size / RENDER_SIZE
    for _ in range(rng.integers(2, 7)):
        kind = rng.integers(4)
        x, y = rng.uniform(0, size, 2)
        angle = rng.uniform(0, np.pi)
        if kind == 0:  # sheet of paper with text lines
            half = rng.uniform(0.12, 0.3) * size * np.array([1.0, 1.3])
            box = _rotate(np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * half, angle) + (x, y)
            draw.polygon(_poly(box), fill=_hsv(0.12, rng.uniform(0, 0.12), 0.95),
                         outline=(200, 200, 200))
            for k in range(rng.integers(3, 7)):
                v = -0.7 + 0.25 * k
                line = _rotate(np.array([[-0.7, v], [0.6, v]]) * half, angle) + (x, y)
                draw.line(_poly(line), fill=(150, 150, 150))
        elif kind == 1:  # pen
            end = _rotate(np.array([[rng.uniform(0.15, 0.3) * size, 0.0]]), angle)[0] + (x, y)
            draw.line([(x, y), tuple(end)], fill=_vivid(rng), width=max(2, round(2.5 * f)))
        elif kind == 2:  # sticky note
            half = rng.uniform(0.05, 0.09) * size
            box = _rotate(np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * half, angle) + (x, y)
            draw.polygon(_poly(box), fill=_hsv(rng.choice([0.15, 0.9, 0.3, 0.55]), 0.45, 0.98))
        else:  # cable: a random walk
            steps = np.cumsum(rng.normal(0, 8 * f, (8, 2)), axis=0) + (x, y)
            gray = int(rng.choice([25, 230]))
            draw.line(_poly(steps), fill=(gray, gray, gray), width=max(2, round(2 * f)),
                      joint="curve")


def _render_dslr(rng: np.random.Generator, layer: Image.Image, size: int) -> np.ndarray:
    """DSLR photo: sharp, textured surface with clutter, warm light, vignetting."""
    f = size / RENDER_SIZE
    image = Image.fromarray(np.clip(_surface(rng, size), 0, 255).astype(np.uint8))
    _clutter(ImageDraw.Draw(image), rng, size)
    # Shallow depth of field: the surface is softer than the object in focus.
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.5) * f))
    _shadow(image, layer, rng, 2 * f, (round(3 * f), round(3 * f)), rng.uniform(0.3, 0.5))
    image.paste(layer, (0, 0), layer)
    image = image.filter(ImageFilter.UnsharpMask(1.5 * f, int(rng.integers(60, 150)), 2))
    x = np.asarray(image).astype(np.float32)
    x *= rng.uniform(0.9, 1.1) * np.array([rng.uniform(1.02, 1.1), 1.0, rng.uniform(0.86, 0.96)],
                                         np.float32)
    r2 = ((np.arange(size) - size / 2) ** 2)[:, None] + ((np.arange(size) - size / 2) ** 2)
    x *= (1 - rng.uniform(0.1, 0.35) * r2 / (size / 2) ** 2)[..., None].astype(np.float32)
    x += rng.normal(0, 1.5, x.shape).astype(np.float32)
    return np.clip(x, 0, 255).astype(np.uint8)


_DOMAIN_RENDERERS = {"amazon": _render_amazon, "webcam": _render_webcam, "dslr": _render_dslr}


# Product shots sometimes show an accessory of another class (a mouse with the laptop).
_ACCESSORY = _Domain((0.11, 0.15), 0.0, 8.0)
_ACCESSORY_PROBABILITY = 0.2


def _office_renderer(domain: str) -> Callable[[np.random.Generator, int, int], np.ndarray]:
    def render(rng: np.random.Generator, label: int, size: int) -> np.ndarray:
        layer = _object_layer(rng, label, size, _DOMAINS[domain])
        if domain == "amazon" and rng.random() < _ACCESSORY_PROBABILITY:
            other = (label + rng.integers(1, len(OFFICE_CLASSES))) % len(OFFICE_CLASSES)
            accessory = _object_layer(rng, other, size, _ACCESSORY)
            corner = tuple(int(c) for c in rng.choice([-1, 1], 2) * 0.33 * size)
            accessory = accessory.transform(accessory.size, Image.AFFINE,
                                            (1, 0, -corner[0], 0, 1, -corner[1]))
            layer = Image.alpha_composite(accessory, layer)
        return _DOMAIN_RENDERERS[domain](rng, layer, size)
    return render


def build_synoffice(resolution: int, *, domain: str, root: Path, split_seed: int,
                    per_class: tuple[int, int, int] = DEFAULT_PER_CLASS["synoffice"],
                    generation_seed: int = 0) -> ImageDataset:
    """12 office object classes in one domain (``amazon``, ``webcam`` or ``dslr``)."""
    if domain not in _DOMAINS:
        raise ValueError(f"unknown synoffice domain {domain!r}; known: {', '.join(_DOMAINS)}")
    return _generate(f"synoffice-{domain}", OFFICE_CLASSES, _office_renderer(domain), resolution,
                     split_seed, per_class, generation_seed, info={"domain": domain})


# ---------------------------------------------------------------------------------------
# synxray
# ---------------------------------------------------------------------------------------

XRAY_CLASSES = ("normal", "pneumonia")


def _sigmoid(x: np.ndarray, edge: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x / edge, -30, 30)))


class _Patient:
    """Body coordinates (u right, v down, about [-1, 1] over the chest) of one radiograph.

    ``grid`` holds the body coordinates of every pixel; ``to_pixel`` maps body
    coordinates to pixels (patient size, position and rotation vary per image).
    """

    def __init__(self, rng: np.random.Generator, size: int):
        self.size = size
        self.scale = rng.uniform(0.78, 0.95)
        self.shift = rng.uniform(-0.05, 0.05, 2)
        self.angle = np.deg2rad(rng.uniform(-4, 4))
        pixels = (np.arange(size, dtype=np.float32) + 0.5) / (size / 2) - 1
        x, y = np.meshgrid(pixels, pixels)
        points = _rotate(np.stack([x.ravel() - self.shift[0], y.ravel() - self.shift[1]], 1),
                         -self.angle) / self.scale
        self.u = points[:, 0].reshape(size, size).astype(np.float32)
        self.v = points[:, 1].reshape(size, size).astype(np.float32)

    def to_pixel(self, points: np.ndarray) -> list[float]:
        """Body coordinates ``(P, 2)`` -> flat pixel coordinates ``[x0, y0, ...]``."""
        body = _rotate(np.asarray(points, np.float64) * self.scale, self.angle) + self.shift
        return _poly((body + 1) * self.size / 2)


def _bones(rng: np.random.Generator, patient: _Patient) -> np.ndarray:
    """Ribs, clavicles and humeral heads as a ``(size, size)`` float map in [0, ~1]."""
    size = patient.size
    image = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(image)
    px = size / 2 * patient.scale  # pixels per body unit
    rib_width = max(2, round(0.045 * px))
    spacing = rng.uniform(0.11, 0.135)
    t = np.linspace(0, 1, 12)
    for side in (-1, 1):
        for i in range(9):  # posterior ribs: from the spine out, up, then down the chest wall
            y0 = -0.75 + i * spacing
            rib = np.stack([side * (0.07 + 0.5 * np.sin(t * np.pi / 2)),
                            y0 - 0.07 * np.sin(np.pi * t) + 0.25 * t ** 2], 1)
            draw.line(patient.to_pixel(rib), fill=200, width=rib_width, joint="curve")
            draw.line(patient.to_pixel(rib), fill=130, width=max(1, rib_width - 2))
        for i in range(5):  # anterior ribs: fainter, from the chest wall down and in
            y0 = -0.62 + i * spacing * 1.3
            rib = np.stack([side * (0.55 - 0.33 * t), y0 + 0.03 + 0.18 * t], 1)
            draw.line(patient.to_pixel(rib), fill=90, width=rib_width)
        clavicle = np.stack([side * (0.08 + 0.5 * t), -0.74 - 0.12 * t + 0.04 * np.sin(np.pi * t)],
                            1)
        draw.line(patient.to_pixel(clavicle), fill=230, width=max(2, round(0.06 * px)))
        x, y = patient.to_pixel([[side * rng.uniform(0.92, 1.0), -0.88]])
        r = 0.2 * px
        draw.ellipse((x - r, y - r, x + r, y + r), fill=180)
    return _blur(np.asarray(image, np.float32) / 255, 0.8 * size / RENDER_SIZE)


def _vessels(rng: np.random.Generator, patient: _Patient) -> np.ndarray:
    """Branching vascular markings from both hila, ``(size, size)`` float map in [0, 1]."""
    size = patient.size
    image = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(image)
    for side in (-1, 1):
        for _ in range(rng.integers(6, 11)):
            direction = rng.uniform(-0.5, 1.9) * np.pi / 2  # fanning up, out and down
            point = np.array([side * 0.17, rng.uniform(-0.12, 0.05)])
            path = [point]
            for _ in range(6):
                direction += rng.normal(0, 0.25)
                point = point + 0.06 * np.array([side * math.cos(direction), math.sin(direction)])
                path.append(point)
            draw.line(patient.to_pixel(np.array(path)), fill=int(rng.integers(120, 255)),
                      width=max(1, round(size / RENDER_SIZE)))
    return _blur(np.asarray(image, np.float32) / 255, 0.7 * size / RENDER_SIZE)


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter  # scipy comes with scikit-learn
    return gaussian_filter(image, sigma, mode="nearest")


def _render_xray(rng: np.random.Generator, label: int, size: int) -> np.ndarray:
    patient = _Patient(rng, size)
    u, v = patient.u, patient.v
    edge = 2.0 / size  # soft anatomical borders, about one pixel

    # Trunk soft tissue: narrows to the neck above the shoulders.
    width = rng.uniform(0.75, 0.95)
    shoulders = np.clip((-0.55 - v) / 0.45, 0, 1) ** 1.5
    half_width = np.maximum(width * (1 - 0.45 * shoulders), 0.25)
    body = _sigmoid(half_width - np.abs(u), 3 * edge)
    attenuation = body * (0.55 + 0.1 * (1 - np.clip(u / width, -1, 1) ** 2))

    # Lung fields: rounded apex, lateral wall, domed hemidiaphragm (right one higher).
    lungs = np.zeros_like(u)
    lung_width = rng.uniform(0.26, 0.31)
    for side in (-1, 1):
        centre = side * rng.uniform(0.34, 0.4)
        apex = rng.uniform(-0.78, -0.68)
        dome = rng.uniform(0.32, 0.48) - (0.04 if side < 0 else 0)
        lateral = (lung_width * np.sqrt(np.clip((v - apex) / 0.3, 0, 1)) - np.abs(u - centre)
                   - np.clip(apex - v, 0, None))
        floor = dome + 0.25 * ((u - centre) / lung_width) ** 2 - v
        lungs = np.maximum(lungs, _sigmoid(np.minimum(lateral, floor), 2 * edge))
    # Heart: widens from the mediastinum down to the diaphragm, bulging to the patient's
    # left (image right).
    grow = np.sqrt(np.clip((v + rng.uniform(0.1, 0.2)) / 0.55, 0, 1))
    heart_width, heart_shift = 0.28 * rng.uniform(0.85, 1.2), rng.uniform(0.06, 0.14)
    heart = _sigmoid(heart_width * (0.35 + 0.65 * grow) - np.abs(u - 0.02 - heart_shift * grow),
                     3 * edge)
    mediastinum = _sigmoid(0.12 + 0.03 * (v > -0.35) - np.abs(u - 0.02), edge) * (v < 0.5)
    lungs *= (1 - heart) * (1 - mediastinum)
    attenuation += 0.03 * heart - 0.42 * lungs

    trachea = np.exp(-(u / 0.03) ** 2) * (v < -0.3) * (v > -1.2)
    spine = _sigmoid(0.07 - np.abs(u), edge) * (1 + 0.3 * np.sin(v * 2 * np.pi / 0.11) ** 8)
    attenuation += 0.1 * spine - 0.1 * trachea
    if rng.random() < 0.3:  # breast shadows over the lower zones, in both classes
        for side in (-1, 1):
            attenuation += 0.08 * _sigmoid(0.3 - np.hypot((u - side * 0.45) / 1.2, v - 0.45),
                                           0.06) * body
    attenuation += body * (0.12 * _bones(rng, patient) + 0.08 * lungs * _vessels(rng, patient))

    if label == 1:  # pneumonia: patchy opacities confined to the lung fields
        opacity = np.zeros_like(u)
        for _ in range(rng.integers(1, 4)):
            side = rng.choice([-1, 1])
            centre = (side * rng.uniform(0.2, 0.55), rng.uniform(-0.45, 0.35))
            radius = rng.uniform(0.1, 0.4)
            amplitude = math.exp(rng.uniform(math.log(0.06), math.log(0.35)))
            envelope = np.exp(-((u - centre[0]) ** 2 + (v - centre[1]) ** 2) / (2 * radius ** 2))
            patches = np.clip((_smooth_noise(rng, size, rng.integers(6, 14)) - 0.35) * 3, 0, 1)
            opacity += amplitude * envelope * (0.35 + 0.65 * patches)
        attenuation += opacity * _sigmoid(lungs - 0.2, 0.1)

    # Film response, exposure, blur and noise.
    low, high = rng.uniform(-0.02, 0.06), rng.uniform(0.7, 0.9)
    image = np.clip((attenuation - low) / (high - low), 0, 1) ** rng.uniform(0.8, 1.25)
    image = _blur(image, rng.uniform(0.5, 1.1) * size / RENDER_SIZE)
    image += rng.normal(0, rng.uniform(0.01, 0.03), image.shape)
    image += 0.04 * (_smooth_noise(rng, size, 8) - 0.5)
    gray = np.clip(image * 255, 0, 255).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=2)


def build_synxray(resolution: int, *, root: Path, split_seed: int,
                  per_class: tuple[int, int, int] = DEFAULT_PER_CLASS["synxray"],
                  generation_seed: int = 0) -> ImageDataset:
    """Synthetic chest radiographs, ``normal`` vs ``pneumonia``, grayscale as RGB."""
    return _generate("synxray", XRAY_CLASSES, _render_xray, resolution, split_seed, per_class,
                     generation_seed)
