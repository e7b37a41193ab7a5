"""Stage 3 — canvas rendering: turn MNIST digits into "user drawings", then preprocess them.

Each 28×28 MNIST digit is upsampled 4×, its strokes thickened or thinned (grey dilation /
erosion), warped (rotation, shear, aspect), scaled to 25–95 % of a canvas of random size and
pasted at a random position — on a transparent RGBA canvas with the ink in alpha (like the app's
<canvas>) or on an opaque white one with dark ink. The canvas then goes through the very
preprocessing the browser runs, ``preprocess.preprocess_canvas`` (site/preprocess.py), so the
network trains and is tested on exactly what it will see in production.

Rendering is deterministic per (seed, chunk index), parallel over processes, and the resulting
(N,28,28,1) float32 arrays are cached on disk, keyed on the inputs and on the source of this file
and of preprocess.py (so editing either invalidates the cache).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import math
import multiprocessing as mp
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from build_model.atomic import write_bytes_atomic
from build_model.data import CACHE_ROOT

# --- Defaults -------------------------------------------------------------------------------
#: Upsampling factor before thickness and affine changes (28 px -> 112 px work image).
UPSAMPLE = 4
#: Padding (work-image px) around the upsampled digit so dilation/rotation never clip it.
PAD = 32
#: Digits rendered per worker task; the rng of a chunk depends only on (seed, chunk index).
CHUNK = 1000
#: Worker processes (the build machine has 2 cores).
WORKERS = min(2, os.cpu_count() or 1)
#: On-disk cache of rendered+preprocessed arrays.
CANVAS_CACHE_DIR = CACHE_ROOT / "canvas"
#: Rendering attempts per digit before giving up (a render could come out empty).
MAX_ATTEMPTS = 4

SITE_DIR = Path(__file__).resolve().parents[1] / "site"


@dataclass(frozen=True)
class RenderConfig:
    """Random ranges for one canvas rendering. All draws come from the caller's rng."""

    canvas_min: int = 112  #: smallest canvas side (px)
    canvas_max: int = 400  #: largest canvas side (px)
    rect_prob: float = 0.2  #: chance of a non-square canvas (aspect up to 4:3)
    scale_min: float = 0.25  #: digit's longer bbox side as a fraction of the shorter canvas side
    scale_max: float = 0.95
    rotation_deg: float = 15.0  #: uniform in ±rotation_deg
    shear: float = 0.3  #: horizontal shear factor uniform in ±shear
    aspect: float = 0.25  #: x/y stretch log-uniform in [1/(1+aspect), 1+aspect]
    #: elastic distortion: chance, and displacement s.d. of a smooth random field (px of the
    #: 4x work image; the digit is ~80 px tall there)
    elastic_prob: float = 0.0
    elastic: float = 0.0
    #: grey-morphology kernel on the 4× image: <0 erode (thinner), 0 none, >0 dilate (thicker)
    thickness: tuple[int, ...] = (-5, -3, 0, 0, 3, 5, 7, 9, 11)
    hard_edge_prob: float = 0.5  #: chance of a crisp, canvas-like anti-aliased edge
    opaque_prob: float = 0.3  #: chance of an opaque dark-on-white canvas (else transparent)


#: Training renders: everything varies; other writers squeeze and stretch digits to fill a box
#: (aspect up to 1.6x either way) and bend strokes (elastic distortion on 60%).
TRAIN_CONFIG = RenderConfig(aspect=0.6, elastic_prob=0.6, elastic=3.0)
#: The canvas-style test set: scale, position, canvas size/style and stroke thickness vary;
#: shape is left as the writer drew it (no extra rotation/shear/aspect).
TEST_CONFIG = RenderConfig(rotation_deg=0.0, shear=0.0, aspect=0.0)


def _import_preprocess():
    """Import the site/preprocess.py next to this package, whatever else is installed.

    site/ goes first on sys.path: an editable install of another checkout must never supply a
    different preprocessing than the one this build ships with its model.
    """
    if sys.path[:1] != [str(SITE_DIR)]:
        sys.path.insert(0, str(SITE_DIR))
    import preprocess

    if Path(preprocess.__file__).resolve() != SITE_DIR / "preprocess.py":
        raise ImportError(f"preprocess imported from {preprocess.__file__}, not {SITE_DIR}")
    return preprocess


