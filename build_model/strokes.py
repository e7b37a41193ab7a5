"""Pen strokes → canvas pixels, for the build's generated drawings (digits and non-digits).

A drawing is a list of strokes; a stroke is an (n, 2) array of (x, y) points (x right, y down).
``place`` scales a drawing into a canvas with a random size, position and pen; ``rasterise``
draws it like a 2D canvas (round caps and joins, antialiased by 2x supersampling) on a
transparent RGBA canvas with the ink in alpha, or on an opaque paper-coloured one.

This is deliberately a different rasteriser from tests/digit_strokes.py (Pillow lines, not exact
distances): the benchmark judge must not share the training data's exact rendering.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

Stroke = np.ndarray  # (n, 2) float
Drawing = list[Stroke]

#: Supersampling of the Pillow drawing (Pillow lines are aliased; 2x then a box filter).
SS = 2


def bbox(drawing: Drawing) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of all points."""
    pts = np.concatenate(drawing)
    return (
        float(pts[:, 0].min()),
        float(pts[:, 1].min()),
        float(pts[:, 0].max()),
        float(pts[:, 1].max()),
    )


def affine(drawing: Drawing, matrix: np.ndarray) -> Drawing:
    """Apply a 2x2 linear map about the drawing's bbox centre."""
    x0, y0, x1, y1 = bbox(drawing)
    c = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    return [(s - c) @ matrix.T + c for s in drawing]


def random_warp(
    drawing: Drawing, rng: np.random.Generator, rot_deg: float, shear: float, aspect: float
) -> Drawing:
    """Random rotation (±rot_deg), horizontal shear (±shear) and log-uniform x/y stretch."""
    t = math.radians(rng.uniform(-rot_deg, rot_deg))
    sh = rng.uniform(-shear, shear)
    st = math.exp(rng.uniform(-1, 1) * math.log1p(aspect))
    rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    m = rot @ np.array([[1.0, sh], [0.0, 1.0]]) @ np.diag([math.sqrt(st), 1 / math.sqrt(st)])
    return affine(drawing, m)


def densify(stroke: Stroke, step: float) -> Stroke:
    """Insert points so consecutive points are at most ``step`` apart."""
    if len(stroke) < 2:
        return stroke
    out = [stroke[:1]]
    for a, b in zip(stroke[:-1], stroke[1:], strict=True):
        n = max(1, math.ceil(float(np.hypot(*(b - a))) / step))
        t = (np.arange(1, n + 1) / n)[:, None]
        out.append(a + (b - a) * t)
    return np.concatenate(out)


def wobble(drawing: Drawing, rng: np.random.Generator, amount: float) -> Drawing:
    """Smooth hand tremor: a low-frequency sine displacement, ``amount`` of the drawing size."""
    x0, y0, x1, y1 = bbox(drawing)
    size = max(x1 - x0, y1 - y0, 1e-6)
    fx, fy = rng.uniform(3, 9, 2) / size
    px, py = rng.uniform(0, 2 * math.pi, 2)
    a = amount * size
    out = []
    for s in drawing:
        d = densify(s, size * 0.03)
        out.append(d + a * np.stack([np.sin(fy * d[:, 1] + px), np.sin(fx * d[:, 0] + py)], axis=1))
    return out


def place(
    drawing: Drawing,
    rng: np.random.Generator,
    canvas: tuple[int, int],
    size_frac: float,
    pen_px: float,
) -> Drawing:
    """Scale so the longer bbox side is ``size_frac`` of the shorter canvas side (ink fits),
    and move to a random position with the pen's ink inside the canvas."""
    w, h = canvas
    x0, y0, x1, y1 = bbox(drawing)
    span = max(x1 - x0, y1 - y0, 1e-6)
    k = max(size_frac * min(w, h) - pen_px, 0.0) / span
    pts_w, pts_h = (x1 - x0) * k, (y1 - y0) * k
    r = pen_px / 2 + 1
    ox = rng.uniform(r, max(r, w - r - pts_w))
    oy = rng.uniform(r, max(r, h - r - pts_h))
    return [(s - [x0, y0]) * k + [ox, oy] for s in drawing]


def rasterise(
    drawing: Drawing,
    canvas: tuple[int, int],
    pen_px: float,
    rng: np.random.Generator,
    opaque_prob: float = 0.25,
    fills: list[Stroke] | None = None,
) -> np.ndarray:
    """Draw strokes (and optional filled polygons) → (H, W, 4) uint8 RGBA canvas pixels."""
    w, h = canvas
    img = Image.new("L", (w * SS, h * SS), 0)
    draw = ImageDraw.Draw(img)
    width = max(1, round(pen_px * SS))
    r = width / 2
    for poly in fills or []:
        draw.polygon([tuple(p) for p in (poly * SS).tolist()], fill=255)
    for s in drawing:
        pts = [tuple(p) for p in (np.asarray(s) * SS).tolist()]
        if len(pts) > 1:
            draw.line(pts, fill=255, width=width, joint="curve")
        for x, y in (pts[0], pts[-1]) if len(pts) > 1 else pts[:1]:  # round caps / a dot
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    ink = np.asarray(img.resize((w, h), Image.Resampling.BOX), dtype=np.float32) / 255.0
    colour = np.zeros(3) if rng.random() < 0.6 else rng.uniform(0, 90, size=3)
    if rng.random() < opaque_prob:  # dark ink on (near-)white paper
        paper = rng.uniform(225, 255)
        rgba = np.full((h, w, 4), 255, dtype=np.uint8)
        rgba[..., :3] = np.rint(paper * (1 - ink[..., None]) + colour * ink[..., None])
        return rgba
    rgba = np.zeros((h, w, 4), dtype=np.uint8)
    alpha = np.rint(ink * 255).astype(np.uint8)
    rgba[..., 3] = alpha
    rgba[alpha > 0, :3] = np.rint(colour).astype(np.uint8)
    return rgba


def random_canvas(rng: np.random.Generator) -> tuple[int, int]:
    """A canvas size like the app's (mostly 280 px square) or other apps' (112..400, some 4:3)."""
    if rng.random() < 0.5:
        return (280, 280)
    h = int(rng.integers(112, 401))
    w = h if rng.random() < 0.8 else int(round(h * rng.uniform(0.75, 1.34)))
    return (w, h)


def random_pen(rng: np.random.Generator, canvas: tuple[int, int]) -> float:
    """Pen width log-uniform from hairline (0.7% of the canvas) to marker (13%)."""
    return float(min(canvas) * math.exp(rng.uniform(math.log(0.007), math.log(0.13))))
