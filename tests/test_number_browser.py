"""Whole numbers in real Chromium: written with the mouse, read left to right, live.

The strokes come from benchmarks/multi_digit.py's stroke_number (model-canvas px, like the app's
own strokes) and are replayed as real mouse moves on the displayed canvas.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import guarded_page
from test_app import canvas_box, wait_ready

from benchmarks.multi_digit import APP_CANVAS, stroke_number

pytestmark = pytest.mark.browser


def replay(page, strokes) -> None:
    """Draw strokes given in model-canvas px with the mouse, scaled to the displayed canvas."""
    box = canvas_box(page)
    scale = box["width"] / APP_CANVAS
    for stroke in strokes:
        x, y = stroke[0]
        page.mouse.move(box["x"] + x * scale, box["y"] + y * scale)
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x * scale, box["y"] + y * scale)
        page.mouse.up()


def number_of(page) -> tuple[str, list[tuple[str, float]]]:
    page.wait_for_function("window.mnistDraw.settled()")
    digits = page.get_by_test_id("digit")
    found = [digits.nth(i) for i in range(digits.count())]
    return page.get_by_test_id("number").inner_text(), [
        (d.get_attribute("data-digit"), float(d.get_attribute("data-confidence"))) for d in found
    ]


@pytest.fixture(scope="module")
def app(browser, site_url):
    with guarded_page(browser, "numbers", viewport={"width": 1000, "height": 800}) as (_, page, _):
        page.goto(site_url)
        wait_ready(page)
        yield page


def test_a_number_is_read_left_to_right_and_a_digit_can_be_picked(app):
    app.keyboard.press("Escape")
    rng = np.random.default_rng(1)
    _, strokes = stroke_number([2, 0, 2, 4], "hand", "normal", "even", 0.0, rng)
    replay(app, strokes)
    number, digits = number_of(app)
    assert number == "2024"
    assert [d for d, _ in digits] == list("2024")
    assert all(0 < c <= 1 for _, c in digits)
    # Picking the "4" shows its own single-digit view: prediction, bars and 28x28.
    app.get_by_test_id("digit").nth(3).click()
    assert app.get_by_test_id("prediction").inner_text() == "4"
    bars = app.locator("[data-testid=probabilities] [data-digit='4']")
    assert float(bars.get_attribute("data-p")) > 0.5


def test_a_two_stroke_digit_and_touching_neighbours(app):
    app.keyboard.press("Escape")
    rng = np.random.default_rng(0)
    _, strokes = stroke_number([4, 7], "hand_alt", "normal", "even", 0.0, rng)  # 2 strokes each
    replay(app, strokes)
    assert number_of(app)[0] == "47"
    app.keyboard.press("Escape")
    _, strokes = stroke_number([2, 3], "hand", "touching", "even", 0.0, np.random.default_rng(0))
    replay(app, strokes)
    assert number_of(app)[0] == "23"


def test_one_digit_keeps_the_single_digit_view_and_empty_is_empty(app):
    app.keyboard.press("Escape")
    assert number_of(app) == ("", [])
    _, strokes = stroke_number([7], "hand", "normal", "even", 0.0, np.random.default_rng(2))
    replay(app, strokes)
    number, digits = number_of(app)
    assert number == "7" and len(digits) == 1
    assert app.get_by_test_id("prediction").inner_text() == "7"


def test_a_number_stays_while_the_pen_is_down_on_ink_that_is_no_digit_yet(app):
    """One piece that is not a digit makes a drawing unreadable, but only once the pen lifts: a
    number must not vanish each time its next digit is begun."""
    app.keyboard.press("Escape")
    box = canvas_box(app)

    def at(x, y):
        return box["x"] + x * box["width"], box["y"] + y * box["height"]

    app.mouse.move(*at(0.2, 0.3))  # a 1
    app.mouse.down()
    app.mouse.move(*at(0.2, 0.7), steps=8)
    app.mouse.up()
    assert number_of(app)[0] == "1"
    app.mouse.move(*at(0.45, 0.3))
    app.mouse.down()
    for k in range(1, 6):  # beside it, a zigzag as tall as the 1 (no digit), the pen still down
        app.mouse.move(*at(0.45 + 0.3 * k / 5, 0.7 if k % 2 else 0.3), steps=4)
    app.wait_for_function("window.mnistDraw.withheld !== null")
    assert app.evaluate("window.mnistDraw.withheld.partly")
    # The last reading with digits stays: the 1, and maybe what the zigzag's first legs alone
    # were read as before it grew into no digit.
    assert app.get_by_test_id("number").inner_text().startswith("1")
    assert not app.evaluate("window.mnistDraw.settled()")
    app.mouse.up()
    number, digits = number_of(app)  # settled: the honest reading of all the ink
    assert (number, digits) == ("", [])
    assert app.evaluate("window.mnistDraw.withheld") is None
