"""Screenshots of the finished app for docs/: desktop and phone, light and dark, with a digit drawn.

Serves site/ with serve.py, opens it in the system Chromium (tests/conftest.py's launch options),
draws a hand-style digit with real pointer events and saves small PNGs:
docs/screenshot-<desktop|phone|phone-landscape>-<light|dark>.png, plus docs/screenshot.png (the
README's, desktop light), and the other states a person meets on a phone and a desktop:
docs/state-<loading|error|number>-<desktop|phone>.png (loading with a digit drawn early, a failed
download, a four-digit number).

Usage: `python tools/screenshots.py [--out docs]` (needs the test extras: playwright).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "site")]

from conftest import launch_options  # noqa: E402

import serve  # noqa: E402
from digit_strokes import digit_paths, place  # noqa: E402

VIEWS = {
    "desktop": {"viewport": {"width": 1100, "height": 720}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 1,  # small files; the layout is what matters
        "is_mobile": True,
        "has_touch": True,
    },
    "phone-landscape": {
        "viewport": {"width": 844, "height": 390},
        "device_scale_factor": 1,
        "is_mobile": True,
        "has_touch": True,
    },
}


def draw(page, digit: int, size: float = 0.6, centre: tuple[float, float] = (0.5, 0.5)) -> None:
    box = page.locator("[data-testid=canvas]").bounding_box()
    side = box["width"]
    where = (centre[0] * side, centre[1] * side)
    for stroke in place(digit_paths(digit, "hand"), side, size, where):
        page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y)
        page.mouse.up()
    page.wait_for_function(
        "() => window.mnistDraw.settled() || document.body.dataset.state !== 'ready'"
    )


def states(browser, url: str, out: Path) -> None:
    """Loading (a digit drawn early), a failed download, and a number, on desktop and phone."""
    for view in ("desktop", "phone"):
        for state in ("loading", "error", "number"):
            context = browser.new_context(**VIEWS[view])
            if state == "loading":  # the model never arrives: the page stays loading
                context.route("**/model/mnist_cnn.onnx", lambda route: None)
            if state == "error":
                context.route("**/model/mnist_cnn.onnx", lambda r: r.fulfill(status=404))
            page = context.new_page()
            page.goto(url)
            if state == "loading":
                page.wait_for_selector("[data-testid=canvas]")
                draw(page, 7)
                page.wait_for_timeout(1500)
            elif state == "error":
                page.wait_for_function("() => document.body.dataset.state === 'error'")
            else:
                page.wait_for_function("() => document.body.dataset.state === 'ready'")
                for i, digit in enumerate((2, 0, 2, 4)):
                    draw(page, digit, 0.3, (0.17 + 0.22 * i, 0.5))
                page.wait_for_timeout(300)
            path = out / f"state-{state}-{view}.png"
            page.screenshot(path=path)
            print(f"wrote {path}")
            context.close()


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    server = serve.make_server(serve.SITE, "127.0.0.1", 0)
    serve.start_in_thread(server)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(**launch_options())
        for view, options in VIEWS.items():
            for scheme in ("light", "dark"):
                context = browser.new_context(color_scheme=scheme, **options)
                page = context.new_page()
                page.goto(server.url)
                page.wait_for_function("() => document.body.dataset.state === 'ready'")
                draw(page, 3 if scheme == "light" else 8)
                page.wait_for_timeout(300)  # the bars' 80 ms width transition
                path = args.out / f"screenshot-{view}-{scheme}.png"
                page.screenshot(path=path)
                if (view, scheme) == ("desktop", "light"):
                    page.screenshot(path=args.out / "screenshot.png")
                print(f"wrote {path}")
                context.close()
        states(browser, server.url, args.out)
        browser.close()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
