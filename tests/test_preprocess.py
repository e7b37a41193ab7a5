"""preprocess.py: the contract, the bad-input behaviour, invariances and the MNIST round trip."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

import preprocess as pp
from build_model.data import load_mnist
from digit_strokes import digit_paths, place, render_rgba


def drawn(digit: int, canvas: int = 280, size: float = 0.6, center=None, pen: float = 0.05):
    """A hand-style digit drawn like the app does (pen width as a fraction of the canvas)."""
    center = center or (canvas / 2, canvas / 2)
    paths = place(digit_paths(digit, "hand"), canvas, size, center)
    return render_rgba(paths, canvas, max(1.0, pen * canvas))


def mnist_on_canvas(digit: np.ndarray, canvas: int, scale: int, at=(0, 0)) -> np.ndarray:
    """An MNIST digit upscaled (bilinear) onto a transparent canvas, ink in alpha."""
    up = np.asarray(Image.fromarray(digit).resize((28 * scale,) * 2, Image.BILINEAR))
    rgba = np.zeros((canvas, canvas, 4), np.uint8)
    rgba[at[0] : at[0] + up.shape[0], at[1] : at[1] + up.shape[1], 3] = up
    return rgba


def mae(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


@pytest.fixture(scope="module")
def mnist_test():
    return load_mnist("test")


# --- contract ---------------------------------------------------------------------------------


def test_output_contract():
    x = pp.preprocess_canvas(drawn(3))
    assert x.shape == (1, 28, 28, 1) and x.dtype == np.float32
    assert x.min() >= 0.0 and x.max() <= 1.0 and x.max() > 0.9
    com_y, com_x = centre_of_mass(x[0, :, :, 0])
    assert abs(com_y - 14) < 0.5 and abs(com_x - 14) < 0.5


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    ys, xs = np.mgrid[: image.shape[0], : image.shape[1]]
    return float((image * ys).sum() / image.sum()), float((image * xs).sum() / image.sum())


def test_describe_gives_preview_and_emptiness():
    digit = pp.describe(drawn(5))
    assert not digit.empty and digit.image.shape == (28, 28)
    np.testing.assert_array_equal(digit.image, pp.preprocess_canvas(drawn(5))[0, :, :, 0])
    blank = pp.describe(np.zeros((100, 100, 4), np.uint8))
    assert blank.empty and blank.image.shape == (28, 28) and not blank.image.any()


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad, words",
    [
        (np.zeros((100, 100), np.uint8), "(H, W, 4)"),
        (np.zeros((100, 100, 3), np.uint8), "(H, W, 4)"),
        (np.zeros((100, 100, 4), np.float32), "uint8"),
        (np.zeros((4, 4, 4), np.uint8), "between"),
        ([[0, 0, 0, 0]], "numpy array"),
    ],
)
def test_malformed_input_names_the_expectation(bad, words):
    with pytest.raises(ValueError, match=r"expected") as err:
        pp.preprocess_canvas(bad)
    assert words in str(err.value)
    assert not isinstance(err.value, pp.EmptyCanvasError)


def test_empty_canvas_is_a_clear_error():
    with pytest.raises(pp.EmptyCanvasError, match="empty"):
        pp.preprocess_canvas(np.zeros((280, 280, 4), np.uint8))


def test_faint_noise_counts_as_empty():
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = np.random.default_rng(0).integers(0, int(pp.EMPTY_LEVEL * 255), (280, 280))
    assert pp.describe(rgba).empty


def test_blank_opaque_canvas_is_empty():
    assert pp.describe(np.full((200, 200, 4), 255, np.uint8)).empty


def test_completely_filled_canvas_is_empty():
    """Ink everywhere is indistinguishable from a dark background: nothing to recognise."""
    filled = np.zeros((200, 200, 4), np.uint8)
    filled[..., 3] = 255
    assert pp.describe(filled).empty


def test_single_dot_gives_a_centred_finite_image():
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[40:48, 200:208, 3] = 255
    image = pp.preprocess_canvas(rgba)[0, :, :, 0]
    assert np.isfinite(image).all() and image.max() == pytest.approx(1.0)
    com_y, com_x = centre_of_mass(image)
    assert abs(com_y - 14) < 0.5 and abs(com_x - 14) < 0.5


def test_ink_touching_the_edges_matches_the_same_ink_inside():
    inside = drawn(7, canvas=280, size=0.5, center=(140, 140))
    crop = inside[np.ix_(*[np.flatnonzero(inside[..., 3].any(axis=a)) for a in (1, 0)])]
    touching = np.zeros((crop.shape[0], crop.shape[1], 4), np.uint8)
    touching[:] = crop
    assert mae(pp.preprocess_canvas(touching), pp.preprocess_canvas(inside)) < 0.005


@settings(max_examples=40, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(8, 64), st.integers(8, 64), st.just(4))))
def test_any_pixels_give_finite_output_or_empty(rgba):
    digit = pp.describe(rgba)
    assert digit.image.shape == (28, 28) and np.isfinite(digit.image).all()
    assert digit.image.min() >= 0.0 and digit.image.max() <= 1.0


# --- canvas kinds -------------------------------------------------------------------------------


def test_opaque_dark_on_light_matches_transparent():
    transparent = drawn(2)
    opaque = np.full_like(transparent, 255)
    opaque[..., :3] = 255 - transparent[..., 3:4]  # black ink composited on white
    assert mae(pp.preprocess_canvas(opaque), pp.preprocess_canvas(transparent)) < 0.01


def test_opaque_light_on_dark_matches_transparent():
    transparent = drawn(2)
    opaque = np.full_like(transparent, 255)
    opaque[..., :3] = transparent[..., 3:4]  # white ink on black
    assert mae(pp.preprocess_canvas(opaque), pp.preprocess_canvas(transparent)) < 0.01


@pytest.mark.parametrize("canvas", [28, 140, 560, 1200])
def test_canvas_sizes_and_pixel_ratios_agree(canvas):
    """The same drawing on a 280 px canvas and at another size (as a different DPR gives)."""
    reference = pp.preprocess_canvas(drawn(4, canvas=280))
    assert mae(pp.preprocess_canvas(drawn(4, canvas=canvas)), reference) < 0.03


# --- invariances --------------------------------------------------------------------------------


@settings(max_examples=15, deadline=None)
@given(
    digit=st.integers(0, 9),
    cx=st.floats(0.2, 0.8),
    cy=st.floats(0.2, 0.8),
)
def test_translation_invariance(digit, cx, cy):
    canvas = 400
    centred = pp.preprocess_canvas(drawn(digit, canvas, size=0.35))
    moved = pp.preprocess_canvas(drawn(digit, canvas, size=0.35, center=(cx * canvas, cy * canvas)))
    assert mae(moved, centred) < 0.02


@settings(max_examples=15, deadline=None)
@given(digit=st.integers(0, 9), size=st.floats(0.25, 1.0))
def test_scale_invariance(digit, size):
    """Same drawing (pen scaled with it) at 25%..100% of the canvas: nearly the same input."""
    canvas = 400
    full = pp.preprocess_canvas(drawn(digit, canvas, size=0.95, pen=0.05 * 0.95))
    scaled = pp.preprocess_canvas(drawn(digit, canvas, size=size * 0.95, pen=0.05 * size * 0.95))
    assert mae(scaled, full) < 0.03


def test_mnist_digits_survive_the_round_trip(mnist_test):
    """Real MNIST test digits upscaled onto a canvas come back close to the original 28x28."""
    images, _ = mnist_test
    errors = [
        mae(pp.preprocess_canvas(mnist_on_canvas(d, 400, 10, at=(60, 90)))[0, :, :, 0], d / 255)
        for d in images[:300]
    ]
    print(f"MNIST round trip: mean abs error {np.mean(errors):.4f}, max {np.max(errors):.4f}")
    assert np.mean(errors) < 0.045 and np.max(errors) < 0.12


def test_mnist_off_centre_small_digit_matches_centred(mnist_test):
    images, _ = mnist_test
    big = pp.preprocess_canvas(mnist_on_canvas(images[0], 600, 20, at=(10, 10)))
    small = pp.preprocess_canvas(mnist_on_canvas(images[0], 600, 5, at=(450, 20)))
    assert mae(big, small) < 0.03


# --- stroke width -------------------------------------------------------------------------------


@pytest.mark.parametrize("pen", [0.005, 0.02, 0.05, 0.1, 0.16])
def test_pen_width_ends_in_mnist_band(pen):
    """Hairline to marker: the 28x28 strokes come out as thick as MNIST's."""
    for digit in (0, 3, 7):
        work = pp.normalize_stroke_width(working_grid(drawn(digit, 560, size=0.7, pen=pen)))
        width = pp.stroke_width(work)
        assert pp.STROKE_WIDTH_MIN - 1.5 <= width <= pp.STROKE_WIDTH_MAX + 1.5, (digit, width)


def working_grid(rgba: np.ndarray) -> np.ndarray:
    ink = pp.ink_map(rgba)
    top, bottom, left, right = pp.bounding_box(ink)
    return pp.place_in_square(pp.fit_into_box(ink[top:bottom, left:right]))


def test_mnist_like_widths_are_left_alone(mnist_test):
    """Soft upscaled MNIST strokes inside the band pass through normalization unchanged."""
    images, _ = mnist_test
    unchanged = 0
    for d in images[:200]:
        work = working_grid(mnist_on_canvas(d, 280, 10))
        unchanged += np.array_equal(pp.normalize_stroke_width(work), work)
    assert unchanged >= 170  # the band holds 90% of MNIST training digits


def test_a_one_stays_thin():
    """An elongated digit keeps its aspect ratio: a 1 is not stretched into a block."""
    rgba = np.zeros((300, 300, 4), np.uint8)
    rgba[30:270, 145:155, 3] = 255
    image = pp.preprocess_canvas(rgba)[0, :, :, 0]
    columns = np.flatnonzero(image.max(axis=0) > 0.1)
    rows = np.flatnonzero(image.max(axis=1) > 0.1)
    assert rows.size >= 19 and columns.size <= 5
