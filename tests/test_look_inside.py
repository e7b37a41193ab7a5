"""site/look_inside.py: tiles, colour scales, layer table and occlusion, with the real model.

The model is the shipped site/model/ when its model.json lists the activation outputs (contract
v2). Until that model lands, $MNIST_DRAW_INSPECT_MODEL may point at a directory holding a dev copy
(mnist_cnn.onnx + model.json in the v2 shape); otherwise the model tests skip and say why. Layer
names, shapes and parameter counts are always read from model.json, never written here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

import look_inside as li
import preprocess
from digit_strokes import digit_paths, place, render_rgba

SHIPPED = Path(__file__).resolve().parents[1] / "site" / "model"


def model_dir() -> Path | None:
    """The directory of a model whose contract lists the activation outputs, or None."""
    for candidate in (SHIPPED, os.environ.get("MNIST_DRAW_INSPECT_MODEL")):
        if candidate and (Path(candidate) / "model.json").is_file():
            contract = json.loads((Path(candidate) / "model.json").read_text())
            if contract.get("outputs") and contract.get("kernels"):
                return Path(candidate)
    return None


@pytest.fixture(scope="module")
def contract() -> dict:
    found = model_dir()
    if found is None:
        pytest.skip(
            "site/model/model.json has no 'outputs'/'kernels' (model contract v2 not shipped yet) "
            "and $MNIST_DRAW_INSPECT_MODEL names no dev model that has them"
        )
    return json.loads((found / "model.json").read_text()) | {"_dir": str(found)}


@pytest.fixture(scope="module")
def session(contract: dict) -> ort.InferenceSession:
    path = Path(contract["_dir"]) / contract["file"]
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def look(contract: dict) -> li.LookInside:
    return li.LookInside(contract, occlusion_every=1)  # every update maps (alternation: below)


def drawn(digit: int) -> np.ndarray:
    """A hand-style digit drawn on a 280 px canvas, preprocessed to the model's 28x28 input."""
    rgba = render_rgba(place(digit_paths(digit, "hand"), 280, 0.6, (140, 140)), 280, 18)
    return preprocess.describe(rgba).image


def run(session, contract: dict, names: list[str], batch: np.ndarray) -> dict:
    return dict(zip(names, session.run(names, {contract["input"]["name"]: batch}), strict=True))


def update(look, session, contract, image) -> tuple[dict, dict]:
    """What the app does per update: activations of the digit, one batched occlusion run."""
    acts = run(session, contract, look.fetches, image[None, ..., None])
    batch = look.occlusion_batch(image)
    probs = (
        run(session, contract, [look.probs_name], batch)[look.probs_name] if len(batch) else None
    )
    return acts, look.result(image, acts, probs)


# --- arrangement and colour math (no model) ---------------------------------------------------


@pytest.mark.parametrize(
    ("count", "rows", "cols"), [(1, 1, 1), (10, 1, 10), (32, 4, 8), (64, 8, 8), (100, 10, 10)]
)
def test_grid_shape(count, rows, cols):
    assert li.grid_shape(count) == (rows, cols)


def test_arrange_puts_each_map_at_its_corner_with_gaps():
    maps = np.arange(5 * 3 * 2, dtype=np.float32).reshape(5, 3, 2)  # 5 maps, 3 high, 2 wide
    image, corners = li.arrange(maps, gap=1)
    rows, cols = li.grid_shape(5)
    assert image.shape == (rows * 4 - 1, cols * 3 - 1)
    for m, (x, y) in enumerate(corners):
        np.testing.assert_array_equal(image[y : y + 3, x : x + 2], maps[m])
    inside = np.zeros(image.shape, bool)
    for x, y in corners:
        inside[y : y + 3, x : x + 2] = True
    assert np.isnan(image[~inside]).all()  # gaps and unused cells are transparent


