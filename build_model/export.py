"""Stage 5 — export: Keras → ONNX (tf2onnx.from_function), parity check, atomic write + contract.

``tf2onnx.convert.from_keras`` fails under Keras 3 (KeyError 'keras_tensor_…', see ASSETS.md), so
we trace ``model(x)`` in a ``tf.function`` and convert that. Before anything is written, the ONNX
model is run through onnxruntime on the parity digits and compared with Keras (max |diff| and
argmax); a mismatch raises :class:`ExportError` and leaves the previous files untouched.

Outputs (in ``out_dir``): ``mnist_cnn.onnx`` and ``model.json``, the contract the web app and the
tests read (input name/shape/layout/range, output name/shape, labels, sha256, bytes, params).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import onnx
import onnxruntime as ort
import tensorflow as tf
import tf2onnx

from build_model.atomic import write_bytes_atomic, write_text_atomic
from build_model.augment import preprocess_sha256

# --- Defaults -------------------------------------------------------------------------------
OPSET = 17
ONNX_NAME = "mnist_cnn.onnx"
CONTRACT_NAME = "model.json"
INPUT_NAME = "input"
#: tf2onnx names the output "Identity:0"; we rename it to something a JS caller can type.
OUTPUT_NAME = "probs"
#: Parity tolerances between Keras and onnxruntime on the same inputs.
MAX_ABS_DIFF = 1e-5
#: The browser downloads the model; keep it small.
MAX_BYTES = 650 * 1024
LABELS = [str(d) for d in range(10)]


class ExportError(RuntimeError):
    """The ONNX export is wrong (parity failure, too large, bad graph); nothing was written."""


@dataclass
class ExportResult:
    """What export_model wrote."""

    onnx_path: Path
    contract_path: Path
    sha256: str
    bytes: int
    input_name: str
    output_name: str
    max_abs_diff: float
    parity_count: int


def to_onnx_bytes(model: keras.Model, opset: int = OPSET) -> bytes:
    """Convert ``model`` to a serialized ONNX ModelProto with input "input" [None,28,28,1]."""
    spec = [tf.TensorSpec([None, 28, 28, 1], tf.float32, name=INPUT_NAME)]
    function = tf.function(lambda x: model(x, training=False))
    proto, _ = tf2onnx.convert.from_function(function, input_signature=spec, opset=opset)
    _rename_output(proto.graph, OUTPUT_NAME)
    onnx.checker.check_model(proto)
    return proto.SerializeToString()


def _rename_output(graph: onnx.GraphProto, new: str) -> None:
    """Rename the graph's single output everywhere it is referenced."""
    (out,) = graph.output
    old = out.name
    for node in graph.node:
        node.output[:] = [new if name == old else name for name in node.output]
        node.input[:] = [new if name == old else name for name in node.input]
    out.name = new


def check_parity(model: keras.Model, onnx_bytes: bytes, x: np.ndarray) -> float:
    """Compare Keras and onnxruntime on ``x``; return max |diff| or raise ExportError."""
    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    expected = model.predict(x, batch_size=500, verbose=0)
    got = session.run(None, {session.get_inputs()[0].name: x.astype(np.float32)})[0]
    if got.shape != expected.shape:
        raise ExportError(f"ONNX output shape {got.shape} != Keras {expected.shape}")
    diff = float(np.max(np.abs(got - expected)))
    mismatched = int((got.argmax(1) != expected.argmax(1)).sum())
    if diff > MAX_ABS_DIFF or mismatched:
        raise ExportError(
            f"Keras/onnxruntime parity failed on {len(x)} digits: max |diff| {diff:.3g} "
            f"(limit {MAX_ABS_DIFF}), {mismatched} argmax mismatches; nothing written"
        )
    return diff


def contract(onnx_bytes: bytes, params: int) -> dict:
    """The model.json contract for ``onnx_bytes``."""
    proto = onnx.load_from_string(onnx_bytes)
    (inp,) = proto.graph.input
    (out,) = proto.graph.output
    return {
        "file": ONNX_NAME,
        "input": {
            "name": inp.name,
            "shape": [1, 28, 28, 1],
            "dtype": "float32",
            "layout": "NHWC",
            "range": [0, 1],
            "ink": 1,
        },
        "output": {"name": out.name, "shape": [1, 10], "meaning": "softmax probabilities"},
        "labels": LABELS,
        "sha256": hashlib.sha256(onnx_bytes).hexdigest(),
        "bytes": len(onnx_bytes),
        "params": int(params),
        "opset": OPSET,
        # The model only understands inputs made by this exact preprocessing (tests check it).
        "preprocess_sha256": preprocess_sha256(),
    }


def export_model(model: keras.Model, out_dir: Path, parity_x: np.ndarray) -> ExportResult:
    """Convert, check parity on ``parity_x`` (N,28,28,1), then atomically write ONNX + contract."""
    out_dir = Path(out_dir)
    onnx_bytes = to_onnx_bytes(model)
    if len(onnx_bytes) > MAX_BYTES:
        raise ExportError(f"ONNX model is {len(onnx_bytes)} bytes, limit {MAX_BYTES}")
    diff = check_parity(model, onnx_bytes, parity_x)
    spec = contract(onnx_bytes, model.count_params())
    onnx_path = write_bytes_atomic(out_dir / ONNX_NAME, onnx_bytes)
    contract_path = write_text_atomic(out_dir / CONTRACT_NAME, json.dumps(spec, indent=2) + "\n")
    return ExportResult(
        onnx_path=onnx_path,
        contract_path=contract_path,
        sha256=spec["sha256"],
        bytes=spec["bytes"],
        input_name=spec["input"]["name"],
        output_name=spec["output"]["name"],
        max_abs_diff=diff,
        parity_count=len(parity_x),
    )
