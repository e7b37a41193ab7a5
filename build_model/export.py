"""Stage 5 — export: Keras → ONNX (tf2onnx.from_function), parity check, atomic write + contract.

``tf2onnx.convert.from_keras`` fails under Keras 3 (KeyError 'keras_tensor_…', see ASSETS.md), so
we trace a ``tf.function`` returning the outputs of every layer in ``model.OUTPUT_LAYERS`` and
convert that: ONE ONNX file with a dynamic batch and named outputs probs, features, conv1, pool1,
conv2, conv3, pool2 (NHWC). onnxruntime computes only what the requested fetches need, so the
per-stroke call (probs + features) costs what the single-output model did. Before anything is
written, every output is run through onnxruntime on the parity digits and compared with the
Keras layer's output (max |diff|, plus argmax for probs); a mismatch raises :class:`ExportError`
and leaves the previous files untouched.

Outputs (in ``out_dir``): ``mnist_cnn.onnx`` and ``model.json`` (contract v2, see
/work/coord/PLAN.md): input, "outputs" (name/shape/kind/layer/params/activation in network
order), "kernels" (conv1 filters and bias), "verdict" (thresholds from build_model.calibrate),
labels, sha256, bytes, params, opset, preprocess_sha256.
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
from build_model.model import OUTPUT_LAYERS, tap_model

# --- Defaults -------------------------------------------------------------------------------
OPSET = 17
ONNX_NAME = "mnist_cnn.onnx"
CONTRACT_NAME = "model.json"
INPUT_NAME = "input"
#: The output a caller needs for a prediction (tf2onnx names outputs "Identity_k:0"; we rename).
OUTPUT_NAME = "probs"
#: Parity tolerance between Keras and onnxruntime, relative to each output's largest |value|
#: (conv activations reach ~10, probabilities 1).
MAX_REL_DIFF = 1e-5
#: The browser downloads the model; keep it small (the extra outputs add a few hundred bytes).
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
    max_abs_diff: float  # worst output, relative to that output's scale
    parity_count: int
    output_diffs: dict[str, float]  # max |Keras - ORT| per output


def to_onnx_bytes(model: keras.Model, opset: int = OPSET) -> bytes:
    """Convert ``model`` to a serialized ONNX ModelProto: input "input" [N,28,28,1], outputs named
    after OUTPUT_LAYERS (NHWC, batch first)."""
    taps = tap_model(model)
    spec = [tf.TensorSpec([None, 28, 28, 1], tf.float32, name=INPUT_NAME)]
    function = tf.function(lambda x: tuple(taps(x, training=False)))
    proto, _ = tf2onnx.convert.from_function(function, input_signature=spec, opset=opset)
    _rename_outputs(proto.graph, OUTPUT_LAYERS)
    onnx.checker.check_model(proto)
    return proto.SerializeToString()


def _rename_outputs(graph: onnx.GraphProto, names: tuple[str, ...]) -> None:
    """Rename the graph's outputs (in the traced function's order) everywhere they are used."""
    if len(graph.output) != len(names):
        raise ExportError(f"ONNX graph has {len(graph.output)} outputs, want {len(names)}")
    mapping = {out.name: new for out, new in zip(graph.output, names, strict=True)}
    for node in graph.node:
        node.output[:] = [mapping.get(name, name) for name in node.output]
        node.input[:] = [mapping.get(name, name) for name in node.input]
    for out in graph.output:
        out.name = mapping[out.name]


def check_parity(model: keras.Model, onnx_bytes: bytes, x: np.ndarray) -> dict[str, float]:
    """Compare every ONNX output with its Keras layer output on ``x``; return max |diff| per
    output, or raise ExportError (shape mismatch, diff above MAX_REL_DIFF of the output's scale,
    or any probs argmax mismatch)."""
    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    if sorted(names) != sorted(OUTPUT_LAYERS):
        raise ExportError(f"ONNX outputs {names} != {list(OUTPUT_LAYERS)}")
    expected = tap_model(model).predict(x, batch_size=250, verbose=0)
    got = session.run(list(OUTPUT_LAYERS), {INPUT_NAME: x.astype(np.float32)})
    diffs: dict[str, float] = {}
    for name, want, have in zip(OUTPUT_LAYERS, expected, got, strict=True):
        if have.shape != want.shape:
            raise ExportError(f"ONNX output {name} shape {have.shape} != Keras {want.shape}")
        diff = float(np.max(np.abs(have - want)))
        scale = max(1.0, float(np.max(np.abs(want))))
        if diff > MAX_REL_DIFF * scale:
            raise ExportError(
                f"Keras/onnxruntime parity failed for {name} on {len(x)} digits: max |diff| "
                f"{diff:.3g} (limit {MAX_REL_DIFF * scale:.3g}); nothing written"
            )
        diffs[name] = diff
    mismatched = int((got[0].argmax(1) != expected[0].argmax(1)).sum())
    if mismatched:
        raise ExportError(f"{mismatched} probs argmax mismatches Keras/ORT; nothing written")
    return diffs


def _outputs_spec(model: keras.Model) -> list[dict]:
    """model.json "outputs": every exposed layer in network order (null = dynamic batch)."""
    rows = []
    for layer in model.layers:
        if layer.name not in OUTPUT_LAYERS:
            continue
        activation = getattr(layer, "activation", None)
        rows.append(
            {
                "name": layer.name,
                "shape": [None, *[int(d) for d in layer.output.shape[1:]]],
                "kind": type(layer).__name__,
                "layer": layer.name,
                "params": int(layer.count_params()),
                "activation": activation.__name__ if activation is not None else None,
            }
        )
    return rows


def _kernels(model: keras.Model) -> dict:
    """conv1's 32 filters as [k][dy][dx] (cross-correlation, as Keras/ONNX apply them) + bias."""
    kernel, bias = model.get_layer("conv1").get_weights()  # (3,3,1,32), (32,)
    filters = np.transpose(kernel[:, :, 0, :], (2, 0, 1)).astype(float)
    return {
        "conv1": np.round(filters, 6).tolist(),
        "conv1_bias": np.round(bias.astype(float), 6).tolist(),
    }


