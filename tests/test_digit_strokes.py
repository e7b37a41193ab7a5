"""Sanity tests for the drawn-digit data in tests/digit_strokes.py, and a contact sheet of it.

The renderer is checked against an exact reference (a pixel's sub-samples inside the union of
round-capped segments, by distance) so that CPython tests see what a browser canvas would draw.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.digit_strokes import (
    HAND_STYLES,
    HERSHEY_STYLES,
    STEP,
    STYLES,
    digit_paths,
    place,
    render_rgba,
)

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ALL = [(d, s) for s in STYLES for d in range(10)]


def _reference_alpha(paths_px, canvas_px: int, pen_px: float, ss: int = 4) -> np.ndarray:
    """Coverage as the share of ss x ss sub-samples within pen_px / 2 of a stroke, testing every
    sub-sample against every segment: slow but obviously right."""
    c = (np.arange(canvas_px * ss) + 0.5) / ss
    gx, gy = np.meshgrid(c, c)
    dist = np.full(gx.shape, np.inf)
    for stroke in paths_px:
        pts = np.asarray(stroke, dtype=float)
        segs = zip(pts[:-1], pts[1:], strict=True) if len(pts) > 1 else [(pts[0], pts[0])]
        for a, b in segs:
            d = b - a
            t = ((gx - a[0]) * d[0] + (gy - a[1]) * d[1]) / max(float(d @ d), 1e-12)
            t = np.clip(t, 0, 1)
            dist = np.minimum(dist, np.hypot(gx - a[0] - t * d[0], gy - a[1] - t * d[1]))
    inside = (dist <= pen_px / 2).astype(float)
    return inside.reshape(canvas_px, ss, canvas_px, ss).mean(axis=(1, 3)) * 255


def test_styles_cover_fonts_and_hand_drawn():
    assert len(HERSHEY_STYLES) >= 4
    assert "hand" in HAND_STYLES
    assert set(STYLES) == set(HERSHEY_STYLES) | set(HAND_STYLES)
    assert len(set(STYLES)) == len(STYLES)


@pytest.mark.parametrize(("digit", "style"), ALL)
def test_paths_are_dense_polylines_in_the_unit_box(digit, style):
    paths = digit_paths(digit, style)
    assert paths and all(len(s) >= 2 for s in paths)
    pts = np.array([p for s in paths for p in s])
    assert pts.dtype == float
    xs, ys = pts[:, 0], pts[:, 1]
    assert -0.02 <= ys.min() <= 0.1 and 0.9 <= ys.max() <= 1.02  # one digit tall
    assert xs.min() >= -0.05 and xs.max() <= 1.05
    assert abs((xs.min() + xs.max()) / 2 - 0.5) < 0.01  # centred
    for s in paths:
        gaps = np.hypot(*np.diff(np.asarray(s), axis=0).T)
        assert gaps.max() <= STEP + 1e-9
    assert all(isinstance(c, float) for s in paths for p in s for c in p)  # plain JSON-able data


@pytest.mark.parametrize("style", STYLES)
def test_one_is_narrow_and_zero_is_wide(style):
    def width(d):
        xs = [x for s in digit_paths(d, style) for x, _ in s]
        return max(xs) - min(xs)

    assert width(1) < 0.9 * width(0)  # serif fonts and hand_alt give the 1 a base
    assert width(0) > 0.4
    if style in ("simplex", "hand", "hand_slant"):
        assert width(1) < 0.3


def test_paths_are_deterministic_and_styles_differ():
    assert digit_paths(8, "hand_slant") == digit_paths(8, "hand_slant")
    assert digit_paths(7, "hand") != digit_paths(7, "hand_alt")
    assert len(digit_paths(7, "hand_alt")) == 2  # crossbar
    assert len(digit_paths(1, "hand")) == 1


@pytest.mark.parametrize(("digit", "style"), [(5, "x"), (10, "hand"), (-1, "simplex")])
def test_bad_arguments_are_rejected(digit, style):
    with pytest.raises(ValueError):
        digit_paths(digit, style)


def test_place_scales_to_size_and_centres_bbox():
    px = place(digit_paths(3, "hand"), 280, 0.5, (70.0, 200.0))
    pts = np.array([p for s in px for p in s])
    assert pts[:, 1].max() - pts[:, 1].min() == pytest.approx(140.0)
    assert (pts[:, 0].min() + pts[:, 0].max()) / 2 == pytest.approx(70.0)
    assert (pts[:, 1].min() + pts[:, 1].max()) / 2 == pytest.approx(200.0)


def test_render_is_black_ink_with_alpha_coverage():
    img = render_rgba([[(10.0, 20.0), (50.0, 20.0)]], 64, 6.0)
    assert img.shape == (64, 64, 4) and img.dtype == np.uint8
    assert not img[..., :3].any()
    assert img[20, 30, 3] == 255  # on the line
    assert img[10, 30, 3] == 0 and img[30, 30, 3] == 0  # 10 px off it
    # Area of a round-capped line: length * width + one disc.
    area = img[..., 3].sum() / 255
    assert area == pytest.approx(40 * 6 + math.pi * 9, rel=0.03)


def test_single_point_stroke_is_a_round_dot():
    img = render_rgba([[(32.0, 32.0)]], 64, 10.0)
    assert img[..., 3].sum() / 255 == pytest.approx(math.pi * 25, rel=0.04)
    assert img[32, 32, 3] == 255 and img[32, 44, 3] == 0


@pytest.mark.parametrize(
    ("digit", "style", "canvas", "pen"),
    [(8, "hand", 64, 4.0), (2, "duplex", 56, 1.5), (4, "hand_alt", 48, 9.0), (5, "italic", 48, 3)],
)
def test_render_matches_exact_reference(digit, style, canvas, pen):
    paths = place(digit_paths(digit, style), canvas, 0.7, (canvas * 0.45, canvas * 0.55))
    got = render_rgba(paths, canvas, pen)[..., 3].astype(float)
    ref = _reference_alpha(paths, canvas, pen)
    assert np.abs(got - ref).max() <= 1  # same sub-samples; rounding only
    # 8 x 8 sub-samples agree to a few levels: 4 x 4 is fine enough.
    assert np.abs(got - _reference_alpha(paths, canvas, pen, ss=8)).mean() < 2


@pytest.mark.parametrize(("digit", "style"), ALL)
def test_render_puts_ink_along_the_strokes_only(digit, style):
    canvas, pen = 140, 7.0
    paths = place(digit_paths(digit, style), canvas, 0.6, (70.0, 70.0))
    alpha = render_rgba(paths, canvas, pen)[..., 3]
    pts = np.array([p for s in paths for p in s])
    # Every stroke point is inked ...
    ix, iy = np.floor(pts[:, 0]).astype(int), np.floor(pts[:, 1]).astype(int)
    assert (alpha[iy, ix] >= 200).all()
    # ... and nothing beyond a pen radius (plus a pixel) of the bounding box.
    lo = np.floor(pts.min(axis=0) - pen / 2 - 1).astype(int)
    hi = np.ceil(pts.max(axis=0) + pen / 2 + 1).astype(int)
    outside = alpha.copy()
    outside[lo[1] : hi[1], lo[0] : hi[0]] = 0
    assert not outside.any()


@pytest.mark.parametrize("canvas", [280, 560])
def test_tiny_thin_and_off_centre_digits_still_have_ink(canvas):
    for style in STYLES:
        paths = place(digit_paths(1, style), canvas, 0.15, (0.1 * canvas, 0.9 * canvas))
        alpha = render_rgba(paths, canvas, 0.01 * canvas)[..., 3]
        assert (alpha > 127).sum() >= 0.15 * canvas  # a 1 at 15% is at least its height in ink
        assert alpha[: canvas // 2].sum() == 0 and alpha[:, canvas // 2 :].sum() == 0


def test_contact_sheet():
    """Write artifacts/digit_styles.png: one row per style, with a thin and a thick pen."""
    cell = 72
    rows = []
    for style in STYLES:
        row = []
        for pen in (2.0, 7.0):
            for d in range(10):
                paths = place(digit_paths(d, style), cell, 0.7, (cell / 2, cell / 2))
                row.append(255 - render_rgba(paths, cell, pen)[..., 3])
            row.append(np.full((cell, cell // 3), 200, np.uint8))  # gap between pens
        rows.append(np.concatenate(row, axis=1))
    sheet = np.concatenate(rows, axis=0)
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / "digit_styles.png"
    Image.fromarray(sheet).save(out)
    assert out.stat().st_size > 0
    assert (sheet < 128).any(axis=1).sum() > 0.5 * len(STYLES) * cell  # ink in most rows


def test_benchmark_grid_keeps_every_digit_on_the_canvas():
    from benchmarks import drawn_digits as bench

    cases = bench.grid(styles=["italic"], digits=[0])
    assert len(cases) == 2 * 4 * 4 * 3
    for case in cases:
        if case["canvas"] != 280:
            continue
        alpha = bench.draw(case)[..., 3]
        assert alpha.any(), case
        edges = np.concatenate([alpha[0], alpha[-1], alpha[:, 0], alpha[:, -1]])
        assert not edges.any(), case  # the whole digit was drawn, nothing clipped


def test_benchmark_baseline_preprocess_is_the_old_centralize_step():
    from benchmarks import drawn_digits as bench

    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[100:160, 130:140, 3] = 255  # a 60 x 10 bar, off centre
    out = bench.baseline_preprocess(rgba)
    assert out.shape == (1, 28, 28, 1) and out.dtype == np.float32
    img = out[0, :, :, 0]
    assert img.min() >= 0 and img.max() <= 1
    rows, cols = np.nonzero(img > 0.5)
    # 60 px + 2 * 15 px margin -> 90 px square -> 28 px: the bar is ~19 px tall and centred.
    assert 17 <= rows.max() - rows.min() + 1 <= 20
    assert abs((rows.min() + rows.max()) / 2 - 13.5) <= 1
    assert abs((cols.min() + cols.max()) / 2 - 13.5) <= 1


# ---- the benchmark's writers (benchmarks/drawn_digits.py) ---------------------------------------
def _writer_cases():
    """A few cases of every writer, spread over styles and digits (each with its own seed)."""
    from benchmarks import drawn_digits as bench

    cases = bench.writer_grid(bench.WRITERS, styles=STYLES, digits=range(10))
    return cases[::37]


def test_writer_transforms_are_deterministic_and_differ_by_case():
    from benchmarks import drawn_digits as bench

    for case in _writer_cases():
        once, again = bench.strokes(case), bench.strokes(dict(reversed(case.items())))
        assert once == again, case  # same case (whatever its key order), same drawing
    # Two cases of a messy writer that differ only in pen are drawn differently (own seeds).
    case = {"writer": "shaky", "style": "hand", "digit": 3, "canvas": 280, "size": 0.6}
    case |= {"position": "centre"}
    thin, thick = (
        bench.strokes({**case, "pen": "thin"})[0],
        bench.strokes({**case, "pen": "thick"})[0],
    )
    assert thin != thick


@pytest.mark.parametrize(
    "writer", ["neat", "quick", "shaky", "squeezed", "stretched", "slanted", "rotated"]
)
def test_writer_keeps_strokes_dense_and_in_the_unit_box(writer):
    from benchmarks import drawn_digits as bench

    assert writer in bench.WRITERS
    for style in STYLES:
        for digit in range(10):
            paths = bench.write(digit_paths(digit, style), writer, 1000 * digit + len(style))
            gaps = [math.dist(a, b) for s in paths for a, b in zip(s, s[1:], strict=False)]
            assert max(gaps) <= STEP + 1e-9, (writer, style, digit)  # dense pointer events
            xs = [x for s in paths for x, _ in s]
            ys = [y for s in paths for _, y in s]
            assert min(ys) == pytest.approx(0, abs=1e-9) and max(ys) == pytest.approx(1)
            assert (min(xs) + max(xs)) / 2 == pytest.approx(0.5)
            # Only a stretched writer makes digits much wider than tall (a rotated 6 is 1.13).
            wide = 1.5 if writer == "stretched" else 1.2
            assert max(xs) - min(xs) <= wide, (writer, style, digit)


def test_writer_grid_draws_every_digit_on_the_canvas():
    from benchmarks import drawn_digits as bench

    cases = bench.writer_grid(["stretched", "rotated"], styles=["triplex"], digits=[0, 4])
    assert len(cases) == 2 * 2 * 2 * 3 * 4
    assert {c["position"] for c in cases} == {"centre", "off_centre"}
    for case in cases:
        if case["size"] != 0.9:
            continue
        alpha = bench.draw(case)[..., 3]
        edges = np.concatenate([alpha[0], alpha[-1], alpha[:, 0], alpha[:, -1]])
        assert alpha.any() and not edges.any(), case  # a wide digit is drawn smaller, not clipped


def test_slanted_and_rotated_writers_never_lay_a_leaning_1_down():
    """A leaning style's 1 leaned further by a writer would be a 7 for a person too: the writers
    lean it the other way when it would pass MAX_LEAN (measured on the drawn 1 itself)."""
    from benchmarks import drawn_digits as bench

    for style in ("italic", "hand_slant", "simplex"):
        lean = bench.style_lean(style)
        for writer in ("slanted", "rotated"):
            for case_seed in range(12):
                paths = bench.write(digit_paths(1, style), writer, case_seed, lean)
                assert abs(bench._lean(paths)) <= bench.MAX_LEAN + 0.05, (style, writer, case_seed)
