"""Generated pen-stroke DIGITS in many writers' forms, for training (never for judging).

MNIST's writers drew with pens on paper; app users draw with a mouse or a finger, and other
people write other forms: 1 with a flag and a base, crossed 7, curled or straight-tailed 9,
open and closed 4, flat-topped 3, looped 2, quick polylines with few points and sharp corners.
Each digit here has several hand-made templates (control points in a unit box, y down); every
sample jitters the control points, slants, squeezes or stretches, rotates and wobbles the
template, sometimes replaces its curves by crude polylines with sharp corners, and draws it with a
pen from hairline to marker (build_model.strokes), then preprocesses the canvas with the app's
site/preprocess.py.

The benchmark judge (tests/digit_strokes.py: Hershey fonts and three fixed hand styles) is not
used here: these templates are this module's own, and every sample is randomised.
"""

from __future__ import annotations

import os

import numpy as np

from build_model import strokes
from build_model.augment import map_chunks
from build_model.nondigits import _arc, _spline

CHUNK = 500
WORKERS = min(2, os.cpu_count() or 1)
#: Chance of the crude form: each curve becomes a polyline through 7-12 of its points.
CRUDE_PROB = 0.25


def _a(cx, cy, rx, ry, a0, a1):
    return _arc(cx, cy, rx, ry, a0, a1, 40)


def _p(*pts):
    return np.array(pts, dtype=float)


def _s(*pts):
    return _spline(np.array(pts, dtype=float), 50)


def _cat(*parts):
    return np.concatenate(parts)


