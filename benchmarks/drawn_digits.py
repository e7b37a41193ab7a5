"""Accuracy of the shipped model on synthetic drawn digits, read the way the app reads them.

Every digit x style (tests/digit_strokes.py) x canvas size x digit size x position x pen width is
rendered as a browser canvas would give it (RGBA, ink in alpha), made into the model's 28x28 by
``site/segment.py`` with the strokes known, as the app does (``--method pixels``: the pixels
alone, ``site/preprocess.py``'s ``preprocess_canvas``; ``--method baseline``: the old app's crop /
pad / 15 px margin / resize) and classified by the ONNX model under onnxruntime. Prints one JSON
document: overall accuracy, accuracy by style, digit size, pen width, position, canvas and digit,
and every failure with its parameters and prediction; plus the verdict the app would show
(site/verdict.py with the thresholds in the model.json beside the model): counts, and the share
accepted (digit or unsure) and right, overall and by style, size and pen.

Legibility (benchmarks/legibility.py): a drawing whose pen is so wide for its height that the ink
fills (almost) all the white space inside the digit is a blob a person cannot read either. Each
drawing is judged by that model-independent rule; the report gives accuracy by style over the
LEGIBLE drawings, and lists the illegible ones (style, size, pen, digits, reason) separately.
``--markdown`` writes the per-style tables, ``--pictures`` one picture per digit size and pen
that has illegible drawings (one row per digit, one column per style, illegible ones in red).

    python benchmarks/drawn_digits.py                       # site/model/mnist_cnn.onnx
    python benchmarks/drawn_digits.py --method pixels       # the canvas pixels alone
    python benchmarks/drawn_digits.py --model other.onnx --out artifacts/drawn.json
    python benchmarks/drawn_digits.py --markdown docs/drawn-digits.md --pictures docs

The full grid is 8 styles x 10 digits x 2 x 4 x 4 x 3 = 7,680 drawings (about 2-5 minutes on
2 cores, more when the machine is busy); ``--styles`` / ``--digits`` narrow it.

Writers (``--writers``): the grid's glyphs are clean fixed shapes; a writer is a messier person
drawing them: ``quick`` (crude polylines with sharp corners, stroke ends over- or undershooting),
``shaky``, ``squeezed`` / ``stretched`` (width x 0.55-0.7 / x 1.4-1.8), ``slanted`` (shear
0.3-0.4 either way), ``rotated`` (10-18 degrees either way); ``neat`` is the grid's own drawing.
Each is a deterministic transform of the unit-box strokes, seeded by the case, re-densified to
STEP. With ``--writers`` the run uses a reduced grid (WRITER_SIZES, a hairline pen added, one
position per canvas) and reports by writer and by writer x style; ``--markdown`` writes those
tables and ``--pictures`` each writer's drawings and the failures (drawing and the model's 28x28):

    python benchmarks/drawn_digits.py --writers neat quick shaky squeezed stretched slanted rotated
    python benchmarks/drawn_digits.py --writers neat quick --markdown x.md --pictures docs
"""

from __future__ import annotations

import argparse
import collections
import functools
import itertools
import json
import math
import os
import sys
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "site")]

from benchmarks import legibility  # noqa: E402
from build_model.evaluate import onnx_session, predict_onnx  # noqa: E402
from tests.digit_strokes import (  # noqa: E402
    STEP,
    STYLES,
    Paths,
    densify,
    digit_paths,
    normalise,
    place,
    render_rgba,
)

# ---- Grid (defaults) ----------------------------------------------------------------------------
MODEL = ROOT / "site" / "model" / "mnist_cnn.onnx"
CANVASES = (280, 560)  # CSS px of the drawing canvas: phone-ish and desktop-ish
SIZES = (0.15, 0.3, 0.6, 0.9)  # digit height (stroke centre lines), fraction of the canvas height
PENS = {"thin": 0.015, "normal": 0.05, "thick": 0.12}  # lineWidth as a fraction of the canvas
#: Every pen a case may name: the grid's, plus a hairline (about 1-3 px) for the writer grid.
ALL_PENS = {"hairline": 0.005, **PENS}
MARGIN = 0.03  # gap between the ink and the canvas edge for corner positions, fraction of canvas
# Where the digit's bounding box goes. Corners push the ink against the edge (less MARGIN);
# "off_centre" puts the box centre at (65%, 35%) of the canvas, kept inside it.
POSITIONS = ("centre", "top_left", "bottom_right", "off_centre")
BASELINE_MARGIN = 15  # px the old app added around the square crop
#: How a drawing becomes the model's 28x28: "app" is what the app does (segment.py with the
#: strokes known); "pixels" the canvas pixels alone (preprocess_canvas: a picture, no strokes);
#: "baseline" the first app's centralize step.
METHODS = {
    "app": "segment.segment with strokes (the app)",
    "pixels": "preprocess.preprocess_canvas (pixels only)",
    "baseline": "baseline (crop, pad square, 15 px margin, resize)",
}


