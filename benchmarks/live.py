"""Live prediction while the pen moves: stroke -> probabilities latency and updates per second.

On a loaded page the benchmark installs a probe (page.evaluate) that records, on the page's
clock:

- every pointer move's input time (event.timeStamp, coalesced events included) and when its
  handler ran;
- when each prediction takes the canvas pixels: calls of `mnistDraw.drawing.pixels` (app.js
  calls it at the start of every prediction) and of getImageData on the 280 px model canvas
  (what is sent to Python, whether it runs on the main thread or in a worker);
- when each update lands in the DOM (a MutationObserver on [data-testid=probabilities]) and the
  next animation frame after it, with `mnistDraw.last.timings` of that update.

Then Playwright moves the mouse along a closed curve at `hz` moves per second with the button
down. Each update is paired with the latest pixel snapshot taken before it landed; the moves
it shows for the first time are those handled after the previous update's snapshot and before
its own, and its latency runs from the oldest of them. Nothing depends on where Python runs:
the result may arrive from a worker; only the DOM change of the bars counts.

`throttled`: the same measurement under CDP Emulation.setCPUThrottlingRate (rate 4), a
"slower machine" figure. Chromium throttles the page's main thread only: sent to a dedicated
worker's target it answers "Operation is only supported for pages, not workers". With Python
and the model in a worker, the figure slows drawing and painting, not the computation.
"""

from __future__ import annotations

import asyncio
import math
import time

PROBE_JS = r"""() => {
  const probe = (window.__probe = { moves: [], snaps: [], updates: [] });
  const canvas = document.querySelector("[data-testid=canvas]");
  canvas.addEventListener("pointermove", (e) => {
    if (!(e.buttons & 1)) return;
    const handled = performance.now();
    const all = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    for (const c of all.length ? all : [e]) probe.moves.push([c.timeStamp, handled]);
  }, { capture: true });
  const drawing = window.mnistDraw.drawing;
  const snap = () => probe.snaps.push(performance.now());
  if (drawing && typeof drawing.pixels === "function") {
    const pixels = drawing.pixels;
    drawing.pixels = function (...args) { snap(); return pixels.apply(this, args); };
  }
  const getImageData = CanvasRenderingContext2D.prototype.getImageData;
  CanvasRenderingContext2D.prototype.getImageData = function (...args) {
    if (this.canvas && this.canvas.width === 280 && !this.canvas.isConnected) snap();
    return getImageData.apply(this, args);
  };
  new MutationObserver(() => {
    const timings = window.mnistDraw.last?.timings ?? null;
    const update = { t: performance.now(), frame: null, timings };
    probe.updates.push(update);
    requestAnimationFrame((t) => (update.frame = t));
  }).observe(document.querySelector("[data-testid=probabilities]"),
             { subtree: true, attributes: true, attributeFilter: ["data-p"] });
  probe.reset = () => { probe.moves = []; probe.snaps = []; probe.updates = []; };
}"""


# The page's own "result on screen matches the drawing" flag when it has one.
SETTLED_JS = "!window.mnistDraw.settled || window.mnistDraw.settled()"

COLLECT_JS = "({moves: __probe.moves, snaps: __probe.snaps, updates: __probe.updates})"


def curve(box: dict, n: int) -> list[tuple[float, float]]:
    """n points of a Lissajous figure over the middle 60% of the canvas (a digit-sized scribble)."""
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    r = 0.3 * min(box["width"], box["height"])
    return [
        (cx + r * math.sin(2 * math.pi * i / 180 * 2), cy + r * math.sin(2 * math.pi * i / 180 * 3))
        for i in range(n)
    ]


async def draw_for(page, seconds: float, hz: float, sent: list | None = None) -> int:
    """Hold the button and move at `hz` for `seconds`; returns the number of moves sent.

    Moves are sent without waiting for the previous one to be handled (async API, one task per
    move): a busy main thread then queues input like it does for a real pen, instead of slowing
    the pen down. `sent` (optional) receives each move's wall-clock send time (epoch ms): the
    moment the pen was there, whatever the browser does with the event afterwards.
    """
    box = await page.locator("[data-testid=canvas]").bounding_box()
    points = curve(box, int(seconds * hz) + 1)
    await page.mouse.move(*points[0])
    await page.mouse.down()
    start = time.perf_counter()
    tasks = []
    for i, (x, y) in enumerate(points[1:], 1):
        if sent is not None:
            sent.append(time.time() * 1000)
        tasks.append(asyncio.ensure_future(page.mouse.move(x, y)))
        delay = start + i / hz - time.perf_counter()
        await asyncio.sleep(max(delay, 0))
    await asyncio.gather(*tasks)
    await page.mouse.up()
    return len(tasks)


