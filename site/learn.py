"""Learning a person's handwriting on the device: nearest taught examples blended with the CNN.

Method (Teachable-Machine style, no training step): every correction the user makes is kept as
the model's 100-d ``features`` output for that drawing (the penultimate Dense ReLU layer) plus
the label they gave it. For a new drawing we measure its cosine similarity to each taught
example and turn it into a weight that is 0 below ``NEAR_LO`` and 1 from ``NEAR_HI`` on (a
smooth ramp between). The taught examples then vote, as pseudo-counts, next to the CNN's own
probabilities::

    p'(c) = (PRIOR * p_cnn(c) + sum_i trust_i * w_i * [label_i == c])
            / (PRIOR + sum_i trust_i * w_i)

Why this and not a refit of the last layer or class prototypes:

- The feature space already separates digits well; what the CNN gets wrong for one person is a
  small region of it (their way of drawing a 4). Only drawings *very* close to a taught example
  (cosine >= NEAR_LO, which ordinary digits of another class almost never reach) are touched;
  everything else keeps exactly the CNN's answer, so other digits do not get worse. A refit of
  the last layer moves a whole decision boundary and, with no replay data on the device, drags
  other people's digits of the neighbouring class with it.
- One wrong correction cannot wreck a class: an example only speaks for drawings nearly
  identical to itself (a prototype/mean would drag the whole class), and a lone example's vote
  is damped (``trust_i``, below) so that it cannot override a confident CNN by itself; two or
  more agreeing examples can. A wrong example among right ones of the same style is outvoted.
- It is instant and exactly undoable: adding or deleting an example is appending or dropping a
  row; there is no state that depends on the order of corrections.

``trust_i`` is ``n / (n + TRUST_HALF)`` where ``n`` is the weighted count of taught examples
with the same label near example ``i`` (itself included): a lone example counts half, a
consistent style of three counts ~3/4 each. Cost per stroke: one (N x K) matrix product for N
drawings and K taught examples.

Features are model-specific: a Personalizer is built for one model (``model_sha256``); when the
model changes, the app recomputes every taught example's features from its stored strokes
(``model_inputs`` renders them exactly like the live canvas path) and builds a new one.

Pure numpy (the browser runs it under Pyodide); never imports js or pyscript.
"""

from __future__ import annotations

import numpy as np

#: Cosine similarity (of feature vectors) from which a taught example starts to count, and from
#: which it counts fully. Chosen on the personal-style benchmark (benchmarks/personal.py) for the
#: shipped model (sha256 2701bf54…, outlier-exposure features): held-out drawings of a taught
#: style are mostly >= 0.95 to their nearest of 6 taught examples, while canvas-style MNIST test
#: digits of another class rarely get that close. (0.94/0.96 suited the previous model.)
NEAR_LO, NEAR_HI = 0.92, 0.95
#: Weight of the CNN's probabilities, in taught-example units. Higher = more corrections needed
#: before a confident CNN is overruled, fewer other digits pulled over (benchmark, 10 repeats,
#: NEAR 0.92/0.95: 0.8 -> worst style at k=6 92.0 %, worst canvas-test drop 0.46 points;
#: 1.0 -> 90.9 % / 0.34; 1.5 -> 87.8 % / 0.17; 2.0 -> 83.2 % / 0.12).
PRIOR = 1.5
#: A label backed by n near examples is trusted n / (n + TRUST_HALF).
TRUST_HALF = 1.0
#: Feature width of the model contract (model.json outputs: "features" [N, 100]).
FEATURES = 100
CLASSES = 10
#: Rows per block when comparing all taught examples with each other.
CHUNK = 256