# ---- Writers: how messily a person draws the digit ----------------------------------------------
# Each writer is a deterministic transform of the digit's unit-box strokes, seeded per case, that
# a person still reads as the same digit (docs/drawn-writers.png shows them). The transformed
# strokes are normalised back into the unit box and re-densified to STEP, because the app always
# receives dense pointer events, however crude the shape.


def _quick(paths: Paths, rng: np.random.Generator, lean: float = 0.0) -> Paths:
    """Drawn fast: every stroke a crude polyline with sharp corners (the stroke simplified to the
    few points within 3.5-6 % of the height of it, Douglas-Peucker), each end over- or
    undershooting a little."""
    tol = rng.uniform(0.035, 0.06)
    out = []
    for stroke in paths:
        pts = _simplify(stroke, tol)
        pts = _shoot(pts, rng.uniform(-0.04, 0.06), at_start=True)
        out.append(_shoot(pts, rng.uniform(-0.04, 0.06), at_start=False))
    return out


def _simplify(stroke: list, tol: float) -> list:
    """Douglas-Peucker: the fewest of the stroke's points within `tol` of it (ends kept)."""
    if len(stroke) < 3:
        return list(stroke)
    a, b = np.asarray(stroke[0]), np.asarray(stroke[-1])
    pts = np.asarray(stroke[1:-1])
    ab = b - a
    if np.hypot(*ab) < 1e-9:  # a closed stroke: split at the point farthest from its start
        dist = np.hypot(*(pts - a).T)
    else:
        dist = np.abs(ab[0] * (pts[:, 1] - a[1]) - ab[1] * (pts[:, 0] - a[0])) / np.hypot(*ab)
    k = int(dist.argmax())
    if dist[k] <= tol:
        return [stroke[0], stroke[-1]]
    left, right = _simplify(stroke[: k + 2], tol), _simplify(stroke[k + 1 :], tol)
    return left[:-1] + right


def _heading(a, b) -> float:
    return math.atan2(b[1] - a[1], b[0] - a[0])


def _shoot(pts: list, amount: float, *, at_start: bool) -> list:
    """Move a stroke end along its end segment: out by `amount` (overshoot) or, when negative,
    back (undershoot, never more than half that segment)."""
    pts = list(pts)
    i, j = (0, 1) if at_start else (-1, -2)
    (x0, y0), (x1, y1) = pts[i], pts[j]
    length = math.dist(pts[i], pts[j])
    if length < 1e-9:
        return pts
    move = max(amount, -0.5 * length)
    pts[i] = (x0 + (x0 - x1) / length * move, y0 + (y0 - y1) / length * move)
    return pts


def _shaky(paths: Paths, rng: np.random.Generator, lean: float = 0.0) -> Paths:
    """An unsteady hand: a smooth tremor along each stroke (a few % of the height, wavelength
    about a tenth of it) plus a little point-to-point jitter."""
    amp = rng.uniform(0.012, 0.02)
    freq = rng.uniform(40, 70, 2)  # radians per unit of arc length
    phase = rng.uniform(0, 2 * math.pi, 2)
    out = []
    for stroke in paths:
        pts = np.asarray(stroke, dtype=float)
        arc = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(pts, axis=0).T))])
        wave = amp * np.sin(freq[:, None] * arc[None, :] + phase[:, None]).T
        jitter = rng.normal(0, 0.003, pts.shape)
        out.append([tuple(p) for p in pts + wave + jitter])
    return out


def _affine(paths: Paths, m: np.ndarray) -> Paths:
    """Apply the 2x2 matrix `m` about the unit box's centre (0.5, 0.5)."""
    return [[tuple(m @ (np.asarray(p) - 0.5) + 0.5) for p in s] for s in paths]


def _widen(paths: Paths, factor: float, lean: float) -> Paths:
    """Scale the digit's width by `factor` but keep its style's `lean` (style_lean): a wide or
    narrow writer changes the shape, not the slant (an italic 1 stretched with its lean would
    lie down into a 7)."""
    upright = np.array([[1.0, lean], [0.0, 1.0]])  # about _affine's centre (0.5, 0.5)
    return _affine(paths, np.linalg.inv(upright) @ np.diag([factor, 1.0]) @ upright)


