"""Canvas pixels -> the 28x28 image an MNIST model expects.

This one file is the single source of truth for preprocessing: the browser loads it under
Pyodide (see pyscript.toml), and build_model/ and tests/ import it as-is. Pure numpy: it never
imports `js` or `pyscript`, and it does not need Pillow (its resampling is written out below,
which keeps a megabyte of wheel off the page).

MNIST was made by fitting each digit into a 20x20 box (aspect kept, antialiased) and then
placing it in 28x28 so that its centre of mass sits in the middle. We do the same, plus one
thing MNIST never needed: people draw with pens far thinner or thicker than the NIST writers'
relative to the digit, so stroke width is brought into MNIST's range.

Pipeline (each step is a function below):
    ink_map -> bounding_box -> fit_into_box (on a 4x supersampled 112x112 grid)
    -> normalize_stroke_width -> center_by_mass -> downsample to 28x28 -> clip
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MNIST_SIZE = 28
BOX_SIZE = 20  # MNIST fits the digit's longer side into 20 px (LeCun et al., MNIST page).
SUPERSAMPLE = 4  # work at 4x so centring and stroke edits have quarter-pixel precision.
WORK_SIZE = MNIST_SIZE * SUPERSAMPLE
WORK_BOX = BOX_SIZE * SUPERSAMPLE

# Mean centre of mass of the 60k MNIST training digits, in pixel-index coordinates:
# (13.996, 14.007) -> (14, 14). A 28-px pixel i covers working pixels 4i..4i+3 (centre 4i+1.5).
COM_TARGET = MNIST_SIZE / 2
WORK_COM_TARGET = COM_TARGET * SUPERSAMPLE + (SUPERSAMPLE - 1) / 2

# Ink levels in [0, 1]. Below INK_NOISE a pixel is antialiasing fringe or sensor noise and does
# not count towards the bounding box; a canvas whose strongest pixel is below EMPTY_LEVEL is empty.
INK_NOISE = 0.1
EMPTY_LEVEL = 0.2

# Stroke width in working pixels (2 * ink mass / outline length), measured on MNIST training
# digits run through this pipeline with normalization off (3,000 digits upscaled 10x): 5th and
# 95th percentiles are 4.8 and 11.3, median 7.4. Widths inside the band are left alone (natural
# variation); outside it they are moved to its edge.
STROKE_WIDTH_MIN = 4.8
STROKE_WIDTH_MAX = 11.3

MIN_CANVAS = 8
MAX_CANVAS = 4096


class EmptyCanvasError(ValueError):
    """The canvas holds no ink (or only faint noise): there is no digit to recognise."""


@dataclass(frozen=True)
class CanvasDigit:
    """What the UI needs: the 28x28 image the model sees (zeros when empty) and emptiness."""

    empty: bool
    image: np.ndarray  # float32 (28, 28), 1 = ink


def validate_rgba(rgba: np.ndarray) -> np.ndarray:
    """Check that `rgba` is an HxWx4 uint8 array (what canvas getImageData gives)."""
    if not isinstance(rgba, np.ndarray):
        raise ValueError(f"expected a numpy array of shape (H, W, 4), got {type(rgba).__name__}")
    if rgba.ndim != 3 or rgba.shape[2] != 4:
        raise ValueError(f"expected RGBA pixels of shape (H, W, 4), got shape {rgba.shape}")
    if rgba.dtype != np.uint8:
        raise ValueError(f"expected dtype uint8 (0..255), got {rgba.dtype}")
    height, width = rgba.shape[:2]
    if not (MIN_CANVAS <= height <= MAX_CANVAS and MIN_CANVAS <= width <= MAX_CANVAS):
        raise ValueError(
            f"expected a canvas between {MIN_CANVAS} and {MAX_CANVAS} px a side, "
            f"got {width}x{height}"
        )
    return rgba


def ink_map(rgba: np.ndarray) -> np.ndarray:
    """Return ink coverage in [0, 1] (float32, HxW) from canvas pixels.

    A canvas with any transparency keeps its ink in alpha (how the app draws). A fully opaque
    canvas is a picture: ink is whatever differs from the background, which is read from the
    border so both dark-on-light and light-on-dark work and a greyish scan background is removed.
    """
    alpha = rgba[..., 3]
    if alpha.min() < 255:
        return alpha.astype(np.float32) * np.float32(1 / 255)
    luminance = rgba[..., :3].astype(np.float32) @ np.float32([0.299, 0.587, 0.114]) / 255
    border = np.concatenate([luminance[0], luminance[-1], luminance[:, 0], luminance[:, -1]])
    background = float(np.median(border))
    if background >= 0.5:
        ink = (background - luminance) / background
    else:
        ink = (luminance - background) / (1 - background)
    return np.clip(ink, 0, 1, out=ink)


def bounding_box(ink: np.ndarray, level: float = INK_NOISE) -> tuple[int, int, int, int] | None:
    """Return (top, bottom, left, right), bottom/right exclusive, of pixels >= `level`.

    None when no pixel reaches the level.
    """
    mask = ink >= level
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _block_mean(image: np.ndarray, factor: int) -> np.ndarray:
    """Average non-overlapping factor x factor blocks (zero-padding the ragged edge)."""
    height, width = image.shape
    pad_h, pad_w = -height % factor, -width % factor
    if pad_h or pad_w:
        image = np.pad(image, ((0, pad_h), (0, pad_w)))
    h, w = image.shape
    # Rows first, then columns of the transpose: each sum runs over long contiguous rows, about
    # twice as fast as one .mean(axis=(1, 3)) over short strided runs (this is on the stroke path).
    rows = image.reshape(h // factor, factor, w).sum(axis=1)
    blocks = rows.T.reshape(w // factor, factor, h // factor).sum(axis=1).T
    return blocks * np.float32(1 / (factor * factor))


def _resample_taps(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and weights of an antialiased linear (triangle) filter from n_in to n_out samples.

    Like Pillow's BILINEAR: when shrinking, the triangle widens with the scale so every input
    pixel contributes (antialiasing); when enlarging it is plain linear interpolation.
    """
    scale = n_in / n_out
    support = max(scale, 1.0)
    centres = (np.arange(n_out) + 0.5) * scale
    first = np.floor(centres - support).astype(np.int64)
    n_taps = int(np.ceil(2 * support)) + 2
    index = first[:, None] + np.arange(n_taps)
    weight = np.maximum(0.0, 1.0 - np.abs(index + 0.5 - centres[:, None]) / support)
    weight[(index < 0) | (index >= n_in)] = 0.0
    weight /= weight.sum(axis=1, keepdims=True)
    return np.clip(index, 0, n_in - 1), weight.astype(np.float32)


