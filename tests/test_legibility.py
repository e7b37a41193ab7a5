"""benchmarks/legibility.py: the model-independent rule that marks drawn-digit benchmark drawings
a person could not read either (the pen filled the digit's white space)."""

from __future__ import annotations

import pytest

from benchmarks import legibility


def test_thin_and_moderate_pens_keep_every_digit_legible() -> None:
    for digit in range(10):
        assert legibility.judge(digit, "simplex", 0.03)[0]  # thinner than the reference
        assert legibility.judge(digit, "hand", 0.1)[0], digit  # a bold marker, still a digit


@pytest.mark.parametrize("digit", [0, 8])
def test_a_pen_most_of_the_digit_height_makes_loops_a_blob(digit: int) -> None:
    legible, why = legibility.judge(digit, "hand", 0.8)
    assert not legible and "white space left" in why


def test_a_straight_one_has_no_shape_to_lose() -> None:
    assert legibility.judge(1, "hand", 0.8) == (True, "no inner white space to lose")


def test_white_space_shrinks_as_the_pen_widens() -> None:
    dist = legibility._distance(6, "duplex")
    h = legibility.HEIGHT_PX
    left = [legibility.inner_white(dist <= r * h / 2) for r in (0.06, 0.2, 0.4, 0.8)]
    assert left == sorted(left, reverse=True) and left[-1] < 0.1 * left[0]


def test_pen_ratio_applies_the_benchmarks_fit_clamp() -> None:
    assert legibility.pen_ratio(0.3, 0.12, 0.03) == pytest.approx(0.4)
    assert legibility.pen_ratio(0.9, 0.12, 0.03) == pytest.approx(0.12 / 0.82)


def test_picture_has_a_row_per_digit_and_a_column_per_style() -> None:
    img = legibility.picture(0.15, 0.12, 0.03, styles=("hand", "simplex"), tile=16)
    assert img.size == (2 * 20 + 4, 10 * 20 + 4)
