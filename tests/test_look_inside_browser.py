"""The "Look inside" panel in real Chromium: open it, draw, check every grid, the "why" overlay,
the enlarged map with its kernel, and that closing the panel stops the extra work.

Runs against the shipped model when its model.json lists the activation outputs (contract v2);
until then against $MNIST_DRAW_INSPECT_MODEL (a dev copy, served in place of site/model/), or
skips saying why.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import guarded_page
from test_app import wait_ready
from test_look_inside import SHIPPED, model_dir

from benchmarks.look_inside import COUNT_RUNS_JS
from digit_strokes import digit_paths, place

pytestmark = pytest.mark.browser

# Per layer: how many tiles the grid has and how many are non-trivial (some pixel above the
# bottom colour of the layer's scale, i.e. something fired), read back from the painted canvas.
TILES_JS = """() => {
  const result = window.__panel.current();
  const bottom = [...result.legend.sequential.slice(0, 3)];
  return result.layers.map((layer) => {
    const canvas = document.querySelector(`[data-testid="grid-${layer.name}"]`);
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    const [w, h] = layer.tile;
    let varied = 0;
    for (const [x, y] of layer.corners) {
      let lit = false;
      for (let j = y; j < y + h && !lit; j++)
        for (let i = x; i < x + w && !lit; i++) {
          const k = (j * canvas.width + i) * 4;
          lit = [0, 1, 2].some((c) => Math.abs(data[k + c] - bottom[c]) > 8);
        }
      if (lit) varied += 1;
    }
    return { name: layer.name, tiles: layer.corners.length, varied,
             maps: +canvas.closest('figure').dataset.maps };
  });
}"""

# The "why" canvas: colour (tint away from grey) on ink vs paper, and red vs blue on the ink.
WHY_JS = """() => {
  const canvas = document.querySelector('[data-testid="why"]');
  const data = canvas.getContext('2d').getImageData(0, 0, 28, 28).data;
  const input = window.mnistDraw.last.modelInput;
  let inkTint = 0, ink = 0, paperTint = 0, paper = 0, red = 0, blue = 0;
  for (let p = 0; p < 784; p++) {
    const [r, g, b] = [data[4 * p], data[4 * p + 1], data[4 * p + 2]];
    const tint = Math.max(r, g, b) - Math.min(r, g, b);
    if (input[p] > 0.3) { inkTint += tint; ink += 1; red += r; blue += b; }
    else if (input[p] < 0.01) { paperTint += tint; paper += 1; }
  }
  return { ink: inkTint / ink, paper: paperTint / paper, red: red / ink, blue: blue / ink,
           stale: canvas.closest('section').hasAttribute('data-stale'),
           map: window.__panel.current().why.map.length };
}"""


def draw(page, digit: int) -> None:
    """A digit in real mouse strokes, every 3rd path point (a quick pen: fewer round trips
    while the panel keeps the page busy)."""
    canvas = page.locator("[data-testid=canvas]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    side = box["width"]
    for stroke in place(digit_paths(digit, "hand"), side, 0.6, (side / 2, side / 2)):
        points = stroke[::3] + [stroke[-1]]
        page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
        page.mouse.down()
        for x, y in points[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y)
        page.mouse.up()


def panel_runs(runs: list[dict], model: dict) -> list[dict]:
    """The runs done for the panel: fetching a layer's maps, or the probabilities alone (the
    occlusion batch; the app's own run also fetches the features)."""
    maps = {o["name"] for o in model["outputs"] if len(o["shape"]) == 4}
    probs = model.get("output", {}).get("name", "probs")
    return [r for r in runs if maps & set(r["fetches"]) or r["fetches"] == [probs]]


@pytest.fixture(scope="module")
def model(site_server) -> dict:
    """The contract the page will load; serves the dev model in place of site/model/ if needed."""
    found = model_dir()
    if found is None:
        pytest.skip(
            "site/model/model.json has no 'outputs'/'kernels' (model contract v2 not shipped yet) "
            "and $MNIST_DRAW_INSPECT_MODEL names no dev model that has them"
        )
    added = []
    if found != SHIPPED:
        for name in ("model.json", "mnist_cnn.onnx"):
            site_server.overrides[f"/model/{name}"] = (found / name).resolve()
            added.append(f"/model/{name}")
    yield json.loads((Path(found) / "model.json").read_text())
    for url in added:
        site_server.overrides.pop(url, None)


