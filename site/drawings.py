"""Drawings as data: the export file format, its validation, and a canvas-like rasteriser.

A drawing is the strokes a person drew (point lists in canvas pixels), the canvas size, the pen
width and the label they gave it. The app keeps taught examples this way (never as pixels), so
they can be re-rendered for any model, exported, imported and trained on by
``python -m build_model --extra FILE``. Pure Python + numpy: the browser (Pyodide), build_model/,
benchmarks/ and tests/ all import this file as-is.

File format (JSON, UTF-8), version 1::

    {"format": "mnist-draw-drawings", "version": 1, "app": "<app version>",
     "model_sha256": "<model the drawings were made with>", "exported": "<ISO time>",
     "drawings": [{"label": 0-9, "canvas": [width, height], "pen_width": px,
                   "strokes": [[[x, y], ...], ...], "time": "<ISO>", "model_sha256": "..."}]}

``parse_file`` checks all of it before returning anything: a wrong format or version, malformed
JSON or fields, or a file that is too large raise one ``ValueError`` whose message says what is
wrong and where, so an import is all or nothing.

``render_rgba`` draws strokes like a 2D canvas with round caps and joins (black ink, alpha =
coverage), i.e. what ``getImageData`` returns; ``render_drawing`` renders a drawing at the size
of the app's model canvas, ready for ``preprocess.preprocess_canvas``.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

FORMAT = "mnist-draw-drawings"
VERSION = 1

#: Side of the hidden canvas the app's model reads (site/draw.js MODEL_CANVAS_PX); drawings are
#: rendered at most this large, like the browser does, whatever canvas they were drawn on.
MODEL_CANVAS_PX = 280
#: Limits: generous for people, small enough that an import cannot exhaust a phone's memory.
MAX_FILE_BYTES = 20_000_000
MAX_DRAWINGS = 10_000
MAX_STROKES = 100  # per drawing
MAX_POINTS = 20_000  # per drawing, all strokes together
MIN_CANVAS, MAX_CANVAS = 8, 4096  # px a side, as preprocess.validate_rgba accepts
SUPERSAMPLE = 4  # render_rgba samples edge pixels 4 x 4 times: 16 coverage levels

Drawing = dict[str, Any]


# ---- format ---------------------------------------------------------------------------------


def make_file(
    drawings: list[Drawing], *, app: str, model_sha256: str, exported: str
) -> dict[str, Any]:
    """The export document for ``drawings`` (validated, so an export can always be imported)."""
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "app": app,
        "model_sha256": model_sha256,
        "exported": exported,
        "drawings": drawings,
    }
    validate_file(doc)
    return doc


def parse_file(data: bytes | str) -> list[Drawing]:
    """Validate an export file's bytes and return its drawings (normalised copies).

    Raises ValueError with a message fit for the page on any problem; nothing is returned then.
    """
    size = len(data.encode("utf-8") if isinstance(data, str) else data)
    if size > MAX_FILE_BYTES:
        raise ValueError(
            f"the file is too large ({size / 1e6:.1f} MB; at most {MAX_FILE_BYTES / 1e6:.0f} MB)"
        )
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        msg = f"this is not an MNIST-Draw drawings file (not valid JSON: {exc})"
        raise ValueError(msg) from exc
    return validate_file(doc)


def validate_file(doc: Any) -> list[Drawing]:
    """Check a parsed export document; return its drawings as normalised copies."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f'this is not an MNIST-Draw drawings file (expected "format": "{FORMAT}")')
    version = doc.get("version")
    if version != VERSION or isinstance(version, bool):
        raise ValueError(
            f"drawings file version {version!r} is not supported (this app reads version {VERSION})"
        )
    drawings = doc.get("drawings")
    if not isinstance(drawings, list):
        raise ValueError('malformed drawings file: "drawings" must be a list')
    if len(drawings) > MAX_DRAWINGS:
        raise ValueError(
            f"the file holds {len(drawings):,} drawings; at most {MAX_DRAWINGS:,} can be imported"
        )
    for key in ("app", "model_sha256", "exported"):
        if key in doc and not isinstance(doc[key], str):
            raise ValueError(f'malformed drawings file: "{key}" must be a string')
    out = []
    for i, drawing in enumerate(drawings):
        try:
            out.append(validate_drawing(drawing))
        except ValueError as exc:
            raise ValueError(f"malformed drawing #{i + 1}: {exc}") from None
    return out


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def validate_drawing(drawing: Any) -> Drawing:
    """Check one drawing; return a normalised copy (floats, lists). Raises ValueError."""
    if not isinstance(drawing, dict):
        raise ValueError("a drawing must be an object")
    label = drawing.get("label")
    if not isinstance(label, int) or isinstance(label, bool) or not 0 <= label <= 9:
        raise ValueError(f'"label" must be a digit 0-9, got {label!r}')
    canvas = drawing.get("canvas")
    if (
        not isinstance(canvas, list)
        or len(canvas) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in canvas)
        or not all(MIN_CANVAS <= v <= MAX_CANVAS for v in canvas)
    ):
        raise ValueError(
            f'"canvas" must be [width, height] in whole px, {MIN_CANVAS}-{MAX_CANVAS} each, '
            f"got {canvas!r}"
        )
    pen = drawing.get("pen_width")
    if not _number(pen) or not 0 < pen <= max(canvas) / 2:
        raise ValueError(f'"pen_width" must be a number of px in (0, {max(canvas) / 2:g}]')
    strokes = drawing.get("strokes")
    if not isinstance(strokes, list) or not strokes:
        raise ValueError('"strokes" must be a non-empty list of strokes')
    if len(strokes) > MAX_STROKES:
        raise ValueError(f"{len(strokes)} strokes; at most {MAX_STROKES}")
    w, h = canvas
    points_total = 0
    clean = []
    for j, stroke in enumerate(strokes):
        if not isinstance(stroke, list) or not stroke:
            raise ValueError(f"stroke {j + 1} must be a non-empty list of [x, y] points")
        points_total += len(stroke)
        if points_total > MAX_POINTS:
            raise ValueError(f"more than {MAX_POINTS:,} points")
        pts = []
        for p in stroke:
            if not (isinstance(p, list) and len(p) == 2 and _number(p[0]) and _number(p[1])):
                raise ValueError(f"stroke {j + 1} has a point that is not [x, y]: {p!r}")
            # A pen may leave the canvas a little while drawing; far outside is corrupt data.
            if not (-w <= p[0] <= 2 * w and -h <= p[1] <= 2 * h):
                raise ValueError(f"stroke {j + 1} has a point far outside the canvas: {p!r}")
            pts.append([float(p[0]), float(p[1])])
        clean.append(pts)
    out: Drawing = {
        "label": label,
        "canvas": [w, h],
        "pen_width": float(pen),
        "strokes": clean,
    }
    for key in ("time", "model_sha256"):
        if key in drawing:
            if not isinstance(drawing[key], str) or len(drawing[key]) > 200:
                raise ValueError(f'"{key}" must be a short string')
            out[key] = drawing[key]
    return out


