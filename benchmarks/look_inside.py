"""The "Look inside" panel's cost while drawing: open (updates/s, stage times), closed (extra work).

    python -m benchmarks.look_inside                  # JSON to stdout + artifacts/
    python -m benchmarks.look_inside --model-dir DIR  # serve a dev model (onnx + model.json)

Or from the lead's benchmark: `measure(url, launch_options, viewport, timeout_ms)` on a served
site. On one loaded page (service workers blocked, so a dev model served in place of site/model/
passes), the mouse draws a hand-drawn 0 slowly along its path at 120 moves/s, `drawings` times
with the panel closed, then the same with it open. Measured on the page:

- every ONNX run (batch size and fetched output names) the compute worker reports with each
  reading (`reading.runs`), by wrapping the engine's read() that app.js calls;
- the panel's renders (look-inside.js `stats`), each with the stage times worker.py attached
  (activations run, occlusion run, numpy arrangement, conversion to JS, where reported) and
  the paint time in JS;
- the app's own updates (benchmarks/live.py's probe: probability bars changing).

Closed, "extra work" = ONNX runs other than the app's own (which fetches probabilities and
features): runs fetching a layer's maps, probabilities-only occlusion batches, and panel renders
(each render is one Python LookInside.result call): all must be 0. Open, `panel_updates_hz`
is the number of panel renders per second of drawing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from benchmarks import ARTIFACTS, ROOT, live
from benchmarks.stats import summarize

MOVE_HZ = 120
#: Target from issue 16: panel updates per second while drawing, open.
TARGET_HZ = 15

COUNT_RUNS_JS = """async () => {
  const runs = (window.__runs = []);
  const engine = window.mnistDraw.engine;
  const read = engine.read;
  engine.read = async (...args) => {
    const reading = await read(...args);
    const t = performance.now();
    for (const run of reading.runs ?? [])
      runs.push({ t, batch: run.batch, fetches: [...run.fetches] });
    return reading;
  };
  window.__panel = await import('./look-inside.js');
}"""

RESET_JS = "() => { window.__runs.length = 0; window.__panel.stats.log = []; }"
COLLECT_JS = "() => ({ runs: window.__runs, renders: window.__panel.stats.log })"


def _digit_path(box: dict, n: int, digit: int = 0) -> list[tuple[float, float]]:
    """n page points evenly spaced along one hand-drawn digit (0: a single closed stroke),
    60% of the canvas high: the drawing is a digit for most of its length, so every update
    reaches the model and the panel (a scribble may read as "not a digit")."""
    sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "site")]  # digit_strokes imports drawings
    from digit_strokes import digit_paths, place

    side = box["width"]
    (stroke,) = place(digit_paths(digit, "hand"), side, 0.6, (side / 2, side / 2))
    return [(box["x"] + x, box["y"] + y) for x, y in live.along(stroke, n)]


async def _draw_digit_for(page, seconds: float, hz: float) -> None:
    """live.draw_strokes (moves sent without waiting) along a digit's path for `seconds`."""
    canvas = page.locator("[data-testid=canvas]")
    await canvas.scroll_into_view_if_needed()  # opening the panel may have scrolled the page
    box = await canvas.bounding_box()
    await live.draw_strokes(page, [_digit_path(box, int(seconds * hz) + 1)], hz)


async def _drawings(page, count: int, seconds: float) -> list[dict]:
    """`count` drawings on a cleared canvas; per drawing: app updates, ONNX runs, panel renders."""
    out = []
    for _ in range(count):
        await page.keyboard.press("Escape")
        await page.wait_for_function("window.mnistDraw.settled()")
        await page.evaluate("window.__probe.reset()")
        await page.evaluate(RESET_JS)
        await _draw_digit_for(page, seconds, MOVE_HZ)
        await page.wait_for_function("window.mnistDraw.settled()")
        await page.wait_for_timeout(50)
        probe = await page.evaluate(live.COLLECT_JS)
        moves = sorted(m[0] for m in probe["moves"])
        counted = await page.evaluate(COLLECT_JS)
        span = (moves[-1] - moves[0]) / 1000 if len(moves) > 1 else float("nan")
        during = [r for r in counted["renders"] if moves and moves[0] <= r["t"] <= moves[-1]]
        out.append(
            {
                "app": live.analyse(probe),
                "runs": counted["runs"],
                "renders": counted["renders"],
                "panel_updates_hz": len(during) / span,
            }
        )
    return out


def _kind(run: dict, contract: dict) -> str:
    """ "activations" (fetches a layer's maps), "occlusion" (the probabilities alone) or "app"
    (the app's own run: probabilities and features of the drawn digits)."""
    maps = {o["name"] for o in contract["outputs"] if len(o["shape"]) == 4}
    if maps & set(run["fetches"]):
        return "activations"
    return "occlusion" if run["fetches"] == [contract["output"]["name"]] else "app"


