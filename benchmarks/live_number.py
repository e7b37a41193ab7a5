"""A whole number written live: updates/s and stroke -> number latency while writing "314159".

Issue 13: a 6-digit drawing must still update at >= 30 Hz while drawing. On a ready page the
number is written stroke by stroke with benchmarks/live.py's pen (draw_strokes: `hz` moves per
second, sent without waiting, the pen lifted between strokes) and measured with live.py's probe
and analyse(), the probe watching the number view's digit list (live.WATCH_NUMBER) instead of
the bars: an update is a reading of the whole canvas painted as a number.

The strokes are the ones the accuracy benchmark and tests/test_number_browser.py use:
benchmarks/multi_digit.py's stroke_number() places the digits of tests/digit_strokes.py's
`hand_alt` style (a two-stroke 4, a 1 with flag and base: 9 strokes) across the app's model
canvas with normal gaps. Each stroke is resampled at one steady pen speed so that the whole
number takes `seconds` (live.along), then scaled to the displayed canvas.

After each drawing, once the page settled, `[data-testid=number]` must read the drawn number:
`read_right` (share of drawings) tells whether the figures were measured on a working page;
budgets.json requires 1.

    python -m benchmarks.live_number            # this part alone: JSON to stdout
    python -m benchmarks.live_number --check    # and its budgets (exit 1 on a miss)

`python -m benchmarks` runs the same measurement on its live page (`live_number` in its JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import sys

import numpy as np

from benchmarks import check, live

NUMBER = "314159"
STYLE = "hand_alt"
MOVE_HZ = 120
SECONDS = 3.0
DRAWINGS = 3


def number_strokes(box: dict, seconds: float, hz: float, number: str = NUMBER) -> list[list]:
    """The strokes of `number` in page coordinates over the canvas `box`, resampled so that
    drawing them at `hz` (one sample per pen lift) takes `seconds`."""
    from benchmarks.multi_digit import APP_CANVAS, stroke_number

    rng = np.random.default_rng(0)
    _, strokes = stroke_number([int(d) for d in number], STYLE, "normal", "even", 0.0, rng)
    lengths = [float(np.linalg.norm(np.diff(s, axis=0), axis=1).sum()) for s in strokes]
    moves = seconds * hz - (len(strokes) - 1)  # one sample per lift between strokes
    scale = box["width"] / APP_CANVAS
    return [
        [
            (box["x"] + x * scale, box["y"] + y * scale)
            for x, y in live.along(s, max(2, round(moves * length / sum(lengths)) + 1))
        ]
        for s, length in zip(strokes, lengths, strict=True)
    ]


async def measure(page, drawings: int, seconds: float, hz: float) -> list[dict]:
    """`drawings` times NUMBER written on a cleared canvas of a ready page (live.measure)."""
    if not drawings:
        return []
    box = await page.locator("[data-testid=canvas]").bounding_box()
    strokes = number_strokes(box, seconds, hz)
    return await live.measure(
        page,
        drawings,
        seconds,
        hz,
        draw=lambda p: live.draw_strokes(p, strokes, hz),
        watch=live.WATCH_NUMBER,
    )


def summary(drawings: list[dict], number: str = NUMBER) -> dict:
    """live.summary() of the drawings plus what the page showed after each one."""
    shown = [d["shown"] for d in drawings]
    states = collections.Counter(s for d in drawings for s in d["states"])
    return {
        "number": number,
        "shown": shown,
        "read_right": round(sum(s == number for s in shown) / len(shown), 3) if shown else None,
        # While drawing: how many updates showed digits, and how many showed none because the
        # unfinished ink was judged unreadable (e.g. a half-drawn digit is "not a digit").
        "states_while_drawing": dict(states),
        **live.summary(drawings),
    }


def main(argv: list[str] | None = None) -> int:
    from benchmarks import browser, machine

    parser = argparse.ArgumentParser(prog="python -m benchmarks.live_number")
    parser.add_argument("--drawings", type=int, default=DRAWINGS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--check", action="store_true", help="check the live_number budgets")
    args = parser.parse_args(argv)
    reps = {"number_drawings": args.drawings, "seconds": args.seconds}
    with browser.served_site() as server:
        out = asyncio.run(
            live.run(
                server.url,
                browser.launch_options(),
                browser.VIEWPORT,
                browser.READY_TIMEOUT_MS,
                reps,
                MOVE_HZ,
            )
        )
    document = {
        "live_number": {**summary(out["number"]), "move_hz": MOVE_HZ, "seconds": args.seconds},
        "machine": machine.info(out["chromium"]),
    }
    print(json.dumps(document, indent=2))
    if not args.check:
        return 0
    budgets = [b for b in check.load_budgets() if b["metric"].startswith("live_number.")]
    misses, hits = check.check(document, budgets)
    for line in hits:
        print(f"  ok    {line}", file=sys.stderr)
    for line in misses:
        print(f"  MISS  {line}", file=sys.stderr)
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