def _resample_axis0(image: np.ndarray, n_out: int) -> np.ndarray:
    index, weight = _resample_taps(image.shape[0], n_out)
    return np.einsum("ok,okw->ow", weight, image[index])


def fit_into_box(crop: np.ndarray, box: int = WORK_BOX) -> np.ndarray:
    """Resize `crop` so its longer side is `box` pixels, keeping the aspect ratio, antialiased.

    A tall thin `1` stays tall and thin: only the longer side is fitted. Large crops are first
    block-averaged by an integer factor (exact area filter, cheap) so the final filter is small.
    """
    height, width = crop.shape
    factor = max(height, width) // box
    if factor >= 2:
        crop = _block_mean(crop, factor)
        height, width = crop.shape
    scale = box / max(height, width)
    out_h = max(1, min(box, round(height * scale)))
    out_w = max(1, min(box, round(width * scale)))
    rows = _resample_axis0(crop, out_h)
    return _resample_axis0(rows.T, out_w).T


def place_in_square(image: np.ndarray, size: int = WORK_SIZE) -> np.ndarray:
    """Paste `image` into the middle of a size x size zero grid."""
    height, width = image.shape
    out = np.zeros((size, size), np.float32)
    top, left = (size - height) // 2, (size - width) // 2
    out[top : top + height, left : left + width] = image
    return out


def _outline_length(mask: np.ndarray) -> int:
    """Count of ink/background edges between 4-neighbours (a Manhattan perimeter)."""
    m = mask.view(np.int8) if mask.dtype == np.bool_ else mask.astype(np.int8)
    vertical = np.count_nonzero(m[1:] != m[:-1]) + np.count_nonzero(m[0]) + np.count_nonzero(m[-1])
    horizontal = (
        np.count_nonzero(m[:, 1:] != m[:, :-1])
        + np.count_nonzero(m[:, 0])
        + np.count_nonzero(m[:, -1])
    )
    return vertical + horizontal


def stroke_width(image: np.ndarray) -> float:
    """Estimate the mean stroke width in pixels as 2 * ink mass / outline length.

    For a stroke of width w and length L the mass is w*L and the outline about 2L. Using the
    grey mass (not a thresholded area) makes the estimate hold for soft, blurred or upscaled
    strokes as well as for crisp pen strokes, and for lines thinner than a pixel.
    """
    outline = _outline_length(image >= INK_NOISE)
    if outline == 0:
        return 0.0
    return 2.0 * float(image.sum()) / outline