def test_panel_shows_every_layer_and_costs_nothing_closed(browser, site_url, model):
    # Service workers off: the precache list hashes site/model/, which a dev model replaces.
    # A phone: narrow, touch (tap to enlarge), the panel scrolls below the canvas.
    options = {
        "viewport": {"width": 390, "height": 844},
        "has_touch": True,
        "is_mobile": True,
        "service_workers": "block",
    }
    with guarded_page(browser, "look_inside", **options) as (_, page, _):
        page.goto(site_url)
        wait_ready(page)
        page.evaluate(COUNT_RUNS_JS)
        panel = page.locator("[data-testid=look-inside]")
        assert not panel.evaluate("el => el.open"), "the panel must start closed"

        # Closed: a drawing costs exactly the app's own runs (probs only), no panel render.
        draw(page, 7)
        page.wait_for_function("window.mnistDraw.settled()")
        runs = page.evaluate("window.__runs")
        assert runs and not panel_runs(runs, model), runs
        assert page.evaluate("window.__panel.stats.renders") == 0

        # Open (keyboard: the summary is focusable): the current drawing is shown at once.
        page.locator("[data-testid=look-inside] summary").focus()
        page.keyboard.press("Enter")
        page.wait_for_function("window.__panel.stats.renders > 0 && window.mnistDraw.settled()")
        page.keyboard.press("Escape")  # clear, then draw a fresh digit with the panel open
        page.wait_for_function("window.mnistDraw.settled()")
        page.evaluate("window.__runs.length = 0")
        draw(page, 4)
        page.wait_for_function("window.mnistDraw.settled()")
        kinds = {tuple(r["fetches"]) for r in panel_runs(page.evaluate("window.__runs"), model)}
        assert len(kinds) == 2, kinds  # the activations run and the occlusion batch
        page.wait_for_function("window.__panel.current() !== null")

        names = ["input"] + [o["name"] for o in model["outputs"]]
        tiles = {t["name"]: t for t in page.evaluate(TILES_JS)}
        assert list(tiles) == names
        for out in model["outputs"]:
            shape = out["shape"][1:]
            maps = shape[-1] if len(shape) == 3 else shape[0]
            t = tiles[out["name"]]
            assert t["tiles"] == t["maps"] == maps, t
            # Non-trivial: most conv/pool maps show structure; some dense units fire.
            assert t["varied"] >= (maps // 2 if len(shape) == 3 else 1), t
        assert tiles["input"]["varied"] == 1

        why = page.evaluate(WHY_JS)
        assert why["map"] == 784
        assert not why["stale"], "a still drawing must end with an up-to-date why map"
        assert why["ink"] > 3 * why["paper"] + 1, why  # the overlay sits on the ink
        assert why["red"] > why["blue"], why  # mostly "supported the answer"

        # Keyboard: the first conv grid enlarges a map and shows the 3x3 kernel that made it.
        first = model["outputs"][0]["name"]
        page.locator(f"[data-testid=grid-{first}]").focus()
        page.keyboard.press("ArrowRight")
        detail = page.locator("[data-testid=detail]")
        assert detail.is_visible()
        assert "map 2 of" in detail.locator(".li-detail-title").inner_text()
        assert page.locator("[data-testid=kernel]").is_visible()
        assert detail.locator(".li-weights td").count() == 9
        # Touch: tapping a tile of a 64-map grid enlarges that very map, right below the grid.
        grid = page.locator(f"[data-testid=grid-{names[3]}]")
        grid.scroll_into_view_if_needed()
        layer = page.evaluate("window.__panel.current().layers[3]")
        x, y = layer["corners"][9]
        w, h = layer["tile"]
        box = grid.bounding_box()
        page.touchscreen.tap(
            box["x"] + (x + w / 2) / layer["width"] * box["width"],
            box["y"] + (y + h / 2) / layer["height"] * box["height"],
        )
        title = detail.locator(".li-detail-title").inner_text()
        assert title.startswith(f"{names[3]}, map 10 of {layer['maps']}"), title
        assert not page.locator("[data-testid=kernel]").is_visible()  # conv1 only
        below = detail.evaluate("d => d.previousElementSibling.dataset.layer")
        assert below == names[3]

        table_rows = page.locator("[data-testid=layer-table] tbody tr")
        assert table_rows.count() == len(names)
        total = page.locator("[data-testid=layer-total]").inner_text().replace(",", "")
        assert int(total) == model["params"]

        # Closed again: the extra work stops (no activation fetch, no occlusion batch, no render).
        page.locator("[data-testid=look-inside] summary").click()
        page.evaluate("window.__runs.length = 0")
        renders = page.evaluate("window.__panel.stats.renders")
        draw(page, 1)
        page.wait_for_function("window.mnistDraw.settled()")
        runs = page.evaluate("window.__runs")
        assert runs and not panel_runs(runs, model), runs
        assert page.evaluate("window.__panel.stats.renders") == renders
