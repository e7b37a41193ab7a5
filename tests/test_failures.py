"""Start-up failures in real Chromium: each download that can fail, and a corrupt model.

Every case must end in the error state with a plain sentence for people, a working "Try again"
button and the technical detail in a collapsed <details> — never a hang, never a half-started
page. Requests are answered by Playwright's context routes, which also see the compute
worker's downloads.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

DOWNLOAD_FAILED = "could not be downloaded"
FAILURES = {
    "pyodide-core": "**/vendor/pyodide/pyodide.asm.wasm",
    "pyodide-js": "**/vendor/pyodide/pyodide.asm.js",
    "stdlib": "**/vendor/pyodide/python_stdlib.zip",
    "numpy-wheel": "**/vendor/pyodide/numpy-*.whl",
    "ort-js": "**/vendor/ort/ort.wasm.min.mjs",
    "ort-wasm": "**/vendor/ort/ort-wasm-simd-threaded.wasm",
    "model-worker": "**/model-worker.js*",
    "model": "**/model/mnist_cnn.onnx",
}


def wait_for_error(page) -> dict:
    page.wait_for_function("document.body.dataset.state === 'error'")
    error = page.get_by_test_id("error")
    assert error.is_visible()
    details = error.locator("details")
    assert details.get_attribute("open") is None  # technical detail collapsed
    return {
        "message": page.locator("#error-message").inner_text(),
        "detail": page.locator("#error-detail").text_content(),
    }


@pytest.mark.parametrize("name", FAILURES)
def test_a_failed_download_says_so_plainly(page, page_guard, site_url, name):
    page_guard.expect_error(r"HTTP 404")
    page_guard.expect_error(r".")  # runtimes log their own errors too; the page is what counts
    page.context.route(FAILURES[name], lambda route: route.fulfill(status=404, body="gone"))
    page.goto(site_url)
    shown = wait_for_error(page)
    assert shown["message"].startswith("Part of the app could not be downloaded"), shown
    assert "python -m" not in shown["message"] and "Error" not in shown["message"]
    assert shown["detail"], shown
    # "Try again" reloads; with the server still failing, the same plain error comes back.
    page.get_by_test_id("retry").click()
    assert wait_for_error(page)["message"] == shown["message"]


def test_a_corrupt_model_says_so_plainly(page, site_url):
    page.context.route(
        "**/model/mnist_cnn.onnx", lambda route: route.fulfill(body=b"\x08not onnx" * 50)
    )
    page.goto(site_url)
    shown = wait_for_error(page)
    assert "damaged" in shown["message"], shown
    assert "sha256" in shown["detail"], shown
