"""CPython measurements: preprocess.preprocess_canvas on a drawn 3, and the shipped model's size."""

from __future__ import annotations

import json
import sys
import time

from benchmarks import ROOT
from benchmarks.stats import summarize

sys.path[:0] = [str(ROOT / "site"), str(ROOT / "tests")]

import preprocess  # noqa: E402
from digit_strokes import digit_paths, place, render_rgba  # noqa: E402

CANVAS_SIZES = (280, 560)  # CSS px at devicePixelRatio 1 and 2 of a phone-sized pad


def drawn_three(size: int):
    """A hand-style 3 at 60% of the canvas height, centred, pen 5% of the side."""
    paths = place(digit_paths(3, "hand"), size, 0.6, (size / 2, size / 2))
    return render_rgba(paths, size, 0.05 * size)


def preprocess_ms(size: int, repeats: int) -> dict:
    rgba = drawn_three(size)
    preprocess.preprocess_canvas(rgba)  # warm-up (imports, caches)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        preprocess.preprocess_canvas(rgba)
        times.append((time.perf_counter() - start) * 1000)
    return summarize(times, digits=3)


def measure(repeats: int) -> dict:
    contract = json.loads((ROOT / "site" / "model" / "model.json").read_text())
    return {
        "preprocess_cpython_ms": {str(s): preprocess_ms(s, repeats) for s in CANVAS_SIZES},
        "onnx_model_bytes": (ROOT / "site" / "model" / contract["file"]).stat().st_size,
    }
