"""The app in real Chromium: draw with the mouse, touch and keys; see the live prediction."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime
import pytest
from conftest import ARTIFACTS, SITE, guarded_page

import preprocess
from digit_strokes import digit_paths, place

pytestmark = pytest.mark.browser

# (size as a fraction of the canvas, centre as fractions): normal, small off-centre, large.
PLACEMENTS = {
    "centre": (0.6, (0.5, 0.5)),
    "small-corner": (0.25, (0.2, 0.22)),
    "small-right": (0.3, (0.78, 0.7)),
    "large": (0.9, (0.5, 0.5)),
}


def wait_ready(page) -> None:
    page.wait_for_function("document.body.dataset.state !== 'loading'")
    state = page.evaluate("document.body.dataset.state")
    assert state == "ready", page.locator("#status").inner_text()


def canvas_box(page) -> dict:
    return page.locator("[data-testid=canvas]").bounding_box()


def draw(page, digit: int, style: str = "hand", size: float = 0.6, centre=(0.5, 0.5)) -> None:
    """Draw a digit's strokes with real mouse moves (one move per path point)."""
    draw_paths(page, digit_paths(digit, style), size, centre)


def draw_paths(page, unit_paths, size: float = 0.6, centre=(0.5, 0.5)) -> None:
    """Draw polylines of the unit box (digit_strokes' format) with real mouse moves, scaled to
    `size` of the canvas around `centre` (fractions of the canvas)."""
    box = canvas_box(page)
    side = box["width"]
    paths = place(unit_paths, side, size, (centre[0] * side, centre[1] * side))
    for stroke in paths:
        x, y = stroke[0]
        page.mouse.move(box["x"] + x, box["y"] + y)
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y)
        page.mouse.up()


def settled_prediction(page) -> tuple[str, float]:
    page.wait_for_function("window.mnistDraw.settled()")
    prediction = page.locator("[data-testid=prediction]")
    return prediction.inner_text(), float(prediction.get_attribute("data-confidence"))


def probabilities(page) -> dict[str, float]:
    bars = page.locator("[data-testid=probabilities] [data-digit]")
    return {
        bars.nth(i).get_attribute("data-digit"): float(bars.nth(i).get_attribute("data-p"))
        for i in range(bars.count())
    }


@pytest.fixture(scope="module")
def app(browser, site_url):
    """One loaded app page shared by the drawing tests (cleared between drawings)."""
    with guarded_page(browser, "app", viewport={"width": 900, "height": 800}) as (_, page, _):
        page.goto(site_url)
        wait_ready(page)
        yield page


@pytest.mark.parametrize("digit", range(10))
def test_draws_each_digit_anywhere(app, digit):
    """Each digit, hand-drawn with the mouse, at several sizes and positions."""
    wrong = []
    for name, (size, centre) in PLACEMENTS.items():
        app.keyboard.press("Escape")
        draw(app, digit, "hand", size, centre)
        predicted, confidence = settled_prediction(app)
        if predicted != str(digit):
            wrong.append(f"{name}: predicted {predicted!r} ({confidence:.2f})")
    app.screenshot(path=ARTIFACTS / "screenshots" / f"digit_{digit}.png")
    assert not wrong, f"digit {digit}: " + "; ".join(wrong)


@pytest.mark.parametrize("style", ["simplex", "hand_alt", "hand_slant"])
def test_draws_other_styles(app, style):
    wrong = []
    for digit in range(10):
        app.keyboard.press("Escape")
        draw(app, digit, style, 0.55, (0.45, 0.55))
        predicted, _ = settled_prediction(app)
        if predicted != str(digit):
            wrong.append(f"{digit}->{predicted}")
    assert len(wrong) <= 1, f"{style}: {wrong}"


def test_result_display(app):
    app.keyboard.press("Escape")
    draw(app, 3)
    predicted, confidence = settled_prediction(app)
    probs = probabilities(app)
    assert sorted(probs) == [str(d) for d in range(10)]
    assert sum(probs.values()) == pytest.approx(1.0, abs=0.01)
    assert max(probs, key=probs.get) == predicted == "3"
    assert confidence == pytest.approx(probs["3"], abs=1e-3)
    preview_ink = app.evaluate(
        """() => {
            const c = document.querySelector('[data-testid=preview]');
            const d = c.getContext('2d').getImageData(0, 0, 28, 28).data;
            let ink = 0; for (let i = 3; i < d.length; i += 4) ink += d[i] > 0;
            return ink;
        }"""
    )
    assert 40 < preview_ink < 400  # the 28x28 the model saw is on screen
    app.screenshot(path=ARTIFACTS / "recognised.png")


def test_empty_canvas_shows_no_prediction(app):
    app.keyboard.press("Escape")
    predicted, confidence = settled_prediction(app)
    assert predicted == "" and confidence == 0
    assert app.get_by_test_id("confidence").inner_text() == "Draw a digit"
    assert set(probabilities(app).values()) == {0.0}


def test_clear_and_undo_with_buttons_and_keys(app):
    app.keyboard.press("Escape")
    draw(app, 1)  # one stroke
    draw(app, 7)  # one more stroke
    assert app.evaluate("window.mnistDraw.drawing.strokes.length") == 2
    app.get_by_test_id("undo").click()
    assert app.evaluate("window.mnistDraw.drawing.strokes.length") == 1
    assert settled_prediction(app)[0] == "1"
    app.keyboard.press("Control+z")
    assert app.evaluate("window.mnistDraw.drawing.strokes.length") == 0
    assert settled_prediction(app)[0] == ""
    draw(app, 4)
    assert settled_prediction(app)[0] == "4"
    app.get_by_test_id("clear").click()
    assert settled_prediction(app)[0] == ""
    draw(app, 4)
    app.keyboard.press("Escape")
    assert settled_prediction(app)[0] == ""


