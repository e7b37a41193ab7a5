"""Drawing while the page loads: pointer-to-ink latency and long tasks from a cold start.

A cold visit (fresh profile) starts drawing as soon as the canvas is interactive (app.js set
`window.mnistDraw`) and keeps drawing strokes with a 120 Hz pen (live.draw_for: moves are sent
without waiting for the page, like a real pen) until <body data-state="ready">.

What is measured, per pen sample (each page.mouse.move the benchmark sends), on the page's clock:

- `t_pen`: when the benchmark sent the move (wall clock, converted with performance.timeOrigin).
  Not event.timeStamp: while the main thread is blocked Chromium holds back and merges mouse
  moves in the browser process (one unacknowledged move at a time), so the event that finally
  arrives carries a late timestamp and the earlier samples' times are lost;
- `t_ink`: ink for it is drawn by the first pointermove handled whose event timestamp is at or
  after `t_pen` (that event carries the sample's position or a later one): the first
  stroke()/fill() on the visible canvas after a window-level capture listener saw it (the init
  script wraps CanvasRenderingContext2D.prototype.stroke / fill);
- `t_frame`: performance.now() in the next requestAnimationFrame callback after that ink, i.e.
  the start of the rendering update that paints it.

Pointer-to-ink = t_frame - t_pen, for every sample sent before ready. A blocked main thread
delays the handler, the ink and the frame. `pointer_to_handler` = handler start - t_pen. Long
tasks over the visit come from browser.INIT_SCRIPT's observer.

t_pen includes the harness's own path to the browser (Playwright's driver, CDP): ~1-2 ms on an
idle machine, more when the machine is overloaded. `event_to_ink` (t_frame - the earliest
event.timeStamp of the inked event) leaves that out but, for the reason above, under-counts
freezes: read both.
"""

from __future__ import annotations

import asyncio
import tempfile

from benchmarks import live
from benchmarks.browser import INIT_SCRIPT, longest_task

INK_SCRIPT = r"""
(() => {
  const ink = (window.__ink = { moves: [] });
  let pending = null;
  addEventListener("pointermove", (e) => {
    if (!(e.buttons & 1) || !e.target || e.target.dataset?.testid !== "canvas") return;
    const all = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    pending = { stamps: (all.length ? all : [e]).map((c) => c.timeStamp),
                handled: performance.now(), ink: null, frame: null };
    ink.moves.push(pending);
  }, { capture: true });
  const proto = CanvasRenderingContext2D.prototype;
  for (const name of ["stroke", "fill"]) {
    const original = proto[name];
    proto[name] = function (...args) {
      const result = original.apply(this, args);
      if (pending && this.canvas && this.canvas.dataset?.testid === "canvas") {
        const move = pending;
        pending = null;
        move.ink = performance.now();
        requestAnimationFrame(() => (move.frame = performance.now()));
      }
      return result;
    };
  }
})();
"""

STROKE_SECONDS = 0.5
MAX_SECONDS = 60


def analyse(moves: list[dict], pen: list[float], ready_ms: float) -> dict:
    """Pointer-to-ink and pointer-to-handler latencies (ms) of the pen samples sent before ready.

    `moves`: the INK_SCRIPT records; `pen`: send times on the page clock. Samples that no inked
    event covers (the page never drew them) are counted as `unseen`.
    """
    inked = sorted((m for m in moves if m["frame"] is not None), key=lambda m: m["handled"])
    event_to_ink = [m["frame"] - min(m["stamps"]) for m in inked if min(m["stamps"]) < ready_ms]
    latencies, handler, unseen = [], [], 0
    for t_pen in (t for t in pen if t < ready_ms):
        move = next((m for m in inked if max(m["stamps"]) >= t_pen), None)
        if move is None:
            unseen += 1
            continue
        latencies.append(move["frame"] - t_pen)
        handler.append(move["handled"] - t_pen)
    return {"ink": latencies, "handler": handler, "event_to_ink": event_to_ink, "unseen": unseen}


async def cold_visit(pw, url: str, launch_options: dict, viewport: dict, hz: float) -> dict:
    """One cold visit drawing from interactive until ready; analyse()'s figures + long tasks."""
    with tempfile.TemporaryDirectory(prefix="mnist-draw-bench-load-") as profile:
        context = await pw.chromium.launch_persistent_context(
            profile, viewport=viewport, **launch_options
        )
        try:
            await context.add_init_script(INIT_SCRIPT)
            await context.add_init_script(INK_SCRIPT)
            page = context.pages[0] if context.pages else await context.new_page()
            page.set_default_timeout(MAX_SECONDS * 1000)
            await page.goto(url, wait_until="commit")
            await page.wait_for_function("window.__bench && window.__bench.interactive !== null")
            strokes, sent = 0, []
            start = asyncio.get_running_loop().time()
            while asyncio.get_running_loop().time() - start < MAX_SECONDS:
                await live.draw_for(page, STROKE_SECONDS, hz, sent)
                strokes += 1
                state = await page.evaluate("[window.__bench.ready, window.__bench.error]")
                if state[1] is not None:
                    raise RuntimeError(f"the page reported an error: {state[1]}")
                if state[0] is not None:
                    break
            await page.wait_for_timeout(100)  # last frames and long-task entries
            bench = await page.evaluate("window.__bench")
            moves = await page.evaluate("window.__ink.moves")
            origin = await page.evaluate("performance.timeOrigin")
        finally:
            await context.close()
    result = analyse(moves, [t - origin for t in sent], bench["ready"])
    result.update(
        ready_ms=bench["ready"],
        interactive_ms=bench["interactive"],
        strokes=strokes,
        longest_task_ms=longest_task(bench["longtasks"], bench["ready"]),
        long_tasks=[t for t in bench["longtasks"] or [] if t[0] < bench["ready"]],
        events=bench["events"],
    )
    return result


async def run(url: str, launch_options: dict, viewport: dict, repeats: int, hz: float) -> list:
    """`repeats` cold visits drawing while loading."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        return [await cold_visit(pw, url, launch_options, viewport, hz) for _ in range(repeats)]
