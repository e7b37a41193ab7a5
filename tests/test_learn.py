"""learn.py with the real ONNX model and its reference features: a misread personal style is
fixed by a few corrections, other digits are not touched, one wrong correction cannot wreck a
class, undo is exact; build_model/reference.py writes what learn.py reads.

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
def reference(model) -> learn.Reference:
    """The model's reference features, as the worker loads them (model.json "reference")."""
    spec = json.loads((MODEL_DIR / "model.json").read_text())["reference"]
    return learn.Reference.from_bytes((MODEL_DIR / spec["file"]).read_bytes(), spec)


def drawn(model, name: str, taught_seed: int, held_out_seed: int) -> tuple:
    """(probs, features) of 6 taught drawings then 40 held-out ones, from separate streams."""
    taught = np.random.default_rng(taught_seed)
    held_out = np.random.default_rng(held_out_seed)
    items = [style_drawing(name, taught) for _ in range(6)]
    items += [style_drawing(name, held_out) for _ in range(40)]
    return model(preprocess_drawings(items))


@pytest.fixture(scope="module")
def style(model):
    """A 9 drawn with a triangular loop (read as 4 by the shipped model): 6 taught + 40 held out."""
    return drawn(model, "triangle_nine", 7, 8)


@pytest.fixture(scope="module")
def four_like_nine(model):
    """The hardest style: a 4 with an open loop, read as a confident 9 (p ~ 1)."""
    return drawn(model, "four_like_nine", 7, 8)


@pytest.fixture(scope="module")
def mnist(model):
    images, labels = load_mnist("test")
    p, f = model((np.asarray(images[:3000], np.float32) / 255.0)[..., None])  # no keras import
    return p, f, np.asarray(labels[:3000])


def test_no_examples_changes_nothing(style) -> None:
    p, f = style
    np.testing.assert_array_equal(learn.Personalizer().adapt(p, f), p)


@pytest.mark.parametrize(("name", "label"), [("style", 9), ("four_like_nine", 4)])
def test_six_corrections_fix_a_misread_style_and_spare_other_digits(
    request, reference, mnist, name, label
) -> None:
    p, f = request.getfixturevalue(name)
    before = (p[6:].argmax(1) == label).mean()
    personal = learn.Personalizer(f[:6], [label] * 6, reference)
    after = personal.adapt(p[6:], f[6:])
    assert before < 0.7 and (after.argmax(1) == label).mean() >= 0.9, (before, after.argmax(1))
    np.testing.assert_allclose(after.sum(1), 1, atol=1e-5)

    mp, mf, labels = mnist
    adapted = personal.adapt(mp, mf)
    assert (adapted.argmax(1) == labels).mean() >= (mp.argmax(1) == labels).mean() - 0.002


def test_the_gate_is_relative_to_ordinary_digits(four_like_nine, reference, mnist) -> None:
    """The 4-like-9 style is as close to its taught examples as real 9s are to each other, so a
    fixed distance (no reference: the fallback) cannot pass it; the reference gate does."""
    p, f = four_like_nine
    fallback = learn.Personalizer(f[:6], [4] * 6).adapt(p[6:], f[6:])
    gated = learn.Personalizer(f[:6], [4] * 6, reference).adapt(p[6:], f[6:])
    assert (fallback.argmax(1) == 4).mean() < 0.9 <= (gated.argmax(1) == 4).mean()
    mp, mf, labels = mnist  # ... and the fallback is as safe for other people's digits
    adapted = learn.Personalizer(f[:6], [4] * 6).adapt(mp, mf)
    assert (adapted.argmax(1) == labels).mean() >= (mp.argmax(1) == labels).mean() - 0.002


