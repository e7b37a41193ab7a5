"""Draw the app icon (a hand-drawn "2" on the accent colour) as SVG and PNG 192/512 (Pillow).

One stroke, defined once below as cubic Bézier segments in a 512-unit box, is written to
site/icons/icon.svg and rasterised (4x supersampled) to icon-192.png, icon-512.png and the
full-bleed icon-maskable-512.png (the digit stays inside the central 80% safe zone).

Usage: `python tools/make_icons.py` (needs Pillow; the PNGs are committed, so the site and the
Pages workflow do not need it).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "site" / "icons"
ACCENT = "#2563eb"  # --accent in site/style.css
INK = "#ffffff"
BOX = 512
RADIUS = 96  # rounded corners of the "any" icons; the maskable one is full bleed
STROKE = 46
# A "2": start point, then cubic segments (c1, c2, end); the last one is a straight line.
START = (168, 190)
SEGMENTS = [
    ((176, 112), (336, 104), (340, 188)),
    ((344, 256), (248, 300), (164, 386)),
    ((240, 384), (300, 380), (352, 386)),
]
MASKABLE_SCALE = 0.8  # shrink the stroke into the safe zone


def svg() -> str:
    path = f"M {START[0]} {START[1]} " + " ".join(
        f"C {a[0]} {a[1]}, {b[0]} {b[1]}, {c[0]} {c[1]}" for a, b, c in SEGMENTS
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {BOX} {BOX}">\n'
        f'  <rect width="{BOX}" height="{BOX}" rx="{RADIUS}" fill="{ACCENT}"/>\n'
        f'  <path d="{path}" fill="none" stroke="{INK}" stroke-width="{STROKE}"\n'
        '        stroke-linecap="round" stroke-linejoin="round"/>\n'
        "</svg>\n"
    )


def stroke_points(steps: int = 400) -> list[tuple[float, float]]:
    points = [START]
    p0 = START
    for p1, p2, p3 in SEGMENTS:
        for i in range(1, steps + 1):
            t = i / steps
            u = 1 - t
            points.append(
                tuple(
                    u**3 * p0[k] + 3 * u * u * t * p1[k] + 3 * u * t * t * p2[k] + t**3 * p3[k]
                    for k in (0, 1)
                )
            )
        p0 = p3
    return points


def png(size: int, maskable: bool = False) -> Image.Image:
    ss = 4  # supersampling factor for smooth edges
    scale = size * ss / BOX
    image = Image.new("RGBA", (size * ss, size * ss), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable:
        draw.rectangle((0, 0, size * ss, size * ss), fill=ACCENT)
    else:
        draw.rounded_rectangle((0, 0, size * ss - 1, size * ss - 1), RADIUS * scale, fill=ACCENT)
    shrink = MASKABLE_SCALE if maskable else 1.0
    half_box, half_image = BOX / 2, size * ss / 2
    points = [
        ((x - half_box) * shrink * scale + half_image, (y - half_box) * shrink * scale + half_image)
        for x, y in stroke_points()
    ]
    width = STROKE * shrink * scale
    for x, y in points:  # a round pen stamped densely: round caps and joins, no seams
        draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=INK)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "icon.svg").write_text(svg())
    png(192).save(OUT / "icon-192.png", optimize=True)
    png(512).save(OUT / "icon-512.png", optimize=True)
    png(512, maskable=True).save(OUT / "icon-maskable-512.png", optimize=True)
    for path in sorted(OUT.iterdir()):
        print(f"{path.relative_to(OUT.parent.parent)}  {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