def _squeezed(paths: Paths, rng: np.random.Generator, lean: float = 0.0) -> Paths:
    """A narrow writer: width x 0.55-0.7 (the slant kept)."""
    return _widen(paths, rng.uniform(0.55, 0.7), lean)


def _stretched(paths: Paths, rng: np.random.Generator, lean: float = 0.0) -> Paths:
    """A wide writer: width x 1.4-1.8 (the slant kept)."""
    return _widen(paths, rng.uniform(1.4, 1.8), lean)


#: The most a slanted or rotated writer may make a digit lean, with its style's own lean (x per
#: y, about 22 degrees): an italic 1 leaned further lies down into a 7, for a person too. A lean
#: that would pass it goes the other way instead.
MAX_LEAN = 0.4


def _lean(paths: Paths) -> float:
    """How far the digit leans right (x per y, top to the right > 0): the median run of its
    steep pieces of stroke (more down than across), weighted by their height. Bars, bowls and
    loops cancel out or do not count, so an upright 4 or 9 leans 0 and an italic 1 about 0.2."""
    runs, heights = [], []
    for stroke in paths:
        d = np.diff(np.asarray(stroke, dtype=float), axis=0)
        steep = np.abs(d[:, 1]) > np.abs(d[:, 0])
        runs += list(-d[steep, 0] / d[steep, 1])
        heights += list(np.abs(d[steep, 1]))
    if not runs:
        return 0.0
    order = np.argsort(runs)
    cumulative = np.cumsum(np.asarray(heights)[order])
    return float(np.asarray(runs)[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def _slanted(paths: Paths, rng: np.random.Generator, lean: float = 0.0) -> Paths:
    """Leaning right or left: shear of 0.3-0.4 (the top moves by that share of the height),
    leftwards when rightwards would lean the digit more than MAX_LEAN, and vice versa."""
    shear = rng.choice([-1, 1]) * rng.uniform(0.3, 0.4)
    if abs(lean + shear) > MAX_LEAN:
        shear = -shear
    return _affine(paths, np.array([[1.0, -shear], [0.0, 1.0]]))


def _rotated(paths: Paths, rng: np.random.Generator, lean: float = 0.0) -> Paths:
    """The page turned: rotated by 10-18 degrees either way (the other way when the digit would
    lean more than MAX_LEAN)."""
    a = math.radians(rng.choice([-1, 1]) * rng.uniform(10, 18))
    if abs(lean + math.tan(a)) > MAX_LEAN:
        a = -a
    return _affine(paths, np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]))


def _neat(paths: Paths, rng: np.random.Generator, lean: float = 0.0) -> Paths:
    """The style's own strokes, unchanged (the default grid's only writer)."""
    return paths


WRITERS = {
    "neat": _neat,
    "quick": _quick,
    "shaky": _shaky,
    "squeezed": _squeezed,
    "stretched": _stretched,
    "slanted": _slanted,
    "rotated": _rotated,
}
#: The reduced grid of a writer run (every writer x style x digit): both canvases, three digit
#: heights, all pens from hairline to marker; the position alternates with the canvas (centre on
#: the small one, off centre on the large one) to keep a run of all writers within minutes.
WRITER_SIZES = (0.3, 0.6, 0.9)
WRITER_POSITIONS = {280: "centre", 560: "off_centre"}


def seed(case: dict) -> int:
    """A case's own seed: stable across processes and runs (not Python's salted hash)."""
    return zlib.crc32(json.dumps(case, sort_keys=True).encode())


@functools.cache
def style_lean(style: str) -> float:
    """The lean of a style's hand (x per y, top to the right > 0): the median of its ten digits'
    leans (_lean), so that a 2's or 7's diagonal, a shape and not a slant, does not count."""
    return float(np.median([_lean(digit_paths(d, style)) for d in range(10)]))


def write(paths: Paths, writer: str, case_seed: int, lean: float = 0.0) -> Paths:
    """`paths` (unit box) as drawn by `writer` (WRITERS): transformed with the case's seed, put
    back into the unit box and re-densified so points are at most STEP apart."""
    if writer == "neat":
        return paths
    moved = WRITERS[writer](paths, np.random.default_rng(case_seed), lean)
    return [densify(s, STEP) for s in normalise(moved)]


