"""learn.py + drawings.py + preprocess.py under Pyodide in real Chromium, with the real model in
onnxruntime-web: stored drawings are parsed, rendered, run for `features`, taught (with the
model's reference features, read and checked as the worker does), and adapt new drawings exactly
as CPython does (the worker pipeline's learning step, end to end)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from conftest import PAGE_READY_TIMEOUT_MS
from test_learn import MODEL_DIR

import drawings
import learn
from benchmarks.personal import style_drawing

pytestmark = pytest.mark.browser

HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>learn check</title>
<link rel="icon" href="data:,">
<script type="module" src="./vendor/pyscript/core.js"></script>
</head><body data-state="loading"><pre id="output"></pre>
<script type="py" src="./learn-check.py" config="./learn-check.toml"></script>
</body></html>
"""
TOML = """interpreter = "./vendor/pyodide/pyodide-shim.mjs"
packages = ["numpy"]
packages_cache = "passthrough"

[files]
"./learn.py" = "./learn.py"
"./drawings.py" = "./drawings.py"
"./preprocess.py" = "./preprocess.py"

[js_modules.main]
"./vendor/ort/ort.wasm.min.mjs" = "ort"
"""
PY = """
import json
import js
import numpy as np
from pyodide.ffi import to_js
from pyscript import document
from pyscript.js_modules import ort

import drawings
import learn

async def main():
    ort.env.wasm.wasmPaths = js.URL.new("./vendor/ort/", js.location.href).href
    ort.env.wasm.numThreads = 1
    session = await ort.InferenceSession.create("./learn-check.onnx")

    async def run(x):
        tensor = ort.Tensor.new("float32", to_js(x.ravel()), to_js(list(x.shape)))
        feeds = js.Object.fromEntries(to_js([["input", tensor]]))
        out = (await session.run(feeds, to_js(["probs", "features"]))).as_object_map()
        probs = np.asarray(out["probs"].data.to_py(), dtype=np.float32).reshape(-1, 10)
        feats = np.asarray(out["features"].data.to_py(), dtype=np.float32).reshape(-1, 100)
        return probs, feats

    text = await (await js.fetch("./learn-check.json")).text()
    records = [{**d, "id": i} for i, d in enumerate(drawings.parse_file(text))]
    spec = json.loads(await (await js.fetch("./learn-check-reference.json")).text())
    data = await (await js.fetch("./learn-check-reference.bin")).arrayBuffer()
    taught = learn.TaughtSet("check", learn.Reference.from_bytes(bytes(data.to_py()), spec))
    ids, x = taught.pending(records[:6])
    taught.set_features(ids, (await run(x))[1])
    x, _ = learn.model_inputs(records[6:])
    probs, feats = await run(x)
    adapted = taught.personalizer(records[:6]).adapt(probs, feats)
    document.getElementById("output").textContent = json.dumps(adapted.tolist())
    document.body.dataset.state = "ready"

await main()
"""


def test_learning_under_pyodide_matches_cpython(page, site_server, tmp_path: Path) -> None:
    spec = json.loads((MODEL_DIR / "model.json").read_text())
    if "features" not in [o["name"] for o in spec.get("outputs", [])]:
        pytest.skip(f"{MODEL_DIR}/model.json declares no 'features' output yet")
    rng = np.random.default_rng(21)
    items = [style_drawing("triangle_nine", rng) for _ in range(16)]
    doc = drawings.make_file(items, app="test", model_sha256=spec["sha256"], exported="now")
    files = {
        "learn-check.html": HTML,
        "learn-check.toml": TOML,
        "learn-check.py": PY,
        "learn-check.json": json.dumps(doc),
        "learn-check-reference.json": json.dumps(spec["reference"]),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        site_server.overrides[f"/{name}"] = tmp_path / name
    site_server.overrides["/learn-check.onnx"] = MODEL_DIR / spec["file"]
    reference_file = MODEL_DIR / spec["reference"]["file"]
    site_server.overrides["/learn-check-reference.bin"] = reference_file
    try:
        page.goto(site_server.url + "learn-check.html")
        page.wait_for_function(
            "document.body.dataset.state !== 'loading'", timeout=PAGE_READY_TIMEOUT_MS
        )
        browser_adapted = np.asarray(json.loads(page.inner_text("#output")))
    finally:
        for name in [*files, "learn-check.onnx", "learn-check-reference.bin"]:
            site_server.overrides.pop(f"/{name}", None)

    session = ort.InferenceSession(str(MODEL_DIR / spec["file"]))
    x, labels = learn.model_inputs(drawings.parse_file(json.dumps(doc)))
    probs, feats = session.run(["probs", "features"], {"input": x})
    reference = learn.Reference.from_bytes(reference_file.read_bytes(), spec["reference"])
    expected = learn.Personalizer(feats[:6], labels[:6], reference).adapt(probs[6:], feats[6:])
    np.testing.assert_allclose(browser_adapted, expected, atol=1e-4)
    assert (browser_adapted.argmax(1) == 9).mean() >= 0.9 > (probs[6:].argmax(1) == 9).mean()