def _unit(features: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (an all-zero row stays zero: it is near nothing)."""
    f = np.asarray(features, dtype=np.float32)
    norm = np.linalg.norm(f, axis=-1, keepdims=True)
    return f / np.maximum(norm, 1e-6)


def _nearness(sim: np.ndarray) -> np.ndarray:
    """Cosine similarity -> weight in [0, 1]: 0 up to NEAR_LO, smoothstep to 1 at NEAR_HI."""
    t = np.clip((sim - NEAR_LO) / (NEAR_HI - NEAR_LO), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


class Personalizer:
    """The user's taught examples (features + labels) and the adaptation they imply."""

    def __init__(
        self, features: np.ndarray | None = None, labels: np.ndarray | list[int] | None = None
    ) -> None:
        self._feat = np.zeros((0, FEATURES), dtype=np.float32)
        self._labels = np.zeros(0, dtype=np.int64)
        self._trust = None
        if features is not None:
            f = np.asarray(features, dtype=np.float32)
            y = np.asarray(labels if labels is not None else [], dtype=np.int64).reshape(-1)
            if f.ndim != 2 or f.shape[1] != FEATURES or not np.all(np.isfinite(f)):
                raise ValueError(f"expected (N, {FEATURES}) finite features, got {f.shape}")
            if len(f) != len(y):
                raise ValueError(f"{len(f)} feature rows but {len(y)} labels")
            if len(y) and (y.min() < 0 or y.max() >= CLASSES):
                raise ValueError("labels must be digits 0-9")
            self._feat, self._labels = _unit(f), y

    def __len__(self) -> int:
        return len(self._labels)

    @property
    def labels(self) -> np.ndarray:
        """Labels of the taught examples, in the order they were added."""
        return self._labels.copy()

    def add(self, features: np.ndarray, label: int) -> int:
        """Teach one example (its 100 features and the right digit); returns its index."""
        f = np.asarray(features, dtype=np.float32).reshape(-1)
        if f.shape != (FEATURES,) or not np.all(np.isfinite(f)):
            raise ValueError(f"expected {FEATURES} finite features, got shape {f.shape}")
        if isinstance(label, bool) or int(label) != label or not 0 <= label < CLASSES:
            raise ValueError(f"label must be a digit 0-9, got {label!r}")
        self._feat = np.vstack([self._feat, _unit(f)[None]])
        self._labels = np.append(self._labels, int(label))
        self._trust = None
        return len(self._labels) - 1

    def remove(self, index: int) -> None:
        """Forget the example at ``index`` (the indices of later ones shift down by one)."""
        if not -len(self) <= index < len(self):
            raise IndexError(f"no taught example {index} (have {len(self)})")
        self._feat = np.delete(self._feat, index, axis=0)
        self._labels = np.delete(self._labels, index)
        self._trust = None

    def clear(self) -> None:
        """Forget every taught example."""
        self.__init__()

    def _trusts(self) -> np.ndarray:
        """Per example: n / (n + TRUST_HALF), n = nearness-weighted count of same-label examples."""
        if self._trust is None:
            n = np.zeros(len(self), dtype=np.float32)
            for i in range(0, len(self), CHUNK):  # bounded memory for thousands of examples
                near = _nearness(self._feat[i : i + CHUNK] @ self._feat.T)
                same = self._labels[i : i + CHUNK, None] == self._labels[None, :]
                n[i : i + CHUNK] = (near * same).sum(axis=1)
            self._trust = n / (n + TRUST_HALF)
        return self._trust

    def evidence(self, features: np.ndarray) -> np.ndarray:
        """(N, 10) trusted, nearness-weighted votes of the taught examples for each drawing."""
        f = _unit(np.asarray(features, dtype=np.float32).reshape(-1, FEATURES))
        votes = np.zeros((len(f), CLASSES), dtype=np.float32)
        if len(self):
            w = _nearness(f @ self._feat.T) * self._trusts()[None, :]
            votes = w @ np.eye(CLASSES, dtype=np.float32)[self._labels]  # sums per label
        return votes

    def adapt(self, probs: np.ndarray, features: np.ndarray) -> np.ndarray:
        """Blend the CNN's (N, 10) probabilities with the taught examples' votes -> (N, 10).

        Drawings near no taught example get exactly ``probs`` back.
        """
        p = np.asarray(probs, dtype=np.float32).reshape(-1, CLASSES)
        votes = self.evidence(features)
        if len(votes) != len(p):
            raise ValueError(f"{len(p)} probability rows but {len(votes)} feature rows")
        total = votes.sum(axis=1, keepdims=True)
        return np.where(total > 0, (PRIOR * p + votes) / (PRIOR + total), p).astype(np.float32)


class TaughtSet:
    """The taught records (as teach-view.js stores them: drawings with an ``id``) for ONE model.

    Features are cached per record id and never outlive the model they came from: when the
    model's sha256 changes, make a new TaughtSet and every record's features are recomputed
    from its strokes. Use in the worker, per change of the record list::

        ids, x = taught.pending(records)         # records not yet run through this model
        if ids: taught.set_features(ids, run_model(x)["features"])   # one batched ONNX run
        personal = taught.personalizer(records)  # then personal.adapt(probs, features) per run
    """

    def __init__(self, model_sha256: str) -> None:
        self.model_sha256 = model_sha256
        self._features: dict = {}  # record id -> (100,) features; None = no ink, skipped

    def pending(self, records: list[dict]) -> tuple[list, np.ndarray]:
        """Ids of records without features for this model, and their (N, 28, 28, 1) inputs."""
        ids, xs = [], []
        for record in records:
            if record["id"] in self._features:
                continue
            x, _ = model_inputs([record])
            if len(x):
                ids.append(record["id"])
                xs.append(x)
            else:
                self._features[record["id"]] = None  # nothing to learn from
        return ids, (np.concatenate(xs) if xs else np.zeros((0, 28, 28, 1), np.float32))

    def set_features(self, ids: list, features: np.ndarray) -> None:
        """Store the model's features for the records ``pending`` returned."""
        f = np.asarray(features, dtype=np.float32).reshape(len(ids), FEATURES)
        self._features.update(zip(ids, f, strict=True))

    def personalizer(self, records: list[dict]) -> Personalizer:
        """A Personalizer from the records that have features (in the records' order)."""
        rows = [(self._features.get(r["id"]), r["label"]) for r in records]
        rows = [(f, y) for f, y in rows if f is not None]
        if not rows:
            return Personalizer()
        return Personalizer(np.stack([f for f, _ in rows]), [y for _, y in rows])


def model_inputs(drawings: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Stored drawings (drawings-file dicts) -> (N, 28, 28, 1) model inputs and (N,) labels,
    rendered like the app's model canvas and preprocessed like a live drawing. The caller runs
    the model on them for ``features`` and builds ``Personalizer(features, labels)``. Drawings
    with no ink after preprocessing are skipped (their labels too)."""
    import drawings as drawings_mod
    import preprocess

    xs, ys = [], []
    for d in drawings:
        try:
            xs.append(preprocess.preprocess_canvas(drawings_mod.render_drawing(d)))
        except ValueError:  # empty or unusable canvas: nothing to learn from
            continue
        ys.append(int(d["label"]))
    if not xs:
        return np.zeros((0, 28, 28, 1), np.float32), np.zeros(0, np.int64)
    return np.concatenate(xs).astype(np.float32), np.asarray(ys, dtype=np.int64)
