"""Stage 6 — evaluation: accuracy, per-class accuracy and confusion matrix of the exported model.

Accuracies in the model card are measured on the shipped ONNX file through onnxruntime (what the
browser runs), not on the Keras model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

#: Batch size for onnxruntime inference.
BATCH = 1000


@dataclass
class Evaluation:
    """Scores of one model on one labelled set."""

    name: str
    accuracy: float
    per_class: list[float]  # accuracy of each true class 0..9
    confusion: np.ndarray  # (10, 10) counts, rows = true, cols = predicted
    count: int


def onnx_session(path: Path) -> ort.InferenceSession:
    """CPU onnxruntime session for an ONNX file."""
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def predict_onnx(session: ort.InferenceSession, x: np.ndarray) -> np.ndarray:
    """Class probabilities (N,10) for NHWC float32 inputs (N,28,28,1)."""
    name = session.get_inputs()[0].name
    parts = [
        session.run(None, {name: np.ascontiguousarray(x[i : i + BATCH], dtype=np.float32)})[0]
        for i in range(0, len(x), BATCH)
    ]
    return np.concatenate(parts) if parts else np.empty((0, 10), np.float32)


def score(name: str, probs: np.ndarray, labels: np.ndarray) -> Evaluation:
    """Accuracy, per-class accuracy and confusion matrix from predicted probabilities."""
    labels = np.asarray(labels, dtype=np.int64)
    pred = probs.argmax(axis=1)
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (labels, pred), 1)
    totals = confusion.sum(axis=1)
    per_class = [
        float(confusion[c, c] / totals[c]) if totals[c] else float("nan") for c in range(10)
    ]
    accuracy = float((pred == labels).mean()) if len(labels) else float("nan")
    return Evaluation(name, accuracy, per_class, confusion, len(labels))