# Templates per digit: functions of a jitter helper j(x) -> x + noise, returning strokes.
def _templates(d: int, j) -> list[list[np.ndarray]]:
    if d == 0:
        return [
            [_a(0.5, 0.5, j(0.32), 0.5, j(-100), j(-100) - 365)],
            [_a(0.5, 0.5, j(0.22), 0.5, j(-80), j(-80) - 370)],  # narrow
            [
                _s(
                    (0.55, 0),
                    (0.25, 0.15),
                    (0.18, 0.6),
                    (0.45, 1),
                    (0.78, 0.6),
                    (0.72, 0.12),
                    (0.5, j(0.02)),
                )
            ],  # egg, pointed top
        ]
    if d == 1:
        stem = _p((j(0.55), 0), (j(0.5), 1))
        return [
            [stem],
            [_p((j(0.3), j(0.25)), (0.55, 0), (j(0.52), 1))],  # flag in one go
            [_p((j(0.3), j(0.25)), (0.55, 0), (j(0.52), 1)), _p((j(0.3), 1), (j(0.75), 1))],
            [_p((j(0.35), j(0.18)), (0.55, 0)), stem, _p((j(0.33), 1), (j(0.72), 1))],
        ]
    if d == 2:
        return [
            [_cat(_a(0.5, 0.28, j(0.28), 0.28, 190, 380), _p((0.15, 1), (j(0.85), 1)))],
            [
                _s(
                    (0.18, 0.2),
                    (0.5, 0),
                    (0.8, 0.25),
                    (0.55, 0.6),
                    (0.2, j(0.95)),
                    (0.3, 0.8),
                    (0.4, 0.95),
                    (0.85, j(0.98)),
                )
            ],  # loop at the bottom left
            [_p((j(0.2), j(0.05)), (j(0.8), 0), (0.2, 1), (j(0.85), 1))],  # angular
            [
                _s((0.2, 0.25), (0.45, 0.0), (0.75, 0.2), (0.6, 0.5), (0.2, 1)),
                _p((0.2, 1), (j(0.85), j(0.97))),
            ],
        ]
    if d == 3:
        return [
            [_cat(_a(0.47, 0.25, j(0.27), 0.25, 200, 450), _a(0.47, 0.75, j(0.3), 0.25, 270, 520))],
            [
                _cat(
                    _p((0.2, 0), (j(0.8), 0), (j(0.45), 0.42)), _a(0.47, 0.7, j(0.3), 0.3, 270, 510)
                )
            ],
            [_p((0.2, 0.05), (0.75, 0.12), (0.4, 0.45), (0.8, 0.7), (0.25, 0.98))],  # zigzag 3
        ]
    if d == 4:
        vx = j(0.68)
        return [
            [_p((j(0.35), 0), (j(0.15), 0.65), (j(0.9), 0.65)), _p((vx, j(0.3)), (vx, 1))],
            [_p((vx, 0), (j(0.12), 0.68), (j(0.92), 0.68)), _p((vx, 0), (j(vx), 1))],  # closed
            [_p((j(0.3), 0), (j(0.18), 0.6), (j(0.85), 0.6)), _p((vx, 0), (j(vx), 1))],  # tall
            [_p((vx, 1), (vx, 0), (j(0.12), 0.65), (j(0.9), 0.65))],  # one stroke, closed
        ]
    if d == 5:
        return [
            [
                _cat(_p((0.3, 0), (j(0.27), 0.45)), _a(0.48, 0.7, j(0.3), 0.3, 225, 510)),
                _p((0.3, 0), (j(0.8), j(0.02))),
            ],
            [_cat(_p((j(0.8), 0), (0.3, 0), (j(0.27), 0.45)), _a(0.48, 0.7, 0.3, 0.3, 225, 510))],
            [
                _cat(
                    _p((0.3, 0), (j(0.25), 0.5), (0.6, 0.45), (0.75, 0.7)),
                    _s((0.75, 0.7), (0.5, 1), (0.2, j(0.9))),
                ),
                _p((0.3, 0), (j(0.78), 0)),
            ],
        ]
    if d == 6:
        return [
            [
                _cat(
                    _s((j(0.72), 0), (0.45, 0.15), (0.25, 0.5), (0.22, 0.72)),
                    _a(0.48, 0.72, j(0.27), 0.27, 180, 540),
                )
            ],
            [_cat(_p((j(0.65), 0), (0.22, 0.7)), _a(0.46, 0.75, j(0.24), 0.24, 165, 530))],
            [
                _cat(
                    _s(
                        (j(0.75), 0.05),
                        (0.3, 0.3),
                        (0.2, 0.8),
                        (0.5, 1),
                        (0.75, 0.75),
                        (0.5, 0.5),
                        (0.25, 0.7),
                    )
                )
            ],
        ]
    if d == 7:
        top = _p((j(0.15), j(0.02)), (j(0.85), 0), (j(0.4), 1))
        return [
            [top],
            [top, _p((j(0.3), j(0.5)), (j(0.8), j(0.5)))],  # crossed
            [_p((j(0.15), 0.12), (0.15, 0), (0.85, 0), (j(0.45), 1))],  # serif
            [_cat(_p((0.15, 0), (0.85, 0)), _s((0.85, 0), (0.6, 0.4), (0.48, 1)))],  # curved
            [
                _cat(_p((0.15, 0), (0.85, 0)), _s((0.85, 0), (0.6, 0.4), (0.48, 1))),
                _p((j(0.35), 0.5), (j(0.85), 0.48)),
            ],
        ]
    if d == 8:
        return [
            [_a(0.5, 0.25, j(0.22), 0.25, 90, 450), _a(0.5, 0.74, j(0.28), 0.26, -90, 270)],
            [
                _s(
                    (0.7, 0.1),
                    (0.5, 0),
                    (0.28, 0.12),
                    (0.32, 0.35),
                    (0.68, 0.62),
                    (0.72, 0.88),
                    (0.5, 1),
                    (0.28, 0.86),
                    (0.32, 0.62),
                    (0.68, 0.35),
                    (0.72, 0.12),
                    (0.5, 0),
                )
            ],
            [_cat(_a(0.5, 0.27, j(0.2), 0.27, 90, 450), _a(0.5, 0.76, j(0.25), 0.24, -90, 270))],
        ]
    if d == 9:
        loop = _a(0.5, 0.28, j(0.27), 0.28, 0, -360)
        return [
            [_cat(loop, _p((0.77, 0.28), (j(0.74), 1)))],  # straight tail
            [_cat(loop, _s((0.77, 0.28), (0.74, 0.7), (0.55, 0.97), (j(0.25), 0.9)))],  # curled
            [_cat(loop, _s((0.77, 0.28), (0.7, 0.65), (0.45, 1)))],  # sloping tail
            [loop, _p((0.77, 0.1), (j(0.72), 1))],  # loop then a separate stem
        ]
    raise ValueError(d)


