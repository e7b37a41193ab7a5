"""Live prediction while the pen moves: stroke -> probabilities latency and updates per second.

On a loaded page the benchmark installs a probe (page.evaluate) that records, on the page's
clock:

- every pointer move's input time (event.timeStamp, coalesced events included) and when its
  handler ran;
- when each prediction takes the canvas pixels: calls of `mnistDraw.drawing.pixels` (app.js
  calls it at the start of every prediction) and of getImageData on the 280 px model canvas
  (what is sent to Python, whether it runs on the main thread or in a worker);
- when each update lands in the DOM and the next animation frame after it, with
  `mnistDraw.last.timings` of that update. What counts as an update is the probe's `watch`: by
  default the bars ([data-testid=probabilities] data-p, repainted by every reading), or
  WATCH_NUMBER: the number view's render (its root's data-state, written by every reading in
  the same task, before the bars; benchmarks/live_number.py).

Then Playwright moves the mouse along a closed curve at `hz` moves per second with the button
down (draw_for), or along given strokes, lifting the pen between them (draw_strokes). Each
update is paired with the latest pixel snapshot taken before it landed; the moves it shows for
the first time are those handled after the previous update's snapshot and before its own, and
its latency runs from the oldest of them. Nothing depends on where Python runs: the result may
arrive from a worker; only the DOM change the probe watches counts.

`throttled`: the same measurement under CDP Emulation.setCPUThrottlingRate (rate 4), a
"slower machine" figure. Chromium throttles the page's main thread only: sent to a dedicated
worker's target it answers "Operation is only supported for pages, not workers". With Python
and the model in a worker, the figure slows drawing and painting, not the computation.
"""

from __future__ import annotations

import asyncio
import math
import time

import numpy as np

from benchmarks.stats import summarize

PROBE_JS = r"""(watch) => {
  // Installed once per page; a second call only points the update observer at `watch`.
  watch = watch ?? { selector: "[data-testid=probabilities]",
                     options: { subtree: true, attributes: true, attributeFilter: ["data-p"] } };
  let probe = window.__probe;
  if (!probe) {
    probe = window.__probe = { moves: [], snaps: [], updates: [] };
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
    probe.observer = new MutationObserver(() => {
      const last = window.mnistDraw.last;
      const update = { t: performance.now(), frame: null, timings: last?.timings ?? null,
                       state: last?.reading?.state ?? null };
      probe.updates.push(update);
      requestAnimationFrame((t) => (update.frame = t));
    });
    probe.reset = () => { probe.moves = []; probe.snaps = []; probe.updates = []; };
  }
  probe.observer.disconnect();
  probe.observer.observe(document.querySelector(watch.selector), watch.options);
}"""

#: The probe's `watch` for a number: number-view.js sets its root's data-state on every render
#: (a same-value write is still a mutation), whatever it shows: digits, nothing, unreadable.
WATCH_NUMBER = {"selector": "#number-view", "options": {"attributeFilter": ["data-state"]}}

# The page's own "result on screen matches the drawing" flag when it has one.
SETTLED_JS = "!window.mnistDraw.settled || window.mnistDraw.settled()"

COLLECT_JS = "({moves: __probe.moves, snaps: __probe.snaps, updates: __probe.updates})"

# The number the page shows ("" for none), read once a drawing is settled.
SHOWN_JS = "document.querySelector('[data-testid=number]').textContent"


def curve(box: dict, n: int) -> list[tuple[float, float]]:
    """n points of a Lissajous figure over the middle 60% of the canvas (a digit-sized scribble)."""
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    r = 0.3 * min(box["width"], box["height"])
    return [
        (cx + r * math.sin(2 * math.pi * i / 180 * 2), cy + r * math.sin(2 * math.pi * i / 180 * 3))
        for i in range(n)
    ]


def along(points, n: int) -> list[tuple[float, float]]:
    """n points evenly spaced along a polyline (its ends included): a pen at one steady speed."""
    points = np.asarray(points, dtype=float)
    at = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))])
    to = np.linspace(0, at[-1], n)
    return list(zip(np.interp(to, at, points[:, 0]), np.interp(to, at, points[:, 1]), strict=True))


async def draw_strokes(page, strokes, hz: float, sent: list | None = None) -> int:
    """Draw `strokes` (lists of page points) with a pen sampled at `hz`; returns the moves sent
    with the button down.

    One move per point after each stroke's first, one sample apart. Moves are sent without
    waiting for the previous one to be handled (async API, one task per move): a busy main
    thread then queues input like it does for a real pen, instead of slowing the pen down.
    Between strokes the pen waits for its moves to be handled (Playwright delivers a move with
    the button down after a drag check, so a lift sent at once would overtake it), is lifted
    for one sample and put down at the next stroke's start; the lift never puts the pen behind
    its schedule. `sent` (optional) receives each move's wall-clock send time (epoch ms): the
    moment the pen was there, whatever the browser does with the event afterwards.
    """
    await page.mouse.move(*strokes[0][0])
    await page.mouse.down()
    due, tasks = time.perf_counter(), []

    async def next_sample() -> None:
        nonlocal due
        due += 1 / hz
        await asyncio.sleep(max(due - time.perf_counter(), 0))

    for k, stroke in enumerate(strokes):
        if k:
            await asyncio.gather(*tasks)
            await page.mouse.up()
            await next_sample()
            due = max(due, time.perf_counter())
            await page.mouse.move(*stroke[0])
            await page.mouse.down()
        for x, y in stroke[1:]:
            if sent is not None:
                sent.append(time.time() * 1000)
            tasks.append(asyncio.ensure_future(page.mouse.move(x, y)))
            await next_sample()
    await asyncio.gather(*tasks)
    await page.mouse.up()
    return sum(len(stroke) - 1 for stroke in strokes)


