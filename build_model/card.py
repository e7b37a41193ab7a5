"""Stage 7 — model card: MODEL_CARD.md, confusion.png and training.png, all written atomically.

The card records where the data came from (with sha256), the versions and seed, how long the
build took, and the scores of the shipped ONNX file on the MNIST test set and on the
canvas-style test set, per class, with a confusion matrix and the training curves.
"""

from __future__ import annotations

import io
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from build_model.atomic import write_bytes_atomic, write_text_atomic  # noqa: E402
from build_model.augment import preprocess_sha256  # noqa: E402
from build_model.calibrate import MAX_RIGHT_REFUSED  # noqa: E402
from build_model.card_html import write_card_html  # noqa: E402
from build_model.data import NPM_PACKAGE, SHA256  # noqa: E402
from build_model.evaluate import Evaluation  # noqa: E402
from build_model.export import ExportResult  # noqa: E402

CARD_NAME = "MODEL_CARD.md"
CONFUSION_NAME = "confusion.png"
TRAINING_NAME = "training.png"
#: Accuracy goals of the shipped model (ONNX, onnxruntime).
GOAL_MNIST = 0.996
GOAL_CANVAS = 0.995
#: Verdict goals (issue 12): held-out non-digits refused; canvas digits accepted and right.
GOAL_REFUSED = 0.95
GOAL_ACCEPTED = 0.99
#: Distributions whose versions the card records.
PACKAGES = ["tensorflow", "keras", "tf2onnx", "onnx", "onnxruntime", "numpy", "pillow"]


@dataclass
class CardInputs:
    """Everything the card reports."""

    export: ExportResult
    params: int
    seed: int
    epochs: int
    best_epoch: int
    history: list[dict]
    mnist: Evaluation
    canvas: Evaluation
    extra: list[Evaluation]  # further sets (reported, not goals)
    train_seconds: float
    render_seconds: float
    render_cached: bool
    total_seconds: float
    train_size: str
    settings: dict
    quick: bool = False
    verdict: dict | None = None  # model.json "verdict" (thresholds chosen on validation data)
    verdict_rows: list | None = None  # calibrate.Row per test set
    score_choice: dict | None = None  # validation non-digits refused per score
    averaged: dict | None = None  # train.TrainResult.averaged (the weight-average candidate)


