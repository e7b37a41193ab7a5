"""learn.py with the real ONNX model: a misread personal style is fixed by a few corrections,
other digits are not touched, one wrong correction cannot wreck a class, undo is exact.

The model and its output names come from model.json (site/model/ by default; set
$MNIST_DRAW_MODEL_DIR to test another build, e.g. a copy with the `features` output added).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

import learn
from benchmarks.personal import preprocess_drawings, style_drawing
from build_model.data import load_mnist

MODEL_DIR = Path(
    os.environ.get("MNIST_DRAW_MODEL_DIR", Path(__file__).resolve().parents[1] / "site" / "model")
)


@pytest.fixture(scope="module")
def model():
    """(probs, features) for a batch, using the output names model.json declares."""
    spec = json.loads((MODEL_DIR / "model.json").read_text())
    names = [o["name"] for o in spec.get("outputs", [])]
    if "features" not in names:
        pytest.skip(
            f"{MODEL_DIR}/model.json declares no 'features' output (model contract v2 not "
            "shipped yet); set MNIST_DRAW_MODEL_DIR to a model that has it"
        )
    session = ort.InferenceSession(
        str(MODEL_DIR / spec["file"]), providers=["CPUExecutionProvider"]
    )
    input_name = spec["input"]["name"]

    def run(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        probs, feats = session.run(["probs", "features"], {input_name: x.astype(np.float32)})
        return probs, feats

    return run


@pytest.fixture(scope="module")
def style(model):
    """A 9 drawn with a triangular loop (read as 4 by the shipped model): 6 taught + 40 held out."""
    rng = np.random.default_rng(7)
    p, f = model(preprocess_drawings([style_drawing("triangle_nine", rng) for _ in range(46)]))
    return p, f


@pytest.fixture(scope="module")
def mnist(model):
    images, labels = load_mnist("test")
    p, f = model((np.asarray(images[:3000], np.float32) / 255.0)[..., None])  # no keras import
    return p, f, np.asarray(labels[:3000])


def test_no_examples_changes_nothing(style) -> None:
    p, f = style
    np.testing.assert_array_equal(learn.Personalizer().adapt(p, f), p)


def test_six_corrections_fix_a_misread_style_and_spare_other_digits(style, mnist) -> None:
    p, f = style
    before = (p[6:].argmax(1) == 9).mean()
    personal = learn.Personalizer(f[:6], [9] * 6)
    after = personal.adapt(p[6:], f[6:])
    assert before < 0.7 and (after.argmax(1) == 9).mean() >= 0.9
    np.testing.assert_allclose(after.sum(1), 1, atol=1e-5)

    mp, mf, labels = mnist
    adapted = personal.adapt(mp, mf)
    assert (adapted.argmax(1) == labels).mean() >= (mp.argmax(1) == labels).mean() - 0.002


def test_one_wrong_correction_cannot_wreck_a_class(style, mnist) -> None:
    mp, mf, labels = mnist
    threes = np.nonzero(labels == 3)[0]
    for j in threes[:5]:  # a plain 3 taught as 5 by mistake
        personal = learn.Personalizer(mf[j : j + 1], [5])
        m = labels == 3
        assert (personal.adapt(mp[m], mf[m]).argmax(1) == 3).mean() >= (
            mp[m].argmax(1) == 3
        ).mean() - 0.01

    p, f = style  # ... and one wrong label among six right ones is outvoted
    personal = learn.Personalizer(f[:7], [9] * 6 + [1])
    assert (personal.adapt(p[7:], f[7:]).argmax(1) == 9).mean() >= 0.9


def test_remove_is_exact_undo(style) -> None:
    p, f = style
    personal = learn.Personalizer(f[:3], [9, 9, 9])
    expected = personal.adapt(p[6:], f[6:])
    personal.add(f[3], 2)
    personal.remove(3)
    np.testing.assert_array_equal(personal.adapt(p[6:], f[6:]), expected)
    personal.remove(0)
    assert len(personal) == 2 and list(personal.labels) == [9, 9]
    personal.clear()
    np.testing.assert_array_equal(personal.adapt(p, f), p)


def test_bad_input_is_a_clear_error(style) -> None:
    p, f = style
    personal = learn.Personalizer()
    with pytest.raises(ValueError, match="label"):
        personal.add(f[0], 10)
    with pytest.raises(ValueError, match="features"):
        personal.add(f[0][:50], 3)
    with pytest.raises(IndexError):
        personal.remove(0)
    with pytest.raises(ValueError, match="labels"):
        learn.Personalizer(f[:2], [1])


def test_model_inputs_render_stored_drawings_like_the_canvas() -> None:
    rng = np.random.default_rng(3)
    items = [style_drawing("z_two", rng) for _ in range(3)]
    empty = {"label": 5, "canvas": [280, 280], "pen_width": 0.01, "strokes": [[[5.0, 5.0]]]}
    x, y = learn.model_inputs([items[0], empty, *items[1:]])
    assert x.shape == (3, 28, 28, 1) and list(y) == [2, 2, 2]
    np.testing.assert_array_equal(x, preprocess_drawings(items))


def test_taught_set_recomputes_features_per_model(model, style) -> None:
    rng = np.random.default_rng(11)
    records = [{**style_drawing("triangle_nine", rng), "id": i} for i in range(6)]
    taught = learn.TaughtSet("sha-a")
    ids, x = taught.pending(records)
    assert ids == list(range(6)) and x.shape == (6, 28, 28, 1)
    taught.set_features(ids, model(x)[1])
    assert taught.pending(records)[0] == []  # cached for this model
    p, f = style
    assert (taught.personalizer(records).adapt(p[6:], f[6:]).argmax(1) == 9).mean() >= 0.9
    assert len(taught.personalizer(records[:2])) == 2
    assert learn.TaughtSet("sha-b").pending(records)[0] == ids  # a new model computes afresh
