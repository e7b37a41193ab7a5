"""Stage 4 — training: raw MNIST + canvas-rendered digits, best epoch by validation accuracy.

Each epoch sees every raw training digit (pixels / 255) plus ``canvas_per_epoch`` digits drawn
from a pool of canvas renderings (build_model.augment) that went through the app's own
preprocessing. The last ``val_size`` training digits are held out twice: raw, and rendered as
canvas drawings (test-style config). The weights of the epoch with the best mean of the two
validation accuracies are kept. Outlier exposure: each epoch also mixes in
``nondigits_per_epoch`` generated non-digits (build_model.nondigits) with a uniform target (0.1
per class; the loss is categorical cross-entropy on soft targets), so the network learns to
answer "none of these" with a flat output. Each epoch shifts every digit by a random whole number of
pixels (±2 raw, ±1 canvas) as a regulariser. Adam with warm-up and cosine learning-rate
decay; fixed seeds. Weight averaging: the mean of the weights of the last ``average_last``
epochs (the low-learning-rate end of the cosine; the network has no batch statistics to
recompute) is scored on the same validation sets and kept when it matches or beats the best
single epoch.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import keras
import numpy as np

from build_model.model import build_cnn

# --- Defaults (measured on the 2-core build machine: ~0.5 ms per training digit per epoch) ---
SEED = 1234
EPOCHS = 6
BATCH_SIZE = 128
#: Peak learning rate (after a one-epoch linear warm-up), decayed by cosine to LR * LR_FLOOR.
LEARNING_RATE = 2e-3
LR_FLOOR = 0.01
#: Held-out tail of the MNIST training set.
VAL_SIZE = 5_000
#: Canvas renderings mixed into each epoch (sampled without replacement from the pool).
CANVAS_PER_EPOCH = 40_000
#: Random whole-pixel shift (zero fill) applied each epoch to raw / canvas digits: a regulariser
#: (the CNN has no dropout; run 1 without it overfit after epoch 7: train loss 7e-4).
SHIFT_RAW = 2
SHIFT_CANVAS = 1
#: Generated non-digits mixed into each epoch, sampled without replacement from the pool when it
#: is larger (the build passes its whole pool: all of it, every epoch).
NONDIGITS_PER_EPOCH = 8_000
#: Epochs at the end of the run whose weights are averaged (a candidate beside the best epoch).
AVERAGE_LAST = 4


@dataclass
class TrainConfig:
    """Hyper-parameters of one training run."""

    seed: int = SEED
    epochs: int = EPOCHS
    batch_size: int = BATCH_SIZE
    learning_rate: float = LEARNING_RATE
    lr_floor: float = LR_FLOOR
    canvas_per_epoch: int = CANVAS_PER_EPOCH
    shift_raw: int = SHIFT_RAW
    shift_canvas: int = SHIFT_CANVAS
    nondigits_per_epoch: int = NONDIGITS_PER_EPOCH
    average_last: int = AVERAGE_LAST
    init_onnx: str | None = None  # start from this exported model's weights (warm start)


@dataclass
class TrainData:
    """Arrays for training: inputs are float32 (N,28,28,1) in [0,1], labels int (N,)."""

    x_raw: np.ndarray
    y_raw: np.ndarray
    x_canvas: np.ndarray  # pool of canvas renderings
    y_canvas: np.ndarray
    x_val_raw: np.ndarray
    y_val: np.ndarray
    x_val_canvas: np.ndarray  # renders of the first len(x_val_canvas) validation digits
    x_nondigits: np.ndarray | None = None  # pool of generated non-digits (uniform target)
    x_val_nondigits: np.ndarray | None = None


@dataclass
class TrainResult:
    """The trained model (the best epoch's weights, or their average when that was kept) and its
    history."""

    model: keras.Model
    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0  # 0 with averaged set: the average of the last epochs was kept
    averaged: dict | None = None  # {"epochs": [...], "val_mnist_acc", "val_canvas_acc", "kept"}
    seconds: float = 0.0


def normalize(images: np.ndarray) -> np.ndarray:
    """uint8 (N,28,28) MNIST → float32 (N,28,28,1) in [0,1], 1 = ink."""
    return (np.asarray(images, dtype=np.float32) / 255.0)[..., None]


def random_shift(x: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Shift each (28,28,1) image by up to ``max_shift`` px in x and y, zero fill (a copy)."""
    if max_shift <= 0 or len(x) == 0:
        return x
    m = max_shift
    padded = np.pad(x, ((0, 0), (m, m), (m, m), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, x.shape[1:3], axis=(1, 2))
    dy = rng.integers(0, 2 * m + 1, len(x))
    dx = rng.integers(0, 2 * m + 1, len(x))
    return np.moveaxis(windows[np.arange(len(x)), dy, dx], 1, -1)  # (N,1,28,28) -> (N,28,28,1)


class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up over ``warmup`` steps, then cosine decay to ``peak * floor``."""

    def __init__(self, peak: float, total: int, warmup: int, floor: float) -> None:
        self.peak, self.total, self.warmup, self.floor = peak, total, warmup, floor

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        warm = self.peak * (step + 1.0) / float(max(1, self.warmup))
        progress = keras.ops.clip(
            (step - self.warmup) / float(max(1, self.total - self.warmup)), 0.0, 1.0
        )
        cosine = 0.5 * (1.0 + keras.ops.cos(math.pi * progress))
        decayed = self.peak * (self.floor + (1.0 - self.floor) * cosine)
        return keras.ops.where(step < self.warmup, warm, decayed)

    def get_config(self) -> dict:
        return {"peak": self.peak, "total": self.total, "warmup": self.warmup, "floor": self.floor}


def _accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    if len(x) == 0:
        return float("nan")
    pred = model.predict(x, batch_size=1000, verbose=0).argmax(axis=1)
    return float((pred == y).mean())


def _refused(model: keras.Model, x: np.ndarray | None, level: float = 0.5) -> float:
    """Share of non-digits whose top probability is below ``level`` (a rough progress meter)."""
    if x is None or len(x) == 0:
        return float("nan")
    return float((model.predict(x, batch_size=1000, verbose=0).max(axis=1) < level).mean())


def _val_scores(model: keras.Model, data: TrainData) -> tuple[float, float, float]:
    """Validation accuracy on raw MNIST, on canvases, and their mean (what picks the epoch)."""
    raw = _accuracy(model, data.x_val_raw, data.y_val)
    canvas = _accuracy(model, data.x_val_canvas, data.y_val[: len(data.x_val_canvas)])
    return raw, canvas, float(np.nanmean([raw, canvas]))


def train(data: TrainData, cfg: TrainConfig, log=print) -> TrainResult:
    """Train the reference CNN on ``data``; return it with the best epoch's weights restored (or
    the average of the last epochs', when that scores at least as well)."""
    keras.utils.set_random_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = build_cnn()
    if cfg.init_onnx:
        from build_model.warmstart import weights_from_onnx

        model.set_weights(weights_from_onnx(cfg.init_onnx))
    n_canvas = min(cfg.canvas_per_epoch, len(data.x_canvas))
    n_nd = 0 if data.x_nondigits is None else min(cfg.nondigits_per_epoch, len(data.x_nondigits))
    per_epoch = len(data.x_raw) + n_canvas + n_nd
    steps = math.ceil(per_epoch / cfg.batch_size)
    schedule = WarmupCosine(cfg.learning_rate, steps * cfg.epochs, steps, cfg.lr_floor)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="categorical_crossentropy",
        metrics=["categorical_accuracy"],
    )
    result = TrainResult(model)
    best_score, best_weights = -1.0, None
    recent: list[list[np.ndarray]] = []  # weights of the last cfg.average_last epochs
    start = time.perf_counter()
    for epoch in range(1, cfg.epochs + 1):
        t0 = time.perf_counter()
        pick = rng.choice(len(data.x_canvas), n_canvas, replace=False)
        parts = [
            random_shift(data.x_raw, cfg.shift_raw, rng),
            random_shift(data.x_canvas[pick], cfg.shift_canvas, rng),
        ]
        eye = np.eye(10, dtype=np.float32)
        targets = [eye[data.y_raw], eye[data.y_canvas[pick]]]
        if n_nd:
            nd_pick = rng.choice(len(data.x_nondigits), n_nd, replace=False)
            parts.append(random_shift(data.x_nondigits[nd_pick], cfg.shift_canvas, rng))
            targets.append(np.full((n_nd, 10), 0.1, np.float32))
        x = np.concatenate(parts)
        y = np.concatenate(targets)
        order = rng.permutation(len(x))
        fit = model.fit(
            x[order], y[order], batch_size=cfg.batch_size, epochs=1, shuffle=False, verbose=0
        )
        val_raw, val_canvas, val = _val_scores(model, data)
        val_refused = _refused(model, data.x_val_nondigits)
        seconds = time.perf_counter() - t0
        lr = float(schedule(model.optimizer.iterations - 1))
        row = {
            "epoch": epoch,
            "loss": float(fit.history["loss"][0]),
            "train_acc": float(fit.history["categorical_accuracy"][0]),
            "val_mnist_acc": val_raw,
            "val_canvas_acc": val_canvas,
            "val_nondigits_below_half": val_refused,
            "lr_end": lr,
            "seconds": seconds,
        }
        result.history.append(row)
        if epoch > cfg.epochs - cfg.average_last:
            recent.append(model.get_weights())
        improved = val >= best_score
        if improved:
            best_score, best_weights, result.best_epoch = val, model.get_weights(), epoch
        log(
            f"epoch {epoch:2d}/{cfg.epochs}  loss {row['loss']:.4f}  "
            f"train {row['train_acc']:.2%}  val mnist {val_raw:.2%}  val canvas {val_canvas:.2%}"
            f"  nd<0.5 {val_refused:.1%}"
            f"  lr {lr:.2e}  {seconds:5.1f}s{'  *best' if improved else ''}"
        )
    if len(recent) > 1:
        model.set_weights([np.mean(ws, axis=0) for ws in zip(*recent, strict=True)])
        avg_raw, avg_canvas, avg = _val_scores(model, data)
        first = cfg.epochs - len(recent) + 1
        result.averaged = {
            "epochs": list(range(first, cfg.epochs + 1)),
            "val_mnist_acc": avg_raw,
            "val_canvas_acc": avg_canvas,
            "kept": avg >= best_score,
        }
        log(
            f"average of epochs {first}-{cfg.epochs}: val mnist {avg_raw:.2%}  val canvas "
            f"{avg_canvas:.2%}{'  *best (kept)' if avg >= best_score else ''}"
        )
        if avg >= best_score:
            best_weights, result.best_epoch = None, 0
    if best_weights is not None:
        model.set_weights(best_weights)
    result.seconds = time.perf_counter() - start
    return result
