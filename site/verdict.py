"""The verdict on one drawing: "digit", "unsure" or "not-a-digit", from the model's probabilities
and the shape of the ink the model saw.

Pure numpy, no browser imports: the web worker, build_model/ (which fits the statistics and
chooses the thresholds) and the tests import this same file. An empty canvas is decided before
the model runs (preprocess says so) and never reaches this module.

Two tests, both calibrated by the build on validation data and stored in model.json "verdict"
(nothing is hard-coded in JS):

1. **Certainty of the softmax.** The model was trained with outlier exposure (generated
   non-digits had a uniform target), so a flat softmax means "not a digit". Two scores, the
   build keeps the one that refuses more validation non-digits: the top probability
   (``max_prob``), or ``certainty`` = 1 - entropy / ln 10 (0 for a uniform output, 1 for one
   class). Certainty counts how far the output is from the uniform target, not just how much
   the first class got: a digit the model hesitates on between two classes (a 6 that might be a
   0: 0.45 / 0.45) keeps most of its certainty, while a non-digit spread over many classes
   loses it.
2. **Ink-shape density.** A closed outline (square, triangle, heart) gives the CNN a confident
   "0": its penultimate features sit among real 0s (a Mahalanobis check on the 100 ``features``
   was measured and refused almost nothing; see the model card). What differs is the outline:
   a drawn 0 is an oval, a square has corners. :func:`shape_descriptor` measures that on the
   28x28 input: the ink is whitened by its own second moments (so slant, size and aspect do not
   count) and split into ``BINS`` angle sectors around its centre; the descriptor is the
   magnitude of the first harmonics of (a) the mean radius per sector, relative to its mean (an
   ellipse is flat; a square has a 4th harmonic, a triangle a 3rd, a heart a 1st/2nd) and (b) the
   share of ink per sector (ink only on one side: a dot cluster, an open stroke). Per class, a
   Gaussian is fitted to the descriptors of MNIST training digits (raw and rendered as canvases);
   a drawing whose squared Mahalanobis distance to the Gaussian of its predicted class is above
   ``shape_max`` is refused. Elongated ink (``roundness`` below ``min_roundness``: a 1, a single
   stroke) is exempt: whitening a thin line magnifies pixel noise, so its profile means nothing
   (a straight 1 would be refused) -- the probability test handles lines. This threshold,
   like the first one, comes from validation digits only (each test refuses a fixed small share
   of correctly read digits), so it needs no non-digit of the kinds it catches.

model.json "verdict"::

    {"score": "certainty+shape" | "max_prob+shape", "digit": t_digit, "unsure": t_unsure,
     "shape_max": d_max,
     "shape": {"bins": 16, "radius_harmonics": 6, "ink_harmonics": 4, "min_roundness": r,
               "means": 10 x D, "precisions": 10 x D x D}, ...}

    score < t_unsure or shape distance > d_max -> "not-a-digit"   (score: the "score" named)
    top probability >= t_digit                 -> "digit"
    otherwise                                  -> "unsure"  (the best guess, hedged)

"digit" is always on the top probability (the confidence the page shows). A model.json without
"shape" (score "max_prob" or "certainty") applies test 1 alone.
"""

from __future__ import annotations

import numpy as np

DIGIT = "digit"
UNSURE = "unsure"
NOT_A_DIGIT = "not-a-digit"
EMPTY = "empty"  # decided before the model runs; listed so callers share one vocabulary
VERDICTS = (DIGIT, UNSURE, NOT_A_DIGIT, EMPTY)

#: Used only when a model.json has no "verdict" object (an old model): plain max-probability
#: cut-offs, far less reliable than a calibrated model's.
FALLBACK = {"score": "max_prob", "digit": 0.9, "unsure": 0.6}
#: Shape descriptor defaults (the build writes the values it used into model.json).
BINS, RADIUS_HARMONICS, INK_HARMONICS = 16, 6, 4
SCORES = ("max_prob", "max_prob+shape", "certainty", "certainty+shape")


def score(probs: np.ndarray, kind: str = "max_prob") -> np.ndarray:
    """Confidence score(s) of softmax output(s) (..., 10): the top probability, or for a
    ``kind`` starting with "certainty" 1 - entropy / ln 10 (see the module docstring)."""
    p = np.asarray(probs, dtype=np.float64)
    if p.shape[-1] != 10:
        raise ValueError(f"expected probabilities with 10 classes, got shape {p.shape}")
    if not kind.startswith("certainty"):
        return p.max(axis=-1)
    # 0 * log 0 = 0; a NaN output stays NaN (and is refused).
    logs = np.log(np.where(p > 0, p, 1.0))
    return 1.0 + (p * logs).sum(axis=-1) / np.log(10.0)


def _harmonics(profile: np.ndarray, count: int) -> np.ndarray:
    """|DFT| / bins of each row of ``profile`` (N, B), harmonics 1..count (no numpy.fft: the
    browser's pruned numpy has none)."""
    bins = profile.shape[1]
    angle = 2 * np.pi * np.outer(np.arange(bins), np.arange(1, count + 1)) / bins
    return np.hypot(profile @ np.cos(angle), profile @ np.sin(angle)) / bins


def _moments(images: np.ndarray) -> tuple:
    """Ink weights (N, P), offsets from the ink centre (dx, dy: N, P) and the ink's second
    moments (sxx, syy, sxy: N,), + half a pixel each so a one-pixel line stays invertible."""
    w = np.nan_to_num(np.asarray(images, dtype=np.float64).reshape(len(images), -1), nan=1.0)
    side = int(round(np.sqrt(w.shape[1])))
    rows, cols = np.divmod(np.arange(side * side, dtype=np.float64), side)
    total = w.sum(axis=1, keepdims=True) + 1e-9
    dx = cols[None] - (w * cols).sum(axis=1, keepdims=True) / total
    dy = rows[None] - (w * rows).sum(axis=1, keepdims=True) / total
    sxx = (w * dx * dx).sum(axis=1) / total[:, 0] + 0.5
    syy = (w * dy * dy).sum(axis=1) / total[:, 0] + 0.5
    sxy = (w * dx * dy).sum(axis=1) / total[:, 0]
    return w, total, dx, dy, sxx, syy, sxy


