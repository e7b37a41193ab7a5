"""Page start-up in headless Chromium: canvas interactive, ready cold / warm, bytes, waterfall.

Each repetition launches Chromium with a new temporary user-data-dir (cold: empty HTTP and
compiled-wasm caches), loads the page until <body data-state="ready">, closes the browser, then
launches it again on the same profile and loads the page once more (warm: a returning visitor).
Times come from the page's own clock (performance.now(), 0 = navigation start):

- interactive: when app.js assigns `window.mnistDraw` (its last statement; the Drawing and its
  pointer listeners exist by then), caught by a setter the init script puts on `window`;
- ready: the first `data-state="ready"`, caught by a MutationObserver.

Bytes are CDP Network.loadingFinished encodedDataLength (compressed bytes on the wire, headers
included; 0 for disk-cache hits), per URL path.
"""

from __future__ import annotations

import contextlib
import tempfile
import urllib.parse

import serve  # noqa: I001 - tests.conftest puts the repository root on sys.path
import vendor
from benchmarks import ROOT
from tests.conftest import CHROMIUM, CHROMIUM_ARGS

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
    """serve.py's server on a free loopback port in a thread; yields its base URL."""
    vendor.ensure_vendored(quiet=True)
    server = serve.make_server(ROOT / "site", "127.0.0.1", 0, quiet=True, overrides=overrides)
    serve.start_in_thread(server)
    try:
        yield server.url
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
        if response.get("fromDiskCache") or response.get("fromPrefetchCache"):
            self.cached.add(event["requestId"])

    def _finished(self, event):
        self.bytes[event["requestId"]] = int(event["encodedDataLength"])

    def per_path(self) -> dict[str, int]:
        """{URL path: bytes} (summed if a path was requested more than once)."""
        out: dict[str, int] = {}
        for rid, size in self.bytes.items():
            url = self.urls.get(rid, "?")
            if url.startswith("http"):
                path = urllib.parse.urlsplit(url).path
                out[path] = out.get(path, 0) + size
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def load_once(playwright, profile: str, url: str) -> dict:
    """Launch Chromium on `profile`, load `url` until ready; times, bytes and waterfall."""
    context = playwright.chromium.launch_persistent_context(
        profile, viewport=VIEWPORT, **launch_options()
    )
    try:
        context.add_init_script(INIT_SCRIPT)
        page = context.pages[0] if context.pages else context.new_page()
        network = NetworkLog(context.new_cdp_session(page))
        page.goto(url, wait_until="commit")
        page.wait_for_function(
            "window.__bench && (window.__bench.ready !== null || window.__bench.error !== null)",
            timeout=READY_TIMEOUT_MS,
        )
        bench = page.evaluate("window.__bench")
        if bench["error"] is not None:
            raise RuntimeError(f"the page reported an error: {bench['error']}")
        page.wait_for_load_state("networkidle")
        return {
            "interactive_ms": bench["interactive"],
            "ready_ms": bench["ready"],
            "events": bench["events"],
            "bytes": network.per_path(),
            "waterfall": page.evaluate(WATERFALL_JS),
        }
    finally:
        context.close()


def cold_and_warm(playwright, url: str, repeats: int) -> list[tuple[dict, dict]]:
    """`repeats` pairs of (cold visit, warm visit), each pair on its own fresh profile."""
    runs = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="mnist-draw-bench-") as profile:
            cold = load_once(playwright, profile, url)
            warm = load_once(playwright, profile, url)
        runs.append((cold, warm))
    return runs
