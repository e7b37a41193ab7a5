"""MNIST-Draw under PyScript: canvas pixels -> preprocess -> ONNX model -> screen.

app.js owns the page (drawing, controls, rendering); this script owns the computation. It loads
the model, then hands app.js a `predict` function that app.js calls with the canvas pixels,
never more than one at a time.
"""

import js
import numpy as np
from pyodide.ffi import create_proxy, to_js
from pyscript.js_modules import app, look_inside_panel, ort_session

from classifier import Classifier
from look_inside import LookInside
from preprocess import describe

classifier = None
look = None  # the "Look inside" panel's LookInside, once the model is loaded (issue 16)


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
    if look is not None and look_inside_panel.isOpen():  # closed: no extra work at all
        await update_look_inside(digit.image)


# --- "Look inside" panel (issue 16) ---------------------------------------------------------
# Minimal wiring for the current main-thread path; the lead ports it into the worker. Two runs,
# only while the panel is open: the digit's activations, then ONE batched occlusion run.


def _plain(value):
    """look_inside's result -> JS: dicts -> Objects, uint8 arrays -> Uint8ClampedArray."""
    if isinstance(value, dict):
        obj = js.Object.new()
        for key, item in value.items():
            js.Reflect.set(obj, key, _plain(item))
        return obj
    if isinstance(value, np.ndarray) and value.dtype == np.uint8:  # RGBA
        return js.Uint8ClampedArray.new(to_js(memoryview(np.ascontiguousarray(value))))
    if isinstance(value, np.ndarray):  # float maps: small, so a list is fine
        return js.Float32Array.new(to_js(value.astype(np.float32).ravel().tolist()))
    if isinstance(value, list) and value and isinstance(value[0], dict):
        array = js.Array.new()
        for item in value:
            array.push(_plain(item))
        return array
    return to_js(value)


async def update_look_inside(image: np.ndarray) -> None:
    start = js.performance.now()
    activations = await classifier.run(image[None, ..., None], look.fetches)
    activated = js.performance.now()
    batch = look.occlusion_batch(image)
    occluded = None
    if len(batch):
        occluded = (await classifier.run(batch, [look.probs_name]))[look.probs_name]
    occluded_at = js.performance.now()
    result = look.result(image, activations, occluded)
    arranged = js.performance.now()
    timings = {  # ms per stage, for benchmarks/look_inside.py
        "activations_ms": activated - start,
        "occlusion_ms": occluded_at - activated,
        "arrange_ms": arranged - occluded_at,
    }
    plain = _plain(result)
    timings["convert_ms"] = js.performance.now() - arranged
    js.Reflect.set(plain, "timings", _plain(timings))
    look_inside_panel.render(plain)


async def main() -> None:
    global classifier
    app.setStatus("Loading the model…")
    try:
        classifier = await Classifier.load(ort_session)
    except Exception as error:
        app.showError(f"The digit model could not be loaded: {error}")
        return
    global look
    try:
        look = LookInside((await ort_session.loaded).contract.to_py())
    except KeyError as error:  # a model without the activation outputs: panel says so
        look_inside_panel.unavailable(f"This model has no layer outputs to show ({error}).")
    else:
        look_inside_panel.onUpdateWanted(app.refresh)  # on opening; after a stale "why" map
    app.connectPredictor(create_proxy(predict))


await main()  # noqa: F704 - PyScript runs scripts with top-level await