def analyse(probe: dict) -> dict:
    """Per-update latencies and parts, the update rate and the move rate of one drawing."""
    moves = sorted(probe["moves"], key=lambda m: m[1])
    snaps, updates = sorted(probe["snaps"]), probe["updates"]
    latency, to_frame, waited, parts = [], [], [], {"transfer_ms": [], "preprocess_ms": []}
    parts["model_ms"] = []
    previous = -math.inf
    for update in updates:
        before = [s for s in snaps if previous < s <= update["t"]]
        if not before:
            continue  # no new pixels went into this one (e.g. showEmpty after a clear)
        snap = max(before)
        new = [m for m in moves if previous < m[1] <= snap]
        previous = snap
        if not new:
            continue  # e.g. the clean redraw after pointerup
        oldest = min(m[0] for m in new)
        latency.append(update["t"] - oldest)
        waited.append(snap - oldest)
        if update["frame"] is not None:
            to_frame.append(update["frame"] - oldest)
        for key, values in parts.items():
            if update["timings"] and key in update["timings"]:
                values.append(update["timings"][key])
    drawing_s = (moves[-1][0] - moves[0][0]) / 1000 if len(moves) > 1 else math.nan
    during = [u for u in updates if moves and moves[0][0] <= u["t"] <= moves[-1][1]]
    return {
        "latency": latency,
        "to_frame": to_frame,
        "waited": waited,
        "parts": parts,
        "updates_hz": len(during) / drawing_s,
        "moves_hz": len(moves) / drawing_s,
    }


async def measure(
    page,
    repeats: int,
    seconds: float,
    hz: float,
    min_updates: int = 0,
    max_repeats: int = 20,
    probe: bool = True,
) -> list[dict]:
    """Drawings on a ready page, each on a cleared canvas; one analyse() per drawing.

    At least `repeats` drawings, more (up to `max_repeats`) until `min_updates` updates were seen.
    `probe=False`: the probe is already installed (a second pass on the same page).
    """
    if probe:
        await page.evaluate(PROBE_JS)
    results = []
    while len(results) < repeats or (
        sum(len(r["latency"]) for r in results) < min_updates and len(results) < max_repeats
    ):
        await page.keyboard.press("Escape")  # clear
        await page.wait_for_function(SETTLED_JS)
        await page.evaluate("window.__probe.reset()")
        await draw_for(page, seconds, hz)
        await page.wait_for_function(SETTLED_JS)
        await page.wait_for_timeout(50)  # the last update's animation frame
        results.append(analyse(await page.evaluate(COLLECT_JS)))
    return results


async def run(
    url: str,
    launch_options: dict,
    viewport: dict,
    timeout_ms: int,
    reps: dict,
    hz: float,
    throttle: float = 4,
) -> tuple[str, int, list[dict], list[dict]]:
    """Load the page in a new Chromium, then measure() at full speed and throttled.

    Returns (Chromium version, canvas px, results, throttled results); the throttled pass makes
    `reps["throttled_drawings"]` drawings (none if 0) at CPU throttling rate `throttle`.
    """
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(**launch_options)
        try:
            page = await browser.new_page(viewport=viewport)
            page.set_default_timeout(timeout_ms)
            await page.goto(url)
            await page.wait_for_function("window.mnistDraw && window.mnistDraw.settled()")
            canvas_px = await page.evaluate("document.querySelector('[data-testid=canvas]').width")
            results = await measure(
                page, reps["drawings"], reps["seconds"], hz, reps["min_updates"]
            )
            throttled = []
            if reps.get("throttled_drawings"):
                cdp = await page.context.new_cdp_session(page)
                await cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
                throttled = await measure(
                    page, reps["throttled_drawings"], reps["seconds"], hz, probe=False
                )
                await cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
            return browser.version, canvas_px, results, throttled
        finally:
            await browser.close()
