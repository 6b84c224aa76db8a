"""The 12 synoffice object classes: one drawing routine each, shared by the three domains.

Each routine draws one object instance centred on (cx, cy) with half-size s pixels on an
RGBA layer, upright; shape and colour parameters come from the class's distributions
(aspect, colours, handle side, key grid, desk or table lamp, spiral or bound notebook,
lit or dark screen, ...).
"""

from __future__ import annotations

import math

import numpy as np
from PIL import ImageDraw

from bench.datasets.synthetic.common import Color, hsv, poly, shade


def neutral(rng: np.random.Generator) -> Color:
    """Black, grey, silver or white plastic."""
    return hsv(rng.uniform(0.5, 0.7), rng.uniform(0, 0.08),
               rng.choice([rng.uniform(0.1, 0.25), rng.uniform(0.4, 0.65),
                           rng.uniform(0.8, 0.95)]))


def vivid(rng: np.random.Generator) -> Color:
    """A saturated colour of any hue."""
    return hsv(rng.random(), rng.uniform(0.45, 0.9), rng.uniform(0.45, 0.95))


def _any_color(rng: np.random.Generator) -> Color:
    """Vivid or neutral, even odds."""
    return vivid(rng) if rng.random() < 0.5 else neutral(rng)


def _width(s: float, fraction: float) -> int:
    """A line width of ``fraction`` of the half-size ``s``, at least 1 px."""
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
    color = vivid(rng) if rng.random() < 0.7 else neutral(rng)
    dark = shade(color, 0.6)
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
    pocket = shade(color, rng.uniform(0.75, 0.9)) if rng.random() < 0.7 else vivid(rng)
    draw.rounded_rectangle((cx - w * 0.72, cy + s * 0.05, cx + w * 0.72, bottom - s * 0.12),
                           radius=s * 0.15, fill=pocket, outline=dark, width=_width(s, 0.03))
    draw.line([(cx - w * 0.5, cy + s * 0.2), (cx + w * 0.5, cy + s * 0.2)], fill=dark,
              width=_width(s, 0.025))
    draw.rectangle((cx + w * 0.35, cy + s * 0.2, cx + w * 0.43, cy + s * 0.33), fill=dark)


def _draw_bottle(draw, rng, cx, cy, s):
    plastic = rng.random() < 0.6
    color = (hsv(rng.uniform(0.45, 0.62), rng.uniform(0.1, 0.4), rng.uniform(0.75, 0.95))
             if plastic else vivid(rng))
    dark = shade(color, 0.65)
    w = s * rng.uniform(0.24, 0.36)
    neck = s * rng.uniform(0.08, 0.13)
    shoulder, neck_top = cy - s * rng.uniform(0.05, 0.3), cy - s * 0.72
    draw.rounded_rectangle((cx - w, shoulder, cx + w, cy + s * 0.95), radius=w * 0.3,
                           fill=color, outline=dark, width=_width(s, 0.025))
    draw.polygon([(cx - w, shoulder + s * 0.05), (cx - neck, neck_top + s * 0.12),
                  (cx - neck, neck_top), (cx + neck, neck_top), (cx + neck, neck_top + s * 0.12),
                  (cx + w, shoulder + s * 0.05)], fill=color, outline=dark)
    draw.rectangle((cx - neck * 1.2, cy - s * 0.95, cx + neck * 1.2, neck_top), fill=vivid(rng)
                   if rng.random() < 0.6 else neutral(rng), outline=dark)
    if rng.random() < 0.75:  # label
        y0 = cy + s * rng.uniform(0.05, 0.25)
        draw.rectangle((cx - w, y0, cx + w, y0 + s * rng.uniform(0.25, 0.45)), fill=vivid(rng))
    draw.rectangle((cx - w * 0.6, shoulder + s * 0.1, cx - w * 0.4, cy + s * 0.85),
                   fill=shade(color, 1.25))


def _draw_desk_chair(draw, rng, cx, cy, s):
    color = neutral(rng) if rng.random() < 0.6 else vivid(rng)
    metal = hsv(0.6, 0.05, rng.uniform(0.2, 0.6))
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
                           radius=s * 0.15, fill=color, outline=shade(color, 0.6),
                           width=_width(s, 0.03))
    draw.rounded_rectangle((cx - s * 0.52, cy - s * 0.08, cx + s * 0.52, cy + s * 0.14),
                           radius=s * 0.08, fill=shade(color, 0.85), outline=shade(color, 0.6),
                           width=_width(s, 0.03))
    if rng.random() < 0.6:  # armrests
        for side in (-1, 1):
            x = cx + side * s * 0.5
            draw.line([(x, cy - s * 0.05), (x, cy - s * 0.3), (x - side * s * 0.18,
                       cy - s * 0.3)], fill=(25, 25, 25), width=_width(s, 0.06))