def test_as_maps_reads_nhwc_channels_and_vectors():
    hwc = np.random.default_rng(0).random((4, 5, 3)).astype(np.float32)
    np.testing.assert_array_equal(li.as_maps(hwc)[2], hwc[..., 2])
    assert li.as_maps(np.arange(7)).shape == (7, 1, 1)


def test_colorize_scale_ends_and_transparency():
    rgba = li.colorize(np.array([0.0, 2.0, 4.0, np.nan, 9.0]), 0.0, 4.0)
    np.testing.assert_array_equal(rgba[0], li.SEQUENTIAL[0])
    np.testing.assert_array_equal(rgba[1], li.SEQUENTIAL[128])
    np.testing.assert_array_equal(rgba[2], li.SEQUENTIAL[255])
    assert rgba[3, 3] == 0  # NaN (a gap) is transparent
    np.testing.assert_array_equal(rgba[4], li.SEQUENTIAL[255])  # clipped, not wrapped
    # The diverging scale is white in the middle: 0 means "no effect".
    assert li.colorize(np.array([0.0]), -1, 1, li.DIVERGING)[0, :3].min() > 240


def test_occlusion_map_averages_the_drops_of_covering_patches():
    base = np.array([0.1, 0.9])
    boxes = np.array([[0, 0], [0, 2]])
    occluded = np.array([[0, 0.9 * np.exp(-1)], [0, 0.9 * np.exp(-3)]])  # drops 1 and 3
    signed, top = li.occlusion_map(base, occluded, boxes, size=6, patch=3)
    assert top == 1
    np.testing.assert_allclose(signed[0, 0], 1.0)
    np.testing.assert_allclose(signed[0, 2], 2.0)  # covered by both patches: mean of 1 and 3
    np.testing.assert_allclose(signed[0, 4], 3.0)
    assert signed[4:].max() == 0  # never occluded


def test_blank_patches_are_not_run():
    image = np.zeros((28, 28), np.float32)
    assert len(li.occlusion_boxes(image)) == 0
    image[13:15, 13:15] = 1.0
    boxes = li.occlusion_boxes(image)
    assert 0 < len(boxes) <= 9  # only the few patches around the dot
    batch = li.occlude(image, boxes)
    assert batch.shape == (len(boxes), 28, 28, 1)
    assert all(batch[i, ..., 0].sum() < image.sum() for i in range(len(boxes)))


# --- with the real model ------------------------------------------------------------------------


def test_layer_table_matches_the_model(contract, session, look):
    rows = look.table
    assert [r["name"] for r in rows[1:]] == [o["name"] for o in contract["outputs"]]
    assert sum(r["params"] for r in rows) == contract["params"]
    shapes = {o.name: o.shape[1:] for o in session.get_outputs()}
    for row in rows[1:]:
        assert list(shapes[row["name"]]) == row["shape"], row["name"]


def test_conv1_kernels_are_the_filters_that_made_the_maps(contract, session, look):
    """Correlating the input with model.json's kernel k (+ bias, ReLU) gives conv1 map k."""
    image = drawn(3)
    first = look.kernel_layer
    conv = run(session, contract, [first], image[None, ..., None])[first][0]
    kernels = np.asarray(contract["kernels"]["conv1"])
    bias = np.asarray(contract["kernels"]["conv1_bias"])
    windows = np.lib.stride_tricks.sliding_window_view(image, (3, 3))  # (26, 26, 3, 3)
    mine = np.maximum(np.einsum("yxij,kij->yxk", windows, kernels) + bias, 0)
    np.testing.assert_allclose(mine, conv, atol=1e-4)


