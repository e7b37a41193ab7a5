"""The browser harness itself: its guard must catch external requests and console/page errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from conftest import PageGuard, is_loopback_url

CONFTEST = Path(__file__).resolve().parent / "conftest.py"
EXTERNAL = "https://cdn.example.com/x.js"
BAD_PAGE = f"""<!doctype html><title>bad</title>
<script src="{EXTERNAL}"></script>
<script>console.error("boom from the page")</script>
<script>setTimeout(() => {{ throw new Error("uncaught kaboom") }}, 0)</script>"""


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8000/", True),
        ("http://127.8.9.10/x", True),
        ("http://localhost:5/x", True),
        ("http://[::1]:8000/", True),
        ("data:text/plain,hi", True),
        ("blob:http://127.0.0.1/abc", True),
        ("about:blank", True),
        ("https://cdn.example.com/x.js", False),
        ("http://127.0.0.1.nip.io/", False),
        ("http://10.0.0.1/", False),
        ("http://192.168.1.1/", False),
        ("wss://example.org/socket", False),
        ("http://localhost.example.com/", False),
    ],
)
def test_is_loopback_url(url, loopback):
    assert is_loopback_url(url) is loopback


def test_guard_logic_without_a_browser():
    guard = PageGuard(
        requests=["http://127.0.0.1:1/a", EXTERNAL],
        console=[("log", "fine"), ("warning", "meh"), ("error", "boom")],
        page_errors=["Error: kaboom"],
        http_errors=["HTTP 404 http://127.0.0.1:1/missing"],
    )
    problems = guard.problems()
    assert problems == [
        f"request to a non-loopback address: {EXTERNAL}",
        "console error: boom",
        "uncaught page error: Error: kaboom",
        "HTTP 404 http://127.0.0.1:1/missing",
    ]
    with pytest.raises(AssertionError, match="cdn.example.com"):
        guard.check()

    for pattern in ("cdn\\.example\\.com", "boom", "kaboom", "HTTP 404"):
        guard.expect_error(pattern)
    guard.check()  # everything excused

    guard.expect_error("never happens")
    assert guard.problems() == ["expected error never happened: /never happens/"]


@pytest.mark.browser
def test_guard_catches_external_script_and_errors_in_real_chromium(browser, site_url):
    """Drive a real page with an external <script>, a console.error and an uncaught error."""
    context = browser.new_context()
    page = context.new_page()
    guard = PageGuard()
    guard.attach(context, page)
    try:
        page.goto(site_url)  # a loopback page first: that alone must be fine
        page.goto("about:blank")  # the app's CSP would block BAD_PAGE's inline scripts
        page.set_content(BAD_PAGE, wait_until="load")
        page.wait_for_timeout(300)  # let the setTimeout throw
    finally:
        context.close()

    assert EXTERNAL in guard.requests
    problems = "\n".join(guard.problems())
    assert f"request to a non-loopback address: {EXTERNAL}" in problems
    assert "console error: boom from the page" in problems
    assert "uncaught page error: " in problems and "uncaught kaboom" in problems
    with pytest.raises(AssertionError, match="cdn.example.com"):
        guard.check()


@pytest.mark.browser
def test_page_fixture_accepts_declared_errors(page, page_guard):
    page_guard.expect_error("boom from the page")
    page_guard.expect_error("cdn\\.example\\.com")
    page_guard.expect_error("uncaught kaboom")
    # The blocked request also logs a console error (the dead proxy refused it).
    page_guard.expect_error("Failed to load resource: net::ERR_PROXY_CONNECTION_FAILED")
    page.set_content(BAD_PAGE, wait_until="load")
    page.wait_for_timeout(300)


@pytest.mark.browser
def test_page_fixture_fails_the_test_in_teardown(pytester):
    """Run the real fixtures in a child pytest: undeclared errors must fail the test."""
    pytester.makeconftest(
        textwrap.dedent(
            f"""
            import importlib.util
            import sys
            spec = importlib.util.spec_from_file_location("harness", {str(CONFTEST)!r})
            harness = importlib.util.module_from_spec(spec)
            sys.modules["harness"] = harness
            spec.loader.exec_module(harness)
            globals().update(
                {{k: v for k, v in vars(harness).items()
                  if not k.startswith("__") and k != "pytest_plugins"}}
            )
            """
        )
    )
    pytester.makepyfile(
        test_inner=f"""
        BAD_PAGE = {BAD_PAGE!r}

        def test_undeclared_errors(page):
            page.set_content(BAD_PAGE, wait_until="load")
            page.wait_for_timeout(300)

        def test_declared_error_that_never_happens(page, page_guard):
            page_guard.expect_error("this error never happens")
            page.set_content("<p>fine</p>")

        def test_clean_page(page, site_url):
            css = site_url + "vendor/pyscript/core.css"  # a loopback request: fine
            page.set_content(f"<link rel=stylesheet href='{{css}}'><p>fine</p>")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=3, errors=2)
    output = result.stdout.str()
    assert "ERROR at teardown of test_undeclared_errors" in output
    assert f"request to a non-loopback address: {EXTERNAL}" in output
    assert "console error: boom from the page" in output
    assert "ERROR at teardown of test_declared_error_that_never_happens" in output
    assert "expected error never happened: /this error never happens/" in output
