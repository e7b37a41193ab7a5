"""build_model --extra: exported drawings files join training and get their own card rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import drawings
from benchmarks.personal import style_drawing
from build_model import extra


def _write(path: Path, n: int, style: str = "z_two") -> Path:
    rng = np.random.default_rng(5)
    doc = drawings.make_file(
        [style_drawing(style, rng) for _ in range(n)], app="test", model_sha256="x", exported="now"
    )
    path.write_text(json.dumps(doc))
    return path


def test_load_holds_out_every_fifth_and_repeats_the_rest(tmp_path: Path) -> None:
    s = extra.load([_write(tmp_path / "a.json", 7), _write(tmp_path / "b.json", 3)])
    assert s.x.shape == (10, 28, 28, 1) and list(s.y) == [2] * 10
    assert list(np.nonzero(s.held_out)[0]) == [4, 9]
    x, y = s.add_to_training(np.zeros((4, 28, 28, 1), np.float32), np.zeros(4, np.int64))
    assert len(x) == len(y) == 4 + 8 * extra.REPEAT and y.dtype == np.int64


def test_bad_extra_file_stops_the_build_before_training(tmp_path: Path, capsys) -> None:
    from build_model import __main__ as cli

    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "mnist-draw-drawings", "version": 99, "drawings": []}')
    assert cli.main(["--quick", "--out", str(tmp_path / "m"), "--extra", str(bad)]) == 2
    assert "bad.json" in capsys.readouterr().err and not (tmp_path / "m").exists()


@pytest.mark.slow
def test_quick_build_with_extra(tmp_path: Path) -> None:
    from build_model import __main__ as cli

    out = tmp_path / "model"
    assert (
        cli.main(["--quick", "--out", str(out), "--extra", str(_write(tmp_path / "e.json", 10))])
        == 0
    )
    card = (out / "MODEL_CARD.md").read_text()
    assert "extra drawings (held out) | 2 |" in card
    assert "extra drawings (all, incl. trained) | 10 |" in card
