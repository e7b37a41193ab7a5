"""Reference features: what other people's digits look like to the model, for learn.py's gate.

site/learn.py lets a user's taught examples override the CNN only where a drawing is closer to
them than to *every* ordinary digit of another class. "Ordinary digits" are this file's output:
per class, ``PER_CLASS`` centroids of a spherical k-means over the model's ``features`` of the
canvas training renders it reads right (L2-normalised rows, float16). 128 x 10 x 100 x 2 bytes =
256 KB, loaded by the worker only once the user has taught something.

Why centroids: one mean per class is far too coarse (a taught 4-that-looks-like-a-9 is as close
to the mean 9 as many real 9s are), while all 15,000 renders are 3 MB. Centroids keep the local
shape of each class. 64 per class were enough on average but depended on the k-means start
(worst style at k = 6: 87.5-98.5 % over three seeds at the same canvas drop); 128 per class
were stable (94.5-98 %, benchmarks/personal.py), and no better with k-means++ starts.

Written next to the ONNX file as ``reference.bin`` and described in model.json "reference"
({file, dtype, shape, per_class, sha256}) -- features are model-specific, so the build writes it
after every export. For the shipped model without retraining::

    python -m build_model.reference [--model-dir site/model]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from build_model.atomic import write_bytes_atomic, write_text_atomic

REFERENCE_NAME = "reference.bin"
#: Centroids per class (see the module docstring for the size/accuracy trade-off).
PER_CLASS = 128
KMEANS_ITERS = 20
SEED = 0
BATCH = 1000


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-6)


def spherical_kmeans(x: np.ndarray, k: int, iters: int = KMEANS_ITERS, seed: int = SEED):
    """k unit-length centroids of the unit rows of ``x`` (cosine assignment; Lloyd iterations).
    Fewer rows than k: the rows themselves."""
    x = _unit(np.asarray(x, dtype=np.float32))
    if len(x) <= k:
        return x
    centres = x[np.random.default_rng(seed).choice(len(x), k, replace=False)]
    for _ in range(iters):
        assign = (x @ centres.T).argmax(1)
        for j in range(k):
            members = x[assign == j]
            if len(members):  # an empty cluster keeps its centre
                centres[j] = members.mean(0)
        centres = _unit(centres)
    return centres


def reference_features(
    features: np.ndarray, probs: np.ndarray, labels: np.ndarray, per_class: int = PER_CLASS
) -> np.ndarray:
    """(10 * per_class, F) float16 centroids, class 0's first, from digits the model reads right."""
    labels = np.asarray(labels)
    right = np.asarray(probs).argmax(1) == labels
    rows = []
    for c in range(10):
        centres = spherical_kmeans(features[right & (labels == c)], per_class)
        if len(centres) < per_class:
            raise ValueError(f"class {c}: only {len(centres)} digits read right, need {per_class}")
        rows.append(centres)
    return np.concatenate(rows).astype(np.float16)


def write_reference(model_dir: Path, reference: np.ndarray, per_class: int = PER_CLASS) -> dict:
    """Write ``reference.bin`` and its description into model.json's "reference"; return it."""
    model_dir = Path(model_dir)
    data = np.ascontiguousarray(reference, dtype="<f2").tobytes()
    spec = {
        "file": REFERENCE_NAME,
        "dtype": "float16",
        "shape": list(reference.shape),
        "per_class": per_class,
        "sha256": hashlib.sha256(data).hexdigest(),
        "source": "spherical k-means of the features of canvas training renders read right",
    }
    write_bytes_atomic(model_dir / REFERENCE_NAME, data)
    contract_path = model_dir / "model.json"
    contract = json.loads(contract_path.read_text())
    contract["reference"] = spec
    write_text_atomic(contract_path, json.dumps(contract, indent=2) + "\n")
    return spec


def features_and_probs(onnx_path: Path, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ONNX model's (features, probs) for (N, 28, 28, 1) inputs, in batches."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    parts = [
        session.run(["features", "probs"], {"input": np.ascontiguousarray(x[i : i + BATCH])})
        for i in range(0, len(x), BATCH)
    ]
    return np.concatenate([f for f, _ in parts]), np.concatenate([p for _, p in parts])


def build(model_dir: Path, x: np.ndarray, labels: np.ndarray, per_class: int = PER_CLASS) -> dict:
    """Reference features of the model in ``model_dir`` over inputs ``x``, written beside it."""
    contract = json.loads((Path(model_dir) / "model.json").read_text())
    features, probs = features_and_probs(Path(model_dir) / contract["file"], x)
    reference = reference_features(features, probs, labels, per_class)
    return write_reference(model_dir, reference, per_class)


def main(argv: list[str] | None = None) -> int:
    """Rebuild reference.bin for an existing model from the cached canvas training renders."""
    from build_model import augment, data, train
    from build_model.__main__ import CANVAS_TRAIN

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model-dir", type=Path, default=Path("site/model"))
    ap.add_argument("--seed", type=int, default=train.SEED, help="the build's seed (renders)")
    args = ap.parse_args(argv)
    images, labels = data.load_mnist("train")
    fit_images = images[: -train.VAL_SIZE][:CANVAS_TRAIN]
    fit_labels = labels[: -train.VAL_SIZE][:CANVAS_TRAIN]
    x = augment.render_dataset_cached(
        "train", fit_images, args.seed, augment.TRAIN_CONFIG, augment.CANVAS_CACHE_DIR
    )
    spec = build(args.model_dir, x, fit_labels)
    print(json.dumps(spec, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