def roundness(images: np.ndarray) -> np.ndarray:
    """Minor / major axis variance (N,) of the ink of each image: ~0 for a line, 1 for a ring."""
    _, _, _, _, sxx, syy, sxy = _moments(images)
    half = np.sqrt(((sxx - syy) / 2) ** 2 + sxy**2)
    mid = (sxx + syy) / 2
    return (mid - half) / (mid + half)


def shape_descriptor(
    images: np.ndarray,
    bins: int = BINS,
    radius_harmonics: int = RADIUS_HARMONICS,
    ink_harmonics: int = INK_HARMONICS,
) -> np.ndarray:
    """Ink-shape descriptors (N, radius_harmonics + ink_harmonics) of model inputs (N, 28, 28[,
    1]) in [0, 1] (1 = ink); see the module docstring for what they measure."""
    n = len(images)
    w, total, dx, dy, sxx, syy, sxy = _moments(images)
    # Whiten by the inverse square root of the moments, in closed form for 2x2:
    # sqrt(M) = (M + sqrt(det) I) / sqrt(trace + 2 sqrt(det)).
    root_det = np.sqrt(np.maximum(sxx * syy - sxy**2, 1e-9))
    norm = np.sqrt(sxx + syy + 2 * root_det)
    a, b, d = (sxx + root_det) / norm, sxy / norm, (syy + root_det) / norm
    inv = 1.0 / (a * d - b * b)
    ux = (d * inv)[:, None] * dx - (b * inv)[:, None] * dy
    uy = -(b * inv)[:, None] * dx + (a * inv)[:, None] * dy
    sector = ((np.arctan2(uy, ux) + np.pi) / (2 * np.pi) * bins).astype(np.intp)
    # np.intp: bincount wants the platform's index type (int32 in the browser's wasm32 numpy).
    index = (np.arange(n, dtype=np.intp)[:, None] * bins + np.clip(sector, 0, bins - 1)).ravel()
    ink = np.bincount(index, weights=w.ravel(), minlength=n * bins).reshape(n, bins)
    radius = np.bincount(index, weights=(w * np.hypot(ux, uy)).ravel(), minlength=n * bins)
    radius = radius.reshape(n, bins) / np.maximum(ink, 1e-6)
    radius = radius / (radius.mean(axis=1, keepdims=True) + 1e-9)
    return np.concatenate(
        [_harmonics(radius, radius_harmonics), _harmonics(ink / total, ink_harmonics)], axis=1
    )


def shape_distance(images: np.ndarray, predicted: np.ndarray, shape: dict) -> np.ndarray:
    """Squared Mahalanobis distance (N,) of each image's shape descriptor to the Gaussian of its
    ``predicted`` class (model.json "verdict" -> "shape"); 0 for elongated ink (roundness below
    ``min_roundness``: a 1, a stroke), whose angular profile says nothing."""
    images = np.asarray(images).reshape(len(images), -1)
    desc = shape_descriptor(
        images, int(shape["bins"]), int(shape["radius_harmonics"]), int(shape["ink_harmonics"])
    )
    diff = desc - np.asarray(shape["means"], dtype=np.float64)[predicted]
    precisions = np.asarray(shape["precisions"], dtype=np.float64)[predicted]
    distance = np.einsum("ni,nij,nj->n", diff, precisions, diff)
    return np.where(roundness(images) >= float(shape["min_roundness"]), distance, 0.0)


def verdicts(probs: np.ndarray, thresholds: dict | None, images: np.ndarray | None = None) -> list:
    """Verdict of each row of ``probs`` (N, 10) under ``thresholds`` (model.json "verdict").

    ``images`` (N, 28, 28[, 1]) are the model inputs; a model.json with a shape test needs them.
    """
    t = thresholds if thresholds else FALLBACK
    kind = t.get("score", "max_prob")
    if kind not in SCORES:
        raise ValueError(f"unknown verdict score {kind!r}")
    p = np.atleast_2d(np.asarray(probs, dtype=np.float64))
    top = score(p)
    sure = score(p, kind)
    refused = ~np.isfinite(top) | ~(sure >= float(t["unsure"]))  # a broken output never claims
    if kind.endswith("+shape"):
        if images is None:
            raise ValueError("this model's verdict needs the model inputs (images)")
        safe = np.nan_to_num(p).argmax(axis=1)
        distance = shape_distance(np.asarray(images).reshape(len(p), -1), safe, t["shape"])
        refused |= ~(distance <= float(t["shape_max"]))  # NaN refuses too
    confident = top >= float(t["digit"])
    out = [
        NOT_A_DIGIT if r else DIGIT if c else UNSURE
        for r, c in zip(refused, confident, strict=True)
    ]
    return out


def verdict(probs: np.ndarray, thresholds: dict | None, image: np.ndarray | None = None) -> str:
    """Verdict of one drawing's probabilities (10,) or (1, 10), and its model input (28x28)."""
    p = np.asarray(probs)
    if p.size != 10:
        raise ValueError(f"expected one drawing's 10 probabilities, got shape {p.shape}")
    images = None if image is None else np.asarray(image).reshape(1, -1)
    return verdicts(p.reshape(1, 10), thresholds, images)[0]
