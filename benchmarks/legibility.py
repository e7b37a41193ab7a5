"""Which drawn-digit benchmark drawings a person could not read either: the pen is so wide for
the digit's height that the ink fills the digit's white space and the digit becomes a blob.

A digit is told apart by the white space its strokes enclose or half-enclose: the loops of 0, 6,
8, 9, the bays of 2, 3, 5, the corners of 4 and 7. Ink is every point within half the pen width of
the strokes' centre lines, so as the pen widens relative to the digit, that white space shrinks;
when almost none is left, the ink is a solid blob whose outline no longer says which digit it is.

Rule (model-independent, per digit, style and pen-to-height ratio; the canvas size and position
do not matter, because the shape scales): draw the digit's centre lines ``HEIGHT_PX`` tall and
measure its INNER WHITE SPACE, the area of the convex hull of the ink minus the ink, at its own
pen and at ``REFERENCE_RATIO`` (the benchmark's normal pen on a full-size digit: what a person
means by this digit). The drawing is ILLEGIBLE when less than ``MIN_WHITE_LEFT`` of the
reference's inner white space is left. A digit with almost no inner white space to begin with (a
straight 1: less than ``MIN_REFERENCE_WHITE`` of the height squared) stays legible at any pen, as
does any drawing with a pen no wider than the reference's.

The limit was set by looking at the pictures (``picture()``, docs/drawn-illegible-*.png): at 10%
left, 0, 6, 8 and 9 are solid ovals and 2, 3, 5 lumps; above it, loops and bays still show.

``judge()`` applies it to one digit, style and ratio; ``picture()`` draws a benchmark cell (one row
per digit, one column per style) for docs/.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
for _path in (str(ROOT), str(ROOT / "site")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from drawings import _segment_distance  # noqa: E402 - the renderer's own distance
from tests.digit_strokes import STYLES, digit_paths  # noqa: E402

#: Digit height (centre lines) the rule draws at; ratios, not pixels, decide.
HEIGHT_PX = 120
#: Pen / height of the reference drawing (normal pen 0.05 of the canvas on a 0.9-tall digit).
REFERENCE_RATIO = 0.06
#: Share of the reference's inner white space a legible drawing keeps.
MIN_WHITE_LEFT = 0.10
#: Inner white space (fraction of the height squared) below which a digit has no shape to lose.
MIN_REFERENCE_WHITE = 0.02


def pen_ratio(size: float, pen: float, margin: float) -> float:
    """Pen width / digit height of a benchmark cell (the benchmark shrinks a digit that would not
    fit with its pen and margin: the same clamp as drawn_digits.draw)."""
    return pen / min(size, 1 - 2 * margin - pen)


@functools.cache
def _distance(digit: int, style: str) -> np.ndarray:
    """Distance (px) from every pixel centre of a square raster to the digit's centre lines,
    drawn ``HEIGHT_PX`` tall in the middle (room for the widest pen the benchmark uses)."""
    side = 2 * HEIGHT_PX
    paths = digit_paths(digit, style)
    xs = [x for s in paths for x, _ in s]
    mid = (min(xs) + max(xs)) / 2
    gy, gx = np.mgrid[0:side, 0:side] + 0.5
    dist = np.full((side, side), np.inf)
    reach = HEIGHT_PX / 2 + 2
    for stroke in paths:
        pts = (np.asarray(stroke, float) - [mid, 0.5]) * HEIGHT_PX + side / 2
        seg = list(zip(pts[:-1], pts[1:], strict=True)) if len(pts) > 1 else [(pts[0], pts[0])]
        for a, b in seg:  # only near the segment: no pen is wider than the digit is tall
            y0, x0 = (np.floor(np.minimum(a, b)[::-1] - reach)).astype(int).clip(0, side)
            y1, x1 = (np.ceil(np.maximum(a, b)[::-1] + reach)).astype(int).clip(0, side)
            px, py = gx[y0:y1, x0:x1], gy[y0:y1, x0:x1]
            view = dist[y0:y1, x0:x1]
            np.minimum(view, _segment_distance(px, py, a, b), out=view)
    return dist


def _hull(points: np.ndarray) -> list[tuple[int, int]]:
    """Convex hull (monotone chain) of integer (x, y) points, counter-clockwise."""
    pts = sorted(set(map(tuple, points.tolist())))

    def cross(o, a, b) -> int:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list = []
    upper: list = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def inner_white(ink: np.ndarray) -> int:
    """Pixels inside the convex hull of the ink mask that are not ink."""
    ys, xs = np.nonzero(ink)
    edge = ink & ~(
        np.roll(ink, 1, 0) & np.roll(ink, -1, 0) & np.roll(ink, 1, 1) & np.roll(ink, -1, 1)
    )  # the hull of the ink's edge pixels is the hull of the ink
    ey, ex = np.nonzero(edge) if edge.any() else (ys, xs)
    hull = _hull(np.stack([ex, ey], axis=1))
    img = Image.new("L", (ink.shape[1], ink.shape[0]), 0)
    ImageDraw.Draw(img).polygon(hull, fill=1)
    return int((np.asarray(img).astype(bool) & ~ink).sum())


@functools.cache
def judge(digit: int, style: str, ratio: float) -> tuple[bool, str]:
    """(legible, reason) of ``digit`` in ``style`` drawn with pen / height ``ratio``."""
    if ratio <= REFERENCE_RATIO:
        return True, "pen no wider than the reference"
    dist = _distance(digit, style)
    ref = inner_white(dist <= REFERENCE_RATIO * HEIGHT_PX / 2)
    if ref < MIN_REFERENCE_WHITE * HEIGHT_PX**2:
        return True, "no inner white space to lose"
    left = inner_white(dist <= ratio * HEIGHT_PX / 2) / ref
    return left >= MIN_WHITE_LEFT, f"{left:.0%} of its inner white space left"


def picture(
    size: float,
    pen: float,
    margin: float,
    styles=STYLES,
    tile: int = 64,
) -> Image.Image:
    """One benchmark cell (a digit size and pen) for every style: one row per digit, one column
    per style, each digit drawn with the cell's pen / height ratio as a person would see it;
    illegible drawings are framed in red, legible ones in grey."""
    ratio = pen_ratio(size, pen, margin)
    pad = 4
    sheet = Image.new("RGB", (len(styles) * (tile + pad) + pad, 10 * (tile + pad) + pad), "white")
    draw = ImageDraw.Draw(sheet)
    for row in range(10):
        for col, style in enumerate(styles):
            dist = _distance(row, style)
            ink = dist <= ratio * HEIGHT_PX / 2
            ys, xs = np.nonzero(ink)
            c = dist.shape[0] / 2
            half = max(ys.max() - c, c - ys.min(), xs.max() - c, c - xs.min()) + 2
            crop = ink[int(c - half) : int(c + half), int(c - half) : int(c + half)]
            img = Image.fromarray(np.where(crop, 0, 255).astype(np.uint8))
            img = img.resize((tile, tile), Image.Resampling.BOX).convert("RGB")
            x, y = pad + col * (tile + pad), pad + row * (tile + pad)
            sheet.paste(img, (x, y))
            ok, _ = judge(row, style, round(ratio, 6))
            colour = (170, 170, 170) if ok else (220, 30, 30)
            draw.rectangle((x - 2, y - 2, x + tile + 1, y + tile + 1), outline=colour, width=2)
    return sheet
