"""site/verdict.py: the rules, and the shipped model's verdicts on drawn non-digits and digits.

The drawings here are hand-made polylines rasterised by tests/digit_strokes.render_rgba (the
benchmark's own canvas imitation), not the build's generators, and go through the app's
site/preprocess.py and the shipped ONNX model under onnxruntime, then verdict.verdict with the
thresholds the build wrote into model.json — what the browser worker does.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from conftest import run_in_pyodide

import preprocess
import verdict
from digit_strokes import digit_paths, place, render_rgba

ROOT = Path(__file__).resolve().parents[1]
MODEL_DIR = ROOT / "site" / "model"
CANVAS = 280


@pytest.fixture(scope="module")
def spec() -> dict:
    return json.loads((MODEL_DIR / "model.json").read_text())


@pytest.fixture(scope="module")
def session(spec: dict) -> ort.InferenceSession:
    return ort.InferenceSession(str(MODEL_DIR / spec["file"]), providers=["CPUExecutionProvider"])


def _run(session, spec, rgba: np.ndarray) -> tuple[str, np.ndarray]:
    """Canvas pixels -> (verdict, probs), as the worker does; "empty" before the model."""
    digit = preprocess.describe(rgba)
    if digit.empty:
        return verdict.EMPTY, np.zeros(10)
    (probs,) = session.run(["probs"], {"input": digit.image.reshape(1, 28, 28, 1)})
    return verdict.verdict(probs[0], spec["verdict"], digit.image), probs[0]


def _unit(*strokes) -> list[list[tuple[float, float]]]:
    """Polylines in the unit box, densified like mouse events (every 2% of the height)."""
    out = []
    for s in strokes:
        pts = [s[0]]
        for a, b in zip(s, s[1:], strict=False):
            n = max(1, math.ceil(math.dist(a, b) / 0.02))
            pts += [
                (a[0] + (b[0] - a[0]) * k / n, a[1] + (b[1] - a[1]) * k / n)
                for k in range(1, n + 1)
            ]
        out.append(pts)
    return out


def _circle(cx, cy, r, a0=0.0, a1=360.0, n=48):
    return [
        (cx + r * math.cos(math.radians(a)), cy + r * math.sin(math.radians(a)))
        for a in np.linspace(a0, a1, n)
    ]


#: Non-digits as a person draws them with a mouse (hand-made here; the build never saw these).
NON_DIGITS = {
    "A": _unit([(0.1, 1), (0.5, 0), (0.9, 1)], [(0.27, 0.6), (0.73, 0.6)]),
    "X": _unit([(0.1, 0), (0.9, 1)], [(0.9, 0), (0.1, 1)]),
    "H": _unit([(0.15, 0), (0.15, 1)], [(0.85, 0), (0.85, 1)], [(0.15, 0.5), (0.85, 0.5)]),
    "K": _unit([(0.2, 0), (0.2, 1)], [(0.8, 0), (0.2, 0.55)], [(0.35, 0.45), (0.85, 1)]),
    "M": _unit([(0.05, 1), (0.15, 0), (0.5, 0.6), (0.85, 0), (0.95, 1)]),
    "W": _unit([(0.0, 0), (0.25, 1), (0.5, 0.35), (0.75, 1), (1.0, 0)]),
    "E": _unit([(0.8, 0), (0.2, 0), (0.2, 1), (0.8, 1)], [(0.2, 0.5), (0.7, 0.5)]),
    "plus": _unit([(0.5, 0.05), (0.5, 0.95)], [(0.05, 0.5), (0.95, 0.5)]),
    "hash": _unit(
        [(0.35, 0), (0.3, 1)],
        [(0.7, 0), (0.65, 1)],
        [(0.05, 0.33), (0.95, 0.33)],
        [(0.05, 0.67), (0.95, 0.67)],
    ),
    "scribble": _unit(
        [
            (0.1, 0.3),
            (0.9, 0.1),
            (0.2, 0.6),
            (0.8, 0.4),
            (0.15, 0.9),
            (0.95, 0.7),
            (0.4, 0.2),
            (0.6, 1.0),
            (0.05, 0.5),
        ]
    ),
    "smiley": _unit(
        _circle(0.5, 0.5, 0.5),
        [(0.33, 0.35), (0.33, 0.37)],
        [(0.67, 0.35), (0.67, 0.37)],
        _circle(0.5, 0.55, 0.27, 20, 160, 16),
    ),
    "star": _unit([(0.5, 0), (0.8, 1), (0.02, 0.38), (0.98, 0.38), (0.2, 1), (0.5, 0)]),
}
#: Closed outlines: the CNN reads them as a confident 0; the ink-shape test refuses them.
CLOSED_SHAPES = {
    "triangle": _unit([(0.5, 0), (1.0, 0.87), (0.0, 0.87), (0.5, 0)]),
    "square": _unit([(0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (0.1, 0.9), (0.1, 0.1)]),
    "diamond": _unit([(0.5, 0), (0.9, 0.5), (0.5, 1), (0.1, 0.5), (0.5, 0)]),
}
#: Round digits the shape test must keep: ovals of several widths, a slanted 0.
ROUND_DIGITS = {
    "round 0": _unit(_circle(0.5, 0.5, 0.45)),
    "narrow 0": _unit(
        [
            (0.5 + 0.25 * math.cos(a), 0.5 + 0.48 * math.sin(a))
            for a in np.linspace(0, 2 * math.pi, 40)
        ]
    ),
    "slanted 0": _unit(
        [
            (0.5 + 0.28 * math.cos(a) + 0.12 * math.sin(a), 0.5 + 0.45 * math.sin(a))
            for a in np.linspace(0, 2 * math.pi, 40)
        ]
    ),
}


def _draw(paths, size=0.6, pen=0.05):
    return render_rgba(place(paths, CANVAS, size, (CANVAS / 2, CANVAS / 2)), CANVAS, pen * CANVAS)


def _line(angle_deg: float, length=0.6, pen=0.05) -> np.ndarray:
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    half = length * CANVAS / 2
    pts = [
        (CANVAS / 2 - c * half, CANVAS / 2 - s * half),
        (CANVAS / 2 + c * half, CANVAS / 2 + s * half),
    ]
    return render_rgba(_unit(pts), CANVAS, pen * CANVAS)


# --- the rules ----------------------------------------------------------------------------
def _shape_rules(shape_max: float) -> dict:
    """Thresholds with a shape test whose statistics are those of a round ring."""
    ring = np.zeros((28, 28))
    yy, xx = np.mgrid[0:28, 0:28]
    ring[np.abs(np.hypot(yy - 13.5, xx - 13.5) - 8) < 1.5] = 1
    d = verdict.shape_descriptor(ring[None])[0]
    shape = {
        "bins": verdict.BINS,
        "radius_harmonics": verdict.RADIUS_HARMONICS,
        "ink_harmonics": verdict.INK_HARMONICS,
        "min_roundness": 0.1,
        "means": [d.tolist()] * 10,
        "precisions": [np.eye(len(d)).tolist()] * 10,
    }
    return {
        "score": "max_prob+shape",
        "digit": 0.9,
        "unsure": 0.5,
        "shape_max": shape_max,
        "shape": shape,
    }, ring


def test_verdict_rules() -> None:
    t = {"score": "max_prob", "digit": 0.9, "unsure": 0.5}
    sure = np.eye(10)[3]
    assert verdict.verdict(sure, t) == "digit"
    assert verdict.verdict(np.full(10, 0.1), t) == "not-a-digit"
    mid = np.full(10, 0.3 / 9)
    mid[7] = 0.7
    assert verdict.verdict(mid, t) == "unsure"
    assert verdict.verdict(mid.reshape(1, 10), t) == "unsure"
    assert verdict.verdicts(np.stack([sure, mid]), t) == ["digit", "unsure"]
    assert verdict.verdict(np.full(10, np.nan), t) == "not-a-digit"  # never claims a digit
    assert verdict.verdict(sure, {}) == "digit"  # an old model.json: fallback thresholds
    with pytest.raises(ValueError):
        verdict.verdict(np.ones(9), t)


def test_shape_rules() -> None:
    t, ring = _shape_rules(shape_max=1e-3)
    sure = np.eye(10)[0]
    square = np.zeros((28, 28))
    square[6:22, 6:8] = square[6:22, 20:22] = square[6:8, 6:22] = square[20:22, 6:22] = 1
    assert verdict.verdict(sure, t, ring) == "digit"  # the ring is the class's mean shape
    assert verdict.verdict(sure, t, ring.reshape(1, 28, 28, 1)) == "digit"
    assert verdict.verdict(sure, t, square) == "not-a-digit"  # corners: far from a ring
    assert verdict.verdict(np.full(10, 0.1), t, ring) == "not-a-digit"  # low probability
    assert verdict.verdicts(np.stack([sure, sure]), t, np.stack([ring, square])) == [
        "digit",
        "not-a-digit",
    ]
    # Descriptor: a shape moved is the same shape (up to pixels on sector borders); a square's
    # 4th radius harmonic (its corners) is far above a ring's.
    moved = np.roll(ring, (3, -2), axis=(0, 1))
    ring_d, moved_d, square_d = verdict.shape_descriptor(np.stack([ring, moved, square]))
    np.testing.assert_allclose(moved_d, ring_d, atol=2e-3)
    assert square_d[3] > 5 * ring_d[3] + 0.01
    for bad in (np.zeros((28, 28)), np.full((28, 28), np.nan)):  # never an exception or a digit
        assert verdict.verdict(sure, t, bad) in ("unsure", "not-a-digit", "digit")
    assert verdict.verdict(sure, t, np.full((28, 28), np.nan)) == "not-a-digit"
    with pytest.raises(ValueError):
        verdict.verdicts(sure[None], t)  # this model's verdict needs the images


def test_certainty_rules() -> None:
    """Certainty (1 - entropy / ln 10) refuses a flat output and keeps a digit the model
    hesitates on between two classes, where the top probability alone would refuse it."""
    t = {"score": "certainty", "digit": 0.9, "unsure": 0.3}
    torn = np.full(10, 0.02 / 8)
    torn[[0, 6]] = 0.49  # a 6 that might be a 0
    spread = np.full(10, 0.5 / 9)
    spread[4] = 0.5  # half on one class, the rest everywhere
    np.testing.assert_allclose(verdict.score(np.eye(10)[3], "certainty"), 1.0)
    np.testing.assert_allclose(verdict.score(np.full(10, 0.1), "certainty"), 0.0, atol=1e-12)
    assert verdict.score(torn, "certainty") > verdict.score(spread, "certainty")
    assert verdict.verdicts(np.stack([np.eye(10)[3], torn, spread]), t) == [
        "digit",
        "unsure",
        "not-a-digit",
    ]
    assert verdict.verdict(np.full(10, np.nan), t) == "not-a-digit"


def test_thresholds_come_from_the_build(spec: dict) -> None:
    t = spec["verdict"]
    assert t["score"] in ("max_prob+shape", "certainty+shape")
    assert 0.1 < t["unsure"] < 1.0 and 0.1 < t["digit"] < 1.0
    if t["score"] == "max_prob+shape":
        assert t["unsure"] <= t["digit"]
    assert t["shape_max"] > 0
    d = t["shape"]["radius_harmonics"] + t["shape"]["ink_harmonics"]
    assert np.shape(t["shape"]["means"]) == (10, d)
    assert np.shape(t["shape"]["precisions"]) == (10, d, d)
    assert t["shape"]["fitted_on"] >= 50_000
    assert t["validation"]["nondigits"] >= 1000


# --- the shipped model ----------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(NON_DIGITS))
def test_drawn_non_digits_never_claim_a_digit(name: str, session, spec) -> None:
    result, probs = _run(session, spec, _draw(NON_DIGITS[name]))
    assert result != "digit", f"{name} read as {int(probs.argmax())} ({probs.max():.0%})"


def test_most_drawn_non_digits_are_refused(session, spec) -> None:
    results = {
        name: _run(session, spec, _draw(paths, pen=pen))[0]
        for name, paths in NON_DIGITS.items()
        for pen in (0.03, 0.06)
    }
    refused = sum(r == "not-a-digit" for r in results.values())
    assert refused >= 0.8 * len(results), results


@pytest.mark.parametrize("name", sorted(CLOSED_SHAPES))
def test_closed_shapes_are_refused(name: str, session, spec) -> None:
    for pen in (0.03, 0.06):
        result, probs = _run(session, spec, _draw(CLOSED_SHAPES[name], pen=pen))
        assert result == "not-a-digit", f"{name} pen {pen}: {result} {probs.max():.2f}"


@pytest.mark.parametrize("name", sorted(ROUND_DIGITS))
def test_round_zeros_are_kept(name: str, session, spec) -> None:
    for pen in (0.03, 0.06):
        result, probs = _run(session, spec, _draw(ROUND_DIGITS[name], pen=pen))
        assert (result, int(probs.argmax())) == ("digit", 0), f"{name} pen {pen}: {result}"


def test_straight_lines_are_refused(session, spec) -> None:
    """A line far from vertical is no digit (a near-vertical one is a 1): never a confident
    digit, and mostly refused outright."""
    results = [_run(session, spec, _line(angle))[0] for angle in (0, 20, 45, 135, 160, 180)]
    assert "digit" not in results, results
    assert results.count("not-a-digit") >= 4, results


def test_dot_and_blob_are_refused(session, spec) -> None:
    dot = render_rgba([[(140.0, 140.0)]], CANVAS, 14)
    blob = render_rgba(_unit([(120.0, 130.0), (160.0, 150.0), (130.0, 160.0)]), CANVAS, 60)
    assert _run(session, spec, dot)[0] == "not-a-digit"
    assert _run(session, spec, blob)[0] == "not-a-digit"


@pytest.mark.parametrize("style", ["hand", "hand_alt", "hand_slant"])
def test_real_digits_are_accepted_and_right(style: str, session, spec) -> None:
    for d in range(10):
        result, probs = _run(session, spec, _draw(digit_paths(d, style)))
        assert (result, int(probs.argmax())) == ("digit", d), (
            f"{style} {d}: {result} {probs.max():.2f}"
        )


def test_bad_input_gives_a_verdict_never_an_exception(session, spec) -> None:
    blank = np.zeros((CANVAS, CANVAS, 4), np.uint8)
    assert _run(session, spec, blank)[0] == "empty"
    edge = blank.copy()
    edge[:, :3, 3] = 255  # ink only along the very edge
    speck = blank.copy()
    speck[100, 100, 3] = 255  # a hair-thin speck
    full = blank.copy()
    full[..., 3] = 255  # the whole canvas filled (no background left: nothing to read)
    for rgba in (edge, speck, full):
        assert _run(session, spec, rgba)[0] in verdict.VERDICTS
    assert _run(session, spec, full)[0] != "digit"


def test_shape_test_under_the_vendored_pyodide_matches_cpython(vendored, tmp_path, spec) -> None:
    """verdict.py under the browser's own (pruned, wasm32) numpy, run by the vendored Pyodide in
    Node: the same shape distances and verdicts as CPython (bincount once failed there: int64
    indices on a 32-bit platform)."""
    images = np.stack(
        [
            preprocess.describe(_draw(p)).image
            for p in (CLOSED_SHAPES["square"], digit_paths(0, "hand"))
        ]
    )
    probs = np.full((2, 10), 0.02)
    probs[:, 0] = 0.82
    script = tmp_path / "check.py"
    script.write_text(
        "import json, types\nimport numpy as np\n"
        f"verdict = types.ModuleType('verdict')\n"
        f"exec(compile({(MODEL_DIR.parent / 'verdict.py').read_text()!r}, 'verdict.py', 'exec'),"
        " verdict.__dict__)\n"
        f"t = json.loads({json.dumps(spec['verdict'])!r})\n"
        f"x = np.asarray({images.tolist()!r}, np.float32)\n"
        f"p = np.asarray({probs.tolist()!r})\n"
        "d = verdict.shape_distance(x, p.argmax(1), t['shape'])\n"
        "json.dumps({'distance': d.tolist(), 'verdicts': verdict.verdicts(p, t, x)})\n"
    )
    report = run_in_pyodide(vendored, script)
    want = verdict.shape_distance(images, probs.argmax(1), spec["verdict"]["shape"])
    np.testing.assert_allclose(report["distance"], want, rtol=1e-6)
    assert report["verdicts"] == verdict.verdicts(probs, spec["verdict"], images)
    assert report["verdicts"][0] == "not-a-digit"
