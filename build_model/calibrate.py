"""Stage 5b — calibration: choose the verdict thresholds on validation data, and score them.

Validation data = the held-out tail of the MNIST training set (raw and rendered as canvases) and
generated non-digits from the TRAINING families with a validation seed. The held-out non-digit
families (build_model.nondigits.HELDOUT_FAMILIES) are never looked at here; they only appear in
the model card's table, scored with the thresholds chosen here.

Rules (site/verdict.py applies them):
- ``unsure`` (the refusal threshold): the largest top probability that refuses at most
  ``MAX_RIGHT_REFUSED`` of the correctly read validation digits (raw and canvas, each).
- ``digit`` (confident answer): at least ``unsure``; the 99th percentile of the validation
  non-digits' scores (so ~1% of those get a confident digit), but never above the score that
  still gives ``MIN_CONFIDENT`` of the correctly read canvas digits a confident "digit".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from build_model.augment import _import_preprocess

#: Share of correctly read validation digits the refusal threshold may refuse.
MAX_RIGHT_REFUSED = 0.003
#: Share of correctly read canvas validation digits that must get a confident "digit".
MIN_CONFIDENT = 0.97
#: Quantile of validation non-digit scores below the "digit" threshold.
NONDIGIT_QUANTILE = 0.99


def _verdict_module():
    _import_preprocess()  # puts site/ first on sys.path
    import verdict

    return verdict


def _logsumexp(logits: np.ndarray) -> np.ndarray:
    m = logits.max(axis=1, keepdims=True)
    return (m + np.log(np.exp(logits - m).sum(axis=1, keepdims=True)))[:, 0]


def choose_thresholds(
    val_digits: list[tuple[np.ndarray, np.ndarray]], val_nondigit_probs: np.ndarray
) -> dict:
    """Thresholds from validation probabilities: ``val_digits`` is [(probs, labels), ...] (raw,
    canvas), the canvas set last; ``val_nondigit_probs`` (M, 10)."""
    v = _verdict_module()
    limits = []
    for probs, labels in val_digits:
        s = v.score(probs)
        right = s[probs.argmax(1) == labels]
        limits.append(float(np.quantile(right, MAX_RIGHT_REFUSED)))
    unsure = min(limits)
    nd = v.score(val_nondigit_probs)
    canvas_probs, canvas_labels = val_digits[-1]
    canvas_right = v.score(canvas_probs)[canvas_probs.argmax(1) == canvas_labels]
    digit = float(np.quantile(nd, NONDIGIT_QUANTILE))
    digit = min(digit, float(np.quantile(canvas_right, 1 - MIN_CONFIDENT)))
    digit = max(digit, unsure)
    return {
        "score": "max_prob",
        "digit": round(digit, 6),
        "unsure": round(unsure, 6),
        "rule": (
            f"unsure: refuses <= {MAX_RIGHT_REFUSED:.1%} of correctly read validation digits; "
            f"digit: >= unsure, <= {NONDIGIT_QUANTILE:.0%} quantile of validation non-digits, "
            f"and >= {MIN_CONFIDENT:.0%} of right canvas digits confident"
        ),
        "validation": {
            "nondigits_refused": round(float(np.mean(nd < unsure)), 4),
            "nondigits": int(len(nd)),
        },
    }


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


def table_row(name: str, probs: np.ndarray, thresholds: dict, labels=None) -> Row:
    """Score one set under ``thresholds`` (labels None = a non-digit set)."""
    v = _verdict_module()
    out = np.array(v.verdicts(probs, thresholds))
    refused = float(np.mean(out == v.NOT_A_DIGIT))
    unsure = float(np.mean(out == v.UNSURE))
    if labels is None:
        return Row(name, len(probs), "non-digits", refused=refused, unsure=unsure)
    right = probs.argmax(1) == np.asarray(labels)
    return Row(
        name,
        len(probs),
        "digits",
        accepted_right=float(np.mean(right & (out != v.NOT_A_DIGIT))),
        confident_right=float(np.mean(right & (out == v.DIGIT))),
        refused=refused,
        unsure=unsure,
    )


def energy_vs_maxprob(
    digit_logits: np.ndarray, digit_labels: np.ndarray, nondigit_logits: np.ndarray
) -> dict:
    """Held-in comparison of the two scores on validation data: non-digits refused when each
    score's threshold refuses MAX_RIGHT_REFUSED of the correctly read digits."""
    right = digit_logits.argmax(1) == digit_labels

    def softmax_max(z):
        e = np.exp(z - z.max(1, keepdims=True))
        return (e / e.sum(1, keepdims=True)).max(1)

    out = {}
    for name, fn in (("max_prob", softmax_max), ("energy", _logsumexp)):
        d, n = fn(digit_logits[right]), fn(nondigit_logits)
        t = np.quantile(d, MAX_RIGHT_REFUSED)
        out[name] = round(float(np.mean(n < t)), 4)
    return out
