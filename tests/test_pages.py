"""GitHub Pages and offline: the workflow, assemble.py, and the assembled site as a PWA.

The browser tests serve assemble.py's output from a sub-path (/mnist-draw/, like
https://<user>.github.io/<repo>/) with a plain static server that, like Pages, sends no COOP/COEP
headers and `Cache-Control: max-age=600`. The app must start, recognise a drawn digit, keep
working offline after one visit, and switch cleanly to a new version after a deploy.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import re
import shutil
import threading
import time
from pathlib import Path

import pytest
import yaml
from conftest import PAGE_READY_TIMEOUT_MS, ROOT, SITE, guarded_page

import assemble
from digit_strokes import digit_paths, place

WORKFLOW = ROOT / ".github" / "workflows" / "pages.yml"
SUBPATH = "mnist-draw"
CACHE_PREFIX = f"mnist-draw:/{SUBPATH}/:"
STARTED = "body[data-state=ready], body[data-state=error]"


# --- the workflow -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_workflow_triggers_permissions_and_concurrency(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert triggers["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in triggers
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert workflow["concurrency"]["group"] == "pages"


def test_workflow_uses_the_official_actions_in_order(workflow):
    uses = [step["uses"].split("@")[0] for step in steps(workflow) if "uses" in step]
    expected = [
        "actions/checkout",
        "actions/setup-python",
        "actions/setup-node",
        "actions/configure-pages",
        "actions/upload-pages-artifact",
        "actions/deploy-pages",
    ]
    assert [u for u in uses if u in expected] == expected
    by_action = {step["uses"].split("@")[0]: step for step in steps(workflow) if "uses" in step}
    assert str(by_action["actions/setup-python"]["with"]["python-version"]) == "3.11"
    assert str(by_action["actions/setup-node"]["with"]["node-version"]) == "20"
    assert by_action["actions/upload-pages-artifact"]["with"]["path"].rstrip("/") == "dist"


def test_workflow_builds_like_a_developer_and_does_not_train(workflow):
    runs = [step["run"] for step in steps(workflow) if "run" in step]
    assert any(run.startswith("npm ci") for run in runs)
    order = [
        i
        for needle in ("npm ci", "python vendor.py", "python assemble.py --out dist/")
        for i, run in enumerate(runs)
        if run.startswith(needle)
    ]
    assert len(order) == 3 and order == sorted(order), runs
    assert not any("build_model" in run or "train" in run for run in runs)


def test_workflow_deploy_job(workflow):
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    step = next(s for s in deploy["steps"] if s.get("uses", "").startswith("actions/deploy-pages"))
    assert deploy["environment"]["url"] == f"${{{{ steps.{step['id']}.outputs.page_url }}}}"


# --- assemble.py --------------------------------------------------------------------------------


def assemble_into(folder: Path) -> dict:
    return assemble.assemble(folder)


@pytest.fixture(scope="module")
def dist(vendored, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("www") / SUBPATH
    assemble_into(out)
    return out


def test_assembled_site_is_complete_and_clean(dist):
    precache = assemble.read_precache(dist / "precache.js")
    deployed = {p.relative_to(dist).as_posix() for p in dist.rglob("*") if p.is_file()}
    source = {p.as_posix() for p in assemble.site_files(SITE)}
    assert deployed == source | {"precache.js"}
    assert not [p for p in deployed if p.endswith((".gz", ".pyc")) or "/." in f"/{p}"]
    assert set(precache["files"]) == deployed - {"sw.js", "precache.js"}
    for path, digest in precache["files"].items():
        assert hashlib.sha256((dist / path).read_bytes()).hexdigest() == digest, path
    assert precache["bytes"] == sum((dist / p).stat().st_size for p in precache["files"])
    assert max((dist / p).stat().st_size for p in deployed) < 100 * 1024 * 1024
    for needed in (
        "index.html",
        "sw.js",
        "offline.js",
        "manifest.webmanifest",
        "model/model.json",
        "model/mnist_cnn.onnx",
        "vendor/pyodide/pyodide.asm.wasm",
        "vendor/pyodide/numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl",
        "vendor/ort/ort-wasm-simd-threaded.wasm",
        "vendor/pyscript/core.js",
    ):
        assert needed in deployed, needed
    print(f"precache: {len(precache['files'])} files, {precache['bytes']} bytes")


def test_precache_version_is_a_content_hash(dist, tmp_path):
    first = assemble.read_precache(dist / "precache.js")
    assert re.fullmatch(r"[0-9a-f]{16}", first["version"])
    assert assemble.precache_manifest(SITE) == first  # same list as serve.py's on-the-fly one
    copy = tmp_path / "copy"
    shutil.copytree(dist, copy)
    assert assemble.write_precache(copy)["version"] == first["version"]
    with open(copy / "style.css", "a") as f:
        f.write("/* changed */\n")
    assert assemble.write_precache(copy)["version"] != first["version"]
    changed_css = assemble.read_precache(copy / "precache.js")
    (copy / "sw.js").write_text((copy / "sw.js").read_text() + "\n")
    changed_sw = assemble.write_precache(copy)
    assert changed_sw["version"] != changed_css["version"]  # sw.js counts in the version...
    assert changed_sw["files"] == changed_css["files"]  # ...but is not precached itself


def test_serve_py_generates_the_same_precache_list(site_server):
    import urllib.request

    with urllib.request.urlopen(site_server.url + "precache.js") as response:
        assert response.headers["Content-Type"].startswith("text/javascript")
        body = response.read().decode()
    assert body == assemble.precache_script(SITE)


def test_manifest_and_icons(dist):
    from PIL import Image

    manifest = json.loads((dist / "manifest.webmanifest").read_text())
    assert manifest["start_url"] == "./" and manifest["scope"] == "./"
    assert manifest["display"] == "standalone"
    assert manifest["name"] and manifest["short_name"]
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["background_color"])
    sizes = {}
    for icon in manifest["icons"]:
        path = dist / icon["src"]
        assert path.is_file(), icon["src"]
        if icon["type"] == "image/png":
            with Image.open(path) as image:
                width, height = image.size
            assert icon["sizes"] == f"{width}x{height}"
            sizes[icon["purpose"], width] = icon["src"]
        else:
            assert path.read_text().startswith("<svg")
    assert {("any", 192), ("any", 512)} <= set(sizes)
    html = (dist / "index.html").read_text()
    assert '<link rel="manifest" href="./manifest.webmanifest">' in html
    assert f'<meta name="theme-color" content="{manifest["theme_color"]}">' in html
    assert '<script type="module" src="./offline.js"></script>' in html


def fake_root(tmp_path: Path, *, vendor_dir: bool = True, model: str | None = "ok") -> Path:
    """A repository root for check_inputs(): real runtime inputs, chosen vendor/model state."""
    root = tmp_path / "repo"
    (root / "site" / "model").mkdir(parents=True)
    shutil.copy(ROOT / "package-lock.json", root)
    shutil.copytree(ROOT / "runtime", root / "runtime")
    if vendor_dir:
        (root / "site" / "vendor").symlink_to(SITE / "vendor")
    if model is not None:
        shutil.copy(SITE / "model" / "model.json", root / "site" / "model")
        onnx = (SITE / "model" / "mnist_cnn.onnx").read_bytes()
        (root / "site" / "model" / "mnist_cnn.onnx").write_bytes(onnx + b"x" * (model == "bad"))
    return root


def test_assemble_fails_clearly_without_runtime_or_model(vendored, tmp_path):
    with pytest.raises(assemble.AssembleError, match=r"vendor.* missing.*python vendor\.py"):
        assemble.assemble(tmp_path / "out", fake_root(tmp_path / "a", vendor_dir=False))
    with pytest.raises(assemble.AssembleError, match=r"model\.json is missing"):
        assemble.assemble(tmp_path / "out", fake_root(tmp_path / "b", model=None))
    with pytest.raises(assemble.AssembleError, match=r"sha256"):
        assemble.assemble(tmp_path / "out", fake_root(tmp_path / "c", model="bad"))
    incomplete = fake_root(tmp_path / "d", vendor_dir=False)
    (incomplete / "site" / "vendor").mkdir()
    shutil.copy(SITE / "vendor" / ".stamp.json", incomplete / "site" / "vendor")
    with pytest.raises(assemble.AssembleError, match=r"incomplete.*vendor\.py --force"):
        assemble.assemble(tmp_path / "out", incomplete)
    assert not (tmp_path / "out").exists()
    assemble.check_inputs(fake_root(tmp_path / "e"))  # the good case passes


def test_assemble_never_deletes_a_foreign_folder(vendored, tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    with pytest.raises(assemble.AssembleError, match="refusing to delete"):
        assemble.assemble(precious)
    assert (precious / "thesis.tex").read_text() == "years of work"


def test_assemble_command_line(vendored, tmp_path, capsys):
    assert assemble.main(["--out", str(tmp_path / "dist")]) == 0
    assert "precache version" in capsys.readouterr().out
    assert assemble.main(["--out", str(tmp_path / "dist")]) == 0  # re-assembling replaces it
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("")
    assert assemble.main(["--out", str(tmp_path / "other")]) == 1
    assert "refusing" in capsys.readouterr().err


# --- the assembled site in Chromium -------------------------------------------------------------


class PagesLikeHandler(http.server.SimpleHTTPRequestHandler):
    """Plain static files, Pages-like headers: no COOP/COEP, ten minutes of HTTP caching."""

    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".mjs": "text/javascript",
        ".js": "text/javascript",
        ".webmanifest": "application/manifest+json",
    }

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "max-age=600")
        super().end_headers()

    def log_message(self, format, *args) -> None:  # noqa: A002 - stdlib signature
        self.server.paths.append(self.path)


class StaticServer:
    def __init__(self, www: Path):
        handler = functools.partial(PagesLikeHandler, directory=str(www))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.paths = []
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/{SUBPATH}/"

    @property
    def paths(self) -> list[str]:
        return self.httpd.paths

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def pages(vendored, tmp_path):
    """A fresh assembled site (tests may change it) served from /mnist-draw/."""
    out = tmp_path / "www" / SUBPATH
    assemble_into(out)
    server = StaticServer(out.parent)
    server.dist = out
    yield server
    server.close()


@pytest.fixture
def app_page(browser, request):
    """A fresh context + page with the PageGuard attached (checked and screenshotted at the end)."""
    with guarded_page(browser, request.node.nodeid, viewport={"width": 900, "height": 800}) as cpg:
        yield cpg


def wait_started(page) -> None:
    """Wait for the app to report ready (survives the refresh a version hand-over does)."""
    page.locator(STARTED).wait_for()
    state = page.evaluate("document.body.dataset.state")
    assert state == "ready", page.locator("#status").inner_text()


def draw_and_predict(page, digit: int) -> str:
    page.keyboard.press("Escape")
    box = page.locator("[data-testid=canvas]").bounding_box()
    side = box["width"]
    for stroke in place(digit_paths(digit, "hand"), side, 0.6, (side / 2, side / 2)):
        page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y)
        page.mouse.up()
    page.wait_for_function("window.mnistDraw.settled()")
    shown = page.locator("[data-testid=prediction]").inner_text()
    # The deployed model really ran: CPython's onnxruntime agrees on the input the page used.
    model_input = page.evaluate("Array.from(window.mnistDraw.last.modelInput)")
    assert shown == str(reference_prediction(model_input))
    return shown


@functools.cache
def reference_session():
    import onnxruntime

    return onnxruntime.InferenceSession(str(SITE / "model" / "mnist_cnn.onnx"))


def reference_prediction(model_input: list[float]) -> int:
    import numpy as np

    session = reference_session()
    x = np.asarray(model_input, dtype=np.float32).reshape(1, 28, 28, 1)
    return int(session.run(None, {session.get_inputs()[0].name: x})[0].argmax())


def wait_controlled(page) -> None:
    """Wait until the service worker controls the page (it claims only after a full install)."""
    page.wait_for_function("navigator.serviceWorker.controller !== null")


def poll(page, async_predicate: str, timeout_s: float = PAGE_READY_TIMEOUT_MS / 1000) -> None:
    """Wait until an async page function returns true (page.evaluate awaits its promise)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(async_predicate):
        assert time.monotonic() < deadline, f"timed out waiting for {async_predicate}"
        time.sleep(0.1)


