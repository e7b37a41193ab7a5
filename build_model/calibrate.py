"""Stage 5b — calibration: fit the verdict's statistics and choose its thresholds on validation
data, and score them (site/verdict.py applies them; its docstring gives the method).

Fitting data: MNIST training digits (raw, and rendered as canvases). Validation data: the
held-out tail of the MNIST training set (raw and rendered as canvases) and generated non-digits
from the TRAINING families with a validation seed. The held-out non-digit families
(build_model.nondigits.HELDOUT_FAMILIES) are never looked at here; they only appear in the model
card's table, scored with what was chosen here.

Rules:
- ``shape``: per class, mean and precision (inverse covariance) of the ink-shape descriptors
  (verdict.shape_descriptor) of the fitting digits of that class.
- Refusal: the two tests share a budget of ``MAX_RIGHT_REFUSED`` of the correctly read
  validation digits (raw and canvas, each), ``SHAPE_SHARE`` of it for the shape test:
  ``unsure`` is the largest top probability that refuses at most the other part, ``shape_max``
  the smallest distance that refuses at most its part. Neither needs non-digits, so the shape
  test is calibrated without any closed outline (none is in the validation families).
- ``digit`` (confident answer): at least ``unsure``; the 99th percentile of the validation
  non-digits' scores (so ~1% of those get a confident digit), but never above the score that
  still gives ``MIN_CONFIDENT`` of the correctly read canvas digits a confident "digit".

Measured on the shipped model before choosing this (validation refusal at the same digit
budget, held-out in brackets): the top probability alone 90.5% (74.8%); Mahalanobis distance of
the 100 penultimate ``features`` to the nearest class mean (shared covariance), alone, ~1% (~1%):
outlier exposure pulled non-digit features towards the class means, not away; the same on
L2-normalised features, per-class covariances, the feature norm, a 5-NN cosine to training
features or a relative Mahalanobis: 91-92% (76-78%) combined with the top probability, no
better than a lower probability threshold alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from build_model.atomic import write_text_atomic
from build_model.augment import _import_preprocess

#: Share of correctly read validation digits the verdict may refuse (both tests together).
MAX_RIGHT_REFUSED = 0.003
#: Part of that budget given to the shape test.
SHAPE_SHARE = 0.5
#: Share of correctly read canvas validation digits that must get a confident "digit".
MIN_CONFIDENT = 0.97
#: Quantile of validation non-digit scores below the "digit" threshold.
NONDIGIT_QUANTILE = 0.99
#: Ridge added to each class covariance, relative to its mean variance (keeps it invertible).
SHAPE_RIDGE = 1e-4
#: Ink rounder than this (minor/major variance, verdict.roundness) gets the shape test; thinner
#: ink (1s, single strokes) is exempt. Squares, triangles and hearts are ~0.6-1, a narrow 0 ~0.2.
MIN_ROUNDNESS = 0.1
#: Significant digits of the statistics stored in model.json.
DIGITS_STORED = 5


def _verdict_module():
    _import_preprocess()  # puts site/ first on sys.path
    import verdict

    return verdict


def _round(a: np.ndarray) -> list:
    return np.vectorize(lambda v: float(f"{v:.{DIGITS_STORED}g}"))(np.asarray(a)).tolist()


def fit_shape(images: np.ndarray, labels: np.ndarray) -> dict:
    """Per-class Gaussians of the ink-shape descriptors of ``images`` (N, 28, 28[, 1])."""
    v = _verdict_module()
    chunks = range(0, len(images), 5000)  # bounded memory
    desc = np.concatenate([v.shape_descriptor(images[i : i + 5000]) for i in chunks])
    round_enough = np.concatenate([v.roundness(images[i : i + 5000]) for i in chunks])
    round_enough = round_enough >= MIN_ROUNDNESS
    desc, labels = desc[round_enough], np.asarray(labels)[round_enough]
    means, precisions = [], []
    for c in range(10):
        d = desc[labels == c]
        cov = np.cov(d.T)
        cov += SHAPE_RIDGE * np.trace(cov) / len(cov) * np.eye(len(cov))
        means.append(d.mean(axis=0))
        precisions.append(np.linalg.inv(cov))
    return {
        "bins": v.BINS,
        "radius_harmonics": v.RADIUS_HARMONICS,
        "ink_harmonics": v.INK_HARMONICS,
        "min_roundness": MIN_ROUNDNESS,
        "fitted_on": int(len(desc)),
        "means": _round(np.array(means)),
        "precisions": _round(np.array(precisions)),
    }


def _right(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return probs.argmax(1) == np.asarray(labels)


def choose_thresholds(
    val_digits: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    val_nondigits: tuple[np.ndarray, np.ndarray],
    shape: dict,
) -> dict:
    """Thresholds from validation sets: ``val_digits`` is [(probs, images, labels), ...] (raw,
    canvas), the canvas set last; ``val_nondigits`` (probs (M, 10), images); ``shape`` from
    :func:`fit_shape`."""
    v = _verdict_module()
    unsure, shape_max = [], []
    for probs, images, labels in val_digits:
        right = _right(probs, labels)
        unsure.append(np.quantile(v.score(probs)[right], MAX_RIGHT_REFUSED * (1 - SHAPE_SHARE)))
        d = v.shape_distance(images[right], probs[right].argmax(1), shape)
        shape_max.append(np.quantile(d, 1 - MAX_RIGHT_REFUSED * SHAPE_SHARE))
    unsure_t, shape_t = float(min(unsure)), float(max(shape_max))
    nd_probs, nd_images = val_nondigits
    nd = v.score(nd_probs)
    canvas_probs, _, canvas_labels = val_digits[-1]
    canvas_right = v.score(canvas_probs)[_right(canvas_probs, canvas_labels)]
    digit = float(np.quantile(nd, NONDIGIT_QUANTILE))
    digit = min(digit, float(np.quantile(canvas_right, 1 - MIN_CONFIDENT)))
    digit = max(digit, unsure_t)
    t = {
        "score": "max_prob+shape",
        "digit": round(digit, 6),
        "unsure": round(unsure_t, 6),
        "shape_max": round(shape_t, 4),
        "rule": (
            f"refusal: top probability and ink-shape distance each refuse <= "
            f"{MAX_RIGHT_REFUSED * (1 - SHAPE_SHARE):.2%} / {MAX_RIGHT_REFUSED * SHAPE_SHARE:.2%} "
            f"of correctly read validation digits (raw and canvas); digit: >= unsure, <= "
            f"{NONDIGIT_QUANTILE:.0%} quantile of validation non-digits, and >= "
            f"{MIN_CONFIDENT:.0%} of right canvas digits confident"
        ),
        "shape": shape,
    }
    refused = np.array(v.verdicts(nd_probs, t, nd_images)) == v.NOT_A_DIGIT
    t["validation"] = {"nondigits_refused": round(float(refused.mean()), 4), "nondigits": len(nd)}
    return t


def compare_scores(
    val_digits: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    val_nondigits: tuple[np.ndarray, np.ndarray],
    thresholds: dict,
) -> dict:
    """Validation non-digits refused by the top probability alone (refusing MAX_RIGHT_REFUSED of
    the correctly read validation digits) and by the chosen verdict (the same budget)."""
    v = _verdict_module()
    alone = min(
        float(np.quantile(v.score(p)[_right(p, y)], MAX_RIGHT_REFUSED)) for p, _, y in val_digits
    )
    nd_probs, nd_images = val_nondigits
    chosen = np.array(v.verdicts(nd_probs, thresholds, nd_images)) == v.NOT_A_DIGIT
    return {
        "max_prob": round(float(np.mean(v.score(nd_probs) < alone)), 4),
        thresholds["score"]: round(float(chosen.mean()), 4),
    }


def write_verdict(contract_path: Path, thresholds: dict) -> Path:
    """Replace the "verdict" object of a model.json atomically (everything else kept)."""
    spec = json.loads(Path(contract_path).read_text())
    spec["verdict"] = thresholds
    return write_text_atomic(Path(contract_path), json.dumps(spec, indent=2) + "\n")


@dataclass
class Row:
    """One line of the model card's acceptance/refusal table."""

    name: str
    count: int
    kind: str  # "digits" or "non-digits"
    accepted_right: float = float("nan")  # digits: verdict digit|unsure and argmax right
    confident_right: float = float("nan")  # digits: verdict digit and argmax right
    refused: float = float("nan")  # share with verdict not-a-digit
    unsure: float = float("nan")  # share with verdict unsure


def table_row(name: str, probs: np.ndarray, images: np.ndarray, thresholds: dict, labels=None):
    """Score one set under ``thresholds`` (labels None = a non-digit set)."""
    v = _verdict_module()
    out = np.array(v.verdicts(probs, thresholds, images))
    refused = float(np.mean(out == v.NOT_A_DIGIT))
    unsure = float(np.mean(out == v.UNSURE))
    if labels is None:
        return Row(name, len(probs), "non-digits", refused=refused, unsure=unsure)
    right = _right(probs, labels)
    return Row(
        name,
        len(probs),
        "digits",
        accepted_right=float(np.mean(right & (out != v.NOT_A_DIGIT))),
        confident_right=float(np.mean(right & (out == v.DIGIT))),
        refused=refused,
        unsure=unsure,
    )
