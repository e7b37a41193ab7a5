"""The committed site/model/mnist_cnn.onnx: its contract, its weights and its MNIST accuracy."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from build_model.data import load_mnist

MODEL_DIR = Path(__file__).resolve().parents[1] / "site" / "model"
CONTRACT = MODEL_DIR / "model.json"
#: Goal for the shipped model on the raw MNIST test set (pixels / 255).
MIN_MNIST_ACCURACY = 0.995


@pytest.fixture(scope="module")
def spec() -> dict:
    assert CONTRACT.is_file(), f"{CONTRACT} missing: run `python -m build_model`"
    return json.loads(CONTRACT.read_text())


@pytest.fixture(scope="module")
def onnx_bytes(spec: dict) -> bytes:
    path = MODEL_DIR / spec["file"]
    assert path.is_file(), f"{path} missing: run `python -m build_model`"
    return path.read_bytes()


@pytest.fixture(scope="module")
def session(onnx_bytes: bytes) -> ort.InferenceSession:
    return ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])


def test_contract_matches_file(spec: dict, onnx_bytes: bytes) -> None:
    assert spec["file"] == "mnist_cnn.onnx"
    assert spec["sha256"] == hashlib.sha256(onnx_bytes).hexdigest()
    assert spec["bytes"] == len(onnx_bytes)
    assert len(onnx_bytes) <= 650 * 1024
    assert spec["labels"] == [str(d) for d in range(10)]
    assert spec["input"] | {"name": None} == {
        "name": None,
        "shape": [1, 28, 28, 1],
        "dtype": "float32",
        "layout": "NHWC",
        "range": [0, 1],
        "ink": 1,
    }
    assert spec["output"]["shape"] == [1, 10]


def test_session_names_and_shapes(spec: dict, session: ort.InferenceSession) -> None:
    (inp,) = session.get_inputs()
    (out,) = session.get_outputs()
    assert inp.name == spec["input"]["name"] == "input"
    assert out.name == spec["output"]["name"]
    assert inp.type == "tensor(float)" and inp.shape[1:] == [28, 28, 1]
    assert out.shape[1:] == [10]


def test_weights_match_reference_architecture(spec: dict, onnx_bytes: bytes) -> None:
    graph = onnx.load_from_string(onnx_bytes).graph
    weights = [t for t in graph.initializer if t.data_type == onnx.TensorProto.FLOAT]
    params = sum(int(np.prod(t.dims)) for t in weights)  # int64 initializers are shapes
    assert params == spec["params"] == 159_254


def test_mnist_test_accuracy(spec: dict, session: ort.InferenceSession) -> None:
    images, labels = load_mnist("test")
    x = (images.astype(np.float32) / 255.0)[..., None]
    name = spec["input"]["name"]
    probs = np.concatenate(
        [session.run(None, {name: x[i : i + 2000]})[0] for i in range(0, 10_000, 2000)]
    )
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    accuracy = float((probs.argmax(axis=1) == labels).mean())
    assert accuracy >= MIN_MNIST_ACCURACY, f"MNIST test accuracy {accuracy:.2%}"


def test_model_was_trained_through_the_shipped_preprocessing(spec: dict) -> None:
    """One source of truth: the model saw canvases made by this very site/preprocess.py."""
    shipped = hashlib.sha256((MODEL_DIR.parent / "preprocess.py").read_bytes()).hexdigest()
    assert spec["preprocess_sha256"] == shipped, (
        "site/preprocess.py changed since the model was trained: run `python -m build_model`"
    )