def _draw_desk_lamp(draw, rng, cx, cy, s):
    color = _any_color(rng)
    dark = shade(color, 0.6)
    light = hsv(0.13, rng.uniform(0.2, 0.6), 1.0)
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
        draw.polygon(poly([apex + perp * s * 0.06, apex - perp * s * 0.06,
                           mouth - perp * half, mouth + perp * half]), fill=color, outline=dark)
        draw.line(poly([mouth - perp * half * 0.9, mouth + perp * half * 0.9]), fill=light,
                  width=_width(s, 0.06))
    else:  # table lamp: fabric shade on a vase
        fabric = hsv(rng.uniform(0.05, 0.15), rng.uniform(0.05, 0.4), rng.uniform(0.8, 0.98))
        draw.ellipse((cx - s * 0.28, cy + s * 0.2, cx + s * 0.28, cy + s * 0.92), fill=color,
                     outline=dark)
        draw.rectangle((cx - s * 0.04, cy - s * 0.15, cx + s * 0.04, cy + s * 0.22), fill=dark)
        top, bottom = s * rng.uniform(0.25, 0.35), s * rng.uniform(0.55, 0.7)
        draw.polygon([(cx - top, cy - s * 0.85), (cx + top, cy - s * 0.85),
                      (cx + bottom, cy - s * 0.1), (cx - bottom, cy - s * 0.1)], fill=fabric,
                     outline=shade(fabric, 0.7))


def _draw_keyboard(draw, rng, cx, cy, s):
    body = neutral(rng)
    keys = shade(body, 1.6) if sum(body) < 300 else shade(body, 0.8)
    w, h, narrow = s * 0.97, s * rng.uniform(0.3, 0.42), rng.uniform(0.78, 1.0)
    corners = np.array([[cx - w * narrow, cy - h], [cx + w * narrow, cy - h],
                        [cx + w, cy + h], [cx - w, cy + h]])
    draw.polygon(poly(corners + (0, s * 0.06)), fill=shade(body, 0.6))
    draw.polygon(poly(corners), fill=body, outline=shade(body, 0.6))
    cols = int(rng.integers(12, 16))
    _key_grid(draw, corners, 5, cols, (0.04, 0.1, 0.78 if rng.random() < 0.5 else 0.96, 0.92),
              keys)


def _draw_laptop_computer(draw, rng, cx, cy, s):
    body = neutral(rng)
    dark = shade(body, 0.6)
    hinge = cy + s * rng.uniform(-0.05, 0.1)
    w = s * rng.uniform(0.72, 0.85)
    draw.rounded_rectangle((cx - w, cy - s * 0.95, cx + w, hinge), radius=s * 0.04, fill=body,
                           outline=dark)
    screen = hsv(rng.uniform(0.5, 0.7), rng.uniform(0.3, 0.8), rng.uniform(0.3, 0.9))
    draw.rectangle((cx - w + s * 0.07, cy - s * 0.88, cx + w - s * 0.07, hinge - s * 0.07),
                   fill=screen)
    deck = np.array([[cx - w, hinge], [cx + w, hinge], [cx + w * 1.2, cy + s * 0.7],
                     [cx - w * 1.2, cy + s * 0.7]])
    draw.polygon(poly(deck + (0, s * 0.05)), fill=dark)
    draw.polygon(poly(deck), fill=shade(body, 1.1), outline=dark)
    keys = shade(body, 0.5) if sum(body) > 300 else shade(body, 1.7)
    _key_grid(draw, deck, 4, 12, (0.08, 0.08, 0.92, 0.58), keys)
    draw.polygon([_quad(deck, 0.38, 0.66), _quad(deck, 0.62, 0.66), _quad(deck, 0.62, 0.92),
                  _quad(deck, 0.38, 0.92)], fill=shade(body, 0.9), outline=dark)


