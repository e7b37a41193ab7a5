"""Generated NON-digits (outlier exposure): letters, symbols, scribbles, lines, dots, blobs, ...

The CNN is trained to answer "no digit" (a uniform softmax) on these, so the verdict can refuse a
drawing that is not a digit. Every drawing is rendered as canvas pixels (build_model.strokes)
and goes through the app's own site/preprocess.py, like the digits.

Two disjoint generator sets:

Letter and symbol shapes are Hershey stroke-font glyphs (build_model/hershey_glyphs.py).

- ``TRAIN_FAMILIES`` (training, and with another seed the validation set that picks the verdict
  thresholds): Hershey letters and symbols in ``TRAIN_FONTS``, crosses, arrows, scribbles,
  zigzags, single straight lines (not near vertical: that is a 1), dots, filled blobs, hatching,
  smileys, random curves, irregular polygon outlines (sharp corners, never thin), lobed closed
  loops (3-5 lobes: concave, never an oval), doodles of 2-4 separate strokes, and a letter drawn
  over a generated stroke digit. These are generic shapes, not the held-out generators: no
  regular polygon, star, spiral, heart, check mark, wave, dot cluster or letter pair.
- ``HELDOUT_FAMILIES`` (the model card's held-out refusal rate only; never trained on, never used
  to choose thresholds): letters and symbols in other fonts (``HELDOUT_FONTS``), and geometric
  shapes no training family draws (triangles, squares, stars, spirals, hearts, check marks, waves,
  clusters of dots, letter pairs).

Glyphs that people could read as a digit are never used: O/o/Q/D (0), I/l/i/j/J (1), Z/z (2),
S/s/$ (5), G/b/δ (6), B/β (8), g/q/a/d/P/p (9), y/Y (4), and ( ) / \\ | [ ] { }.
"""

from __future__ import annotations

import math
import os

import numpy as np

from build_model import strokes
from build_model.augment import map_chunks
from build_model.hershey_glyphs import glyph_strokes
from build_model.strokes import Drawing

# --- Defaults -------------------------------------------------------------------------------
#: Letters with no digit look-alike (see the module docstring for what is left out and why).
LETTERS = "ACEFHKLMNRTUVWXcefhkmnrtuvwx"
#: Symbols with no digit look-alike.
SYMBOLS = "+=?!#*%&@<>^~"
TRAIN_FONTS = ("futural", "futuram", "rowmans", "rowmand", "rowmant", "timesr", "scripts")
HELDOUT_FONTS = ("timesi", "timesrb", "timesib", "scriptc", "gothiceng", "cursive")
#: A straight line this close to vertical is a 1, not a non-digit.
LINE_MIN_DEG_FROM_VERTICAL = 35.0
CHUNK = 500
WORKERS = min(2, os.cpu_count() or 1)


def _glyph(font: str, char: str) -> Drawing:
    """Strokes of one Hershey glyph (y down), from build_model/hershey_glyphs.py."""
    return glyph_strokes(font, char)


def _spline(ctrl: np.ndarray, n: int = 40) -> np.ndarray:
    """Catmull-Rom curve through ``ctrl`` points."""
    p = np.concatenate([ctrl[:1], ctrl, ctrl[-1:]])
    t = np.linspace(0, 1, max(2, n // max(1, len(ctrl) - 1)), endpoint=False)[:, None]
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(
            0.5
            * (
                2 * p1
                + (-p0 + p2) * t
                + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3
            )
        )
    out.append(ctrl[-1:])
    return np.concatenate(out)


def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 48):
    a = np.radians(np.linspace(a0, a1, n))
    return np.stack([cx + rx * np.cos(a), cy + ry * np.sin(a)], axis=1)


def _seg(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y1]], dtype=float)


# --- Training families: each returns (strokes, filled polygons) in any units ----------------
def _letter(rng, fonts=TRAIN_FONTS):
    return _glyph(str(rng.choice(fonts)), str(rng.choice(list(LETTERS)))), []


def _symbol(rng, fonts=TRAIN_FONTS):
    return _glyph(str(rng.choice(fonts)), str(rng.choice(list(SYMBOLS)))), []


