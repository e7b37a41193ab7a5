"""Shared fixtures: the site served from a thread, and real Chromium pages that must stay clean.

- `site_server` / `site_url` (session): vendors the runtime if needed (vendor.py), serves site/
  with serve.py on a free loopback port (`site_server.overrides` can map extra URL paths to
  files, `site_server.sent` lists bodies sent) and yields it / its base URL.
- `browser` (session): Chromium at /usr/bin/chromium (or $CHROMIUM) through Playwright's sync API;
  a missing browser is a test failure with instructions, never a skip.
- `vendored` (session): site/vendor/, vendored first if needed.
- `guarded_page(browser, name, **context_options)`: the context manager behind `page`, for tests
  that need their own context (module-scoped pages, phones, touch).
- `page` + `page_guard`: a fresh context and page whose requests, console messages and page
  errors are recorded. In teardown the test fails on any request to a non-loopback address, any
  console error, any uncaught page error and any HTTP status >= 400, except for what the test
  declared with `page_guard.expect_error(regex)` (and then that error must have happened). A
  screenshot is saved to artifacts/screenshots/.

Browser tests are marked `@pytest.mark.browser`.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # serve.py and vendor.py live at the top level

import serve  # noqa: E402
import vendor  # noqa: E402

pytest_plugins = ["pytester"]

SITE = ROOT / "site"
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Safety net: anything not on loopback goes to a dead local proxy, so a stray external URL
    # is recorded (and fails the test) but never leaves the machine. Loopback bypasses proxies.
    "--proxy-server=http://127.0.0.1:9",
]
PAGE_READY_TIMEOUT_MS = 90_000  # a cold Pyodide + numpy + ORT start takes ~8 s on 2 cores


def run_in_pyodide(vendored: Path, script: Path) -> dict:
    """Run `script` under the vendored Pyodide (with its numpy) in Node; its last line of output,
    parsed as JSON (tests/pyodide_run.mjs prints the script's final expression)."""
    result = subprocess.run(
        [
            "node",
            str(ROOT / "tests" / "pyodide_run.mjs"),
            str(vendored / "pyodide"),
            "numpy",
            str(script),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def is_loopback_url(url: str) -> bool:
    """True for URLs that cannot leave the machine: loopback hosts and non-network schemes."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https", "ws", "wss", "ftp"):
        return True  # data:, blob:, about:, chrome-error: ...
    host = (parts.hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class PageGuard:
    """What a page did, and the check that fails a test on anything suspicious."""

    requests: list[str] = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)  # (type, text)
    page_errors: list[str] = field(default_factory=list)
    http_errors: list[str] = field(default_factory=list)
    expected: list[re.Pattern] = field(default_factory=list)

    def attach(self, context, page) -> None:
        context.on("request", lambda request: self.requests.append(request.url))
        context.on(
            "response",
            lambda r: r.status >= 400 and self.http_errors.append(f"HTTP {r.status} {r.url}"),
        )
        page.on("console", lambda msg: self.console.append((msg.type, msg.text)))
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))

    def expect_error(self, pattern: str) -> None:
        """Declare an error this test provokes on purpose (a regex searched in each problem)."""
        self.expected.append(re.compile(pattern))

    @property
    def console_errors(self) -> list[str]:
        return [text for kind, text in self.console if kind == "error"]

    def all_problems(self) -> list[str]:
        external = [u for u in self.requests if not is_loopback_url(u)]
        return (
            [f"request to a non-loopback address: {url}" for url in external]
            + [f"console error: {text}" for text in self.console_errors]
            + [f"uncaught page error: {text}" for text in self.page_errors]
            + self.http_errors
        )

    def problems(self) -> list[str]:
        """Problems not excused by expect_error(), plus expected errors that never happened."""
        found = self.all_problems()
        unexpected = [p for p in found if not any(rx.search(p) for rx in self.expected)]
        missing = [
            f"expected error never happened: /{rx.pattern}/"
            for rx in self.expected
            if not any(rx.search(p) for p in found)
        ]
        return unexpected + missing

    def check(self) -> None:
        problems = self.problems()
        if problems:
            raise AssertionError("page guard:\n  " + "\n  ".join(problems))


@pytest.fixture(scope="session")
def vendored() -> Path:
    """site/vendor/, vendored first if missing or stale; a vendoring error fails the test."""
    try:
        vendor.ensure_vendored(quiet=True)
    except vendor.VendorError as exc:
        pytest.fail(f"vendoring failed: {exc}", pytrace=False)
    return SITE / "vendor"


@pytest.fixture(scope="session")
def site_server(vendored):
    """serve.py's server on a free loopback port, in a thread."""
    server = serve.make_server(SITE, "127.0.0.1", 0, quiet=True)
    serve.start_in_thread(server)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def site_url(site_server) -> str:
    return site_server.url


def launch_options() -> dict:
    """Playwright launch kwargs for the system Chromium; fails the test when it is missing."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. Install it with `apt-get update && apt-get install "
            "-y chromium` (never `playwright install`: it downloads browsers), or set $CHROMIUM.",
            pytrace=False,
        )
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="session")
def playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: `pip install -e '.[test]'`", pytrace=False)
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright):
    browser = playwright.chromium.launch(**launch_options())
    yield browser
    browser.close()


@pytest.fixture
def page_guard() -> PageGuard:
    return PageGuard()


def screenshot_path(nodeid: str) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")
    path = ARTIFACTS / "screenshots" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def guarded_page(browser, name: str, guard: PageGuard | None = None, **context_options):
    """A fresh context and page with a PageGuard attached; on exit: screenshot, close, check.

    Yields (context, page, guard). `context_options` go to browser.new_context.
    """
    guard = guard or PageGuard()
    context = browser.new_context(**{"viewport": {"width": 900, "height": 700}, **context_options})
    page = context.new_page()
    page.set_default_timeout(PAGE_READY_TIMEOUT_MS)
    guard.attach(context, page)
    try:
        yield context, page, guard
        try:
            page.screenshot(path=screenshot_path(name))
        except Exception as exc:  # a screenshot failure must not hide the guard's verdict
            print(f"screenshot failed: {exc}")
    finally:
        context.close()
    guard.check()


@pytest.fixture
def page(browser, page_guard, request):
    """A fresh page in a fresh context; teardown screenshots it and runs the guard."""
    with guarded_page(browser, request.node.nodeid, page_guard) as (_, page, _):
        yield page
