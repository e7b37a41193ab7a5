"""build_model: architecture, canvas rendering, export (atomic, parity) and a --quick build."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from build_model import atomic, augment, export
from build_model.data import load_mnist
from build_model.model import EXPECTED_PARAMS, OUTPUT_LAYERS, build_cnn, tap_model
from build_model.train import normalize


@pytest.fixture(scope="module")
def untrained():
    import keras

    keras.utils.set_random_seed(0)
    return build_cnn()


@pytest.fixture(scope="module")
def test_digits() -> np.ndarray:
    return normalize(load_mnist("test")[0][:200])


def test_param_count(untrained) -> None:
    assert untrained.count_params() == EXPECTED_PARAMS == 159_254
    assert untrained.input_shape == (None, 28, 28, 1)
    assert untrained.output_shape == (None, 10)
    assert [layer.name for layer in untrained.layers] == [
        "conv1",
        "pool1",
        "conv2",
        "conv3",
        "pool2",
        "flatten",
        "features",
        "probs",
    ]


def test_render_canvas_shapes_and_determinism() -> None:
    digits = load_mnist("train")[0][:20]
    for cfg in (augment.TRAIN_CONFIG, augment.TEST_CONFIG):
        a = [augment.render_canvas(d, np.random.default_rng(7), cfg) for d in digits]
        b = [augment.render_canvas(d, np.random.default_rng(7), cfg) for d in digits]
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)
            assert x.dtype == np.uint8 and x.ndim == 3 and x.shape[2] == 4
            assert cfg.canvas_min <= x.shape[0] <= cfg.canvas_max
            opaque = bool((x[..., 3] == 255).all())
            ink = 255 - x[..., :3].min(axis=2) if opaque else x[..., 3]
            assert ink.max() > 128  # something was drawn


def test_render_dataset_is_preprocessed_and_worker_independent() -> None:
    digits = load_mnist("test")[0][:40]
    one = augment.render_dataset(digits, seed=3, cfg=augment.TEST_CONFIG, workers=1)
    assert one.shape == (40, 28, 28, 1) and one.dtype == np.float32
    assert one.min() >= 0.0 and one.max() <= 1.0 and one.max() > 0.5


def test_nondigits_are_preprocessed_deterministic_and_never_digit_glyphs() -> None:
    from build_model import nondigits

    a, fam_a = nondigits.render_nondigits(24, seed=1, workers=1)
    b, fam_b = nondigits.render_nondigits(24, seed=1, workers=1)
    np.testing.assert_array_equal(a, b)
    assert fam_a == fam_b and set(fam_a) <= set(nondigits.TRAIN_FAMILIES)
    assert a.shape == (24, 28, 28, 1) and a.dtype == np.float32 and a.max() > 0.5
    held, fam_h = nondigits.render_nondigits(12, seed=1, heldout=True, workers=1)
    assert held.shape == (12, 28, 28, 1) and set(fam_h) <= set(nondigits.HELDOUT_FAMILIES)
    # Glyphs a person could read as a digit are never trained (or judged) as non-digits.
    for lookalike in "0OoQD1Il|ij2Zz5Ss$6Gb8B9gqaPpdYy":
        assert lookalike not in nondigits.LETTERS + nondigits.SYMBOLS
    # Training and held-out non-digits never share a font.
    assert not set(nondigits.TRAIN_FONTS) & set(nondigits.HELDOUT_FONTS)


def test_touching_pairs_are_preprocessed_deterministic_and_touch() -> None:
    from build_model import pairs

    images = load_mnist("train")[0][:200]
    a = pairs.render_pairs(images, 12, seed=3, workers=1)[0]
    np.testing.assert_array_equal(a, pairs.render_pairs(images, 12, seed=3, workers=1)[0])
    assert a.shape == (12, 28, 28, 1) and a.dtype == np.float32 and a.max() > 0.5
    rng = np.random.default_rng(0)
    for _ in range(20):  # side by side, touching or boxes meeting (+-2 px, faint edges aside)
        ink = pairs.render_pair(images, rng)[..., 3] >= 255 * pairs.INK
        cols = np.flatnonzero(ink.any(axis=0))
        assert np.all(np.diff(cols) <= 6), "a gap between the two digits"


def test_stroke_digits_cover_every_class() -> None:
    from build_model import strokedigits

    x, y = strokedigits.render_digits(40, seed=2, workers=1)
    assert x.shape == (40, 28, 28, 1) and y.shape == (40,) and set(y) <= set(range(10))
    assert x.max() > 0.5
    rng = np.random.default_rng(0)
    for d in range(10):  # every template of every digit draws
        for _ in range(5):
            assert strokedigits.render_digit(d, rng)[..., 3].max() > 0


def test_atomic_write_failure_keeps_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, untrained, test_digits
) -> None:
    previous = b"previous model bytes"
    (tmp_path / export.ONNX_NAME).write_bytes(previous)

    def crash(fd: int) -> None:  # fails after the temp file was (partly) written
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(atomic.os, "fsync", crash)
    with pytest.raises(OSError, match="simulated"):
        export.export_model(untrained, tmp_path, test_digits)
    assert (tmp_path / export.ONNX_NAME).read_bytes() == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == [export.ONNX_NAME]


def test_parity_failure_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, untrained, test_digits
) -> None:
    monkeypatch.setattr(export, "MAX_REL_DIFF", -1.0)
    with pytest.raises(export.ExportError, match="parity failed"):
        export.export_model(untrained, tmp_path / "out", test_digits)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_quick_build_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from build_model import __main__ as cli

    captured = {}
    real_export = export.export_model

    def spy(model, out_dir, parity_x, verdict=None):
        captured["model"] = model
        return real_export(model, out_dir, parity_x, verdict)

    monkeypatch.setattr(export, "export_model", spy)
    out = tmp_path / "model"
    start = time.perf_counter()
    assert cli.main(["--quick", "--out", str(out)]) == 0
    # Reported, not asserted: timings belong in the benchmark (~15 s on an idle 2-core machine).
    print(f"--quick build took {time.perf_counter() - start:.1f} s")

    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "MODEL_CARD.html",
        "MODEL_CARD.md",
        "confusion.png",
        "mnist_cnn.onnx",
        "model.json",
        "reference.bin",
        "training.png",
    ]
    spec = json.loads((out / "model.json").read_text())
    reference = (out / spec["reference"]["file"]).read_bytes()  # learn.py's, for this model
    assert spec["reference"]["sha256"] == hashlib.sha256(reference).hexdigest()
    assert spec["reference"]["shape"] == [10 * cli.QUICK_REFERENCE, 100]
    onnx_bytes = (out / spec["file"]).read_bytes()
    assert spec["sha256"] == hashlib.sha256(onnx_bytes).hexdigest()
    assert spec["bytes"] == len(onnx_bytes) <= export.MAX_BYTES
    assert spec["params"] == EXPECTED_PARAMS

    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].name == spec["input"]["name"] == "input"
    assert session.get_outputs()[0].name == spec["output"]["name"] == "probs"
    assert [o["name"] for o in spec["outputs"]] == [
        "conv1",
        "pool1",
        "conv2",
        "conv3",
        "pool2",
        "features",
        "probs",
    ]
    x = normalize(load_mnist("test")[0][-300:])  # digits the parity check did not use
    names = [o.name for o in session.get_outputs()]
    onnx_out = dict(zip(names, session.run(names, {"input": x}), strict=True))
    keras_out = tap_model(captured["model"]).predict(x, verbose=0)
    for name, want in zip(OUTPUT_LAYERS, keras_out, strict=True):
        np.testing.assert_allclose(onnx_out[name], want, atol=1e-5 * max(1.0, np.abs(want).max()))
    np.testing.assert_array_equal(onnx_out["probs"].argmax(1), keras_out[0].argmax(1))
    card = (out / "MODEL_CARD.md").read_text()
    assert "QUICK BUILD" in card and spec["sha256"] in card
    assert "HELD-OUT non-digits" in card
    t = spec["verdict"]
    assert t["score"] in ("max_prob+shape", "certainty+shape")
    assert 0.0 < t["unsure"] <= 1.0 and 0.0 < t["digit"] <= 1.0
    assert t["shape_max"] > 0 and len(t["shape"]["means"]) == 10
    from build_model import card_html

    assert (out / "MODEL_CARD.html").read_text() == card_html.card_page(card)


def test_quick_refuses_shipped_folder() -> None:
    from build_model import __main__ as cli

    with pytest.raises(SystemExit):
        cli.parse_args(["--quick"])
