"""The ONNX digit model in onnxruntime-web, driven from Python: load once, warm up, predict.

Browser-only (it talks to JS objects). The model contract, model/model.json, is written by
build_model next to the ONNX file; this module trusts nothing else: names, shape and the
file's sha256 all come from it, so a rebuilt model needs no change here.
"""

from __future__ import annotations

import hashlib
import json

import js
import numpy as np
from pyodide.ffi import to_js


class ModelError(RuntimeError):
    """The model is missing, corrupt or does not match its contract."""


async def _fetch_bytes(url: str) -> bytes:
    response = await js.fetch(url)
    if not response.ok:
        raise ModelError(f"{url} could not be downloaded (HTTP {response.status})")
    return (await response.arrayBuffer()).to_py().tobytes()


class Classifier:
    """An onnxruntime-web InferenceSession plus the contract that describes it."""

    def __init__(self, ort, session, contract: dict) -> None:
        self.ort = ort
        self.session = session
        self.contract = contract
        self.input_name = contract["input"]["name"]
        self.output_name = contract["output"]["name"]
        self.input_dims = to_js(contract["input"]["shape"])

    @classmethod
    async def load(cls, ort, folder: str = "./model/") -> Classifier:
        """Download the contract and the model, check the sha256, create and warm the session."""
        contract = json.loads(await _fetch_bytes(folder + "model.json"))
        model = await _fetch_bytes(folder + contract["file"])
        digest = hashlib.sha256(model).hexdigest()
        if digest != contract["sha256"]:
            raise ModelError(
                f"{contract['file']} is corrupt or out of date (sha256 {digest[:12]}…, "
                f"expected {contract['sha256'][:12]}…); rebuild it with `python -m build_model`"
            )
        # Single-threaded plain-WASM build: static hosts send no cross-origin isolation headers.
        ort.env.wasm.numThreads = 1
        ort.env.wasm.wasmPaths = js.URL.new("./vendor/ort/", js.location.href).href
        try:
            session = await ort.InferenceSession.create(to_js(model))
        except Exception as error:  # ORT reports a bad file as a generic JS Error
            raise ModelError(f"{contract['file']} could not be loaded: {error}") from error
        classifier = cls(ort, session, contract)
        await classifier.predict(np.zeros((28, 28), np.float32))  # warm-up: first run allocates
        return classifier

    async def predict(self, image: np.ndarray) -> np.ndarray:
        """28x28 float32 image (1 = ink) -> 10 class probabilities.

        Input "input": float32 [1, 28, 28, 1] (NHWC); output: float32 [1, 10] softmax.
        """
        tensor = self.ort.Tensor.new("float32", to_js(image.ravel()), self.input_dims)
        feeds = js.Object.fromEntries(to_js([[self.input_name, tensor]]))
        outputs = await self.session.run(feeds)
        result = getattr(outputs, self.output_name)
        probabilities = np.asarray(result.data.to_py(), dtype=np.float32)
        result.dispose()
        tensor.dispose()
        return probabilities
