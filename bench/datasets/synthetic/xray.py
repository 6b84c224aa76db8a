"""``synxray``: synthetic chest radiographs, normal vs pneumonia (chest X-ray stand-in).

The classes are those of the real sets, :data:`bench.datasets.base.XRAY_CLASSES`.

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

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from bench.datasets.base import XRAY_CLASSES, ImageDataset
from bench.datasets.registry import register
from bench.datasets.synthetic.common import (
    DEFAULT_PER_CLASS,
    RENDER_SIZE,
    generate,
    poly,
    rotate,
    sizes_counter,
    smooth_noise,
)


def _sigmoid(x: np.ndarray, edge: float) -> np.ndarray:
    """A soft step from 0 to 1 where ``x`` crosses 0, about ``edge`` wide."""
    return 1.0 / (1.0 + np.exp(-np.clip(x / edge, -30, 30)))


class _Patient:
    """Body coordinates (u right, v down, about [-1, 1] over the chest) of one radiograph.

    ``u`` and ``v`` hold the body coordinates of every pixel; ``to_pixel`` maps body
    coordinates to pixels (patient size, position and rotation vary per image).
    """

    def __init__(self, rng: np.random.Generator, size: int):
        self.size = size
        self.scale = rng.uniform(0.78, 0.95)
        self.shift = rng.uniform(-0.05, 0.05, 2)
        self.angle = np.deg2rad(rng.uniform(-4, 4))
        pixels = (np.arange(size, dtype=np.float32) + 0.5) / (size / 2) - 1
        x, y = np.meshgrid(pixels, pixels)
        points = rotate(np.stack([x.ravel() - self.shift[0], y.ravel() - self.shift[1]], 1),
                        -self.angle) / self.scale
        self.u = points[:, 0].reshape(size, size).astype(np.float32)
        self.v = points[:, 1].reshape(size, size).astype(np.float32)

    def to_pixel(self, points: np.ndarray) -> list[float]:
        """Body coordinates ``(P, 2)`` -> flat pixel coordinates ``[x0, y0, ...]``."""
        body = rotate(np.asarray(points, np.float64) * self.scale, self.angle) + self.shift
        return poly((body + 1) * self.size / 2)


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
    """Gaussian blur of a 2-D float map, edges extended."""
    from scipy.ndimage import gaussian_filter  # scipy comes with scikit-learn
    return gaussian_filter(image, sigma, mode="nearest")


def _trunk(rng: np.random.Generator, patient: _Patient, edge: float
           ) -> tuple[np.ndarray, np.ndarray]:
    """The trunk's soft tissue, narrowing to the neck above the shoulders.

    Returns:
        ``(body, attenuation)``: the body mask and its attenuation map.
    """
    u, v = patient.u, patient.v
    width = rng.uniform(0.75, 0.95)
    shoulders = np.clip((-0.55 - v) / 0.45, 0, 1) ** 1.5
    half_width = np.maximum(width * (1 - 0.45 * shoulders), 0.25)
    body = _sigmoid(half_width - np.abs(u), 3 * edge)
    attenuation = body * (0.55 + 0.1 * (1 - np.clip(u / width, -1, 1) ** 2))
    return body, attenuation


def _lung_fields(rng: np.random.Generator, patient: _Patient, edge: float) -> np.ndarray:
    """Both lungs: rounded apex, lateral wall, domed hemidiaphragm (the right one higher)."""
    u, v = patient.u, patient.v
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
    return lungs


def _heart(rng: np.random.Generator, patient: _Patient, edge: float
           ) -> tuple[np.ndarray, np.ndarray]:
    """The heart and mediastinum masks, ``(heart, mediastinum)``.

    The heart widens from the mediastinum down to the diaphragm, bulging to the
    patient's left (image right).
    """
    u, v = patient.u, patient.v
    grow = np.sqrt(np.clip((v + rng.uniform(0.1, 0.2)) / 0.55, 0, 1))
    heart_width, heart_shift = 0.28 * rng.uniform(0.85, 1.2), rng.uniform(0.06, 0.14)
    heart = _sigmoid(heart_width * (0.35 + 0.65 * grow) - np.abs(u - 0.02 - heart_shift * grow),
                     3 * edge)
    mediastinum = _sigmoid(0.12 + 0.03 * (v > -0.35) - np.abs(u - 0.02), edge) * (v < 0.5)
    return heart, mediastinum


def _spine_and_trachea(patient: _Patient, edge: float) -> np.ndarray:
    """Attenuation of the banded spine (brighter) and the trachea (darker)."""
    u, v = patient.u, patient.v
    trachea = np.exp(-(u / 0.03) ** 2) * (v < -0.3) * (v > -1.2)
    spine = _sigmoid(0.07 - np.abs(u), edge) * (1 + 0.3 * np.sin(v * 2 * np.pi / 0.11) ** 8)
    return 0.1 * spine - 0.1 * trachea


def _add_breast_shadows(attenuation: np.ndarray, patient: _Patient, body: np.ndarray) -> None:
    """Add breast shadows over both lower zones to ``attenuation``, in place."""
    u, v = patient.u, patient.v
    for side in (-1, 1):
        attenuation += 0.08 * _sigmoid(0.3 - np.hypot((u - side * 0.45) / 1.2, v - 0.45),
                                       0.06) * body


def _opacities(rng: np.random.Generator, patient: _Patient) -> np.ndarray:
    """1–3 patchy opacities: smooth noise thresholded inside Gaussian envelopes."""
    u, v = patient.u, patient.v
    opacity = np.zeros_like(u)
    for _ in range(rng.integers(1, 4)):
        side = rng.choice([-1, 1])
        centre = (side * rng.uniform(0.2, 0.55), rng.uniform(-0.45, 0.35))
        radius = rng.uniform(0.1, 0.4)
        amplitude = math.exp(rng.uniform(math.log(0.06), math.log(0.35)))
        envelope = np.exp(-((u - centre[0]) ** 2 + (v - centre[1]) ** 2) / (2 * radius ** 2))
        patches = np.clip((smooth_noise(rng, patient.size, rng.integers(6, 14)) - 0.35) * 3, 0, 1)
        opacity += amplitude * envelope * (0.35 + 0.65 * patches)
    return opacity


def _film(rng: np.random.Generator, attenuation: np.ndarray, size: int) -> np.ndarray:
    """Film response, exposure, blur and noise: attenuation -> ``uint8 (size, size, 3)``."""
    low, high = rng.uniform(-0.02, 0.06), rng.uniform(0.7, 0.9)
    image = np.clip((attenuation - low) / (high - low), 0, 1) ** rng.uniform(0.8, 1.25)
    image = _blur(image, rng.uniform(0.5, 1.1) * size / RENDER_SIZE)
    image += rng.normal(0, rng.uniform(0.01, 0.03), image.shape)
    image += 0.04 * (smooth_noise(rng, size, 8) - 0.5)
    gray = np.clip(image * 255, 0, 255).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=2)


def _render_xray(rng: np.random.Generator, label: int, size: int) -> np.ndarray:
    """One ``uint8 (size, size, 3)`` radiograph of class ``label`` (1 = pneumonia)."""
    patient = _Patient(rng, size)
    edge = 2.0 / size  # soft anatomical borders, about one pixel
    body, attenuation = _trunk(rng, patient, edge)
    lungs = _lung_fields(rng, patient, edge)
    heart, mediastinum = _heart(rng, patient, edge)
    lungs *= (1 - heart) * (1 - mediastinum)
    attenuation += 0.03 * heart - 0.42 * lungs
    attenuation += _spine_and_trachea(patient, edge)
    if rng.random() < 0.3:  # breast shadows over the lower zones, in both classes
        _add_breast_shadows(attenuation, patient, body)
    attenuation += body * (0.12 * _bones(rng, patient) + 0.08 * lungs * _vessels(rng, patient))
    if label == 1:  # pneumonia: patchy opacities confined to the lung fields
        attenuation += _opacities(rng, patient) * _sigmoid(lungs - 0.2, 0.1)
    return _film(rng, attenuation, size)


@register("synxray", "synthetic chest radiographs, normal vs pneumonia (chest-xray stand-in)",
          num_classes=2, synthetic=True,
          sizes=sizes_counter(XRAY_CLASSES, DEFAULT_PER_CLASS["synxray"]))
def build_synxray(resolution: int, *, root: Path, split_seed: int,
                  per_class: tuple[int, int, int] = DEFAULT_PER_CLASS["synxray"],
                  generation_seed: int = 0) -> ImageDataset:
    """Synthetic chest radiographs, ``normal`` vs ``pneumonia``, grayscale as RGB."""
    return generate("synxray", XRAY_CLASSES, _render_xray, resolution, split_seed, per_class,
                    generation_seed)