def versions() -> dict[str, str]:
    """Installed versions of PACKAGES plus Python."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def confusion_png(evals: list[Evaluation]) -> bytes:
    """Side-by-side confusion matrices (log colour scale, counts annotated off the diagonal)."""
    fig, axes = plt.subplots(1, len(evals), figsize=(5.2 * len(evals), 4.8), squeeze=False)
    for ax, ev in zip(axes[0], evals, strict=True):
        cm = ev.confusion
        ax.imshow(np.log1p(cm), cmap="Blues")
        for i in range(10):
            for j in range(10):
                if cm[i, j] and i != j:
                    ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7, color="C3")
        ax.set_xticks(range(10))
        ax.set_yticks(range(10))
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{ev.name}: {ev.accuracy:.2%} of {ev.count}")
    return _png(fig)


def training_png(history: list[dict], best_epoch: int, averaged: dict | None = None) -> bytes:
    """Loss and validation accuracies per epoch."""
    epochs = [row["epoch"] for row in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax1.plot(epochs, [row["loss"] for row in history], marker="o")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("training loss")
    ax1.set_yscale("log")
    for key, label in [
        ("train_acc", "train (mixed)"),
        ("val_mnist_acc", "val MNIST"),
        ("val_canvas_acc", "val canvas"),
    ]:
        ax2.plot(epochs, [100 * row[key] for row in history], marker="o", label=label)
    if averaged and averaged["kept"]:
        first, last = averaged["epochs"][0], averaged["epochs"][-1]
        ax2.axvspan(first, last, color="grey", alpha=0.15, label=f"kept: mean of {first}-{last}")
    else:
        ax2.axvline(best_epoch, color="grey", linestyle=":", label=f"kept: epoch {best_epoch}")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("accuracy (%)")
    ax2.legend()
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    return _png(fig)


def _per_class_table(evals: list[Evaluation]) -> str:
    header = "| digit | " + " | ".join(ev.name for ev in evals) + " |"
    rule = "|---|" + "---:|" * len(evals)
    rows = [
        f"| {c} | " + " | ".join(f"{100 * ev.per_class[c]:.2f}%" for ev in evals) + " |"
        for c in range(10)
    ]
    return "\n".join([header, rule, *rows])


def _result_row(ev: Evaluation, note: str, goal: float) -> str:
    status = "met" if ev.accuracy >= goal else "**MISSED**"
    name = f"{ev.name} ({note})" if note else ev.name
    return f"| {name} | {ev.count} | {ev.accuracy:.2%} | ≥ {goal:.1%} {status} |"


def card_markdown(c: CardInputs) -> str:
    """The MODEL_CARD.md text."""
    v = versions()
    version_line = ", ".join(f"{k} {val}" for k, val in v.items())
    data_rows = "\n".join(f"| `{name}` | `{digest}` |" for name, digest in SHA256.items())
    extra = "".join(f"| {ev.name} | {ev.count} | {ev.accuracy:.2%} | — |\n" for ev in c.extra)
    history = "\n".join(
        f"| {r['epoch']} | {r['loss']:.4f} | {r['train_acc']:.2%} | {r['val_mnist_acc']:.2%} | "
        f"{r['val_canvas_acc']:.2%} | {r['lr_end']:.2e} | {r['seconds']:.1f} |"
        + (" kept" if r["epoch"] == c.best_epoch else "")
        for r in c.history
    )
    if c.averaged:
        a = c.averaged
        history += (
            f"\n| mean of {a['epochs'][0]}-{a['epochs'][-1]} | | | {a['val_mnist_acc']:.2%} | "
            f"{a['val_canvas_acc']:.2%} | | |" + (" kept" if a["kept"] else "")
        )
    if c.averaged and c.averaged["kept"]:
        a = c.averaged
        kept = (
            f"kept the mean of the weights of epochs {a['epochs'][0]}-{a['epochs'][-1]} (its "
            f"mean of the two validation accuracies matched or beat every single epoch's)"
        )
    else:
        kept = f"kept epoch {c.best_epoch} (best mean of the two validation accuracies)"
    cached = " (all canvas sets loaded from the disk cache)" if c.render_cached else ""
    settings = "\n".join(f"- `{k}`: {val}" for k, val in c.settings.items())
    quick = (
        "\n> **QUICK BUILD** (`--quick`): a smoke test on a few thousand digits, "
        "not a real model.\n"
        if c.quick
        else ""
    )
    return f"""# Model card: mnist_cnn.onnx
{quick}
Handwritten-digit classifier for MNIST-Draw. Generated by `python -m build_model`; do not edit.

## Model
- Architecture (reference CNN, Keras layer names in brackets): Input(28,28,1) → Conv2D(32,3,relu)
  [conv1] → MaxPool2 [pool1] → Conv2D(64,3,relu) [conv2] → Conv2D(64,3,relu) [conv3] → MaxPool2
  [pool2] → Flatten [flatten] → Dense(100,relu) [features] → Dense(10,softmax) [probs].
- Parameters: {c.params:,}
- Input `{c.export.input_name}`: float32 NHWC [N,28,28,1], range [0,1], 1 = ink (the output of
  `preprocess.preprocess_canvas`). Outputs (named after the layers, NHWC, dynamic batch):
  `probs` [N,10] softmax probabilities, `features` [N,100], `conv1` [N,26,26,32], `pool1`
  [N,13,13,32], `conv2` [N,11,11,64], `conv3` [N,9,9,64], `pool2` [N,4,4,64]; callers fetch
  only what they need.