def _cross(rng):
    """+ or × (or a slightly rotated one)."""
    a = rng.uniform(0, 90)
    r = [rng.uniform(0.6, 1.0), rng.uniform(0.6, 1.0)]
    out = []
    for k, ang in enumerate((a, a + 90 + rng.uniform(-10, 10))):
        t = math.radians(ang)
        d = np.array([math.cos(t), math.sin(t)]) * r[k]
        out.append(np.stack([-d, d]))
    return out, []


def _arrow(rng):
    t = rng.uniform(0, 2 * math.pi)
    d = np.array([math.cos(t), math.sin(t)])
    tip = d
    head = []
    for s in (-1, 1):
        b = t + math.pi + s * math.radians(rng.uniform(25, 45))
        head.append(tip + 0.4 * np.array([math.cos(b), math.sin(b)]))
    shaft = np.stack([-d, tip])
    if rng.random() < 0.5:
        return [shaft, np.stack([head[0], tip, head[1]])], []
    return [shaft, np.stack([tip, head[0]]), np.stack([tip, head[1]])], []


def _scribble(rng):
    """A tangle: a smoothed random walk with many turns."""
    n = int(rng.integers(8, 30))
    pts = np.cumsum(rng.normal(0, 1, (n, 2)), axis=0)
    return [_spline(pts, 10 * n)], []


def _zigzag(rng):
    n = int(rng.integers(4, 12))
    x = np.linspace(0, 1, n) + rng.normal(0, 0.02, n)
    y = (np.arange(n) % 2) * rng.uniform(0.2, 1.0) + rng.normal(0, 0.05, n)
    pts = np.stack([x, y], axis=1)
    if rng.random() < 0.5:
        pts = pts[:, ::-1]
    return [pts], []


def _line(rng):
    """One straight line, at least LINE_MIN_DEG_FROM_VERTICAL away from vertical."""
    off = LINE_MIN_DEG_FROM_VERTICAL
    ang = math.radians(rng.uniform(-90 + off, 90 - off))  # from horizontal
    d = np.array([math.cos(ang), math.sin(ang)])
    return [np.stack([-d, d])], []


def _dot(rng):
    """A click (one point) or a tiny stroke: the pen's round mark."""
    if rng.random() < 0.6:
        return [np.zeros((1, 2))], []
    return [rng.normal(0, 0.05, (int(rng.integers(2, 5)), 2))], []


def _blob(rng):
    """A filled star-convex polygon."""
    n = int(rng.integers(6, 16))
    a = np.sort(rng.uniform(0, 2 * math.pi, n))
    r = rng.uniform(0.5, 1.0, n)
    poly = np.stack([r * np.cos(a), r * np.sin(a)], axis=1) * [1, rng.uniform(0.5, 1.5)]
    return [poly[:1]], [poly]


def _hatching(rng):
    n = int(rng.integers(3, 9))
    out = []
    for ang in [rng.uniform(0, 180)] + ([rng.uniform(0, 180)] if rng.random() < 0.4 else []):
        t = math.radians(ang)
        d, nrm = np.array([math.cos(t), math.sin(t)]), np.array([-math.sin(t), math.cos(t)])
        for o in np.linspace(-1, 1, n):
            out.append(np.stack([-d + o * nrm, d + o * nrm]) + rng.normal(0, 0.03, (2, 2)))
    return out, []


def _smiley(rng):
    face = _arc(0, 0, 1, rng.uniform(0.85, 1.15), 0, 360)
    eye = [np.array([[-0.35, -0.3]]), np.array([[0.35, -0.3]])]
    if rng.random() < 0.5:
        eye = [e + [[0, 0], [0, 0.12]] for e in eye]
    lo, hi = (20, 160) if rng.random() < 0.8 else (200, 340)
    mouth = _arc(0, 0.05 if lo == 20 else 0.75, 0.55, 0.4, lo, hi, 24)
    return [face, *eye, mouth], []


def _curve(rng):
    """A smooth random curve through 3-6 points."""
    pts = rng.uniform(-1, 1, (int(rng.integers(3, 7)), 2))
    return [_spline(pts, 60)], []