def preprocess_sha256() -> str:
    """sha256 of the site/preprocess.py the canvases go through (recorded in model.json)."""
    return hashlib.sha256(Path(_import_preprocess().__file__).read_bytes()).hexdigest()


def _affine(img: Image.Image, rng: np.random.Generator, cfg: RenderConfig) -> Image.Image:
    """Rotate, shear and stretch ``img`` about its centre (bilinear)."""
    theta = math.radians(rng.uniform(-cfg.rotation_deg, cfg.rotation_deg))
    shear = rng.uniform(-cfg.shear, cfg.shear)
    stretch = math.exp(rng.uniform(-1.0, 1.0) * math.log1p(cfg.aspect))
    sx, sy = math.sqrt(stretch), 1.0 / math.sqrt(stretch)
    if theta == 0.0 and shear == 0.0 and stretch == 1.0:
        return img
    c, s = math.cos(theta), math.sin(theta)
    # forward map M = R @ Sh @ S; PIL wants the inverse (output -> input pixel).
    fwd = np.array([[c, -s], [s, c]]) @ np.array([[1.0, shear], [0.0, 1.0]]) @ np.diag([sx, sy])
    inv = np.linalg.inv(fwd)
    cx, cy = img.width / 2.0, img.height / 2.0
    off = np.array([cx, cy]) - inv @ np.array([cx, cy])
    coeffs = (inv[0, 0], inv[0, 1], off[0], inv[1, 0], inv[1, 1], off[1])
    return img.transform(img.size, Image.Transform.AFFINE, coeffs, Image.Resampling.BILINEAR)


def _elastic(img: Image.Image, rng: np.random.Generator, cfg: RenderConfig) -> Image.Image:
    """Bend strokes: displace every pixel by a smooth random field (5x5 control grid, bicubic)."""
    if cfg.elastic <= 0 or rng.random() >= cfg.elastic_prob:
        return img
    h, w = img.height, img.width
    fields = []
    for _ in range(2):
        coarse = rng.normal(0.0, cfg.elastic, (5, 5)).astype(np.float32)
        fields.append(np.asarray(Image.fromarray(coarse, "F").resize((w, h), Image.BICUBIC)))
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    sy, sx = np.clip(ys + fields[0], 0, h - 1.001), np.clip(xs + fields[1], 0, w - 1.001)
    y0, x0 = sy.astype(np.int64), sx.astype(np.int64)
    fy, fx = sy - y0, sx - x0
    a = np.asarray(img, dtype=np.float32)
    out = (
        a[y0, x0] * (1 - fy) * (1 - fx)
        + a[y0, x0 + 1] * (1 - fy) * fx
        + a[y0 + 1, x0] * fy * (1 - fx)
        + a[y0 + 1, x0 + 1] * fy * fx
    )
    return Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8))


def _morph(ink: np.ndarray, size: int, op) -> np.ndarray:
    """Flat square grey dilation (op=np.maximum) or erosion (np.minimum), separable."""
    r = size // 2
    out = ink
    for axis in (0, 1):
        padded = np.pad(out, [(r, r) if a == axis else (0, 0) for a in (0, 1)])
        n = out.shape[axis]
        acc = padded.take(range(0, n), axis=axis)
        for shift in range(1, 2 * r + 1):
            acc = op(acc, padded.take(range(shift, shift + n), axis=axis))
        out = acc
    return out


def _thickness(img: Image.Image, kernel: int) -> Image.Image:
    """Dilate (kernel>0) or erode (kernel<0) the ink; refuse erosions that wipe strokes out."""
    if kernel == 0:
        return img
    ink = np.asarray(img)
    if kernel > 0:
        return Image.fromarray(_morph(ink, kernel, np.maximum))
    thin = _morph(ink, -kernel, np.minimum)
    return (
        Image.fromarray(thin) if thin.sum(dtype=np.int64) >= 0.4 * ink.sum(dtype=np.int64) else img
    )