def _closed_summary(drawings: list[dict], contract: dict) -> dict:
    runs = [r for d in drawings for r in d["runs"]]
    kinds = [_kind(r, contract) for r in runs]
    return {
        "live_updates_hz": summarize(d["app"]["updates_hz"] for d in drawings),
        "app_updates": sum(len(d["app"]["latency"]) for d in drawings),
        "onnx_runs": len(runs),
        "extra_onnx_runs": sum(k != "app" for k in kinds),
        "activation_fetches": kinds.count("activations"),
        "occlusion_runs": kinds.count("occlusion"),
        "panel_renders": sum(len(d["renders"]) for d in drawings),
        # Each render is one LookInside.result call in Python; none may happen while closed.
        "extra_python_calls": sum(len(d["renders"]) for d in drawings),
    }


def _open_summary(drawings: list[dict], contract: dict) -> dict:
    renders = [r for d in drawings for r in d["renders"]]
    runs = [r for d in drawings for r in d["runs"]]
    occlusion = [r for r in runs if _kind(r, contract) == "occlusion"]
    panel_runs = [r for r in runs if _kind(r, contract) != "app"]
    stage = lambda key: summarize(r[key] for r in renders if key in r)  # noqa: E731
    return {
        "panel_updates_hz": summarize(d["panel_updates_hz"] for d in drawings),
        "live_updates_hz": summarize(d["app"]["updates_hz"] for d in drawings),
        "predict_ms": summarize(x for d in drawings for x in d["app"]["latency"]),
        "stages_ms": {
            k: stage(k)
            for k in ("activations_ms", "occlusion_ms", "arrange_ms", "convert_ms", "paint_ms")
        },
        "occlusion_batch": summarize(r["batch"] for r in occlusion),
        # Only the updates that ran the occlusion batch (the others reuse the last map).
        "occlusion_run_ms": summarize(r["occlusion_ms"] for r in renders if r["occlusion_ms"] > 1),
        # All panel work per update in Python + JS (what it adds to an app update).
        "panel_total_ms": summarize(
            sum(
                r.get(k, 0)
                for k in ("activations_ms", "occlusion_ms", "arrange_ms", "convert_ms", "paint_ms")
            )
            for r in renders
        ),
        "panel_onnx_runs_per_render": round(len(panel_runs) / max(len(renders), 1), 2),
        "panel_renders": len(renders),
    }


async def measure(
    url: str,
    launch_options: dict,
    viewport: dict,
    timeout_ms: int,
    drawings: int = 3,
    seconds: float = 3.0,
) -> dict:
    """Closed then open, on one page of a served site; the JSON figures."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(**launch_options)
        try:
            context = await browser.new_context(viewport=viewport, service_workers="block")
            page = await context.new_page()
            page.set_default_timeout(timeout_ms)
            await page.goto(url)
            await page.wait_for_function("window.mnistDraw && window.mnistDraw.settled()")
            await page.evaluate(live.PROBE_JS)
            await page.evaluate(COUNT_RUNS_JS)
            contract = await page.evaluate("fetch('./model/model.json').then((r) => r.json())")
            closed = await _drawings(page, drawings, seconds)
            await page.locator("[data-testid=look-inside] summary").click()
            opened = await _drawings(page, drawings, seconds)
            version = browser.version
        finally:
            await browser.close()
    summary_open = _open_summary(opened, contract)
    return {
        "closed": _closed_summary(closed, contract),
        "open": summary_open,
        "target_panel_updates_hz": TARGET_HZ,
        "meets_target": summary_open["panel_updates_hz"]["p50"] >= TARGET_HZ,
        "load_average_1min": round(os.getloadavg()[0], 2),  # the machine is shared
        "setup": {
            "move_hz": MOVE_HZ,
            "seconds": seconds,
            "drawings": drawings,
            "chromium": version,
        },
    }


def main(argv: list[str] | None = None) -> int:
    # tests/ via sys.path like benchmarks/cpython.py: `tests.conftest` (benchmarks/browser.py) can
    # resolve to an unrelated site-packages `tests` package on some machines.
    sys.path[:0] = [str(ROOT / "tests")]
    import conftest

    import serve

    parser = argparse.ArgumentParser(prog="python -m benchmarks.look_inside")
    parser.add_argument("--model-dir", type=Path, help="serve this model in place of site/model/")
    parser.add_argument("--drawings", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--out", type=Path, default=ARTIFACTS / "benchmark-look-inside.json")
    args = parser.parse_args(argv)
    overrides = None
    if args.model_dir:
        overrides = {f"/model/{n}": args.model_dir / n for n in ("model.json", "mnist_cnn.onnx")}
    server = serve.make_server(ROOT / "site", "127.0.0.1", 0, quiet=True, overrides=overrides)
    serve.start_in_thread(server)
    launch = {
        "executable_path": conftest.CHROMIUM,
        "args": conftest.CHROMIUM_ARGS,
        "headless": True,
    }
    try:
        document = asyncio.run(
            measure(
                server.url,
                launch,
                {"width": 900, "height": 700},
                90_000,
                args.drawings,
                args.seconds,
            )
        )
    finally:
        server.shutdown()
        server.server_close()
    text = json.dumps(document, indent=2)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