def _polygon_outline(rng):
    """An irregular closed polygon with sharp corners: 4-7 corners at random angles and radii.

    Never thin (a thin closed outline is a narrow 0, a collapsed one a 1): redrawn until its box
    is at least half as wide as tall and the other way round."""
    while True:
        n = int(rng.integers(4, 8))
        a = np.sort(rng.uniform(0, 2 * math.pi, n))
        r = rng.uniform(0.35, 1.0, n)
        pts = np.stack([r * np.cos(a), r * np.sin(a)], axis=1) * [1, rng.uniform(0.75, 1.33)]
        w, h = np.ptp(pts, axis=0)
        if 0.5 <= w / h <= 2.0:
            return [np.concatenate([pts, pts[:1]])], []


def _lobed_loop(rng):
    """A smooth closed outline with 3-5 lobes (radius 1 + a cos(k t)): concave, not an oval."""
    k = int(rng.integers(3, 6))
    t = np.linspace(0, 2 * math.pi, 120)
    r = 1 + rng.uniform(0.25, 0.45) * np.cos(k * t + rng.uniform(0, 2 * math.pi))
    r += rng.uniform(0, 0.1) * np.cos(2 * t + rng.uniform(0, 2 * math.pi))
    return [np.stack([r * np.cos(t), r * np.sin(t) * rng.uniform(0.7, 1.3)], axis=1)], []


def _doodle(rng):
    """2-4 separate random strokes (curves or straight segments) in one box."""
    out = []
    for _ in range(int(rng.integers(2, 5))):
        if rng.random() < 0.5:
            out.append(rng.uniform(-1, 1, (2, 2)))
        else:
            out.append(_spline(rng.uniform(-1, 1, (int(rng.integers(3, 5)), 2)), 40))
    return out, []


def _overlay(rng):
    """A letter drawn over a generated stroke digit: neither reads as a digit any more."""
    from build_model.strokedigits import digit_drawing

    digit = digit_drawing(int(rng.integers(10)), rng)
    letter, _ = _letter(rng)
    d0, l0 = strokes.bbox(digit), strokes.bbox(letter)
    k = max(d0[3] - d0[1], 1e-6) / max(l0[3] - l0[1], 1e-6) * rng.uniform(0.7, 1.1)
    shift = np.array([d0[0], d0[1]]) + rng.uniform(-0.2, 0.2, 2) * (d0[3] - d0[1])
    return digit + [(s - [l0[0], l0[1]]) * k + shift for s in letter], []


TRAIN_FAMILIES = {
    "letter": (_letter, 6),
    "symbol": (_symbol, 3),
    "cross": (_cross, 1),
    "arrow": (_arrow, 1),
    "scribble": (_scribble, 2),
    "zigzag": (_zigzag, 1),
    "line": (_line, 1),
    "dot": (_dot, 1),
    "blob": (_blob, 1),
    "hatching": (_hatching, 1),
    "smiley": (_smiley, 1),
    "curve": (_curve, 1),
    "polygon outline": (_polygon_outline, 1.5),
    "lobed loop": (_lobed_loop, 1),
    "doodle": (_doodle, 1),
    "letter over digit": (_overlay, 1),
}


# --- Held-out families: different fonts and shapes, used only for the card's refusal rate ---
def _h_letter(rng):
    return _letter(rng, HELDOUT_FONTS)


def _h_symbol(rng):
    return _symbol(rng, HELDOUT_FONTS)


def _h_letter_pair(rng):
    a, _ = _letter(rng, HELDOUT_FONTS)
    b, _ = _letter(rng, HELDOUT_FONTS)
    x1 = strokes.bbox(a)[2]
    x0 = strokes.bbox(b)[0]
    return a + [s + [x1 - x0 + 2, 0] for s in b], []


def _polygon(rng, n, star=False):
    k = np.arange(n * (2 if star else 1) + 1)
    a = k * 2 * math.pi / (n * (2 if star else 1)) + rng.uniform(0, 2 * math.pi)
    r = np.where(k % 2 == 1, 0.45, 1.0) if star else np.ones_like(a)
    return np.stack([r * np.cos(a), r * np.sin(a)], axis=1)


def _h_triangle(rng):
    return [_polygon(rng, 3)], []


def _h_square(rng):
    sq = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], float)
    return [sq * [1, rng.uniform(0.4, 0.8)] if rng.random() < 0.5 else sq], []


