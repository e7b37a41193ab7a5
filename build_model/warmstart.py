"""Warm start: the reference CNN's weights read back from an exported ONNX file.

A build can start from the previously shipped model (``--init site/model/mnist_cnn.onnx``)
instead of random weights, e.g. to add outlier exposure without retraining from scratch on a
busy machine. The weights are read by graph position (Conv, MatMul, Add initialisers in node
order), so any ONNX export of the reference architecture works whatever its node names.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper


def weights_from_onnx(path: Path) -> list[np.ndarray]:
    """Keras-ordered weights [conv1 kernel, bias, conv2 ..., conv3 ..., dense W, b, dense W, b]."""
    graph = onnx.load(str(path)).graph
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    out: list[np.ndarray] = []
    for node in graph.node:
        if node.op_type == "Conv":
            kernel, bias = init[node.input[1]], init[node.input[2]]
            out += [kernel.transpose(2, 3, 1, 0), bias]  # OIHW -> HWIO
        elif (
            # Dense: the MatMul weight, then the Add of its bias (odd count: a weight waits)
            node.input[1:2]
            and node.input[1] in init
            and (node.op_type == "MatMul" or (node.op_type == "Add" and len(out) % 2 == 1))
        ):
            out.append(init[node.input[1]])
    if len(out) != 10:
        raise ValueError(f"{path}: found {len(out)} weight arrays, want 10 (reference CNN)")
    return out
