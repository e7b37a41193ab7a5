"""Verdicts in real Chromium: letters, symbols, a scribble, a line and a dot drawn with the mouse
are refused (data-verdict="not-a-digit", no digit shown, bars dimmed); real digits are read."""

from __future__ import annotations

import pytest
from conftest import guarded_page
from test_app import canvas_box, draw, draw_paths, wait_ready
from test_verdict import NON_DIGITS

pytestmark = pytest.mark.browser


def verdict_of(page) -> tuple[str, str]:
    page.wait_for_function("window.mnistDraw.settled()")
    prediction = page.get_by_test_id("prediction")
    return prediction.get_attribute("data-verdict"), prediction.inner_text()


@pytest.fixture(scope="module")
def app(browser, site_url):
    with guarded_page(browser, "verdicts", viewport={"width": 900, "height": 800}) as (_, page, _):
        page.goto(site_url)
        wait_ready(page)
        yield page


@pytest.mark.parametrize("name", ["A", "X", "scribble", "smiley"])
def test_non_digits_are_refused(app, name):
    app.keyboard.press("Escape")
    draw_paths(app, NON_DIGITS[name])
    assert verdict_of(app) == ("not-a-digit", ""), name
    assert app.get_by_test_id("confidence").inner_text() == "That doesn't look like a digit"
    assert "dim" in app.get_by_test_id("probabilities").get_attribute("class")


@pytest.mark.parametrize("name", ["hash", "plus", "K"])
def test_other_symbols_never_get_a_confident_digit(app, name):
    """Weaker cases of the shipped model (see the model card): at worst hedged as "unsure"."""
    app.keyboard.press("Escape")
    draw_paths(app, NON_DIGITS[name])
    assert verdict_of(app)[0] in ("not-a-digit", "unsure"), name


def test_a_line_and_a_dot_are_not_digits(app):
    app.keyboard.press("Escape")
    box = canvas_box(app)
    y = box["y"] + box["height"] / 2
    app.mouse.move(box["x"] + 0.2 * box["width"], y)
    app.mouse.down()
    for k in range(1, 31):  # a horizontal line, drawn at a steady pace
        app.mouse.move(box["x"] + (0.2 + 0.02 * k) * box["width"], y)
    app.mouse.up()
    assert verdict_of(app) == ("not-a-digit", "")
    app.keyboard.press("Escape")
    box = canvas_box(app)
    app.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert verdict_of(app) == ("not-a-digit", "")


def test_digits_are_read_and_empty_is_empty(app):
    for digit in (3, 7, 0):
        app.keyboard.press("Escape")
        draw(app, digit)
        assert verdict_of(app) == ("digit", str(digit))
    app.keyboard.press("Escape")
    assert verdict_of(app) == ("empty", "")