def render_canvas(digit: np.ndarray, rng: np.random.Generator, cfg: RenderConfig) -> np.ndarray:
    """Render one (28,28) uint8 MNIST digit (255 = ink) as an (H,W,4) uint8 RGBA drawing."""
    size = UPSAMPLE * digit.shape[0]
    img = Image.fromarray(np.ascontiguousarray(digit)).resize(
        (size, size), Image.Resampling.BICUBIC
    )
    padded = Image.new("L", (size + 2 * PAD, size + 2 * PAD), 0)
    padded.paste(img, (PAD, PAD))
    img = _elastic(padded, rng, cfg)
    img = _thickness(img, int(rng.choice(cfg.thickness)))
    img = _affine(img, rng, cfg)

    # Canvas size (sometimes not square) and digit size relative to its shorter side.
    height = int(rng.integers(cfg.canvas_min, cfg.canvas_max + 1))
    width = height
    if rng.random() < cfg.rect_prob:
        width = int(np.clip(round(height * rng.uniform(0.75, 1.34)), cfg.canvas_min, 2 * height))
    box = img.point(lambda v: 255 if v > 24 else 0).getbbox()
    if box is None:
        raise ValueError("digit has no ink")
    img = img.crop(box)
    target = rng.uniform(cfg.scale_min, cfg.scale_max) * min(height, width)
    factor = target / max(img.size)
    new_w = max(1, min(width, round(img.width * factor)))
    new_h = max(1, min(height, round(img.height * factor)))
    ink = np.asarray(img.resize((new_w, new_h), Image.Resampling.BILINEAR), dtype=np.float32)
    ink /= 255.0
    if rng.random() < cfg.hard_edge_prob:  # crisp edges like canvas strokes
        lo = rng.uniform(0.2, 0.45)
        ink = np.clip((ink - lo) / 0.25, 0.0, 1.0)
    x0 = int(rng.integers(0, width - new_w + 1))
    y0 = int(rng.integers(0, height - new_h + 1))
    box = (slice(y0, y0 + new_h), slice(x0, x0 + new_w))

    colour = np.zeros(3) if rng.random() < 0.6 else rng.uniform(0, 90, size=3)
    if rng.random() < cfg.opaque_prob:  # opaque, dark ink on (near-)white paper
        paper = rng.uniform(225, 255)
        rgba = np.full((height, width, 4), 255, dtype=np.uint8)
        rgba[..., :3] = round(paper)
        a = ink[..., None]
        rgba[box][..., :3] = np.rint(paper * (1.0 - a) + colour * a).astype(np.uint8)
    else:  # transparent canvas, ink in alpha (non-premultiplied, like getImageData)
        rgba = np.zeros((height, width, 4), dtype=np.uint8)
        alpha = np.rint(ink * 255.0).astype(np.uint8)
        region = rgba[box]
        region[..., 3] = alpha
        region[alpha > 0, :3] = np.rint(colour).astype(np.uint8)
    return rgba


def crop_to_ink(alpha: np.ndarray) -> np.ndarray:
    """An (H,W) uint8 alpha channel cropped to its ink, as float32 0..1."""
    ys, xs = np.nonzero(alpha)
    if len(ys) == 0:
        raise ValueError("no ink")
    return alpha[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.float32) / 255


def render_patch(
    digit: np.ndarray, height: float, thickness: int, rng: np.random.Generator, cfg: RenderConfig
) -> np.ndarray:
    """One MNIST digit drawn ~`height` px tall by render_canvas with `cfg`'s warps and pen
    `thickness` (on a transparent canvas twice that size), cropped to its ink: alpha 0..1.
    Numbers (benchmarks/multi_digit.py) and touching pairs (pairs.py) set such patches side by
    side."""
    side = int(round(height * 2))
    cfg = dataclasses.replace(
        cfg,
        canvas_min=side,
        canvas_max=side,
        rect_prob=0.0,
        scale_min=0.5,
        scale_max=0.5,
        thickness=(thickness,),
        opaque_prob=0.0,
    )
    return crop_to_ink(render_canvas(digit, rng, cfg)[..., 3])


def _row_extents(ink: np.ndarray, left: bool) -> np.ndarray:
    """Per row, the first (left=True) or last ink column, or NaN for rows without ink."""
    has = ink.any(axis=1)
    idx = ink.argmax(axis=1) if left else ink.shape[1] - 1 - ink[:, ::-1].argmax(axis=1)
    return np.where(has, idx, np.nan).astype(float)