def _h_star(rng):
    return [_polygon(rng, int(rng.integers(5, 7)), star=True)], []


def _h_spiral(rng):
    t = np.linspace(0, rng.uniform(3, 5) * math.pi, 200)
    return [np.stack([t * np.cos(t), t * np.sin(t)], axis=1)], []


def _h_heart(rng):
    t = np.linspace(0, 2 * math.pi, 100)
    x = 16 * np.sin(t) ** 3
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    return [np.stack([x, y], axis=1)], []


def _h_check(rng):
    return [np.array([[0, 0.5], [0.35, 1.0], [1.2, -0.3]])], []


def _h_wave(rng):
    x = np.linspace(0, rng.uniform(2, 5) * math.pi, 120)
    return [np.stack([x, np.sin(x) * rng.uniform(0.5, 1.5)], axis=1)], []


def _h_dots(rng):
    return [rng.uniform(0, 1, (1, 2)) for _ in range(int(rng.integers(2, 7)))], []


HELDOUT_FAMILIES = {
    "letter": (_h_letter, 5),
    "symbol": (_h_symbol, 2),
    "letter pair": (_h_letter_pair, 1),
    "triangle": (_h_triangle, 1),
    "square": (_h_square, 1),
    "star": (_h_star, 1),
    "spiral": (_h_spiral, 1),
    "heart": (_h_heart, 1),
    "check mark": (_h_check, 1),
    "wave": (_h_wave, 1),
    "dots": (_h_dots, 1),
}


def render_nondigit(family: str, rng: np.random.Generator, families: dict) -> np.ndarray:
    """One non-digit of ``family`` as (H, W, 4) uint8 canvas pixels."""
    make, _ = families[family]
    drawing, fills = make(rng)
    drawing = [np.asarray(s, dtype=float).reshape(-1, 2) for s in drawing]
    # Fills are drawn with the strokes; warp and place them together (as extra strokes).
    n = len(drawing)
    allparts = strokes.random_warp(drawing + list(fills), rng, 20, 0.3, 0.3)
    if rng.random() < 0.5:
        allparts = strokes.wobble(allparts, rng, rng.uniform(0.005, 0.02))
    canvas = strokes.random_canvas(rng)
    pen = strokes.random_pen(rng, canvas)
    size = rng.uniform(0.15, 0.95)
    if family == "dot":
        size = rng.uniform(0.0, 0.05)
    allparts = strokes.place(allparts, rng, canvas, size, pen)
    return strokes.rasterise(allparts[:n], canvas, pen, rng, fills=allparts[n:])


def _pick_families(rng: np.random.Generator, count: int, families: dict) -> list[str]:
    names = list(families)
    weights = np.array([families[n][1] for n in names], dtype=float)
    return list(rng.choice(names, size=count, p=weights / weights.sum()))


def _render_chunk(args) -> tuple[np.ndarray, list[str]]:
    seed, index, count, heldout = args
    from build_model.augment import _import_preprocess

    preprocess = _import_preprocess()
    families = HELDOUT_FAMILIES if heldout else TRAIN_FAMILIES
    rng = np.random.default_rng([seed, index, 7 if heldout else 3])
    names = _pick_families(rng, count, families)
    out = np.empty((count, 28, 28, 1), np.float32)
    for i, name in enumerate(names):
        while True:  # a render can come out empty (a hairline dot): draw another
            try:
                out[i] = preprocess.preprocess_canvas(render_nondigit(name, rng, families))[0]
                break
            except ValueError:
                continue
    return out, names


def render_nondigits(
    count: int, seed: int, heldout: bool = False, workers: int = WORKERS
) -> tuple[np.ndarray, list[str]]:
    """``count`` preprocessed non-digits (N,28,28,1) float32 and their family names.

    Deterministic for a (count, seed, heldout), whatever ``workers``.
    """
    tasks = [
        (seed, index, min(CHUNK, count - start), heldout)
        for index, start in enumerate(range(0, count, CHUNK))
    ]
    parts = map_chunks(_render_chunk, tasks, workers)
    if not parts:
        return np.empty((0, 28, 28, 1), np.float32), []
    return np.concatenate([p[0] for p in parts]), [n for p in parts for n in p[1]]
