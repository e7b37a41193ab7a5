"""The ONNX digit model in onnxruntime-web, driven from Python: check, then run batches.

Browser-only (it talks to JS objects); runs in the compute worker. ort-session.js has already
downloaded the model and its contract (model/model.json, written by build_model) and created the
session on the model's own thread (model-worker.js) while Python was starting; this module checks
the model's sha256 against the contract, then owns every call. Names and shapes come from the
contract, so a rebuilt model needs no change here: the input, the class probabilities (the
contract's "output") and the features (the output just before them in network order, the
penultimate layer that learn.py works on).
"""

from __future__ import annotations

import js
import numpy as np
from pyodide.ffi import to_js


class ModelError(RuntimeError):
    """The model is missing, corrupt or does not match its contract."""


class Classifier:
    """The model's session (in model-worker.js, through ort-session.js) plus its contract."""

    def __init__(self, model, contract: dict) -> None:
        self.model = model  # ort-session.js: run() on the model's own thread
        self.contract = contract
        self.input_name = contract["input"]["name"]
        self.input_shape = [int(d) for d in contract["input"]["shape"][1:]]  # batch is dynamic
        outputs = [output["name"] for output in contract["outputs"]]
        self.probs = contract["output"]["name"]
        self.features = outputs[outputs.index(self.probs) - 1]
        self.runs: list[dict] = []  # {batch, fetches} of each run, cleared by the caller

    @classmethod
    async def load(cls, ort_session) -> Classifier:
        """Await ort-session.js's download and session (model-worker.js has already warmed it
        up), check the sha256."""
        loaded = await ort_session.loaded
        contract = loaded.contract.to_py()
        digest = loaded.sha256
        if digest != contract["sha256"]:
            raise ModelError(
                f"model/{contract['file']} is corrupt or out of date (sha256 {digest[:12]}…, "
                f"expected {contract['sha256'][:12]}…); rebuild it with `python -m build_model`"
            )
        if loaded.error is not None:
            raise ModelError(f"model/{contract['file']} could not be loaded: {loaded.error}")
        return cls(ort_session, contract)

    async def run(self, batch: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
        """One run over a batch (N, 28, 28[, 1]) of images (1 = ink) -> {output name: array}.

        Only the named outputs are fetched: onnxruntime-web computes just what they need, so the
        per-stroke ["probs", "features"] run costs no more than the probabilities alone.
        """
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        self.runs.append({"batch": len(batch), "fetches": list(names)})
        dims = to_js([len(batch), *self.input_shape])
        data = js.Float32Array.new(to_js(batch.ravel()))
        outputs = await self.model.run(self.input_name, data, dims, to_js(names))
        arrays = {}
        for name in names:
            result = getattr(outputs, name)
            data = np.asarray(result.data.to_py(), dtype=np.float32)
            arrays[name] = data.reshape([int(d) for d in result.dims.to_py()])
        return arrays
