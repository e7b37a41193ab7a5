"""drawings.py: the export file round-trips, bad files are refused whole with a clear message,
and stored drawings render like the app's model canvas."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

import drawings

GOOD = {
    "label": 7,
    "canvas": [280, 280],
    "pen_width": 11.2,
    "strokes": [[[40, 30], [240, 30], [120, 250]], [[100, 140.5]]],
    "time": "2026-11-27T07:00:00Z",
    "model_sha256": "ab" * 32,
}


def _file(items=None, **top) -> str:
    doc = {
        "format": drawings.FORMAT,
        "version": drawings.VERSION,
        "app": "0.1.0",
        "model_sha256": "ab" * 32,
        "exported": "2026-11-27T07:00:00Z",
        "drawings": [GOOD, GOOD] if items is None else items,
    }
    doc.update(top)
    return json.dumps(doc)


def test_round_trip() -> None:
    doc = drawings.make_file([GOOD], app="0.1.0", model_sha256="x", exported="now")
    (back,) = drawings.parse_file(json.dumps(doc).encode())
    assert back["label"] == 7 and back["canvas"] == [280, 280]
    assert back["strokes"][1] == [[100.0, 140.5]] and back["time"] == GOOD["time"]


def _bad(**changes) -> dict:
    d = copy.deepcopy(GOOD)
    d.update(changes)
    return d


#: (file text, regex its error message matches): also run through site/taught-store.js's
#: validateFile in tests/test_teach.py, so the browser and Python refuse the same files alike.
BAD_FILES = [
    ("{not json", "not valid JSON"),
    (json.dumps([1, 2]), "not an MNIST-Draw drawings file"),
    (_file(format="something-else"), "not an MNIST-Draw drawings file"),
    (_file(version=2), "version 2 is not supported"),
    (_file(drawings={"a": 1}), '"drawings" must be a list'),
    (_file([GOOD, _bad(label=10)]), r"drawing #2: \"label\" must be a digit"),
    (_file([_bad(label=True)]), "label"),
    (_file([_bad(canvas=[280])]), "canvas"),
    (_file([_bad(canvas=[0, 280])]), "canvas"),
    (_file([_bad(pen_width=-1)]), "pen_width"),
    (_file([_bad(strokes=[])]), "strokes"),
    (_file([_bad(strokes=[[[1, 2, 3]]])]), "not \\[x, y\\]"),
    (_file([_bad(strokes=[[["1", 2]]])]), "not \\[x, y\\]"),
    (_file([_bad(strokes=[[[1e9, 2]]])]), "far outside"),
    (_file([_bad(time=5)]), "time"),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_bad_files_are_refused_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        drawings.parse_file(text)


def test_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drawings, "MAX_FILE_BYTES", 1000)
    with pytest.raises(ValueError, match="too large"):
        drawings.parse_file(_file([GOOD] * 20))
    monkeypatch.setattr(drawings, "MAX_FILE_BYTES", 10**7)
    monkeypatch.setattr(drawings, "MAX_DRAWINGS", 3)
    with pytest.raises(ValueError, match="at most 3"):
        drawings.parse_file(_file([GOOD] * 4))
    monkeypatch.setattr(drawings, "MAX_POINTS", 3)
    with pytest.raises(ValueError, match="points"):
        drawings.parse_file(_file([GOOD]))


def test_render_drawing_scales_to_the_model_canvas() -> None:
    big = _bad(canvas=[560, 560], pen_width=22.4)
    big["strokes"] = [[[x * 2, y * 2] for x, y in s] for s in GOOD["strokes"]]
    a = drawings.render_drawing(drawings.validate_drawing(big))
    b = drawings.render_rgba(GOOD["strokes"], 280, 11.2)
    assert a.shape == (280, 280, 4)
    np.testing.assert_array_equal(a, b)
    assert a[..., 3].max() == 255 and a[..., :3].max() == 0
