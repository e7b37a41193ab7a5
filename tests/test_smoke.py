"""Real Chromium against the served site: the runtime stack works, and the app page starts.

- A runtime-check page (below; served next to index.html through `site_server.overrides`, so
  it uses the same ./vendor/ URLs as the app) proves PyScript + Pyodide + numpy run and
  onnxruntime-web returns the same 10 numbers as CPython's onnxruntime on a stand-in model.
- The real page reaches `data-state="ready"` with no error, cold and warm (persistent
  profile); timings and bytes sent go to artifacts/timings.json.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from conftest import ARTIFACTS, PAGE_READY_TIMEOUT_MS, PageGuard, launch_options, screenshot_path

READY = "document.body.dataset.state !== 'loading'"

CHECK_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>runtime check</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="./vendor/pyscript/core.css">
<script type="module" src="./vendor/pyscript/core.js"></script>
</head><body data-state="loading">
<p id="status">Loading…</p><pre id="output"></pre>
<script type="py" src="./runtime-check.py" config="./runtime-check.toml"></script>
</body></html>
"""
CHECK_TOML = """interpreter = "./vendor/pyodide/pyodide-shim.mjs"
packages = ["numpy"]
packages_cache = "passthrough"

[js_modules.main]
"./vendor/ort/ort.wasm.min.mjs" = "ort"
"""
CHECK_PY = """
import json, sys
import js
import numpy as np
from pyodide.ffi import to_js
from pyscript import document
from pyscript.js_modules import ort

async def main():
    ort.env.wasm.wasmPaths = js.URL.new("./vendor/ort/", js.location.href).href
    ort.env.wasm.numThreads = 1
    session = await ort.InferenceSession.create("./runtime-check.onnx")
    x = np.zeros((1, 28, 28, 1), dtype=np.float32)
    tensor = ort.Tensor.new("float32", to_js(x.ravel()), to_js(list(x.shape)))
    outputs = await session.run(js.Object.fromEntries(to_js([[session.inputNames[0], tensor]])))
    y = np.asarray(outputs.as_object_map()[session.outputNames[0]].data.to_py())
    document.getElementById("output").textContent = json.dumps({
        "python": sys.version.split()[0], "platform": sys.platform,
        "numpy": np.__version__, "output": [float(v) for v in y],
    })
    document.body.dataset.state = "ready"

await main()
"""


def write_stand_in_model(path) -> None:
    """A tiny valid ONNX model with the app's shape contract: [N,28,28,1] float32 -> [N,10]."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    initializers = [
        numpy_helper.from_array(rng.normal(0, 0.01, (784, 10)).astype(np.float32), "w"),
        numpy_helper.from_array(np.arange(10, dtype=np.float32) / 10, "b"),
        numpy_helper.from_array(np.array([-1, 784], dtype=np.int64), "shape"),
    ]
    nodes = [
        helper.make_node("Reshape", ["input", "shape"], ["flat"]),
        helper.make_node("MatMul", ["flat", "w"], ["logits0"]),
        helper.make_node("Add", ["logits0", "b"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["output"], axis=-1),
    ]
    graph = helper.make_graph(
        nodes,
        "stand_in",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 28, 28, 1])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 10])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # readable by every onnxruntime(-web) 1.x
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())


@pytest.fixture(scope="module")
def check_page(site_server, tmp_path_factory) -> str:
    """Serve the runtime-check page and its stand-in model; return the page URL."""
    folder = tmp_path_factory.mktemp("runtime_check")
    files = {"runtime-check.html": CHECK_HTML, "runtime-check.toml": CHECK_TOML}
    files["runtime-check.py"] = CHECK_PY
    for name, text in files.items():
        (folder / name).write_text(text)
    write_stand_in_model(folder / "runtime-check.onnx")
    for path in folder.iterdir():
        site_server.overrides[f"/{path.name}"] = path
    yield site_server.url + "runtime-check.html"
    for path in folder.iterdir():
        site_server.overrides.pop(f"/{path.name}", None)


def open_and_wait(page, url: str) -> float:
    """Load `url`, wait until the page leaves the loading state; return seconds taken."""
    started = time.monotonic()
    page.goto(url)
    page.wait_for_function(READY, timeout=PAGE_READY_TIMEOUT_MS)
    elapsed = time.monotonic() - started
    state = page.evaluate("document.body.dataset.state")
    assert state == "ready", f"page state {state!r}: {page.inner_text('#status')}"
    return elapsed


@pytest.mark.browser
def test_runtime_runs_python_numpy_and_ort(page, page_guard, site_server, check_page):
    open_and_wait(page, check_page)
    result = json.loads(page.inner_text("#output"))

    assert result["platform"] == "emscripten"  # really Pyodide, not a fallback
    assert result["python"].startswith("3.12.")
    assert result["numpy"] == "2.0.2"
    assert len(result["output"]) == 10

    # Same model, same zeros, in CPython's onnxruntime: the browser must agree.
    import onnxruntime

    session = onnxruntime.InferenceSession(str(site_server.overrides["/runtime-check.onnx"]))
    x = np.zeros((1, 28, 28, 1), dtype=np.float32)
    expected = session.run(None, {session.get_inputs()[0].name: x})[0].ravel()
    np.testing.assert_allclose(result["output"], expected, atol=1e-5)

    requested = {url.removeprefix(site_server.url) for url in page_guard.requests}
    assert "vendor/pyodide/numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl" in requested
    assert "vendor/ort/ort-wasm-simd-threaded.wasm" in requested
    assert not any("micropip" in url for url in requested)  # packages_cache = "passthrough"


@pytest.mark.browser
def test_app_page_starts_without_errors(page, site_url):
    open_and_wait(page, site_url)


@pytest.mark.browser
@pytest.mark.slow
def test_cold_and_warm_start_with_a_persistent_profile(playwright, site_server, tmp_path):
    """Second visit with the same profile: vendor files come from the HTTP cache."""
    timings = {}
    for visit in ("cold", "warm"):
        context = playwright.chromium.launch_persistent_context(
            tmp_path / "profile", viewport={"width": 900, "height": 700}, **launch_options()
        )
        guard = PageGuard()
        page = context.pages[0] if context.pages else context.new_page()
        guard.attach(context, page)
        sent_before = len(site_server.sent)
        try:
            seconds = open_and_wait(page, site_server.url)
            page.screenshot(path=screenshot_path(f"smoke_{visit}_start"))
        finally:
            context.close()
        guard.check()
        sent = site_server.sent[sent_before:]
        timings[visit] = {
            "seconds_to_ready": round(seconds, 2),
            "bytes_from_server": sum(size for _, size in sent),
            "responses_with_body": len(sent),
        }

    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "timings.json").write_text(json.dumps(timings, indent=2) + "\n")
    print(json.dumps(timings))
    assert timings["cold"]["bytes_from_server"] > 5_000_000  # the gzip'd runtime was sent
    assert timings["warm"]["bytes_from_server"] < 1_000_000  # vendor/ came from the cache
