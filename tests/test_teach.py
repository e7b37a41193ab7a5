"""Teaching in real Chromium: corrections by key and by bar, stored in IndexedDB across reloads,
undo, delete, forget, export -> import (validated, all or nothing), and no storage at all."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import guarded_page
from test_app import draw, wait_ready
from test_drawings import BAD_FILES

import drawings

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
        page.goto(site_url)
        wait_ready(page)
        draw(page, 1, "hand_alt")
        page.locator("[data-testid=probabilities] [data-digit='1']").tap()  # by touch
        page.wait_for_function(f"document.querySelector('{COUNT}').textContent === '1'")
        assert page.locator(MESSAGE).inner_text() == "Learned: this is a 1"
        note = page.locator("[data-testid=teach-note]")
        assert note.is_visible() and note_text in note.inner_text()