def test_result_tiles_every_layer(contract, session, look):
    image = drawn(4)
    acts, result = update(look, session, contract, image)
    layers = {layer["name"]: layer for layer in result["layers"]}
    assert list(layers) == [r["name"] for r in look.table]
    for row in look.table[1:]:
        layer = layers[row["name"]]
        maps = li.as_maps(acts[row["name"]][0])
        assert len(layer["corners"]) == len(layer["peak"]) == row["maps"] == len(maps)
        assert layer["rgba"].dtype == np.uint8
        assert layer["rgba"].size == layer["width"] * layer["height"] * 4
        painted = layer["rgba"].reshape(layer["height"], layer["width"], 4)
        w, h = layer["tile"]
        for m in (0, len(maps) - 1):  # a tile shows its own map on the layer's shared scale
            x, y = layer["corners"][m]
            expected = li.colorize(maps[m], layer["lo"], layer["hi"])
            assert np.abs(painted[y : y + h, x : x + w].astype(int) - expected).max() <= 1
        assert layer["hi"] == pytest.approx(
            1.0 if row["name"] == look.probs_name else maps.max(), abs=1e-3
        )
        assert max(layer["peak"]) > 0, f"{row['name']} is all zero for a drawn 4"
    kernels = layers[look.kernel_layer]["kernels"]
    assert len(kernels["corners"]) == layers[look.kernel_layer]["maps"]
    assert kernels["lo"] == -kernels["hi"]


@pytest.mark.parametrize("digit", [0, 1, 4, 7])
def test_occluding_the_ink_lowers_the_top_class(contract, session, look, digit):
    image = drawn(digit)
    acts, result = update(look, session, contract, image)
    probs = acts[look.probs_name][0]
    top = int(np.argmax(probs))
    assert result["why"]["top"] == contract["labels"][top]
    # Hiding parts of the ink lowers the top class: some copy loses probability.
    batch = li.occlude(image, li.occlusion_boxes(image))
    occluded = run(session, contract, [look.probs_name], batch)[look.probs_name][:, top]
    assert np.log(probs[top]) - np.log(occluded).min() > 1e-3
    # The map's positive evidence sits on the ink: the ink holds more of it than the paper.
    signed = np.asarray(result["why"]["map"])
    ink = image > 0.3
    assert signed.max() > 0
    assert signed[ink].mean() > 1.5 * max(signed[~ink].mean(), 1e-9)
    # Pixels more than a patch away from any ink were in no occluded patch: exactly 0.
    r = li.PATCH - 1
    padded = np.pad(image >= li.INK_LEVEL, r)
    near = np.lib.stride_tricks.sliding_window_view(padded, (2 * r + 1,) * 2).any(axis=(2, 3))
    assert np.all(signed[~near] == 0)
    assert 0 < result["why"]["copies"] < 64


def test_empty_image_needs_no_occlusion_run(look):
    image = np.zeros((28, 28), np.float32)
    assert len(look.occlusion_batch(image)) == 0


def test_occlusion_alternates_while_drawing_and_catches_up(contract, session):
    """Changing drawing: every 2nd update runs the occlusion batch, the others reuse the last map
    (marked stale); one more update of the same drawing brings it up to date; then no runs."""
    look = li.LookInside(contract, occlusion_every=2)
    images = [drawn(7), drawn(1), drawn(4)]
    seen = []
    for image in [*images, images[-1], images[-1]]:
        _, result = update(look, session, contract, image)
        seen.append((result["why"]["copies"] > 0, result["why"]["stale"]))
    assert seen == [(True, False), (False, True), (True, False), (False, False), (False, False)]
    _, result = update(look, session, contract, drawn(1))  # a new drawing after reuses: runs
    assert result["why"]["copies"] > 0 and not result["why"]["stale"]


def test_a_still_drawing_catches_up_at_once(contract, session):
    """With occlusion every 3rd update, one repeat of the same drawing is enough to catch up."""
    look = li.LookInside(contract, occlusion_every=3)
    seen = []
    for image in [drawn(7), drawn(1), drawn(1), drawn(1)]:
        _, result = update(look, session, contract, image)
        seen.append((result["why"]["copies"] > 0, result["why"]["stale"]))
    assert seen == [(True, False), (False, True), (True, False), (False, False)]
