"""``synoffice-{amazon,webcam,dslr}``: 12 office object classes, stand-ins for Office-31.

The classes carry Office-31's names. One drawing routine per class
(:mod:`~bench.datasets.synthetic.office_objects`: back_pack, bottle, desk_chair,
desk_lamp, keyboard, laptop_computer, mobile_phone, monitor, mouse, mug,
paper_notebook, scissors) draws an object instance from class-specific distributions of shape and colour
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
"""

from __future__ import annotations

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
    generate,
    hsv,
    photometric,
    poly,
    rotate,
    sizes_counter,
    smooth_noise,
)
from bench.datasets.synthetic.office_objects import OFFICE_CLASSES, OFFICE_OBJECTS, neutral, vivid


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
    OFFICE_OBJECTS[OFFICE_CLASSES[label]](ImageDraw.Draw(layer), rng, size / 2, size / 2, half)
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
    return photometric(rng, np.asarray(image), gain=0.01, contrast=0.05, saturation=0.1,
                       noise=0.0)


def _render_webcam(rng: np.random.Generator, layer: Image.Image, size: int) -> np.ndarray:
    """Webcam frame: office wall and desk, dim, colour cast, low resolution, noisy."""
    f = size / RENDER_SIZE
    wall = np.array(hsv(rng.uniform(0.05, 0.65), rng.uniform(0.05, 0.25),
                        rng.uniform(0.55, 0.85)), np.float32)
    desk = np.array(hsv(rng.uniform(0.05, 0.12), rng.uniform(0.0, 0.5),
                        rng.uniform(0.3, 0.75)), np.float32)
    rows = np.arange(size)[:, None, None]
    background = np.where(rows < rng.uniform(0.55, 0.9) * size, wall, desk)
    background = background * (0.75 + 0.4 * smooth_noise(rng, size, 3)[..., None])
    image = Image.fromarray(np.clip(background, 0, 255).astype(np.uint8))
    if rng.random() < 0.4:  # a dark edge of some furniture or screen
        x = rng.uniform(0, 0.25) * size
        box = (0, 0, x, size) if rng.random() < 0.5 else (size - x, 0, size, size)
        ImageDraw.Draw(image).rectangle(box, fill=neutral(rng))
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
        light = np.array(hsv(rng.uniform(0.05, 0.1), rng.uniform(0.4, 0.7),
                             rng.uniform(0.55, 0.85)), np.float32)
        warp = smooth_noise(rng, size, 3) * size * rng.uniform(0.2, 0.5)
        coords = grid[:, None] if rng.random() < 0.5 else grid[None, :]
        grain = np.sin((coords + warp) * 2 * np.pi / (rng.uniform(5, 12) * size / RENDER_SIZE))
        value = 0.75 + 0.15 * grain + 0.15 * smooth_noise(rng, size, 24)
    elif kind == 1:  # fabric: fine weave and noise
        light = np.array(vivid(rng), np.float32)
        weave = np.sin(grid[:, None] * 2.1) * np.sin(grid[None, :] * 2.1)
        value = 0.85 + 0.08 * weave + 0.1 * rng.standard_normal((size, size)).astype(np.float32)
    else:  # laminate desk: pale, faint mottling
        light = np.array(hsv(rng.uniform(0, 1), rng.uniform(0, 0.15), rng.uniform(0.7, 0.95)),
                         np.float32)
        value = 0.9 + 0.15 * smooth_noise(rng, size, 6)
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
            box = rotate(np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * half, angle) + (x, y)
            draw.polygon(poly(box), fill=hsv(0.12, rng.uniform(0, 0.12), 0.95),
                         outline=(200, 200, 200))
            for k in range(rng.integers(3, 7)):
                v = -0.7 + 0.25 * k
                line = rotate(np.array([[-0.7, v], [0.6, v]]) * half, angle) + (x, y)
                draw.line(poly(line), fill=(150, 150, 150))
        elif kind == 1:  # pen
            end = rotate(np.array([[rng.uniform(0.15, 0.3) * size, 0.0]]), angle)[0] + (x, y)
            draw.line([(x, y), tuple(end)], fill=vivid(rng), width=max(2, round(2.5 * f)))
        elif kind == 2:  # sticky note
            half = rng.uniform(0.05, 0.09) * size
            box = rotate(np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * half, angle) + (x, y)
            draw.polygon(poly(box), fill=hsv(rng.choice([0.15, 0.9, 0.3, 0.55]), 0.45, 0.98))
        else:  # cable: a random walk
            steps = np.cumsum(rng.normal(0, 8 * f, (8, 2)), axis=0) + (x, y)
            gray = int(rng.choice([25, 230]))
            draw.line(poly(steps), fill=(gray, gray, gray), width=max(2, round(2 * f)),
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
    """``render(rng, label, size)`` for one domain: pose the object, then the domain's scene."""

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


_STYLES = {"amazon": "product shots on white", "webcam": "low-res, noisy, dim, colour cast",
           "dslr": "sharp photos on cluttered backgrounds"}


def _register_domains(builder: Callable[..., ImageDataset]) -> Callable[..., ImageDataset]:
    """Register ``builder`` once per domain, as ``synoffice-<domain>``."""
    sizes = sizes_counter(OFFICE_CLASSES, DEFAULT_PER_CLASS["synoffice"])
    for domain, style in _STYLES.items():
        register(f"synoffice-{domain}",
                 f"synthetic office objects, 12 classes, {style} (office31-{domain} stand-in)",
                 num_classes=12, synthetic=True, sizes=sizes, domain=domain)(builder)
    return builder


@_register_domains
def build_synoffice(resolution: int, *, domain: str, root: Path, split_seed: int,
                    per_class: tuple[int, int, int] = DEFAULT_PER_CLASS["synoffice"],
                    generation_seed: int = 0) -> ImageDataset:
    """12 office object classes in one domain (``amazon``, ``webcam`` or ``dslr``)."""
    if domain not in _DOMAINS:
        raise ValueError(f"unknown synoffice domain {domain!r}; known: {', '.join(_DOMAINS)}")
    return generate(f"synoffice-{domain}", OFFICE_CLASSES, _office_renderer(domain), resolution,
                    split_seed, per_class, generation_seed, info={"domain": domain})

