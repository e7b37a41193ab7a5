"""MNIST-Draw's compute worker: canvas pixels -> preprocess -> ONNX model -> a plain result.

Runs under PyScript in a Web Worker (started by engine.js), so Python never blocks the page:
the page keeps drawing while Python starts and while it computes. The page awaits the functions
exported at the bottom and gets plain, serialisable results; this module never touches the DOM.
"""

import js
from polyscript import js_modules, xworker
from pyodide.ffi import to_js

js.bootMark("numpy")
import numpy as np  # noqa: E402 - after the mark: the import is a start-up stage of its own

from classifier import Classifier  # noqa: E402
from preprocess import describe  # noqa: E402

js.bootMark("model")
try:
    classifier = await Classifier.load(js_modules.ort_session)  # noqa: F704 - top-level await
    load_error = None
except Exception as error:  # reported to the page by boot_status(), which shows it
    classifier, load_error = None, f"{type(error).__name__}: {error}"
js.bootMark("ready")


def _plain(value):
    """Python data -> JS objects that survive postMessage (dicts become plain objects)."""
    return to_js(value, dict_converter=js.Object.fromEntries)


async def predict(pixels, width: int, height: int):
    """RGBA pixels of the model canvas -> {empty, probabilities, image, timings}."""
    start = js.performance.now()
    rgba = np.asarray(pixels.to_py()).reshape(height, width, 4)
    digit = describe(rgba)
    preprocessed = js.performance.now()
    if digit.empty:
        return _plain({"empty": True})
    probabilities = await classifier.predict(digit.image)
    done = js.performance.now()
    return _plain(
        {
            "empty": False,
            "probabilities": probabilities.tolist(),
            "image": digit.image.ravel().tolist(),
            "timings": {"preprocess_ms": preprocessed - start, "model_ms": done - preprocessed},
        }
    )


def boot_status():
    """{"error": None} once loaded, else the reason loading failed (the page shows it)."""
    return _plain({"error": load_error})


def boot_marks():
    """[[stage, epoch ms], ...] of this worker's start-up (for the benchmark)."""
    return js.bootMarks


# What the page may call (it awaits them: no SharedArrayBuffer needed).
xworker.sync.predict = predict
xworker.sync.boot_marks = boot_marks
xworker.sync.boot_status = boot_status
