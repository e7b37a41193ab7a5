"""Screenshots of the "Look inside" panel for docs/: light and dark desktop, and a phone.

Serves site/ (serve.py), draws a digit with real mouse / touch input in headless Chromium, opens
the panel, picks a conv1 map (keyboard on desktop, a tap on the phone) and saves small palette
PNGs (Pillow) to docs/look-inside-{light,dark,phone,phone-dark}.png.

Usage: `python tools/look_inside_screenshots.py [--model-dir DIR]`; DIR serves a model other
than site/model/ (a dev model with the activation outputs, before contract v2 ships).
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "site")]  # digit_strokes: drawings

from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

import serve  # noqa: E402
from digit_strokes import digit_paths, place  # noqa: E402

DOCS = ROOT / "docs"


def save_small(png: bytes, path: Path, width: int) -> None:
    """Scale to `width` px and store as a 256-colour PNG (screenshots are mostly flat colour)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    if image.width > width:
        image = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
    image.quantize(256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"{path.relative_to(ROOT)}: {image.width}x{image.height}, {path.stat().st_size} bytes")


def draw(page, digit: int, touch: bool = False) -> None:
    box = page.locator("[data-testid=canvas]").bounding_box()
    paths = place(digit_paths(digit, "hand"), box["width"], 0.6, (box["width"] / 2,) * 2)
    for stroke in paths:
        points = [(box["x"] + x, box["y"] + y) for x, y in stroke]
        if touch:  # one touch stroke through CDP: down, moves, up
            cdp = page.context.new_cdp_session(page)
            for kind, pts in (("touchStart", points[:1]), ("touchMove", points[1:])):
                for x, y in pts:
                    cdp.send(
                        "Input.dispatchTouchEvent",
                        {"type": kind, "touchPoints": [{"x": x, "y": y}]},
                    )
            cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
            cdp.detach()
            continue
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point)
        page.mouse.up()


def shoot(browser, url: str, name: str, scheme: str, phone: bool) -> None:
    options = {"color_scheme": scheme, "service_workers": "block"}
    if phone:
        options |= {
            "viewport": {"width": 390, "height": 844},
            "device_scale_factor": 2,
            "is_mobile": True,
            "has_touch": True,
        }
    else:
        options |= {"viewport": {"width": 1000, "height": 900}}
    context = browser.new_context(**options)
    page = context.new_page()
    page.set_default_timeout(90_000)
    page.goto(url)
    page.wait_for_function("document.body.dataset.state === 'ready'")
    draw(page, 4 if not phone else 7, touch=phone)
    page.wait_for_function("window.mnistDraw.settled() && window.mnistDraw.last !== null")
    summary = page.locator("[data-testid=look-inside] summary")
    if phone:
        summary.tap()
    else:
        summary.click()
    page.wait_for_function("window.mnistDraw.settled()")
    page.wait_for_function(
        "document.querySelector('[data-testid=look-inside]').dataset.state === 'live'"
    )
    grid = page.locator("[data-testid=grid-conv1]")
    if phone:
        grid.scroll_into_view_if_needed()
        box = grid.bounding_box()
        page.touchscreen.tap(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.3)
        page.evaluate(
            "document.querySelector('[data-testid=grid-conv1]').closest('figure').scrollIntoView()"
        )
        png = page.screenshot()
        save_small(png, DOCS / f"look-inside-{name}.png", 390)
    else:
        grid.focus()
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        png = page.locator("[data-testid=look-inside]").screenshot()
        save_small(png, DOCS / f"look-inside-{name}.png", 800)
    context.close()


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", type=Path, help="serve this model in place of site/model/")
    args = parser.parse_args(argv)
    overrides = {}
    if args.model_dir:
        overrides = {f"/model/{n}": args.model_dir / n for n in ("model.json", "mnist_cnn.onnx")}
    server = serve.make_server(ROOT / "site", "127.0.0.1", 0, quiet=True, overrides=overrides)
    serve.start_in_thread(server)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            shoot(browser, server.url, "light", "light", phone=False)
            shoot(browser, server.url, "dark", "dark", phone=False)
            shoot(browser, server.url, "phone", "light", phone=True)
            shoot(browser, server.url, "phone-dark", "dark", phone=True)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