def test_one_wrong_correction_cannot_wreck_a_class(style, four_like_nine, reference, mnist) -> None:
    mp, mf, labels = mnist
    threes = np.nonzero(labels == 3)[0]
    for j in threes[:5]:  # a plain 3 taught as 5 by mistake
        personal = learn.Personalizer(mf[j : j + 1], [5], reference)
        m = labels == 3
        assert (personal.adapt(mp[m], mf[m]).argmax(1) == 3).mean() >= (
            mp[m].argmax(1) == 3
        ).mean() - 0.01

    # ... and one wrong label among six right ones is outvoted, even the model's own misreading
    for (p, f), label, wrong in ((style, 9, 1), (style, 9, 4), (four_like_nine, 4, 9)):
        personal = learn.Personalizer(f[:7], [label] * 6 + [wrong], reference)
        assert (personal.adapt(p[7:], f[7:]).argmax(1) == label).mean() >= 0.85, (label, wrong)


def test_reference_is_checked_and_belongs_to_the_model(reference, mnist) -> None:
    spec = json.loads((MODEL_DIR / "model.json").read_text())["reference"]
    data = (MODEL_DIR / spec["file"]).read_bytes()
    with pytest.raises(ValueError, match="corrupt"):
        learn.Reference.from_bytes(bytes([data[0] ^ 1]) + data[1:], spec)
    assert reference.features.shape == tuple(spec["shape"])
    # The nearest reference centroid names the class of real digits: these are this model's.
    mp, mf, labels = mnist
    nearest = reference.closest_per_class(learn._unit(mf)).argmax(1)
    assert (nearest == labels).mean() >= 0.97


def test_remove_is_exact_undo(style, reference) -> None:
    p, f = style
    personal = learn.Personalizer(f[:3], [9, 9, 9], reference)
    expected = personal.adapt(p[6:], f[6:])
    personal.add(f[3], 2)
    personal.remove(3)
    np.testing.assert_array_equal(personal.adapt(p[6:], f[6:]), expected)
    personal.remove(0)
    assert len(personal) == 2 and list(personal.labels) == [9, 9]
    personal.clear()
    np.testing.assert_array_equal(personal.adapt(p, f), p)
    assert personal.reference is reference  # it belongs to the model, not to the examples


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


def test_taught_set_recomputes_features_per_model(model, style, reference) -> None:
    rng = np.random.default_rng(11)
    records = [{**style_drawing("triangle_nine", rng), "id": i} for i in range(6)]
    taught = learn.TaughtSet("sha-a", reference)
    ids, x = taught.pending(records)
    assert ids == list(range(6)) and x.shape == (6, 28, 28, 1)
    taught.set_features(ids, model(x)[1])
    assert taught.pending(records)[0] == []  # cached for this model
    p, f = style
    assert (taught.personalizer(records).adapt(p[6:], f[6:]).argmax(1) == 9).mean() >= 0.9
    assert len(taught.personalizer(records[:2])) == 2
    assert learn.TaughtSet("sha-b").pending(records)[0] == ids  # a new model computes afresh


def test_build_writes_the_reference_learn_reads(tmp_path: Path) -> None:
    """build_model/reference.py on small fake features: per-class centroids of the digits read
    right, written as float16 + described in model.json, read back by learn.Reference."""
    from build_model import reference as build_reference

    rng = np.random.default_rng(0)
    centres = np.abs(rng.normal(size=(10, learn.FEATURES)))
    labels = np.repeat(np.arange(10), 30)
    feats = centres[labels] + 0.05 * np.abs(rng.normal(size=(300, learn.FEATURES)))
    probs = np.eye(10)[labels]
    probs[0] = np.eye(10)[1]  # one digit read wrong: left out
    ref = build_reference.reference_features(feats, probs, labels, per_class=4)
    assert ref.shape == (40, learn.FEATURES) and ref.dtype == np.float16
    (tmp_path / "model.json").write_text(json.dumps({"file": "m.onnx", "sha256": "x"}))
    spec = build_reference.write_reference(tmp_path, ref, per_class=4)
    contract = json.loads((tmp_path / "model.json").read_text())
    assert contract["reference"] == spec and contract["sha256"] == "x"
    loaded = learn.Reference.from_bytes((tmp_path / spec["file"]).read_bytes(), spec)
    nearest = loaded.closest_per_class(learn._unit(centres)).argmax(1)
    assert list(nearest) == list(range(10))
    with pytest.raises(ValueError, match="class 0: only 29"):  # the one read wrong is left out
        build_reference.reference_features(feats, probs, labels, per_class=30)