async def draw_for(page, seconds: float, hz: float, sent: list | None = None) -> int:
    """Hold the button and move along curve() at `hz` for `seconds` (draw_strokes, one stroke)."""
    box = await page.locator("[data-testid=canvas]").bounding_box()
    return await draw_strokes(page, [curve(box, int(seconds * hz) + 1)], hz, sent)


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
        "states": [u.get("state") for u in during],  # what each showed: digits, unreadable...
        "moves_hz": len(moves) / drawing_s,
    }


async def measure(
    page,
    repeats: int,
    seconds: float,
    hz: float,
    min_updates: int = 0,
    max_repeats: int = 20,
    draw=None,
    watch: dict | None = None,
) -> list[dict]:
    """Drawings on a ready page, each on a cleared canvas; one analyse() per drawing, plus
    `shown`: the number the page shows once it settled (SHOWN_JS).

    At least `repeats` drawings, more (up to `max_repeats`) until `min_updates` updates were seen.
    `draw(page)` makes one drawing (default: draw_for `seconds` at `hz`); `watch` says what
    counts as an update (PROBE_JS; default the bars).
    """
    await page.evaluate(PROBE_JS, watch)
    results = []
    while len(results) < repeats or (
        sum(len(r["latency"]) for r in results) < min_updates and len(results) < max_repeats
    ):
        await page.keyboard.press("Escape")  # clear
        await page.wait_for_function(SETTLED_JS)
        await page.evaluate("window.__probe.reset()")
        await (draw(page) if draw else draw_for(page, seconds, hz))
        await page.wait_for_function(SETTLED_JS)
        await page.wait_for_timeout(50)  # the last update's animation frame
        result = analyse(await page.evaluate(COLLECT_JS))
        results.append({**result, "shown": await page.evaluate(SHOWN_JS)})
    return results


def summary(drawings: list[dict]) -> dict:
    """The JSON figures of measure()'s drawings: latency and its parts, updates/s, pen moves/s."""
    pick = lambda key: [x for d in drawings for x in d[key]]  # noqa: E731
    return {
        "predict_ms": summarize(pick("latency")),
        "predict_parts_ms": {
            "input_wait": summarize(pick("waited")),
            **{
                k: summarize(v for d in drawings for v in d["parts"][k])
                for k in ("transfer_ms", "preprocess_ms", "model_ms")
            },
            "to_next_frame": summarize(pick("to_frame")),
        },
        "live_updates_hz": summarize(d["updates_hz"] for d in drawings),
        "pen_moves_hz": summarize(d["moves_hz"] for d in drawings),
    }


async def run(
    url: str,
    launch_options: dict,
    viewport: dict,
    timeout_ms: int,
    reps: dict,
    hz: float,
    throttle: float = 4,
) -> dict:
    """Load the page in a new Chromium, then measure(): a scribble at full speed, a whole number
    (live_number.py) and the scribble throttled.

    Returns {"chromium", "canvas_px", "drawings", "number", "throttled"} (lists of measure()
    results); `reps` says how many drawings of each (`drawings`, `number_drawings`,
    `throttled_drawings`: none if 0 or missing), the throttled ones at CPU throttling rate
    `throttle`.
    """
    from playwright.async_api import async_playwright

    from benchmarks import live_number

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(**launch_options)
        try:
            page = await browser.new_page(viewport=viewport)
            page.set_default_timeout(timeout_ms)
            await page.goto(url)
            await page.wait_for_function("window.mnistDraw && window.mnistDraw.settled()")
            canvas_px = await page.evaluate("document.querySelector('[data-testid=canvas]').width")
            out = {"chromium": browser.version, "canvas_px": canvas_px}
            out["drawings"] = await measure(
                page, reps.get("drawings", 0), reps["seconds"], hz, reps.get("min_updates", 0)
            )
            out["number"] = await live_number.measure(
                page, reps.get("number_drawings", 0), reps["seconds"], hz
            )
            out["throttled"] = []
            if reps.get("throttled_drawings"):
                cdp = await page.context.new_cdp_session(page)
                await cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
                out["throttled"] = await measure(
                    page, reps["throttled_drawings"], reps["seconds"], hz
                )
                await cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
            return out
        finally:
            await browser.close()
