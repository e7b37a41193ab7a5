"""Page start-up in headless Chromium: canvas interactive, ready cold / warm, bytes, waterfall.

Each repetition launches Chromium with a new temporary user-data-dir (cold: empty HTTP and
compiled-wasm caches), loads the page until <body data-state="ready">, closes the browser, then
launches it again on the same profile and loads the page once more (warm: a returning visitor).
Times come from the page's own clock (performance.now(), 0 = navigation start):

- interactive: when app.js assigns `window.mnistDraw` (its last statement; the Drawing and its
  pointer listeners exist by then), caught by a setter the init script puts on `window`;
- ready: the first `data-state="ready"`, caught by a MutationObserver.

- longest task: the longest main-thread task (Long Tasks API, an observer the init script
  starts before any page script) that started before ready.

Bytes, two views:

- `server`: what serve.py sent (its `sent` list) from navigation until ready, per URL path,
  with what GitHub Pages would send (gzip -6 per file, see transfer.py). It includes requests
  made inside Web Workers, which page-level CDP does not see. `server_bodies` counts every body
  sent during the visit, including a service worker's precache downloads after ready: for the
  app, the visit waits (up to 60 s) for a registered service worker to become active.
- `bytes` (CDP, the page target only): Network.loadingFinished encodedDataLength per URL path
  (compressed bytes on the wire, headers included; 0 for disk-cache and service-worker hits).

The same function loads the reference pages (pages.py), without the service-worker wait.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import tempfile
import urllib.parse

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from benchmarks import ROOT, transfer


def _conftest():
    """tests/conftest.py loaded by path: a `tests` package installed by another distribution
    (tf2onnx ships one) would shadow `import tests.conftest`, our tests/ having no __init__.py."""
    name = "mnist_draw_tests_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "conftest.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)  # also puts the repository root on sys.path
    return sys.modules[name]


CHROMIUM, CHROMIUM_ARGS = _conftest().CHROMIUM, _conftest().CHROMIUM_ARGS

import serve  # noqa: E402 - on sys.path once conftest ran
import vendor  # noqa: E402

VIEWPORT = {"width": 900, "height": 700}
READY_TIMEOUT_MS = 90_000

# Runs before any page script. Records start-up milestones in window.__bench.
INIT_SCRIPT = r"""
(() => {
  const bench = (window.__bench = { interactive: null, ready: null, error: null, events: [] });
  const mark = (name) => bench.events.push([name, performance.now()]);
  let app;
  Object.defineProperty(window, "mnistDraw", {
    configurable: true,
    get: () => app,
    set: (value) => {
      app = value;
      if (bench.interactive === null) { bench.interactive = performance.now(); mark("mnistDraw"); }
    },
  });
  new MutationObserver(() => {
    const state = document.body && document.body.dataset.state;
    if (state === "ready" && bench.ready === null) bench.ready = performance.now();
    if (state === "error" && bench.error === null) {
      bench.error = document.getElementById("status").textContent;
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-state"] });
  // Main-thread tasks over 50 ms (the Long Tasks API; workers' tasks are not reported).
  bench.longtasks = [];
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) bench.longtasks.push([e.startTime, e.duration]);
    }).observe({ type: "longtask", buffered: true });
  } catch (error) {
    bench.longtasks = null; // not supported: reported as not measured
  }
  addEventListener("py:progress", (e) => mark(`py:progress ${e.detail}`));
  for (const kind of ["py:ready", "py:done", "py:all-done"]) {
    addEventListener(kind, () => mark(kind));
  }
})();
"""

WATERFALL_JS = """() => performance.getEntriesByType("resource").map((e) => ({
  name: new URL(e.name).pathname, initiator: e.initiatorType,
  start: e.startTime, response_start: e.responseStart, end: e.responseEnd,
  transfer: e.transferSize, encoded: e.encodedBodySize, decoded: e.decodedBodySize}))"""


@contextlib.contextmanager
def served_site(overrides: dict | None = None):
    """serve.py's server on a free loopback port in a thread; yields it (`.url`, `.sent`)."""
    vendor.ensure_vendored(quiet=True)
    server = serve.make_server(ROOT / "site", "127.0.0.1", 0, quiet=True, overrides=overrides)
    # Per-visit byte accounting slices this list by position (transfer.sent_since): keep every
    # entry of this short-lived server even if serve.py bounds its own log for long sessions.
    server.sent = []
    serve.start_in_thread(server)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def launch_options() -> dict:
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