def _max3(image: np.ndarray) -> np.ndarray:
    """3x3 grey dilation (max filter) with zero padding."""
    p = np.pad(image, 1)
    rows = np.maximum(np.maximum(p[:-2], p[1:-1]), p[2:])
    return np.maximum(np.maximum(rows[:, :-2], rows[:, 1:-1]), rows[:, 2:])


def _min3(image: np.ndarray) -> np.ndarray:
    """3x3 grey erosion (min filter); the outside counts as background."""
    p = np.pad(image, 1)
    rows = np.minimum(np.minimum(p[:-2], p[1:-1]), p[2:])
    return np.minimum(np.minimum(rows[:, :-2], rows[:, 1:-1]), rows[:, 2:])


def normalize_stroke_width(
    image: np.ndarray, low: float = STROKE_WIDTH_MIN, high: float = STROKE_WIDTH_MAX
) -> np.ndarray:
    """Bring the stroke width of a working-grid image into MNIST's [low, high] band.

    Each 3x3 max/min filter pass widens/narrows a stroke by 2 pixels, and grey filters keep soft
    edges soft. The number of passes grows from zero at the band's edge, so a width just outside
    the band changes the image just as little. Too thin: a hairline shrunk into the box is faint
    grey, so its ink is first scaled to full strength (MNIST strokes are solid), then dilated.
    Too thick: eroded, but never to nothing.
    """
    width = stroke_width(image)
    if width <= 0:
        return image
    if width < low:
        peak = float(image.max())
        if peak < 1.0:
            image = np.minimum(image * np.float32(1.0 / peak), np.float32(1.0))
            width = stroke_width(image)
        for _ in range(round(max(0.0, low - width) / 2)):
            image = _max3(image)
    elif width > high:
        for _ in range(round((width - high) / 2)):
            eroded = _min3(image)
            if eroded.max() < 0.5:  # never erase the digit
                break
            image = eroded
    return image


def center_by_mass(image: np.ndarray, target: float = WORK_COM_TARGET) -> np.ndarray:
    """Shift `image` (zero fill) so its centre of mass lands on (target, target).

    The shift is rounded to whole working pixels = quarter MNIST pixels: sub-pixel where it
    matters, without the blur a fractional-shift interpolation would add.
    """
    mass = float(image.sum())
    if mass <= 0:
        return image
    ys = np.arange(image.shape[0], dtype=np.float32)
    xs = np.arange(image.shape[1], dtype=np.float32)
    com_y = float(image.sum(axis=1) @ ys) / mass
    com_x = float(image.sum(axis=0) @ xs) / mass
    dy, dx = round(target - com_y), round(target - com_x)
    return _shift(image, dy, dx)


def _shift(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    height, width = image.shape
    out = np.zeros_like(image)
    src_y = slice(max(0, -dy), min(height, height - dy))
    dst_y = slice(max(0, dy), min(height, height + dy))
    src_x = slice(max(0, -dx), min(width, width - dx))
    dst_x = slice(max(0, dx), min(width, width + dx))
    if src_y.start < src_y.stop and src_x.start < src_x.stop:
        out[dst_y, dst_x] = image[src_y, src_x]
    return out


def normalize_digit(crop: np.ndarray, *, normalize_width: bool = True) -> np.ndarray:
    """Turn a cropped ink map (the digit's bounding box) into the 28x28 MNIST-style image."""
    work = place_in_square(fit_into_box(crop))
    if normalize_width:
        work = normalize_stroke_width(work)
    work = center_by_mass(work)
    image = _block_mean(work, SUPERSAMPLE).astype(np.float32)
    return np.clip(image, 0.0, 1.0, out=image)


def describe(rgba: np.ndarray) -> CanvasDigit:
    """Preprocess canvas pixels for the UI: the 28x28 image and whether the canvas is empty.

    Raises ValueError for malformed input; an empty canvas is a normal result, not an error.
    """
    ink = ink_map(validate_rgba(rgba))
    box = bounding_box(ink)
    if box is None or float(ink.max()) < EMPTY_LEVEL:
        return CanvasDigit(empty=True, image=np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32))
    top, bottom, left, right = box
    return CanvasDigit(empty=False, image=normalize_digit(ink[top:bottom, left:right]))


def preprocess_canvas(rgba: np.ndarray) -> np.ndarray:
    """Canvas RGBA pixels (HxWx4 uint8) -> model input float32 (1, 28, 28, 1), 1 = ink.

    Raises EmptyCanvasError (a ValueError) when there is nothing drawn, and ValueError naming
    the expectation when the array has the wrong shape, dtype or size.
    """
    digit = describe(rgba)
    if digit.empty:
        raise EmptyCanvasError("the canvas is empty: draw a digit")
    return digit.image.reshape(1, MNIST_SIZE, MNIST_SIZE, 1)