def test_buttons_are_keyboard_reachable(app):
    app.keyboard.press("Escape")
    draw(app, 0)
    app.get_by_test_id("clear").focus()
    app.keyboard.press("Enter")
    assert settled_prediction(app)[0] == ""
    names = app.evaluate(
        "[...document.querySelectorAll('button')].map(b => b.tabIndex >= 0 &&"
        " (b.textContent.trim() || b.getAttribute('aria-label')))"
    )
    assert all(names)


def test_scribble_does_not_crash(app):
    app.keyboard.press("Escape")
    rng = np.random.default_rng(7)
    box = canvas_box(app)
    app.mouse.move(box["x"] + 20, box["y"] + 20)
    app.mouse.down()
    for x, y in rng.uniform(5, box["width"] - 5, (200, 2)):
        app.mouse.move(box["x"] + x, box["y"] + y)
    app.mouse.up()
    predicted, _ = settled_prediction(app)
    verdict = app.get_by_test_id("prediction").get_attribute("data-verdict")
    assert verdict != "digit" and predicted == "", (verdict, predicted)  # never a made-up digit
    assert app.evaluate("document.body.dataset.state") == "ready"


def test_a_dot_is_not_a_digit(app):
    app.keyboard.press("Escape")
    box = canvas_box(app)
    app.mouse.move(box["x"] + 100, box["y"] + 100)  # a single dot: no digit
    app.mouse.down()
    app.mouse.up()
    predicted, _ = settled_prediction(app)
    assert predicted == ""
    assert app.get_by_test_id("prediction").get_attribute("data-verdict") == "not-a-digit"
    assert app.get_by_test_id("confidence").inner_text() == "That doesn't look like a digit"


def test_browser_and_cpython_preprocessing_agree(app):
    """The pixels the page hands to Python give the same 28x28 input in CPython and the same
    top class from the same ONNX model in CPython's onnxruntime."""
    app.keyboard.press("Escape")
    draw(app, 5, "hand_slant", 0.4, (0.35, 0.6))
    predicted, _ = settled_prediction(app)
    pixels = app.evaluate(
        """() => { const d = window.mnistDraw.drawing.pixels();
                   return {w: d.width, h: d.height, data: Array.from(d.data)}; }"""
    )
    browser_input = np.array(app.evaluate("Array.from(window.mnistDraw.last.modelInput)"))
    rgba = np.array(pixels["data"], np.uint8).reshape(pixels["h"], pixels["w"], 4)
    cpython_input = preprocess.preprocess_canvas(rgba)
    assert np.abs(cpython_input.ravel() - browser_input).max() <= 1e-6
    contract = json.loads((SITE / "model" / "model.json").read_text())
    session = onnxruntime.InferenceSession(str(SITE / "model" / contract["file"]))
    (cpython_probs,) = session.run(
        [contract["output"]["name"]], {contract["input"]["name"]: cpython_input}
    )
    assert str(int(cpython_probs.argmax())) == predicted


def test_touch_draws_without_scrolling(browser, site_url):
    """A finger on a phone-sized screen draws; the page does not scroll or zoom."""
    phone = {"viewport": {"width": 360, "height": 560}, "has_touch": True, "is_mobile": True}
    with guarded_page(browser, "touch", **phone) as (context, page, _):
        draw_by_touch(context, page, site_url)


def draw_by_touch(context, page, site_url: str) -> None:
    page.goto(site_url)
    wait_ready(page)
    assert page.evaluate("document.documentElement.scrollHeight > innerHeight")  # could scroll
    box = canvas_box(page)
    assert 250 <= box["width"] <= 360
    cdp = context.new_cdp_session(page)
    side = box["width"]
    for stroke in place(digit_paths(7, "hand"), side, 0.7, (side / 2, side / 2)):
        points = [(box["x"] + x, box["y"] + y) for x, y in stroke]
        touch(cdp, "touchStart", points[0])
        for point in points[1:]:
            touch(cdp, "touchMove", point)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    predicted, _ = settled_prediction(page)
    assert predicted == "7"
    assert page.evaluate("scrollY") == 0 and page.evaluate("visualViewport.scale") == 1


def touch(cdp, kind: str, point: tuple[float, float]) -> None:
    cdp.send(
        "Input.dispatchTouchEvent",
        {"type": kind, "touchPoints": [{"x": point[0], "y": point[1], "id": 1}]},
    )


def test_drawing_before_ready_is_predicted_once_ready(page, site_url):
    held = []  # hold the model contract until the drawing is done, so it is surely drawn early
    # context.route: the model is fetched by the model worker, not by the page itself.
    page.context.route("**/model/model.json", lambda route: held.append(route))
    page.goto(site_url)
    page.wait_for_selector("[data-testid=canvas]")
    draw(page, 2, "hand", 0.6)
    page.wait_for_function("document.body.dataset.state === 'loading'")
    while not held:
        page.wait_for_timeout(50)
    # A first visit: the loading indicator counts the megabytes both workers have downloaded.
    page.wait_for_function(
        "parseFloat((document.getElementById('loading-text').textContent"
        ".match(/([\\d.]+) MB loaded/) || [])[1] || '0') > 1"
    )
    held[0].continue_()
    wait_ready(page)
    assert settled_prediction(page)[0] == "2"


def test_no_webassembly_says_so(page, site_url):
    page.add_init_script("delete window.WebAssembly")
    page.goto(site_url)
    page.wait_for_function("document.body.dataset.state === 'error'")
    assert "WebAssembly" in page.locator("#error").inner_text()
    # The canvas still draws (nothing blank), but no prediction is made.
    draw(page, 1)
    assert page.get_by_test_id("prediction").inner_text() == ""