def digit_drawing(d: int, rng: np.random.Generator) -> strokes.Drawing:
    """One randomised drawing of digit ``d`` (unit-ish box, y down)."""

    def j(x: float) -> float:  # coordinates (|x| < 2) move by ~0.04, angles (degrees) by ~8
        return float(x + rng.normal(0, 0.04 if abs(x) < 2 else 8))

    options = _templates(d, j)
    drawing = [np.asarray(s, float) for s in options[int(rng.integers(len(options)))]]
    # Per-point jitter of the template, smooth along the stroke (not pixel noise).
    drawing = [s + rng.normal(0, 0.012, 2) for s in drawing]
    if rng.random() < CRUDE_PROB:  # quick drawing: few points, sharp corners
        crude = []
        for s in drawing:
            # Curves keep 7-12 points (fewer turns a 0 into a triangle: no longer readable);
            # polylines already are crude.
            k = min(len(s), int(rng.integers(7, 13)))
            idx = np.unique(np.linspace(0, len(s) - 1, k).round().astype(int))
            crude.append(s[idx])
        drawing = crude
    return drawing


def render_digit(d: int, rng: np.random.Generator) -> np.ndarray:
    """Digit ``d`` as (H, W, 4) uint8 canvas pixels."""
    drawing = digit_drawing(d, rng)
    drawing = strokes.random_warp(drawing, rng, 12, 0.35, 0.6)
    if rng.random() < 0.6:
        drawing = strokes.wobble(drawing, rng, rng.uniform(0.003, 0.015))
    canvas = strokes.random_canvas(rng)
    pen = strokes.random_pen(rng, canvas)
    size = rng.uniform(0.2, 0.95)
    # A marker on a tiny digit is a blob a person can't read either: keep the pen under ~1/4
    # of the digit's height.
    pen = min(pen, 0.25 * size * min(canvas))
    drawing = strokes.place(drawing, rng, canvas, size, pen)
    return strokes.rasterise(drawing, canvas, pen, rng)


def _render_chunk(args) -> tuple[np.ndarray, np.ndarray]:
    seed, index, count = args
    from build_model.augment import _import_preprocess

    preprocess = _import_preprocess()
    rng = np.random.default_rng([seed, index, 11])
    labels = rng.integers(0, 10, count)
    out = np.empty((count, 28, 28, 1), np.float32)
    for i, d in enumerate(labels):
        while True:
            try:
                out[i] = preprocess.preprocess_canvas(render_digit(int(d), rng))[0]
                break
            except ValueError:
                continue
    return out, labels


def render_digits(count: int, seed: int, workers: int = WORKERS) -> tuple[np.ndarray, np.ndarray]:
    """``count`` preprocessed stroke digits (N,28,28,1) float32 and their labels (N,) int64."""
    tasks = [
        (seed, index, min(CHUNK, count - start))
        for index, start in enumerate(range(0, count, CHUNK))
    ]
    parts = map_chunks(_render_chunk, tasks, workers)
    if not parts:
        return np.empty((0, 28, 28, 1), np.float32), np.empty(0, np.int64)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]).astype(
        np.int64
    )
