"""Teaching in real Chromium: corrections by key and by bar, stored in IndexedDB across reloads,
undo, delete, forget, export -> import (validated, all or nothing), and no storage at all."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import guarded_page
from test_app import canvas_box, draw, settled_prediction, wait_ready
from test_drawings import BAD_FILES
from test_pages import wait_controlled

import drawings
from benchmarks.personal import style_drawing

pytestmark = pytest.mark.browser

COUNT = "[data-testid=taught-count]"
MESSAGE = "[data-testid=teach-message]"


def count(page) -> int:
    return int(page.locator(COUNT).inner_text())


def test_teach_store_export_forget_import(browser, site_url, tmp_path: Path) -> None:
    with guarded_page(browser, "teach", viewport={"width": 900, "height": 900}) as (ctx, page, _):
        page.goto(site_url)
        wait_ready(page)
        messages = page.evaluate(
            """async (texts) => {
              const { validateFile } = await import("./taught-store.js");
              return texts.map((t) => { try { validateFile(t); return null; }
                                        catch (e) { return e.message; } });
            }""",
            [text for text, _ in BAD_FILES],
        )
        for (text, pattern), message in zip(BAD_FILES, messages, strict=True):
            assert message and re.search(pattern, message), (text, message)

        page.keyboard.press("4")  # empty canvas: ignored, with a hint
        assert "Draw a digit first" in page.locator(MESSAGE).inner_text() and count(page) == 0

        draw(page, 9, "hand_alt")
        page.keyboard.press("7")
        page.wait_for_function(f"document.querySelector('{COUNT}').textContent === '1'")
        assert page.locator(MESSAGE).inner_text() == "Learned: this is a 7"
        page.keyboard.press("Escape")
        draw(page, 2, "hand")
        page.locator("[data-testid=probabilities] [data-digit='2']").click()  # tap the bar
        page.wait_for_function(f"document.querySelector('{COUNT}').textContent === '2'")
        page.locator("[data-testid=teach-undo]").click()
        page.wait_for_function(f"document.querySelector('{COUNT}').textContent === '1'")

        page.reload()  # kept on the device
        page.wait_for_function(f"document.querySelector('{COUNT}').textContent === '1'")
        assert page.locator("[data-testid=teach-note]").is_hidden()
        page.locator(".teach summary").click()
        assert page.locator("[data-testid=taught-list] li").get_attribute("data-label") == "7"

        with page.expect_download() as info:
            page.locator("[data-testid=teach-download]").click()
        exported = tmp_path / "mine.json"
        info.value.save_as(exported)
        (drawing,) = drawings.parse_file(exported.read_bytes())  # Python reads what JS wrote
        assert drawing["label"] == 7 and drawing["canvas"] == [280, 280]

        forget = page.locator("[data-testid=teach-forget]")
        forget.click()
        forget.click()  # armed, then confirmed
        page.wait_for_function(f"document.querySelector('{COUNT}').textContent === '0'")

        bad = tmp_path / "bad.json"
        doc = json.loads(exported.read_text())
        doc["drawings"] = doc["drawings"] * 3
        doc["drawings"].append({"label": 12, "canvas": [280, 280], "pen_width": 5, "strokes": []})
        bad.write_text(json.dumps(doc))
        page.locator("[data-testid=teach-import]").set_input_files(str(bad))
        page.wait_for_function(
            f"document.querySelector('{MESSAGE}').textContent.startsWith('Import failed')"
        )
        assert "drawing #4" in page.locator(MESSAGE).inner_text() and count(page) == 0

        page.locator("[data-testid=teach-import]").set_input_files(str(exported))
        page.wait_for_function(f"document.querySelector('{COUNT}').textContent === '1'")
        page.reload()
        page.wait_for_function(f"document.querySelector('{COUNT}').textContent === '1'")


# Only the app's own database is broken: Pyodide keeps using IndexedDB for its own files.
BROKEN_STORAGE = {
    "unavailable": (
        "const open = IDBFactory.prototype.open; IDBFactory.prototype.open = function (name, v) {"
        " if (name === 'mnist-draw') throw new DOMException('blocked', 'SecurityError');"
        " return open.call(this, name, v); }",
        "not saved on this device",
    ),
    "full": (
        "IDBObjectStore.prototype.add = function () {"
        " throw new DOMException('quota', 'QuotaExceededError'); }",
        "storage is full",
    ),
}


@pytest.mark.parametrize("case", BROKEN_STORAGE)
def test_without_storage_learning_works_for_the_session(browser, site_url, case) -> None:
    script, note_text = BROKEN_STORAGE[case]
    options = {"viewport": {"width": 900, "height": 900}, "has_touch": True}
    with guarded_page(browser, f"teach-{case}", **options) as (
        ctx,
        page,
        _,
    ):
        ctx.add_init_script(script)
        page.goto(site_url)  # teaching needs no Python: no wait for the model
        page.wait_for_function("window.mnistDraw?.teaching")
        draw(page, 1, "hand_alt")
        page.locator("[data-testid=probabilities] [data-digit='1']").tap()  # by touch
        page.wait_for_function(f"document.querySelector('{COUNT}').textContent === '1'")
        assert page.locator(MESSAGE).inner_text() == "Learned: this is a 1"
        note = page.locator("[data-testid=teach-note]")
        assert note.is_visible() and note_text in note.inner_text()


def draw_drawing(page, drawing: dict, every: int = 1) -> None:
    """Replay a stored drawing's strokes as mouse moves on the visible canvas (points on a
    straight run between their neighbours are skipped: same ink, far fewer round trips).
    ``every`` > 1 also keeps only every n-th point of a curve (and its last): the benchmark's
    styles are densified to ~3 px steps, so every 4th point still bends the ink by < 1 px."""
    box = canvas_box(page)
    k = box["width"] / drawing["canvas"][0]
    for stroke in map(drawings._drop_collinear, drawing["strokes"]):
        stroke = stroke[:-1:every] + stroke[-1:]
        page.mouse.move(box["x"] + stroke[0][0] * k, box["y"] + stroke[0][1] * k)
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x * k, box["y"] + y * k)
        page.mouse.up()


def read(page, drawing: dict, every: int = 1) -> str:
    page.keyboard.press("Escape")
    draw_drawing(page, drawing, every)
    return settled_prediction(page)[0]


def taught_in_worker(page) -> int:
    """Wait until the worker has learned from every stored record; return how many."""
    return page.evaluate(
        """async () => {
          const view = await window.mnistDraw.teaching;
          return await window.mnistDraw.engine.setTaught(view.records);
        }"""
    )


@pytest.mark.slow
def test_a_misread_style_is_read_right_after_six_corrections_and_after_reload(
    browser, site_url
) -> None:
    """The issue's acceptance run: a 9 drawn with a triangular loop (the model reads 4s), taught
    six times by key, then new drawings of it are read as 9, also after a reload."""
    rng = np.random.default_rng(5)
    taught, new = (
        [style_drawing("triangle_nine", rng) for _ in range(6)],
        [style_drawing("triangle_nine", rng) for _ in range(6)],
    )
    with guarded_page(browser, "teach-style", viewport={"width": 900, "height": 900}) as (
        _,
        page,
        _,
    ):
        page.goto(site_url)
        wait_ready(page)
        before = [read(page, d) for d in new]
        # The model misreads most of them (the model retrained with touching pairs reads 4 of
        # these 6 right before any teaching, the one before it 3 at most).
        assert before.count("9") <= 4, before
        for i, drawing in enumerate(taught):
            read(page, drawing)
            page.keyboard.press("9")
            page.wait_for_function(f"document.querySelector('{COUNT}').textContent === '{i + 1}'")
        assert taught_in_worker(page) == 6
        after = [read(page, d) for d in new]
        assert after.count("9") >= 5, (before, after)

        page.reload()  # stored strokes -> features recomputed by the worker
        wait_ready(page)
        page.wait_for_function(f"document.querySelector('{COUNT}').textContent === '6'")
        assert taught_in_worker(page) == 6
        again = [read(page, d) for d in new]
        assert again.count("9") >= 5, (before, after, again)


EVERY = 4  # mouse moves: every 4th point of a curve (see draw_drawing), ~45 per drawing


@pytest.mark.slow
def test_teaching_survives_a_reload_offline(browser, site_server) -> None:
    """Teach a style the model misreads every time (a 4 drawn like a 9: the CNN is ~100 % sure
    it is a 9), go offline once the service worker holds the app, reload: the taught examples
    come back from IndexedDB, the worker recomputes their features and loads learn.py's
    reference features from the service worker's cache, and new drawings read as 4."""
    taught_rng, new_rng = np.random.default_rng([1, 0]), np.random.default_rng([1, 1])
    taught = [style_drawing("four_like_nine", taught_rng) for _ in range(6)]
    new = [style_drawing("four_like_nine", new_rng) for _ in range(4)]
    with guarded_page(browser, "teach-offline", viewport={"width": 900, "height": 900}) as (
        ctx,
        page,
        guard,
    ):
        page.goto(site_server.url)
        wait_ready(page)
        assert read(page, new[0], EVERY) == "9"  # the model alone misreads the style
        for i, drawing in enumerate(taught):
            read(page, drawing, EVERY)
            page.keyboard.press("4")
            page.wait_for_function(f"document.querySelector('{COUNT}').textContent === '{i + 1}'")
        wait_controlled(page)
        page.locator("[data-testid=offline-ready]").wait_for()  # the whole app is cached

        served = len(site_server.sent)
        ctx.set_offline(True)
        page.reload()
        wait_ready(page)
        assert page.evaluate("navigator.onLine") is False
        page.wait_for_function(f"document.querySelector('{COUNT}').textContent === '6'")
        assert taught_in_worker(page) == 6
        readings = [read(page, d, EVERY) for d in new]
        ctx.set_offline(False)
    assert readings.count("4") >= 3, readings
    # Everything came from the service worker's cache, reference.bin included (the browser's own
    # update check of sw.js and precache.js bypasses Playwright's offline emulation).
    assert [u for u, _ in site_server.sent[served:] if u not in ("/sw.js", "/precache.js")] == []
    assert not [text for _, text in guard.console if "without reference" in text]