class NetworkLog:
    """Bytes per request from CDP Network events of one page."""

    def __init__(self, cdp):
        self.urls: dict[str, str] = {}
        self.bytes: dict[str, int] = {}
        self.cached: set[str] = set()
        cdp.on("Network.requestWillBeSent", self._request)
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.send("Network.enable")

    def _request(self, event):
        self.urls[event["requestId"]] = event["request"]["url"]

    def _response(self, event):
        response = event["response"]
        if any(
            response.get(k) for k in ("fromDiskCache", "fromPrefetchCache", "fromServiceWorker")
        ):
            self.cached.add(event["requestId"])

    def _finished(self, event):
        rid = event["requestId"]
        self.bytes[rid] = 0 if rid in self.cached else int(event["encodedDataLength"])

    def per_path(self) -> dict[str, int]:
        """{URL path: bytes} (summed if a path was requested more than once)."""
        out: dict[str, int] = {}
        for rid, size in self.bytes.items():
            url = self.urls.get(rid, "?")
            if url.startswith("http"):
                path = urllib.parse.urlsplit(url).path
                out[path] = out.get(path, 0) + size
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))


# Resolves "active" once a registered service worker has installed (precached) and activated,
# "none" if the page registered none within 3 s, "timeout" after 60 s.
SERVICE_WORKER_JS = """async () => {
  if (!navigator.serviceWorker) return "unsupported";
  const start = Date.now();
  while (Date.now() - start < 60000) {
    const reg = await navigator.serviceWorker.getRegistration();
    if (!reg && Date.now() - start > 3000) return "none";
    if (reg && reg.active && !reg.installing && !reg.waiting) return "active";
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return "timeout";
}"""


def locate(server, url_path: str):
    """The file serve.py serves for a URL path (an override or a file in site/), or None."""
    return server.overrides.get(url_path) or serve.resolve(server.root, url_path)


def longest_task(longtasks: list | None, until: float) -> float | None:
    """Duration of the longest task that started before `until` (0 if none; None if unknown)."""
    if longtasks is None:
        return None
    return max((duration for start, duration in longtasks if start < until), default=0.0)


# The compute worker's start-up stages (engine.js bootMarks(): [[stage, epoch ms], ...]) on the
# page's clock, as ["worker <stage>", ms] events; null for pages without the app's engine
# (app.js exposes it as window.mnistDraw.engine; window.__engine in its first worker version).
WORKER_MARKS_JS = """async () => {
  const engine = (window.mnistDraw && window.mnistDraw.engine) || window.__engine;
  if (!engine || !engine.bootMarks) return null;
  const marks = await engine.bootMarks();
  return [...marks].map(([stage, t]) => [`worker ${stage}`, t - performance.timeOrigin]);
}"""

# What the app's engine did about its Pyodide memory snapshot (engine.js `snapshot`): a cold
# visit waits here until it has saved one, so that the warm visit can restore it, as a
# returning visitor's would; null for pages without the app's engine.
SNAPSHOT_JS = """() => {
  const engine = window.mnistDraw && window.mnistDraw.engine;
  return (engine && engine.snapshot) || null;
}"""

READY_JS = "window.__bench && (window.__bench.ready !== null || window.__bench.error !== null)"
AFTER_ERROR_MS = 5_000