def app_caches(page) -> list[str]:
    return page.evaluate(
        f"async () => (await caches.keys()).filter((name) => name.startsWith({CACHE_PREFIX!r}))"
    )


def cache_is_complete(page, name: str) -> bool:
    return page.evaluate(
        "async (name) => Boolean(await caches.match('__precache__.json', {cacheName: name}))",
        name,
    )


@pytest.mark.browser
def test_pages_build_runs_from_a_subpath_without_isolation_headers(pages, app_page):
    context, page, guard = app_page
    page.goto(pages.url)
    wait_started(page)
    assert page.evaluate("crossOriginIsolated") is False
    assert draw_and_predict(page, 3) == "3"
    assert draw_and_predict(page, 7) == "7"
    requested = [u for u in guard.requests if u.startswith(pages.url)]
    assert f"{pages.url}vendor/ort/ort-wasm-simd-threaded.wasm" in requested
    assert all(path.startswith(f"/{SUBPATH}/") for path in pages.paths), pages.paths
    manifest = page.evaluate(
        "async () => (await fetch(document.querySelector('link[rel=manifest]').href)).json()"
    )
    assert manifest["short_name"] == "MNIST-Draw"


def visit_until_cached(page, pages) -> str:
    """Open the app, wait until the service worker controls it; return the expected cache name."""
    page.goto(pages.url)
    wait_started(page)
    wait_controlled(page)
    return CACHE_PREFIX + assemble.read_precache(pages.dist / "precache.js")["version"]


