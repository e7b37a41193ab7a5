"""Foundation proof page: Python + numpy under Pyodide, then one onnxruntime-web inference.

Runs the model on an all-zero 28x28 image and writes the ten outputs into the page. Sets
`document.body.dataset.state` to "ready" (or "error", with the message shown) for tests.
The real app replaces this file.
"""

import json
import sys

import js
import numpy as np
from pyodide.ffi import to_js
from pyscript import document
from pyscript.js_modules import ort

MODEL_URL = "./model/mnist_cnn.onnx"  # input [N, 28, 28, 1] float32 -> output [N, 10]


def show(state: str, message: str) -> None:
    document.getElementById("status").textContent = message
    document.body.dataset.state = state


async def run_model(x: np.ndarray) -> np.ndarray:
    """One inference; feeds by the session's own input/output names."""
    # Absolute URL: ORT resolves wasmPaths against its own module URL otherwise.
    ort.env.wasm.wasmPaths = js.URL.new("./vendor/ort/", js.location.href).href
    ort.env.wasm.numThreads = 1  # no cross-origin isolation on static hosts
    session = await ort.InferenceSession.create(MODEL_URL)
    tensor = ort.Tensor.new("float32", to_js(x.ravel()), to_js(list(x.shape)))
    feeds = js.Object.fromEntries(to_js([[session.inputNames[0], tensor]]))
    outputs = await session.run(feeds)
    # outputs is a plain JS object: index it through as_object_map() (names may hold "/" or ":").
    result = outputs.as_object_map()[session.outputNames[0]]
    return np.asarray(result.data.to_py(), dtype=np.float32)


async def main() -> None:
    show("loading", "Running the model…")
    try:
        y = await run_model(np.zeros((1, 28, 28, 1), dtype=np.float32))
    except Exception as exc:
        show("error", f"Error: {type(exc).__name__}: {exc}")
        js.console.error(f"runtime check failed: {exc!r}")
        return
    result = {
        "python": sys.version.split()[0],
        "platform": sys.platform,
        "numpy": np.__version__,
        "output": [round(float(v), 6) for v in y],
    }
    document.getElementById("output").textContent = json.dumps(result, indent=1)
    show("ready", f"Ready: Python {result['python']}, numpy {result['numpy']}, ORT ran.")


await main()  # noqa: F704 - PyScript runs scripts with top-level await