def _centre(pos: str, unit_paths, canvas: int, size: float, pen: float) -> tuple[float, float]:
    """Bounding-box centre (canvas px) that puts the digit at `pos` with its ink on the canvas."""
    xs = [x for s in unit_paths for x, _ in s]
    ys = [y for s in unit_paths for _, y in s]
    scale = size * canvas / (max(ys) - min(ys))
    half_w, half_h = (max(xs) - min(xs)) * scale / 2, size * canvas / 2
    lo_x, lo_y = half_w + pen / 2 + MARGIN * canvas, half_h + pen / 2 + MARGIN * canvas
    hi_x, hi_y = canvas - lo_x, canvas - lo_y
    want = {
        "centre": (canvas / 2, canvas / 2),
        "top_left": (lo_x, lo_y),
        "bottom_right": (hi_x, hi_y),
        "off_centre": (0.65 * canvas, 0.35 * canvas),
    }[pos]
    # Clamp into [lo, hi]; if the digit can't fit with the margin, centre it on that axis.
    cx = min(max(want[0], lo_x), hi_x) if lo_x <= hi_x else canvas / 2
    cy = min(max(want[1], lo_y), hi_y) if lo_y <= hi_y else canvas / 2
    return cx, cy


def strokes(case: dict) -> tuple[list, int, float]:
    """One grid case's strokes (canvas px), its canvas side and its pen width (px)."""
    canvas, pen = case["canvas"], ALL_PENS[case["pen"]] * case["canvas"]
    unit = digit_paths(case["digit"], case["style"])
    unit = write(unit, case.get("writer", "neat"), seed(case), style_lean(case["style"]))
    # A digit whose ink (centre lines + pen) would not fit is drawn as large as fits: that is
    # what a person does, and clipping would test the canvas edge instead of the model. (Only a
    # stretched or rotated writer's digits are ever wider than tall.)
    room = 1 - 2 * MARGIN - ALL_PENS[case["pen"]]
    width = max(x for s in unit for x, _ in s) - min(x for s in unit for x, _ in s)
    size = min(case["size"], room, room / max(width, 1e-9))
    centre = _centre(case["position"], unit, canvas, size, pen)
    return place(unit, canvas, size, centre), canvas, pen


def draw(case: dict) -> np.ndarray:
    """Render one grid case as canvas RGBA pixels (H, W, 4) uint8."""
    paths, canvas, pen = strokes(case)
    return render_rgba(paths, canvas, pen)


def app_image(case: dict, model: Path) -> np.ndarray | None:
    """What the app reads: site/segment.py with the strokes known (the app always has them),
    the model choosing among candidate pieces as in the app; the 28x28 of the one digit it
    reads, or None when it reads none or several."""
    import segment

    paths, canvas, pen = strokes(case)
    arrays = [np.asarray(p, dtype=np.float32) for p in paths]
    seg = segment.segment(render_rgba(paths, canvas, pen), arrays, pen)
    if not seg.images:
        return None
    digits = seg.resolve(predict_onnx(_session(model), seg.batch()))
    return digits[0].image if len(digits) == 1 else None


@functools.cache
def _session(model: Path):
    return onnx_session(model)