- ONNX (opset 17, tf2onnx `from_function`): {c.export.bytes:,} bytes
  ({c.export.bytes / 1024:.1f} KiB), sha256 `{c.export.sha256}`.
- Keras vs onnxruntime parity on {c.export.parity_count} test digits: max |diff|
  per output {", ".join(f"{k} {v:.1e}" for k, v in c.export.output_diffs.items())}; identical
  argmax.

## Results (measured on the ONNX file with onnxruntime)
| test set | digits | accuracy | goal |
|---|---:|---:|---|
{_result_row(c.mnist, "raw MNIST test images / 255", GOAL_MNIST)}
{_result_row(c.canvas, "", GOAL_CANVAS)}
{extra}
{verdict_section(c)}
The canvas-style test set renders every MNIST **test** digit once (fixed seed) as a drawing: random
canvas 112–400 px (sometimes non-square), digit scaled to 25–95% of the canvas, random
position, stroke thickness varied by grey erosion/dilation, soft or crisp edges, transparent
canvas with ink in alpha or opaque dark-on-white; then `preprocess.preprocess_canvas`
(site/preprocess.py sha256 `{preprocess_sha256()}`).

### Per-class accuracy
{_per_class_table([c.mnist, c.canvas, *c.extra])}

![confusion matrices](confusion.png)

## Training
- Data: official MNIST from npm `{NPM_PACKAGE}`; train {c.train_size}.
- Seed {c.seed}; {c.epochs} epochs, {kept}.
- Time on the build machine ({platform.machine()}, 2 cores, CPU only): training
  {c.train_seconds / 60:.1f} min, canvas rendering {c.render_seconds / 60:.1f} min{cached}, whole
  build {c.total_seconds / 60:.1f} min.
- Versions: {version_line}.

Settings:
{settings}

| epoch | loss | train acc | val MNIST | val canvas | lr (end) | s |
|---:|---:|---:|---:|---:|---:|---:|
{history}

![training curves](training.png)

## Data
| file | sha256 (uncompressed, verified before use) |
|---|---|
{data_rows}

## Limitations
- Trained on MNIST writers (US Census staff and students) plus generated pen-stroke digits
  (build_model/strokedigits.py) and generated non-digits (build_model/nondigits.py); real users'
  handwriting may still score lower. The renderings imitate drawings but are not real strokes.
- "not-a-digit" is learned from generated shapes: a non-digit unlike all of them (or a digit
  drawn in a form unlike MNIST and the templates) can still get a confident answer.
- Scores assume the input went through `preprocess.preprocess_canvas`; raw canvas pixels do not
  work.
"""


def _pct(v: float) -> str:
    return "–" if v != v else f"{v:.2%}"


#: The verdict section runs from this heading to the paragraph after it (update_verdict_section).
VERDICT_HEADING = "\n## Verdict: "
VERDICT_END = "\nThe canvas-style test set renders"


def verdict_section(c: CardInputs) -> str:
    """The acceptance/refusal table and how the verdict was calibrated."""
    if not c.verdict_rows:
        return ""
    return _verdict_text(c.verdict or {}, c.verdict_rows, c.score_choice)


def _verdict_text(t: dict, verdict_rows: list, score_choice: dict | None) -> str:
    digit, unsure = t.get("digit", float("nan")), t.get("unsure", float("nan"))
    header = (
        "| set | n | accepted & right (digit or unsure) | confident & right (digit) | unsure "
        "| refused (not-a-digit) |"
    )
    rows = "\n".join(
        f"| {r.name} | {r.count:,} | {_pct(r.accepted_right)} | {_pct(r.confident_right)} | "
        f"{_pct(r.unsure)} | {_pct(r.refused)} |"
        for r in verdict_rows
    )
    shape = ""
    if "shape_max" in t:
        fitted = t.get("shape", {}).get("fitted_on", 0)
        shape = (
            f" A drawing is also refused when the shape of its ink is unlike the predicted "
            f"class: squared Mahalanobis distance of its ink-shape descriptor (site/verdict.py) "
            f"to that class's Gaussian, fitted on {fitted:,} MNIST training digits (raw and "
            f"rendered), **above {t['shape_max']:.1f}**."
        )
    if str(t.get("score", "")).startswith("certainty"):
        refusal = (
            f"the certainty of the softmax (1 - entropy / ln 10: 0 for the uniform output the "
            f"non-digits were trained towards, 1 for one class) **at least {unsure:.4f}**, else "
            f"not-a-digit; of the accepted, top softmax probability **digit ≥ {digit:.4f}**, "
            f"else unsure."
        )
    else:
        refusal = (
            f"top softmax probability **digit ≥ {digit:.4f}**, **unsure ≥ {unsure:.4f}**, "
            f"else not-a-digit."
        )
    choice = ""
    if score_choice:
        choice = (
            "\nValidation non-digits refused at the same refusal of correctly read validation "
            f"digits ({_pct(MAX_RIGHT_REFUSED)}): "
            + ", ".join(f"{k} {v:.2%}" for k, v in score_choice.items())
            + " (max_prob: alone; +shape: with the shape test, which is calibrated on digits "
            "alone).\n"
        )
    return f"""