# ---- rasteriser -----------------------------------------------------------------------------


def _drop_collinear(stroke: list) -> list:
    """Remove points lying on the segment between their neighbours (they don't change the ink)."""
    keep = [stroke[0]]
    for b, c in zip(stroke[1:-1], stroke[2:], strict=True):
        a = keep[-1]
        ab, ac = (b[0] - a[0], b[1] - a[1]), (c[0] - a[0], c[1] - a[1])
        ll = ac[0] ** 2 + ac[1] ** 2
        on_segment = ll > 0 and 0 <= (ab[0] * ac[0] + ab[1] * ac[1]) / ll <= 1
        if not (on_segment and abs(ab[0] * ac[1] - ab[1] * ac[0]) / math.sqrt(ll) < 1e-6):
            keep.append(b)
    if len(stroke) > 1:
        keep.append(stroke[-1])
    return keep


def _segment_distance(px: np.ndarray, py: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from points (px, py) to the segment a-b (a point if a == b)."""
    d = b - a
    t = ((px - a[0]) * d[0] + (py - a[1]) * d[1]) / max(float(d @ d), 1e-12)
    t = np.clip(t, 0.0, 1.0)
    return np.hypot(px - a[0] - t * d[0], py - a[1] - t * d[1])


def render_rgba(
    strokes: list, canvas_px: int | tuple[int, int], pen_px: float, ss: int = SUPERSAMPLE
) -> np.ndarray:
    """Rasterise strokes like a 2D canvas context with ``lineWidth = pen_px``, ``lineCap`` and
    ``lineJoin = 'round'``, black ink on a transparent canvas: returns (H, W, 4) uint8 with RGB 0
    and alpha = coverage, i.e. what ``getImageData`` gives (the browser un-premultiplies, and for
    black ink that leaves RGB 0). A one-point stroke is a dot, as a click makes with round caps.

    The ink is the set of points within ``pen_px / 2`` of a stroke (that is exactly a round-capped,
    round-joined stroke). Coverage is the fraction of ``ss`` x ``ss`` sub-samples of a pixel that
    are ink; only pixels near the ink's edge are sub-sampled, the rest are 0 or 255 outright.
    Pixel (i, j) spans [i, i+1) x [j, j+1), as on a canvas, so its centre is (i + 0.5, j + 0.5).
    ``canvas_px`` is a side or (width, height).
    """
    w, h = (canvas_px, canvas_px) if isinstance(canvas_px, int) else canvas_px
    r = pen_px / 2
    segs = []
    for stroke in strokes:
        pts = np.asarray(_drop_collinear(list(stroke)), dtype=float).reshape(-1, 2)
        segs += list(zip(pts[:-1], pts[1:], strict=True)) if len(pts) > 1 else [(pts[0], pts[0])]

    # 1. Distance from each pixel centre to the strokes, one segment's bounding box at a time.
    dist = np.full((h, w), np.inf)
    boxes = []
    for a, b in segs:
        x0, x1 = (
            max(0, math.floor(min(a[0], b[0]) - r - 1)),
            min(w, math.ceil(max(a[0], b[0]) + r + 1)),
        )
        y0, y1 = (
            max(0, math.floor(min(a[1], b[1]) - r - 1)),
            min(h, math.ceil(max(a[1], b[1]) + r + 1)),
        )
        boxes.append((x0, x1, y0, y1))
        if x0 >= x1 or y0 >= y1:
            continue
        gx, gy = np.meshgrid(np.arange(x0, x1) + 0.5, np.arange(y0, y1) + 0.5)
        view = dist[y0:y1, x0:x1]
        np.minimum(view, _segment_distance(gx, gy, a, b), out=view)

    # 2. Pixels whose centre is more than half a diagonal inside (outside) are fully (not) ink.
    half_diag = math.sqrt(0.5) + 1e-9
    alpha = (dist <= r - half_diag).astype(float)
    ey, ex = np.nonzero((dist > r - half_diag) & (dist < r + half_diag))

    # 3. Sub-sample the edge pixels against the segments whose box holds them.
    off = (np.arange(ss) + 0.5) / ss
    sx, sy = (ex[:, None] + np.tile(off, ss)[None, :]), (ey[:, None] + np.repeat(off, ss)[None, :])
    inside = np.zeros(sx.shape, dtype=bool)
    for (a, b), (x0, x1, y0, y1) in zip(segs, boxes, strict=True):
        sel = np.nonzero((ex >= x0) & (ex < x1) & (ey >= y0) & (ey < y1))[0]
        if sel.size:
            inside[sel] |= _segment_distance(sx[sel], sy[sel], a, b) <= r
    alpha[ey, ex] = inside.mean(axis=1)

    out = np.zeros((h, w, 4), dtype=np.uint8)
    out[..., 3] = np.rint(alpha * 255).astype(np.uint8)
    return out


def render_drawing(drawing: Drawing, max_side: int = MODEL_CANVAS_PX) -> np.ndarray:
    """A validated drawing as canvas RGBA, scaled down (strokes and pen alike) so its longer side
    is at most ``max_side`` px: the app's model canvas, so stored and live drawings match."""
    w, h = drawing["canvas"]
    k = min(1.0, max_side / max(w, h))
    size = (max(1, round(w * k)), max(1, round(h * k)))
    strokes = [[(x * k, y * k) for x, y in s] for s in drawing["strokes"]]
    return render_rgba(strokes, size, drawing["pen_width"] * k)
