"""The Pyodide memory snapshot in real Chromium: made after a first visit, restored on the next,
and every way it can go wrong falls back to a normal start that the user does not notice."""

from __future__ import annotations

import pytest
from conftest import guarded_page
from test_app import draw, settled_prediction, wait_ready

pytestmark = pytest.mark.browser

# The app's snapshot folder in the origin private file system (pyodide-snapshot.mjs: one per
# Pyodide folder), from the page.
SNAPSHOTS = (
    "(await (await navigator.storage.getDirectory()).getDirectoryHandle("
    "'mnist-draw-snapshot' + new URL('vendor/pyodide/', location).pathname.replaceAll('/', '_')))"
)


def start(page) -> list[str]:
    """Wait until ready; return the worker's start-up stages."""
    wait_ready(page)
    return page.evaluate("async () => (await window.mnistDraw.engine.bootMarks()).map(([s]) => s)")


def snapshot_result(page) -> dict:
    return page.evaluate("window.mnistDraw.engine.snapshot")


def saved_entries(page) -> list[str]:
    return page.evaluate(
        f"async () => {{ const names = []; for await (const name of {SNAPSHOTS}.keys()) "
        "names.push(name); return names; }"
    )


def reads(page, digit: int) -> str:
    page.keyboard.press("Escape")  # clear
    draw(page, digit)
    return settled_prediction(page)[0]


@pytest.fixture
def visited(browser, site_url):
    """A context whose first visit has saved its snapshot: (page, the saved entry's URL)."""
    with guarded_page(browser, "snapshot") as (_, page, _):
        page.goto(site_url)
        assert "python-restored" not in start(page)
        result = snapshot_result(page)
        assert result.get("saved", 0) > 10_000_000, result  # the memory of Python + numpy
        entries = saved_entries(page)
        assert len(entries) == 1 and entries[0].startswith("snapshot-"), entries
        yield page, entries[0]


def test_the_next_visit_restores_python_from_the_snapshot(visited):
    page, entry = visited
    page.reload()
    stages = start(page)
    assert "python-restored" in stages and "packages-loaded" in stages
    assert snapshot_result(page) == {"restored": True}
    assert reads(page, 3) == "3"
    assert reads(page, 7) == "7"
    assert saved_entries(page) == [entry]


def test_a_snapshot_that_fails_to_restore_is_dropped_and_python_starts_normally(visited):
    page, entry = visited
    # Break Pyodide's own check (the magic number) in the saved memory: restoring throws after
    # the wasm module and numpy's libraries are loaded, the hardest point to recover from.
    page.evaluate(
        f"""async (name) => {{
            const file = await {SNAPSHOTS}.getFileHandle(name);
            const bytes = new Uint8Array(await (await file.getFile()).arrayBuffer());
            const headerLength = new DataView(bytes.buffer).getUint32(0, true);
            const memory = Math.ceil((4 + headerLength) / 16) * 16;
            bytes.fill(0, memory, memory + 64);
            const writable = await file.createWritable();
            await writable.write(bytes);
            await writable.close();
        }}""",
        entry,
    )
    page.reload()
    stages = start(page)
    assert "python-restored" not in stages
    assert reads(page, 4) == "4"
    assert snapshot_result(page).get("saved", 0) > 0  # dropped, then made again
    assert saved_entries(page) == [entry]


def test_a_stale_snapshot_is_never_used(visited):
    page, entry = visited
    # The entry as an older Pyodide, stdlib or numpy would have left it: another key.
    stale = entry.replace("snapshot-", "snapshot-0")
    page.evaluate(
        f"async ([name, stale]) => (await {SNAPSHOTS}.getFileHandle(name)).move(stale)",
        [entry, stale],
    )
    assert saved_entries(page) == [stale]
    page.reload()
    stages = start(page)
    assert "python-restored" not in stages
    assert reads(page, 2) == "2"
    assert snapshot_result(page).get("saved", 0) > 0
    assert saved_entries(page) == [entry]  # the stale one is gone


def test_changed_app_modules_are_imported_afresh_and_the_snapshot_made_again(visited):
    page, entry = visited
    # A new version of segment.py, wherever the next start reads it from: the network (routed)
    # or the service worker's cache.
    changed = "\n# a new version\n"
    page.context.route(
        "**/segment.py",
        lambda route: route.fulfill(response=(r := route.fetch()), body=r.text() + changed),
    )
    page.evaluate(
        """async (changed) => {
            const url = new URL("segment.py", location).href;
            for (const name of await caches.keys()) {
                const cache = await caches.open(name);
                const old = await cache.match(url);
                if (old) await cache.put(url, new Response((await old.text()) + changed, old));
            }
        }""",
        changed,
    )
    page.reload()
    stages = start(page)
    assert "python-restored" in stages  # Python and numpy still come from the snapshot
    assert reads(page, 5) == "5"
    assert snapshot_result(page).get("saved", 0) > 0  # its app modules were out of date
    assert saved_entries(page) == [entry]