@pytest.mark.browser
def test_works_offline_after_one_visit(pages, app_page):
    context, page, guard = app_page
    cache = visit_until_cached(page, pages)
    assert app_caches(page) == [cache]
    assert cache_is_complete(page, cache)

    served_before = len(pages.paths)
    context.set_offline(True)
    page.reload()
    wait_started(page)
    assert page.evaluate("navigator.onLine") is False
    assert draw_and_predict(page, 4) == "4"
    assert draw_and_predict(page, 2) == "2"
    # Nothing the page asked for reached the server. (The browser's own update check of sw.js and
    # precache.js bypasses Playwright's offline emulation; truly offline it fails quietly.)
    update_check = (f"/{SUBPATH}/sw.js", f"/{SUBPATH}/precache.js")
    assert [p for p in pages.paths[served_before:] if p not in update_check] == []
    context.set_offline(False)


@pytest.mark.browser
def test_a_new_version_replaces_the_old_one_whole(pages, app_page):
    context, page, guard = app_page
    old = visit_until_cached(page, pages)
    assert app_caches(page) == [old]

    # Deploy a change: one app file differs, so the precache version changes.
    css = pages.dist / "style.css"
    css.write_text(css.read_text() + "\n/* deploy 2 */\n")
    stat = css.stat()
    os.utime(css, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))  # a later mtime
    new = CACHE_PREFIX + assemble.write_precache(pages.dist)["version"]
    assert new != old
    served_before = len(pages.paths)

    # The next load is still entirely the old version; meanwhile the new one installs.
    page.reload()
    wait_started(page)
    assert "deploy 2" not in page.evaluate("async () => (await fetch('./style.css')).text()")
    poll(page, "async () => Boolean((await navigator.serviceWorker.getRegistration())?.waiting)")
    assert set(app_caches(page)) == {old, new}
    assert cache_is_complete(page, new)
    fetched = {p for p in pages.paths[served_before:] if not p.endswith(("/sw.js", "/precache.js"))}
    # Unchanged files were copied from the old cache; the page's own reload may revalidate a few
    # app files with the server, but the runtime's files are not downloaded again (online, the
    # .wasm files are the HTTP cache's, which this plain server can only revalidate: sw.js).
    assert f"/{SUBPATH}/style.css" in fetched
    assert not any("/vendor/" in p and not p.endswith(".wasm") for p in fetched), fetched

    # A reload of the only open page hands over to the new version and drops the old cache.
    page.reload()
    wait_started(page)
    assert "deploy 2" in page.evaluate("async () => (await fetch('./style.css')).text()")
    assert app_caches(page) == [new]
    assert draw_and_predict(page, 9) == "9"


@pytest.mark.browser
def test_app_still_works_when_the_service_worker_cannot_register(pages, app_page):
    """A missing sw.js costs offline mode only: offline.js warns, the app runs as before."""
    context, page, guard = app_page
    (pages.dist / "sw.js").unlink()
    # Chromium itself reports the failed script fetch; offline.js only adds a warning.
    guard.expect_error(r"HTTP 404 .*/sw\.js")
    guard.expect_error(r"bad HTTP response code \(404\) .*fetching the script")
    page.goto(pages.url)
    wait_started(page)
    assert draw_and_predict(page, 1) == "1"
    deadline = time.monotonic() + 30
    while not any(
        kind == "warning" and "Offline mode unavailable" in text for kind, text in guard.console
    ):
        assert time.monotonic() < deadline, guard.console
        time.sleep(0.1)
    assert page.evaluate("navigator.serviceWorker.controller") is None
    assert page.evaluate("document.body.dataset.state") == "ready"
