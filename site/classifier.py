"""The ONNX digit model in onnxruntime-web, driven from Python: check, warm up, predict.

Browser-only (it talks to JS objects). ort-session.js has already downloaded the model and its
contract (model/model.json, written by build_model) and created the session while Python was
starting; this module verifies the bytes against the contract's sha256, then owns every call.
Names and shapes come from the contract, so a rebuilt model needs no change here.
"""

from __future__ import annotations

import hashlib

import js
import numpy as np
from pyodide.ffi import to_js


class ModelError(RuntimeError):
    """The model is missing, corrupt or does not match its contract."""


class Classifier:
    """An onnxruntime-web InferenceSession plus the contract that describes it."""

    def __init__(self, ort, session, contract: dict) -> None:
        self.ort = ort
        self.session = session
        self.input_name = contract["input"]["name"]
        self.output_name = contract["output"]["name"]
        # model.json v2 has a dynamic batch (null); one drawing is a batch of one.
        self.input_dims = to_js([1, *contract["input"]["shape"][1:]])
        # The model also exposes features and conv activations; fetch only the probabilities
        # so ORT skips nothing it needs and computes nothing it doesn't.
        self.fetches = to_js([self.output_name])

    @classmethod
    async def load(cls, ort_session) -> Classifier:
        """Await ort-session.js's download and session, check the sha256, warm the session up."""
        loaded = await ort_session.loaded
        contract = loaded.contract.to_py()
        digest = hashlib.sha256(loaded.bytes.to_py()).hexdigest()
        if digest != contract["sha256"]:
            raise ModelError(
                f"model/{contract['file']} is corrupt or out of date (sha256 {digest[:12]}…, "
                f"expected {contract['sha256'][:12]}…); rebuild it with `python -m build_model`"
            )
        if loaded.session is None:
            raise ModelError(f"model/{contract['file']} could not be loaded: {loaded.error}")
        classifier = cls(loaded.ort, loaded.session, contract)
        await classifier.predict(np.zeros((28, 28), np.float32))  # the first run allocates
        return classifier

    async def predict(self, image: np.ndarray) -> np.ndarray:
        """28x28 float32 image (1 = ink) -> 10 class probabilities.

        Input: float32 [1, 28, 28, 1] (NHWC, 0..1); output: float32 [1, 10] softmax.
        """
        tensor = self.ort.Tensor.new("float32", to_js(image.ravel()), self.input_dims)
        feeds = js.Object.fromEntries(to_js([[self.input_name, tensor]]))
        outputs = await self.session.run(feeds, self.fetches)
        result = getattr(outputs, self.output_name)
        probabilities = np.asarray(result.data.to_py(), dtype=np.float32)
        result.dispose()
        return probabilities

    async def run(self, batch: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
        """One run over a batch [N, 28, 28(, 1)] fetching only `names` -> {name: array}.

        For the "Look inside" panel (issue 16): onnxruntime-web computes just what the fetches
        need, so the per-stroke predict() above stays as cheap as before.
        """
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        dims = to_js([len(batch), *self.input_dims.to_py()[1:]])
        tensor = self.ort.Tensor.new("float32", to_js(batch.ravel()), dims)
        feeds = js.Object.fromEntries(to_js([[self.input_name, tensor]]))
        outputs = await self.session.run(feeds, to_js(names))
        arrays = {}
        for name in names:
            result = getattr(outputs, name)
            data = np.asarray(result.data.to_py(), dtype=np.float32)
            arrays[name] = data.reshape([int(d) for d in result.dims.to_py()])
            result.dispose()
        return arrays