def wait_until_ready(page, page_errors: list[str]) -> None:
    """Wait for ready (or the page's error state); give up 5 s after an uncaught page error.

    Some start-up failures (e.g. inside PyScript's loader) never reach the page's own error
    handling: without this, they would cost the whole READY_TIMEOUT_MS and say nothing.
    """
    waited, step = 0, 500
    first_error_at = None
    while True:
        try:
            page.wait_for_function(READY_JS, timeout=step)
            return
        except PlaywrightTimeout:
            waited += step
        if page_errors and first_error_at is None:
            first_error_at = waited
        if first_error_at is not None and waited - first_error_at >= AFTER_ERROR_MS:
            raise RuntimeError(f"{page.url} failed to start: {page_errors[0]}")
        if waited >= READY_TIMEOUT_MS:
            raise RuntimeError(f"{page.url} not ready after {READY_TIMEOUT_MS} ms")


def load_once(
    playwright, profile: str, server, path: str = "/", service_worker: bool = True
) -> dict:
    """Launch Chromium on `profile`, load `path` until ready; times, bytes and waterfall."""
    context = playwright.chromium.launch_persistent_context(
        profile, viewport=VIEWPORT, **launch_options()
    )
    try:
        context.add_init_script(INIT_SCRIPT)
        page = context.pages[0] if context.pages else context.new_page()
        network = NetworkLog(context.new_cdp_session(page))
        sent_before = len(server.sent)
        page_errors: list[str] = []
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        page.goto(server.url + path.lstrip("/"), wait_until="commit")
        wait_until_ready(page, page_errors)
        sent_at_ready = len(server.sent)
        bench = page.evaluate("window.__bench")
        if bench["error"] is not None:
            raise RuntimeError(f"the page reported an error: {bench['error']}")
        page.wait_for_load_state("networkidle")
        page_bytes = network.per_path()  # up to ready (+ idle), before any worker precaching
        waterfall = page.evaluate(WATERFALL_JS)
        longtasks = page.evaluate("window.__bench.longtasks")  # delivered by now
        worker_marks = page.evaluate(WORKER_MARKS_JS)
        worker = page.evaluate(SERVICE_WORKER_JS) if service_worker else "not awaited"
        snapshot = page.evaluate(SNAPSHOT_JS)
        page.wait_for_load_state("networkidle")
        until_ready = transfer.sent_since(server, sent_before)[: sent_at_ready - sent_before]
        return {
            "interactive_ms": bench["interactive"],
            "ready_ms": bench["ready"],
            "longest_task_ms": longest_task(longtasks, bench["ready"]),
            "long_tasks": [t for t in longtasks or [] if t[0] < bench["ready"]],
            "events": bench["events"] + (worker_marks or []),
            "bytes": page_bytes,
            "server": transfer.visit_bytes(until_ready, lambda p: locate(server, p)),
            "server_bodies": sum(size for _, size in transfer.sent_since(server, sent_before)),
            "service_worker": worker,
            "snapshot": snapshot,
            "waterfall": waterfall,
        }
    finally:
        context.close()


def cold_and_warm(
    playwright,
    server,
    repeats: int,
    pages: dict[str, str] | None = None,
    failures: dict[str, str] | None = None,
) -> dict[str, list[tuple[dict, dict]]]:
    """{page name: `repeats` (cold visit, warm visit) pairs}, each pair on a fresh profile.

    Pages are interleaved (app, ort, pyscript, app, ...) so that a noisy stretch of the machine
    hits all of them alike. Only the app (path "/") waits for its service worker.
    A reference page that fails to start is dropped from the later repetitions and its error
    kept in `failures` (the app's own failure is raised: nothing else could be measured).
    """
    pages = dict(pages or {"app": "/"})
    failures = {} if failures is None else failures
    runs: dict[str, list[tuple[dict, dict]]] = {name: [] for name in pages}
    for _ in range(repeats):
        for name, path in list(pages.items()):
            with tempfile.TemporaryDirectory(prefix="mnist-draw-bench-") as profile:
                try:
                    pair = tuple(
                        load_once(playwright, profile, server, path, service_worker=path == "/")
                        for _ in range(2)
                    )
                except RuntimeError as error:
                    if path == "/":
                        raise
                    failures[name] = str(error)
                    del pages[name]
                    continue
            runs[name].append(pair)
    return runs