def gap_shift(canvas_ink: np.ndarray, patch_ink: np.ndarray, top: int) -> float | None:
    """Smallest row-wise distance between canvas ink (its right edge) and a patch placed at
    column 0, row `top` (None when they share no inked row): how far right to place the patch
    for a given gap (negative: overlap). Used to compose numbers and touching pairs."""
    rows = slice(top, top + patch_ink.shape[0])
    right = _row_extents(canvas_ink[rows], left=False)
    left = _row_extents(patch_ink, left=True)
    d = left - right - 1
    return None if np.all(np.isnan(d)) else float(np.nanmin(d))


def _render_chunk(args: tuple[np.ndarray, int, int, RenderConfig]) -> np.ndarray:
    """Worker: render + preprocess one chunk of digits with rng seeded by (seed, chunk)."""
    digits, seed, chunk_index, cfg = args
    preprocess = _import_preprocess()
    rng = np.random.default_rng([seed, chunk_index])
    out = np.empty((len(digits), 28, 28, 1), dtype=np.float32)
    for i, digit in enumerate(digits):
        for attempt in range(MAX_ATTEMPTS):
            try:
                out[i] = preprocess.preprocess_canvas(render_canvas(digit, rng, cfg))[0]
                break
            except ValueError:  # includes preprocess.EmptyCanvasError
                if attempt == MAX_ATTEMPTS - 1:
                    raise
    return out


def map_chunks(render, tasks: list, workers: int = WORKERS) -> list:
    """``[render(task) for task in tasks]``, over ``workers`` processes when there are several.

    Each chunk's rng depends only on its task, so the result does not depend on ``workers``.
    """
    if workers <= 1 or len(tasks) <= 1:
        return [render(task) for task in tasks]
    # spawn: never fork a process that may already hold TensorFlow threads.
    with mp.get_context("spawn").Pool(workers) as pool:
        return pool.map(render, tasks, chunksize=1)


def render_dataset(
    images: np.ndarray, seed: int, cfg: RenderConfig = TRAIN_CONFIG, workers: int = WORKERS
) -> np.ndarray:
    """Render + preprocess every digit of ``images`` (N,28,28) → (N,28,28,1) float32, 1 = ink.

    Deterministic for a given seed regardless of ``workers``.
    """
    tasks = [
        (np.asarray(images[start : start + CHUNK]), seed, index, cfg)
        for index, start in enumerate(range(0, len(images), CHUNK))
    ]
    parts = map_chunks(_render_chunk, tasks, workers)
    if not parts:
        return np.empty((0, 28, 28, 1), dtype=np.float32)
    return np.concatenate(parts)


def cache_key(images: np.ndarray, seed: int, cfg: RenderConfig) -> str:
    """Hash of everything that determines render_dataset's output."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(images).tobytes())
    digest.update(repr((seed, dataclasses.astuple(cfg), UPSAMPLE, PAD, CHUNK)).encode())
    digest.update(Path(__file__).read_bytes())
    digest.update(Path(_import_preprocess().__file__).read_bytes())
    return digest.hexdigest()[:20]


def render_dataset_cached(
    name: str,
    images: np.ndarray,
    seed: int,
    cfg: RenderConfig = TRAIN_CONFIG,
    cache_dir: Path | None = CANVAS_CACHE_DIR,
) -> np.ndarray:
    """render_dataset, memoised on disk under ``cache_dir`` (None disables the cache)."""
    if cache_dir is None:
        return render_dataset(images, seed, cfg)
    path = Path(cache_dir) / f"{name}-{cache_key(images, seed, cfg)}.npy"
    if path.is_file():
        try:
            cached = np.load(path)
            if cached.shape == (len(images), 28, 28, 1) and cached.dtype == np.float32:
                return cached
        except (OSError, ValueError):
            pass  # corrupt cache entry: re-render below
    arrays = render_dataset(images, seed, cfg)
    buffer = io.BytesIO()
    np.save(buffer, arrays)
    write_bytes_atomic(path, buffer.getvalue())
    return arrays
