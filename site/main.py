"""MNIST-Draw under PyScript: canvas pixels -> preprocess -> ONNX model -> screen.

app.js owns the page (drawing, controls, rendering); this script owns the computation. It loads
the model, then hands app.js a `predict` function that app.js calls with the canvas pixels,
never more than one at a time.
"""

import js
import numpy as np
from pyodide.ffi import create_proxy, to_js
from pyscript.js_modules import app, ort_session

from classifier import Classifier
from preprocess import describe

classifier = None


async def predict(image_data) -> None:
    """One live update: ImageData -> 28x28 model input -> probabilities -> app.showPrediction."""
    start = js.performance.now()
    pixels = np.asarray(image_data.data.to_py()).reshape(image_data.height, image_data.width, 4)
    transferred = js.performance.now()
    digit = describe(pixels)
    preprocessed = js.performance.now()
    if digit.empty:
        app.showEmpty()
        return
    probabilities = await classifier.predict(digit.image)
    done = js.performance.now()
    timings = {
        "transfer_ms": transferred - start,
        "preprocess_ms": preprocessed - transferred,
        "model_ms": done - preprocessed,
    }
    app.showPrediction(
        to_js(probabilities),
        to_js(digit.image.ravel()),
        to_js(timings, dict_converter=js.Object.fromEntries),
    )


async def main() -> None:
    global classifier
    app.setStatus("Loading the model…")
    try:
        classifier = await Classifier.load(ort_session)
    except Exception as error:
        app.showError(f"The digit model could not be loaded: {error}")
        return
    app.connectPredictor(create_proxy(predict))


await main()  # noqa: F704 - PyScript runs scripts with top-level await