def baseline_preprocess(rgba: np.ndarray) -> np.ndarray:
    """The old app's centralize step: crop the ink bounding box, pad it to a square (centred), add
    a 15 px margin, resize to 28 x 28. No 20 x 20 box, no centre of mass. -> (1, 28, 28, 1)."""
    from PIL import Image

    from preprocess import EmptyCanvasError

    alpha = rgba[..., 3]
    rows, cols = np.nonzero(alpha)
    if rows.size == 0:
        raise EmptyCanvasError("empty canvas")
    crop = alpha[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    h, w = crop.shape
    side = max(h, w) + 2 * BASELINE_MARGIN
    square = np.zeros((side, side), dtype=np.uint8)
    top, left = (side - h) // 2, (side - w) // 2
    square[top : top + h, left : left + w] = crop
    small = Image.fromarray(square).resize((28, 28), Image.Resampling.BILINEAR)
    return (np.asarray(small, dtype=np.float32) / 255.0).reshape(1, 28, 28, 1)


def _prepare(args: tuple[dict, str, Path]) -> np.ndarray | None:
    """Worker: render one case and preprocess it by `method` (METHODS); None if no digit."""
    case, method, model = args
    from preprocess import EmptyCanvasError, preprocess_canvas

    if method == "app":
        return app_image(case, model)
    fn = baseline_preprocess if method == "baseline" else preprocess_canvas
    try:
        return np.asarray(fn(draw(case)), dtype=np.float32).reshape(28, 28)
    except EmptyCanvasError:
        return None


def grid(styles=STYLES, digits=range(10)) -> list[dict]:
    """All benchmark cases, as plain dicts (JSON-able, reproducible)."""
    keys = ("style", "digit", "canvas", "size", "position", "pen")
    combos = itertools.product(styles, digits, CANVASES, SIZES, POSITIONS, PENS)
    return [dict(zip(keys, c, strict=True)) for c in combos]


def writer_grid(writers, styles=STYLES, digits=range(10)) -> list[dict]:
    """The reduced grid (WRITER_SIZES, WRITER_POSITIONS, ALL_PENS) for every writer in `writers`."""
    keys = ("writer", "style", "digit", "canvas", "size", "pen")
    combos = itertools.product(writers, styles, digits, CANVASES, WRITER_SIZES, ALL_PENS)
    cases = [dict(zip(keys, c, strict=True)) for c in combos]
    return [{**c, "position": WRITER_POSITIONS[c["canvas"]]} for c in cases]


def _shown(path: Path) -> str:
    """`path` relative to the repo when inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def legible(case: dict) -> tuple[bool, str]:
    """(legible, reason) of a grid case by benchmarks/legibility.py's rule (its pen / height)."""
    ratio = legibility.pen_ratio(case["size"], ALL_PENS[case["pen"]], MARGIN)
    return legibility.judge(case["digit"], case["style"], round(ratio, 6))


def illegible_cells(cases: list[dict], right: list[bool], ok: list[bool]) -> list[dict]:
    """The (style, size, pen) cells with illegible drawings: which digits, why, and how many of
    those drawings the model read right / accepted and right anyway."""
    cells: dict[tuple, dict] = {}
    for case, r, a in zip(cases, right, ok, strict=True):
        is_legible, why = legible(case)
        if is_legible:
            continue
        key = (case["style"], case["size"], case["pen"])
        ratio = legibility.pen_ratio(case["size"], ALL_PENS[case["pen"]], MARGIN)
        cell = cells.setdefault(
            key,
            {
                "style": key[0],
                "size": key[1],
                "pen": key[2],
                "pen_to_height": round(ratio, 3),
                "digits": {},
                "drawings": 0,
                "right": 0,
                "accepted_right": 0,
            },
        )
        cell["digits"][str(case["digit"])] = why
        cell["drawings"] += 1
        cell["right"] += r
        cell["accepted_right"] += a
    return list(cells.values())


def evaluate(model: Path, cases: list[dict], method: str, jobs: int) -> dict:
    """Run every case through `method` (METHODS); return the JSON-able report."""
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        images = list(pool.map(_prepare, [(c, method, model) for c in cases], chunksize=16))
    ok_idx = [i for i, im in enumerate(images) if im is not None]
    probs = np.zeros((len(cases), 10))
    if ok_idx:
        batch = np.stack([images[i] for i in ok_idx]).reshape(-1, 28, 28, 1)
        probs[ok_idx] = predict_onnx(onnx_session(model), batch)

    # The verdict the app would show, with the thresholds the build wrote next to the model.
    import verdict as verdict_rules

    contract = model.with_name("model.json")
    thresholds = json.loads(contract.read_text()).get("verdict") if contract.is_file() else None
    inputs = np.stack(
        [np.zeros((28, 28)) if im is None else np.reshape(im, (28, 28)) for im in images]
    )
    shown = [
        verdict_rules.EMPTY if images[i] is None else v
        for i, v in enumerate(verdict_rules.verdicts(probs, thresholds, inputs))
    ]
    # A writer run (writer_grid) is also reported by writer and by writer x style.
    extra = ("writer", "writer_style") if cases and "writer" in cases[0] else ()
    accepted: dict[str, collections.defaultdict] = {
        k: collections.defaultdict(lambda: [0, 0]) for k in ("style", "size", "pen", *extra)
    }
    groups: dict[str, collections.defaultdict] = {
        k: collections.defaultdict(lambda: [0, 0])
        for k in ("style", "size", "pen", "position", "canvas", "digit", *extra)
    }
    # Legible drawings only (benchmarks/legibility.py), by style, size and pen.
    legible_groups: dict[str, collections.defaultdict] = {
        k: collections.defaultdict(lambda: [0, 0]) for k in ("style", "size", "pen", *extra)
    }
    legible_accepted: dict[str, collections.defaultdict] = {
        k: collections.defaultdict(lambda: [0, 0]) for k in ("style", "size", "pen", *extra)
    }
    failures, rights, oks = [], [], []
    for i, case in enumerate(cases):
        if extra:
            case = {**case, "writer_style": f"{case['writer']}/{case['style']}"}
        empty = images[i] is None
        pred = None if empty else int(probs[i].argmax())
        right = pred == case["digit"]
        for k, g in groups.items():
            g[str(case[k])][0] += right
            g[str(case[k])][1] += 1
        ok = right and shown[i] in (verdict_rules.DIGIT, verdict_rules.UNSURE)
        for k, g in accepted.items():
            g[str(case[k])][0] += ok
            g[str(case[k])][1] += 1
        is_legible = legible(case)[0]
        if is_legible:
            for k in legible_groups:
                legible_groups[k][str(case[k])][0] += right
                legible_groups[k][str(case[k])][1] += 1
                legible_accepted[k][str(case[k])][0] += ok
                legible_accepted[k][str(case[k])][1] += 1
        rights.append(right)
        oks.append(ok)
        if not right:
            failures.append(
                {
                    **{k: v for k, v in case.items() if k != "writer_style"},
                    "predicted": pred,
                    "confidence": None if empty else round(float(probs[i].max()), 3),
                    "p_true": None if empty else round(float(probs[i][case["digit"]]), 3),
                    "verdict": shown[i],
                    "legible": is_legible,
                }
            )

    def acc(g):
        return {k: round(r / n, 4) for k, (r, n) in g.items()}

    n_right = len(cases) - len(failures)
    n_legible = sum(n for _, n in legible_groups["style"].values())
    return {
        "model": _shown(model),
        "preprocess": METHODS[method],
        "cases": len(cases),
        "accuracy": round(n_right / len(cases), 4) if cases else None,
        "empty": sum(im is None for im in images),
        **{f"by_{k}": acc(g) for k, g in groups.items()},
        "verdict_thresholds": thresholds,
        "verdicts": dict(collections.Counter(shown)),
        "accepted_right": round(
            sum(v[0] for v in accepted["style"].values()) / max(1, len(cases)), 4
        ),
        **{f"accepted_right_by_{k}": acc(g) for k, g in accepted.items()},
        "legibility_rule": legibility.__doc__.split("\n\n")[0].replace("\n", " "),
        "legible_cases": n_legible,
        "illegible_cases": len(cases) - n_legible,
        "legible_accuracy": round(
            sum(r for r, _ in legible_groups["style"].values()) / max(1, n_legible), 4
        ),
        "legible_accepted_right": round(
            sum(r for r, _ in legible_accepted["style"].values()) / max(1, n_legible), 4
        ),
        **{f"legible_by_{k}": acc(g) for k, g in legible_groups.items()},
        **{f"legible_accepted_right_by_{k}": acc(g) for k, g in legible_accepted.items()},
        "illegible_cells": illegible_cells(cases, rights, oks),
        "failures": failures,
    }


def markdown(report: dict, pictures: list[Path]) -> str:
    """The per-style tables of a report (all drawings, legible ones, illegible cells)."""
    lines = [
        "# Drawn digits: accuracy by style, legible drawings only",
        "",
        f"Written by `python benchmarks/drawn_digits.py --markdown` (model `{report['model']}`, "
        f"28x28 by {report['preprocess']}, "
        f"{report['cases']:,} drawings: styles x digits x canvases {CANVASES} x "
        f"digit heights {SIZES} of the canvas x {len(POSITIONS)} positions x pens "
        + ", ".join(f"{k} {v:g}" for k, v in PENS.items())
        + " of the canvas).",
        "",
        "Legibility rule (benchmarks/legibility.py, model-independent): draw the digit's centre "
        "lines with the drawing's pen width / digit height and measure its inner white space "
        "(convex hull of the ink minus the ink) against the same digit at pen / height "
        f"{legibility.REFERENCE_RATIO:g} (the normal pen on a full-size digit). A drawing is "
        f"illegible when less than {legibility.MIN_WHITE_LEFT:.0%} of that white space is left: "
        "the ink is a blob whose outline no longer says which digit it is, for a person as for "
        "the model. A pen no wider than the reference's, and a digit with almost no inner white "
        "space (a straight 1), are always legible.",
        "",
        f"Legible: {report['legible_cases']:,} drawings, read right "
        f"{report['legible_accuracy']:.2%}, accepted and right "
        f"{report['legible_accepted_right']:.2%}. "
        f"Illegible: {report['illegible_cases']:,}. All drawings: right {report['accuracy']:.2%}, "
        f"accepted and right {report['accepted_right']:.2%}.",
        "",
        "| style | illegible drawings | legible: right | legible: accepted & right "
        "| all: right | all: accepted & right |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for style in report["by_style"]:
        n_bad = sum(c["drawings"] for c in report["illegible_cells"] if c["style"] == style)
        lines.append(
            f"| {style} | {n_bad} | {report['legible_by_style'][style]:.2%} | "
            f"{report['legible_accepted_right_by_style'][style]:.2%} | "
            f"{report['by_style'][style]:.2%} | {report['accepted_right_by_style'][style]:.2%} |"
        )
    lines += [
        "",
        "By digit height and pen, legible drawings (right / accepted & right):",
        "",
        "| height / pen | "
        + " | ".join(report["legible_by_size"])
        + " | | "
        + " | ".join(report["legible_by_pen"])
        + " |",
        "|---|" + "---:|" * (len(report["legible_by_size"]) + 1 + len(report["legible_by_pen"])),
        "| right | "
        + " | ".join(f"{v:.2%}" for v in report["legible_by_size"].values())
        + " | | "
        + " | ".join(f"{v:.2%}" for v in report["legible_by_pen"].values())
        + " |",
        "| accepted & right | "
        + " | ".join(f"{v:.2%}" for v in report["legible_accepted_right_by_size"].values())
        + " | | "
        + " | ".join(f"{v:.2%}" for v in report["legible_accepted_right_by_pen"].values())
        + " |",
        "",
        "## Illegible cells (excluded above)",
        "",
        "| style | height | pen | pen / height | illegible digits (inner white space left) "
        "| drawings | right |",
        "|---|---:|---|---:|---|---:|---:|",
    ]
    for c in report["illegible_cells"]:
        why = ", ".join(f"{d} ({r.split()[0]})" for d, r in c["digits"].items())
        lines.append(
            f"| {c['style']} | {c['size']:g} | {c['pen']} | {c['pen_to_height']:.3g} | {why} | "
            f"{c['drawings']} | {c['right'] / c['drawings']:.0%} |"
        )
    if pictures:
        lines += [
            "",
            "Pictures (each digit with the cell's pen / height, as a person sees it; "
            "red frame = illegible by the rule):",
            "",
        ]
        lines += [f"![{p.stem}]({p.name})" for p in pictures]
    return "\n".join(lines) + "\n"


def writers_markdown(report: dict, pictures: list[Path]) -> str:
    """The tables of a writer run: by writer, and by writer x style (right / accepted & right)."""
    writers = list(report["by_writer"])
    pens = ", ".join(f"{k} {v:g}" for k, v in ALL_PENS.items())
    lines = [
        "# Drawn digits by writer: neat and messy drawings",
        "",
        f"Written by `python benchmarks/drawn_digits.py --writers ... --markdown` (model "
        f"`{report['model']}`, 28x28 by {report['preprocess']}, {report['cases']:,} drawings: "
        f"writers x styles x digits x canvases {CANVASES} x digit heights {WRITER_SIZES} x pens "
        f"{pens} of the canvas; centred on the {CANVASES[0]} px canvas, off centre on the "
        f"{CANVASES[1]} px one). Each writer transforms the digit's strokes with the case's own "
        "seed; every drawing stays readable for a person (pictures below).",
        "",
    ]
    lines += [f"- `{w}`: {_first_line(WRITERS[w])}" for w in writers]
    lines += [
        "",
        "| writer | drawings | right | accepted & right | legible: right "
        "| legible: accepted & right |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    n = collections.Counter(c["writer"] for c in report["failures"])
    for w in writers:
        lines.append(
            f"| {w} | {report['cases'] // len(writers):,} ({n[w]} wrong) | "
            f"{report['by_writer'][w]:.2%} | {report['accepted_right_by_writer'][w]:.2%} | "
            f"{report['legible_by_writer'][w]:.2%} | "
            f"{report['legible_accepted_right_by_writer'][w]:.2%} |"
        )
    styles = list(report["by_style"])
    lines += [
        "",
        "By writer and style, all drawings (right / accepted & right):",
        "",
        "| writer | " + " | ".join(styles) + " |",
        "|---|" + "---:|" * len(styles),
    ]
    for w in writers:
        cells = [
            f"{report['by_writer_style'][f'{w}/{s}']:.1%} / "
            f"{report['accepted_right_by_writer_style'][f'{w}/{s}']:.1%}"
            for s in styles
        ]
        lines.append(f"| {w} | " + " | ".join(cells) + " |")
    if pictures:
        lines += ["", "Pictures:", ""] + [f"![{p.stem}]({p.name})" for p in pictures]
    return "\n".join(lines) + "\n"


def _first_line(fn) -> str:
    """The first sentence of a function's docstring (a writer's description)."""
    return " ".join((fn.__doc__ or "as drawn, unchanged.").split("\n\n")[0].split())


def writer_sheet(writer: str, path: Path, cell: int = 56) -> Path:
    """A picture of `writer`: one row per style, one column per digit (280 px canvas, digit 0.9
    of its height, normal pen, centred), each as the app's canvas shows it."""
    from PIL import Image

    rows = []
    for style in STYLES:
        row = []
        for digit in range(10):
            case = {"writer": writer, "style": style, "digit": digit, "canvas": 280}
            case |= {"size": 0.9, "pen": "normal", "position": "centre"}
            ink = 255 - draw(case)[..., 3]
            small = Image.fromarray(ink).resize((cell, cell), Image.Resampling.BILINEAR)
            row += [np.asarray(small), np.full((cell, 2), 150, np.uint8)]
        rows += [np.concatenate(row, axis=1)]
        rows += [np.full((2, rows[-1].shape[1]), 150, np.uint8)]
    Image.fromarray(np.concatenate(rows, axis=0)).save(path, optimize=True)
    return path


def failure_sheet(report: dict, path: Path, most: int = 96, cell: int = 84) -> Path:
    """The failures of a run (at most `most`): each as drawn (left) and as the model got it (the
    28x28, right), captioned writer, style, digit > prediction and verdict."""
    from PIL import Image

    tiles = [_failure_tile(f, Path(report["model"]), cell) for f in report["failures"][:most]]
    per_row = 6
    tiles += [Image.new("L", (2 * cell + 6, cell + 14), 200)] * (-len(tiles) % per_row)
    tiles = tiles or [Image.new("L", (2 * cell + 6, cell + 14), 200)]
    rows = [
        np.concatenate([np.pad(np.asarray(t), 2, constant_values=120) for t in tiles[i : i + 6]], 1)
        for i in range(0, len(tiles), per_row)
    ]
    Image.fromarray(np.concatenate(rows, axis=0)).save(path, optimize=True)
    return path


def _failure_tile(failure: dict, model: Path, cell: int):
    """One failure as a picture: the canvas and the 28x28 the app gave the model, captioned."""
    from PIL import Image, ImageDraw

    model = model if model.is_absolute() else ROOT / model
    keys = ("writer", "style", "digit", "canvas", "size", "position", "pen")
    case = {k: failure[k] for k in keys if k in failure}
    tile = Image.new("L", (2 * cell + 6, cell + 14), 255)
    tile.paste(Image.fromarray(255 - draw(case)[..., 3]).resize((cell, cell)), (0, 14))
    seen = _prepare((case, "app", model))
    if seen is not None:
        small = (255 - np.reshape(seen, (28, 28)) * 255).clip(0, 255).astype(np.uint8)
        big = Image.fromarray(small).resize((cell, cell), Image.Resampling.NEAREST)
        tile.paste(big, (cell + 6, 14))
    label = f"{case.get('writer', '')[:5]} {case['style'][:6]} {case['digit']}>"
    label += f"{failure['predicted']} {failure['verdict'][:4]}"
    ImageDraw.Draw(tile).text((1, 1), label, fill=0)
    return tile


def write_pictures(report: dict, folder: Path) -> list[Path]:
    """One picture per (digit height, pen) with illegible drawings, into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    if "by_writer" in report:  # a writer run: each writer's drawings, and the failures
        out = [writer_sheet(w, folder / f"drawn-writer-{w}.png") for w in report["by_writer"]]
        stem = "shipped" if report["model"] == _shown(MODEL) else Path(report["model"]).parent.name
        return out + [failure_sheet(report, folder / f"drawn-writers-failures-{stem}.png")]
    cells = sorted({(c["size"], c["pen"]) for c in report["illegible_cells"]})
    out = []
    for size, pen in cells:
        path = folder / f"drawn-illegible-height{size:g}-{pen}.png"
        legibility.picture(size, ALL_PENS[pen], MARGIN).save(path, optimize=True)
        out.append(path)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=MODEL, help="ONNX model (default: %(default)s)")
    ap.add_argument(
        "--method", choices=METHODS, default="app", help="how a drawing becomes the 28x28"
    )
    ap.add_argument("--styles", nargs="+", choices=STYLES, default=list(STYLES))
    ap.add_argument("--digits", nargs="+", type=int, choices=range(10), default=list(range(10)))
    ap.add_argument(
        "--writers",
        nargs="+",
        choices=WRITERS,
        help="run the reduced writer grid for these writers (default: the full grid, neat only)",
    )
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    ap.add_argument("--out", type=Path, help="also write the JSON report to this file")
    ap.add_argument("--markdown", type=Path, help="also write the per-style tables (Markdown)")
    ap.add_argument("--pictures", type=Path, help="folder for pictures of illegible cells")
    args = ap.parse_args(argv)

    if not args.model.exists():
        ap.error(f"model not found: {args.model} (build it first, see build_model/)")
    if args.writers:
        cases = writer_grid(args.writers, args.styles, args.digits)
    else:
        cases = grid(args.styles, args.digits)
    report = evaluate(args.model, cases, args.method, args.jobs)
    text = json.dumps(report, indent=1)
    pictures = write_pictures(report, args.pictures) if args.pictures else []
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        tables = writers_markdown if args.writers else markdown
        args.markdown.write_text(tables(report, pictures))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
