"""The ONNX digit model in onnxruntime-web, driven from Python: check, warm up, run batches.

Browser-only (it talks to JS objects); runs in the compute worker. ort-session.js has already
downloaded the model and its contract (model/model.json, written by build_model) and created the
session while Python was starting; this module verifies the bytes against the contract's sha256,
then owns every call. Names and shapes come from the contract, so a rebuilt model needs no change
here: the input, the class probabilities (the contract's "output") and the features (the output
just before them in network order, the penultimate layer that learn.py works on).
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
        self.contract = contract
        self.input_name = contract["input"]["name"]
        self.input_shape = [int(d) for d in contract["input"]["shape"][1:]]  # batch is dynamic
        outputs = [output["name"] for output in contract["outputs"]]
        self.probs = contract["output"]["name"]
        self.features = outputs[outputs.index(self.probs) - 1]
        self.runs: list[dict] = []  # {batch, fetches} of each run, cleared by the caller

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
        await classifier.run(np.zeros((1, 28, 28, 1), np.float32), [classifier.probs])  # allocates
        return classifier

    async def run(self, batch: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
        """One run over a batch (N, 28, 28[, 1]) of images (1 = ink) -> {output name: array}.

        Only the named outputs are fetched: onnxruntime-web computes just what they need, so the
        per-stroke ["probs", "features"] run costs no more than the probabilities alone.
        """
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        self.runs.append({"batch": len(batch), "fetches": list(names)})
        dims = to_js([len(batch), *self.input_shape])
        tensor = self.ort.Tensor.new("float32", to_js(batch.ravel()), dims)
        feeds = js.Object.fromEntries(to_js([[self.input_name, tensor]]))
        outputs = await self.session.run(feeds, to_js(names))
        arrays = {}
        for name in names:
            result = getattr(outputs, name)
            data = np.asarray(result.data.to_py(), dtype=np.float32)
            arrays[name] = data.reshape([int(d) for d in result.dims.to_py()])
            result.dispose()
        tensor.dispose()
        return arrays