def _draw_mobile_phone(draw, rng, cx, cy, s):
    body = neutral(rng) if rng.random() < 0.7 else vivid(rng)
    w, h = s * rng.uniform(0.4, 0.52), s * 0.95
    draw.rounded_rectangle((cx - w, cy - h, cx + w, cy + h), radius=s * 0.12, fill=body,
                           outline=shade(body, 0.5), width=_width(s, 0.03))
    lit = rng.random() < 0.6
    screen = (hsv(rng.random(), rng.uniform(0.3, 0.8), rng.uniform(0.6, 0.95)) if lit
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
                draw.rectangle((x, y, x + s * 0.1, y + s * 0.1), fill=vivid(rng))
    draw.line([(cx - s * 0.08, cy - h + s * 0.07), (cx + s * 0.08, cy - h + s * 0.07)],
              fill=(30, 30, 30), width=_width(s, 0.025))
    if home:
        r = s * 0.07
        draw.ellipse((cx - r, cy + h - s * 0.17, cx + r, cy + h - s * 0.03),
                     outline=shade(body, 0.6), width=_width(s, 0.02))


def _draw_monitor(draw, rng, cx, cy, s):
    bezel = neutral(rng)
    dark = shade(bezel, 0.6)
    w = s * 0.97
    h = w * rng.choice([0.56, 0.62, 0.75]) / 1.0 * 0.9
    sy = cy - s * 0.95 + h
    base_y = min(cy + s * 0.92, sy + h + s * 0.45)
    draw.rectangle((cx - s * 0.07, sy + h, cx + s * 0.07, base_y), fill=dark)
    draw.polygon([(cx - s * 0.4, base_y + s * 0.04), (cx - s * 0.3, base_y - s * 0.04),
                  (cx + s * 0.3, base_y - s * 0.04), (cx + s * 0.4, base_y + s * 0.04)],
                 fill=bezel, outline=dark)
    draw.rectangle((cx - w, sy - h, cx + w, sy + h), fill=bezel, outline=dark)
    screen = hsv(rng.uniform(0.5, 0.7), rng.uniform(0.3, 0.9), rng.uniform(0.15, 0.85))
    draw.rectangle((cx - w + s * 0.05, sy - h + s * 0.05, cx + w - s * 0.05, sy + h - s * 0.09),
                   fill=screen)
    for _ in range(rng.integers(0, 3)):  # open windows
        x0, y0 = cx + rng.uniform(-0.8, 0.2) * w, sy + rng.uniform(-0.8, 0.1) * h
        draw.rectangle((x0, y0, x0 + rng.uniform(0.3, 0.7) * w, y0 + rng.uniform(0.3, 0.7) * h),
                       fill=(235, 235, 235), outline=(90, 90, 90))


def _draw_mouse(draw, rng, cx, cy, s):
    color = neutral(rng) if rng.random() < 0.7 else vivid(rng)
    dark = shade(color, 0.55)
    rx, ry = s * rng.uniform(0.34, 0.46), s * rng.uniform(0.62, 0.75)
    theta = np.linspace(0, 2 * np.pi, 40)
    # An egg: narrower at the top (buttons) than at the palm end.
    egg = np.stack([rx * np.cos(theta) * (1 + 0.15 * np.sin(theta)), ry * np.sin(theta)], 1)
    if rng.random() < 0.5:  # cable
        draw.line([(cx, cy - ry), (cx + s * 0.1, cy - ry - s * 0.15),
                   (cx - s * 0.05, cy - ry - s * 0.3)], fill=(30, 30, 30),
                  width=_width(s, 0.03), joint="curve")
    draw.polygon(poly(egg + (cx, cy + s * 0.1)), fill=color, outline=dark)
    split = cy + s * 0.1 - ry * 0.15
    draw.line([(cx, cy + s * 0.1 - ry), (cx, split)], fill=dark, width=_width(s, 0.025))
    draw.arc((cx - rx, split - ry * 0.3, cx + rx, split + ry * 0.3), 10, 170, fill=dark,
             width=_width(s, 0.02))
    draw.rounded_rectangle((cx - s * 0.04, cy + s * 0.1 - ry * 0.78, cx + s * 0.04,
                            cy + s * 0.1 - ry * 0.45), radius=s * 0.03, fill=(40, 40, 40))


def _draw_mug(draw, rng, cx, cy, s):
    color = _any_color(rng)
    dark = shade(color, 0.6)
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
                       fill=vivid(rng))
    draw.rectangle((bx - bw * 0.65, cy - bh * 0.8, bx - bw * 0.45, cy + bh * 0.9),
                   fill=shade(color, 1.25))
    draw.ellipse((bx - bw, cy - bh - rim, bx + bw, cy - bh + rim), fill=shade(color, 0.45),
                 outline=dark, width=_width(s, 0.03))


def _draw_paper_notebook(draw, rng, cx, cy, s):
    cover = vivid(rng) if rng.random() < 0.8 else neutral(rng)
    dark = shade(cover, 0.6)
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
    handle = vivid(rng) if rng.random() < 0.8 else (25, 25, 25)
    steel = hsv(0.6, 0.05, rng.uniform(0.55, 0.8))
    pivot = np.array([cx, cy - s * 0.05])
    opening = rng.uniform(0.1, 0.45)
    for side in (-1, 1):
        a = side * opening / 2
        up = np.array([math.sin(a), -math.cos(a)])
        across = np.array([-up[1], up[0]])
        ring = pivot - up * s * 0.55 + across * side * s * 0.18
        draw.line(poly([pivot, ring]), fill=handle, width=_width(s, 0.09))
        r = np.array([s * 0.17, s * 0.24])
        draw.ellipse((*(ring - r), *(ring + r)), outline=handle, width=_width(s, 0.08))
        blade = [pivot - across * s * 0.09 - up * s * 0.1, pivot + up * s * 0.95,
                 pivot + across * s * 0.05 - up * s * 0.1]
        draw.polygon(poly(blade), fill=steel, outline=shade(steel, 0.55))
    r = s * 0.05
    draw.ellipse((pivot[0] - r, pivot[1] - r, pivot[0] + r, pivot[1] + r), fill=(60, 60, 60))


# Class name -> draw(draw, rng, cx, cy, s), in Office-31's names for these classes.
OFFICE_OBJECTS = {
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
OFFICE_CLASSES = tuple(OFFICE_OBJECTS)