## Verdict: digit / unsure / not-a-digit (site/verdict.py)
Thresholds chosen by the build on VALIDATION data (the MNIST training tail, raw and rendered,
generated stroke digits and generated non-digits of the training families, both with a
validation seed) and written into model.json "verdict": {refusal}{shape}
An empty canvas is decided before the model. Rule: {t.get("rule", "")}.
{choice}
{header}
|---|---:|---:|---:|---:|---:|
{rows}

Goals: ≥ {GOAL_REFUSED:.0%} of held-out non-digits refused; ≥ {GOAL_ACCEPTED:.0%} of canvas-style
test digits accepted and right. The held-out non-digits (build_model/nondigits.py
HELDOUT_FAMILIES: letters and symbols in fonts never trained on, triangles, squares, stars,
spirals, hearts, check marks, waves, dot clusters, letter pairs) are used neither for training
nor for fitting or choosing the verdict. The TRAINING non-digits (and, with another seed, the
validation ones) are build_model/nondigits.py TRAIN_FAMILIES ({_train_families()}), plus
touching pairs of MNIST training digits and of generated stroke digits, some cut in the wrong
place (build_model/pairs.py: training only, so that site/cuts.py finds a merged pair unreadable
as one digit).
"""


def _train_families() -> str:
    from build_model.nondigits import TRAIN_FAMILIES

    return ", ".join(TRAIN_FAMILIES)


def update_verdict_section(
    out_dir: Path, thresholds: dict, verdict_rows: list, score_choice: dict | None
) -> Path:
    """Rewrite only the verdict section of an existing MODEL_CARD.md (and its HTML page), for
    ``python -m build_model --recalibrate``; the rest of the card describes the unchanged ONNX."""
    path = Path(out_dir) / CARD_NAME
    text = path.read_text()
    start, end = text.find(VERDICT_HEADING), text.find(VERDICT_END)
    if start < 0 or end < start:
        raise ValueError(f"{path}: no verdict section to replace; run the full build")
    new = _verdict_text(thresholds, verdict_rows, score_choice)
    write_text_atomic(path, text[:start] + new + text[end:])
    write_card_html(out_dir)
    return path


def write_card(out_dir: Path, c: CardInputs) -> list[Path]:
    """Write MODEL_CARD.md (+ .html), confusion.png and training.png into ``out_dir`` atomically."""
    out_dir = Path(out_dir)
    return [
        write_bytes_atomic(out_dir / CONFUSION_NAME, confusion_png([c.mnist, c.canvas])),
        write_bytes_atomic(
            out_dir / TRAINING_NAME, training_png(c.history, c.best_epoch, c.averaged)
        ),
        write_text_atomic(out_dir / CARD_NAME, card_markdown(c)),
        write_card_html(out_dir),  # MODEL_CARD.html from the Markdown just written
    ]
