"""Two touching digits as one drawing: a NON-digit for training (outlier exposure).

Why: site/cuts.py splits touching ink by the model's reading (it keeps the cuts whose pieces
the model reads best). A model that reads two merged neighbours confidently as ONE digit ("19"
as a 9, an interlocked "36" as an 8) makes the lattice keep the pair whole. Trained with such
pairs pushed to a uniform output, like the other non-digits, the model is unsure on a merged
pair, and the cut that separates it wins.

Each pair is two digits side by side at slightly different heights and baselines, placed so
their ink just touches or overlaps a little, row by row (1 px to ``MAX_OVERLAP`` x height), or
so their boxes meet (``ABUT_PROB``); ``STRADDLE_PROB`` of them are then cut in the wrong place
(from inside the left digit to inside the right one), like a misplaced cut. The digits are
MNIST **training** digits rendered like the training canvases (build_model.augment.render_canvas,
one pen thickness per pair) or, with ``STROKE_PROB``, generated pen-stroke digits
(build_model.strokedigits) drawn with one pen. The pair's canvas goes through the app's own
preprocess.preprocess_canvas, like every drawing.
Never the MNIST test set: benchmarks/multi_digit.py measures touching numbers on test digits.
"""

from __future__ import annotations

import os

import numpy as np

from build_model import strokedigits, strokes
from build_model.augment import TRAIN_CONFIG, crop_to_ink, gap_shift, map_chunks, render_patch

# --- Defaults -------------------------------------------------------------------------------
#: Digit height on the pair's canvas (px), and the second digit's height relative to the first.
HEIGHT_PX = (36, 100)
SIZE_RATIO = (0.75, 1.0)
#: Most ink overlap between neighbours, as a share of the height (the benchmark's touching
#: numbers overlap by 1 px to 4 %; a little more here, never enough to merge into one shape).
MAX_OVERLAP = 0.07
#: Share of pairs whose boxes meet (+-2 px) instead (the ink may or may not touch).
ABUT_PROB = 0.2
#: Share of pairs drawn with generated pen-stroke digits instead of MNIST training digits.
STROKE_PROB = 0.3
#: Share of pairs replaced by a WRONG cut through them: the piece from inside the left digit
#: (35-65 % of its width) to inside the right one (what a misplaced cut in site/cuts.py
#: hands the model; read confidently, it wins over the right cut).
STRADDLE_PROB = 0.3
#: Baseline jitter between the two digits (share of the height).
BASELINE_JITTER = 0.08
#: Ink level counted when measuring the gap between neighbours (alpha 0..1).
INK = 0.3
CHUNK = 500
WORKERS = min(2, os.cpu_count() or 1)


def _stroke_patch(digit: int, height: float, pen: float, rng) -> np.ndarray:
    """A generated pen-stroke digit drawn ``height`` px tall with a ``pen`` px pen: alpha 0..1."""
    drawing = strokedigits.digit_drawing(digit, rng)
    drawing = strokes.random_warp(drawing, rng, 12, 0.35, 0.6)
    x0, y0, x1, y1 = strokes.bbox(drawing)
    k = max(height - pen, 1.0) / max(y1 - y0, 0.5 * (x1 - x0), 1e-6)
    side = int(height * 3)
    drawing = [(s - [x0, y0]) * k + pen + 2 for s in drawing]
    rgba = strokes.rasterise(drawing, (side, side), pen, rng, opaque_prob=0.0)
    return crop_to_ink(rgba[..., 3])


def compose(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Patch ``b`` right of patch ``a``, touching (or boxes meeting) -> RGBA uint8 canvas."""
    h = max(a.shape[0], b.shape[0])
    width = a.shape[1] + b.shape[1] + 2 * h
    canvas = np.zeros((2 * h, width), np.float32)
    base = int(1.5 * h)
    top_a = base - a.shape[0]
    canvas[top_a:base, h // 2 : h // 2 + a.shape[1]] = a
    top_b = int(np.clip(base - b.shape[0] + rng.normal(0, BASELINE_JITTER) * h, 0, h))
    rows = slice(top_b, top_b + b.shape[0])
    right_edge = h // 2 + a.shape[1]  # first column after a's box
    if rng.random() < ABUT_PROB:
        x = right_edge + int(rng.integers(-2, 3))
    else:
        gap = gap_shift(canvas >= INK, b >= INK, top_b)
        if gap is None:  # no rows in common: boxes meet
            x = right_edge
        else:
            want = -rng.uniform(1, max(1.5, MAX_OVERLAP * h))
            x = int(round(want - gap))
    x = int(np.clip(x, 0, width - b.shape[1]))
    region = canvas[rows, x : x + b.shape[1]]
    np.maximum(region, b, out=region)
    if rng.random() < STRADDLE_PROB:
        left = h // 2 + int(rng.uniform(0.35, 0.65) * a.shape[1])
        right = x + int(rng.uniform(0.35, 0.65) * b.shape[1])
        if right - left >= 0.3 * h:
            canvas = canvas[:, left:right]
    rgba = np.zeros((*canvas.shape, 4), np.uint8)
    rgba[..., 3] = np.rint(canvas * 255).astype(np.uint8)
    return rgba


def render_pair(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One touching pair as RGBA canvas pixels (MNIST ``images`` or stroke digits)."""
    h = rng.uniform(*HEIGHT_PX)
    heights = [h, h * rng.uniform(*SIZE_RATIO)]
    rng.shuffle(heights)
    if rng.random() < STROKE_PROB:
        pen = h * np.exp(rng.uniform(np.log(0.05), np.log(0.2)))
        a, b = (_stroke_patch(int(rng.integers(10)), hh, pen, rng) for hh in heights)
    else:
        thickness = int(rng.choice(TRAIN_CONFIG.thickness))
        pick = rng.choice(len(images), 2, replace=False)
        a, b = (
            render_patch(images[i], hh, thickness, rng, TRAIN_CONFIG)
            for i, hh in zip(pick, heights, strict=True)
        )
    return compose(a, b, rng)


def _render_chunk(args) -> np.ndarray:
    images, seed, index, count = args
    from build_model.augment import _import_preprocess

    preprocess = _import_preprocess()
    rng = np.random.default_rng([seed, index, 17])
    out = np.empty((count, 28, 28, 1), np.float32)
    for i in range(count):
        while True:
            try:
                out[i] = preprocess.preprocess_canvas(render_pair(images, rng))[0]
                break
            except ValueError:
                continue
    return out


def render_pairs(
    images: np.ndarray, count: int, seed: int, workers: int = WORKERS
) -> tuple[np.ndarray]:
    """``count`` preprocessed touching pairs (N,28,28,1) float32, MNIST digits from ``images``
    (training digits only). Deterministic for (images, count, seed), whatever ``workers``."""
    images = np.asarray(images)
    # Each task gets its own 2 x CHUNK digits (a seeded shuffle): small to send to a worker.
    order = np.random.default_rng([seed, 19]).permutation(len(images))
    order = np.resize(order, 2 * CHUNK * -(-count // CHUNK))
    tasks = [
        (images[order[2 * start : 2 * start + 2 * CHUNK]], seed, index, min(CHUNK, count - start))
        for index, start in enumerate(range(0, count, CHUNK))
    ]
    parts = map_chunks(_render_chunk, tasks, workers)
    return (np.concatenate(parts) if parts else np.empty((0, 28, 28, 1), np.float32),)
