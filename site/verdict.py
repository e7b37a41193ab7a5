"""The verdict on one drawing: "digit", "unsure" or "not-a-digit", from the model's probabilities.

Pure numpy, no browser imports: the web worker, build_model/ (which chooses the thresholds) and
the tests import this same file. An empty canvas is decided before the model runs (preprocess
says so) and never reaches this module.

The model was trained with outlier exposure: on generated non-digits (letters, symbols,
scribbles, lines, dots, blobs, ...) its target was a uniform output, so a low top probability
means "not a digit". The score is the top softmax probability (measured against the energy
score on the same validation data by the build; see the model card). Thresholds come from
model.json's "verdict" object, written by the build from validation data:

    {"score": "max_prob", "digit": t_digit, "unsure": t_unsure, ...}

    score >= t_digit            -> "digit"
    t_unsure <= score < t_digit -> "unsure"  (shows the best guess, hedged)
    score < t_unsure            -> "not-a-digit"
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


def score(probs: np.ndarray) -> np.ndarray:
    """Confidence score(s) of softmax output(s) (..., 10): the top probability."""
    p = np.asarray(probs, dtype=np.float64)
    if p.shape[-1] != 10:
        raise ValueError(f"expected probabilities with 10 classes, got shape {p.shape}")
    return p.max(axis=-1)


def verdicts(probs: np.ndarray, thresholds: dict | None) -> list[str]:
    """Verdict of each row of ``probs`` (N, 10) under ``thresholds`` (model.json "verdict")."""
    t = thresholds if thresholds else FALLBACK
    if t.get("score", "max_prob") != "max_prob":
        raise ValueError(f"unknown verdict score {t.get('score')!r}")
    digit, unsure = float(t["digit"]), float(t["unsure"])

    def one(v: float) -> str:
        if not np.isfinite(v):  # a broken output never claims a digit
            return NOT_A_DIGIT
        return DIGIT if v >= digit else UNSURE if v >= unsure else NOT_A_DIGIT

    return [one(float(v)) for v in score(np.atleast_2d(probs))]


def verdict(probs: np.ndarray, thresholds: dict | None) -> str:
    """Verdict of one drawing's probabilities (10,) or (1, 10)."""
    p = np.asarray(probs)
    if p.size != 10:
        raise ValueError(f"expected one drawing's 10 probabilities, got shape {p.shape}")
    return verdicts(p.reshape(1, 10), thresholds)[0]