def contract(onnx_bytes: bytes, model: keras.Model, verdict: dict | None = None) -> dict:
    """The model.json contract (v2) for ``onnx_bytes`` exported from ``model``."""
    proto = onnx.load_from_string(onnx_bytes)
    (inp,) = proto.graph.input
    return {
        "file": ONNX_NAME,
        "input": {
            "name": inp.name,
            "shape": [None, 28, 28, 1],
            "dtype": "float32",
            "layout": "NHWC",
            "range": [0, 1],
            "ink": 1,
        },
        # v1 key, kept so callers that only want the probabilities keep working.
        "output": {"name": OUTPUT_NAME, "shape": [None, 10], "meaning": "softmax probabilities"},
        "outputs": _outputs_spec(model),
        "labels": LABELS,
        "sha256": hashlib.sha256(onnx_bytes).hexdigest(),
        "bytes": len(onnx_bytes),
        "params": int(model.count_params()),
        "opset": OPSET,
        # The model only understands inputs made by this exact preprocessing (tests check it).
        "preprocess_sha256": preprocess_sha256(),
        "kernels": _kernels(model),
        "verdict": verdict or {},
    }


def export_model(
    model: keras.Model, out_dir: Path, parity_x: np.ndarray, verdict: dict | None = None
) -> ExportResult:
    """Convert, check parity of every output on ``parity_x`` (N,28,28,1), then atomically write
    ONNX + contract (with the calibrated ``verdict`` thresholds)."""
    out_dir = Path(out_dir)
    onnx_bytes = to_onnx_bytes(model)
    if len(onnx_bytes) > MAX_BYTES:
        raise ExportError(f"ONNX model is {len(onnx_bytes)} bytes, limit {MAX_BYTES}")
    diffs = check_parity(model, onnx_bytes, parity_x)
    spec = contract(onnx_bytes, model, verdict)
    onnx_path = write_bytes_atomic(out_dir / ONNX_NAME, onnx_bytes)
    contract_path = write_text_atomic(out_dir / CONTRACT_NAME, json.dumps(spec, indent=2) + "\n")
    return ExportResult(
        onnx_path=onnx_path,
        contract_path=contract_path,
        sha256=spec["sha256"],
        bytes=spec["bytes"],
        input_name=spec["input"]["name"],
        output_name=OUTPUT_NAME,
        max_abs_diff=max(diffs.values()),
        parity_count=len(parity_x),
        output_diffs=diffs,
    )
