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
        "shape": [None, 28, 28, 1],
        "dtype": "float32",
        "layout": "NHWC",
        "range": [0, 1],
        "ink": 1,
    }
    assert spec["output"] == {
        "name": "probs",
        "shape": [None, 10],
        "meaning": "softmax probabilities",
    }


#: model.json v2 "outputs" (PLAN.md): name, shape (null batch), Keras kind, params, activation.
EXPECTED_OUTPUTS = [
    ("conv1", [None, 26, 26, 32], "Conv2D", 320, "relu"),
    ("pool1", [None, 13, 13, 32], "MaxPooling2D", 0, None),
    ("conv2", [None, 11, 11, 64], "Conv2D", 18_496, "relu"),
    ("conv3", [None, 9, 9, 64], "Conv2D", 36_928, "relu"),
    ("pool2", [None, 4, 4, 64], "MaxPooling2D", 0, None),
    ("features", [None, 100], "Dense", 102_500, "relu"),
    ("probs", [None, 10], "Dense", 1_010, "softmax"),
]


def test_contract_v2_outputs_and_kernels(spec: dict) -> None:
    assert [
        (o["name"], o["shape"], o["kind"], o["params"], o["activation"]) for o in spec["outputs"]
    ] == EXPECTED_OUTPUTS
    assert all(o["layer"] == o["name"] for o in spec["outputs"])
    kernels = np.asarray(spec["kernels"]["conv1"])
    assert kernels.shape == (32, 3, 3) and len(spec["kernels"]["conv1_bias"]) == 32


def test_session_names_and_shapes(spec: dict, session: ort.InferenceSession) -> None:
    (inp,) = session.get_inputs()
    assert inp.name == spec["input"]["name"] == "input"
    assert inp.type == "tensor(float)" and inp.shape[1:] == [28, 28, 1]
    assert isinstance(inp.shape[0], str)  # dynamic batch
    outputs = {o.name: o.shape for o in session.get_outputs()}
    assert {name: shape[1:] for name, shape in outputs.items()} == {
        name: shape[1:] for name, shape, *_ in EXPECTED_OUTPUTS
    }


def test_conv1_kernels_reproduce_the_conv1_output(spec: dict, session) -> None:
    """The "Look inside" panel may redo conv1 in numpy from model.json's kernels."""
    x = (load_mnist("test")[0][:4].astype(np.float32) / 255.0)[..., None]
    batch = np.concatenate([x, x])  # a batch of 8: the batch dimension is dynamic
    (conv1,) = session.run(["conv1"], {"input": batch})
    w = np.asarray(spec["kernels"]["conv1"])
    ref = np.zeros((8, 26, 26, 32))
    for dy in range(3):
        for dx in range(3):
            ref += batch[:, dy : dy + 26, dx : dx + 26, 0, None] * w[:, dy, dx]
    ref = np.maximum(ref + np.asarray(spec["kernels"]["conv1_bias"]), 0)
    np.testing.assert_allclose(conv1, ref, atol=1e-4)


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
        [session.run(["probs"], {name: x[i : i + 2000]})[0] for i in range(0, 10_000, 2000)]
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
