"""The "Look inside" panel's arithmetic: layer activations -> painted tiles; occlusion -> "why".

Pure numpy (never imports `js` or `pyscript`), so the browser (Pyodide), tests/ and benchmarks/
import this very file. JS (site/look-inside.js) only paints what this module returns.

Everything is named by the model contract (model.json v2): the layer list comes from
``contract["outputs"]`` (name, shape with a null batch, kind, Keras layer, params, activation) and
the conv1 filters from ``contract["kernels"]``; no layer name is hard-coded here.

Colour scales (the decision, shown to the user by each layer's legend):
- One shared scale PER LAYER, from min(0, layer minimum) to the layer maximum, so the maps of a
  layer can be compared with each other (which filters fire, and how strongly). One scale for the
  whole network would not work: activation sizes differ several-fold between layers (conv1 vs
  the dense layer), which would leave whole layers black.
- Fixed scales where the meaning is fixed: the input and the probabilities are always 0..1.
- Signed quantities (conv1 kernels, the occlusion map) use a diverging blue-white-red scale
  symmetric around 0, so white always means "no effect".

How the caller runs it (two ONNX runs per update, only while the panel is open):
    look = LookInside(contract)                     # once, after the contract is loaded
    acts = session.run(look.fetches, image[None])   # activations of the drawn digit (batch 1)
    batch = look.occlusion_batch(image)             # [N, 28, 28, 1] occluded copies (N may be 0)
    probs = session.run(["probs"], batch)           # ONE batched run; skipped when N == 0
    result = look.result(image, acts, probs)        # plain dict -> JS render(result)

Occlusion ("why this answer"): a PATCH x PATCH square of the input is set to background (0) at
every STRIDE step; for each copy the top class's log-probability is compared with the
unoccluded one. A pixel's value is the mean drop over the patches covering it: positive = that ink
supported the answer (hiding it lowers the top class), negative = it argued against it. Patches
that contain no ink are not run at all: hiding blank paper leaves the input unchanged, so their
effect is exactly 0 (and the batch stays small enough for live updates). Log-probability rather
than probability, because a confident softmax saturates (0.9999 -> 0.999 is a 10x change in odds
but a 0.0009 change in probability).
"""

from __future__ import annotations

import math

import numpy as np

#: Occlusion patch side and step, in 28x28 input pixels (see the module docstring).
PATCH = 8
STRIDE = 4
#: While the drawing changes, the occlusion batch runs on every OCCLUSION_EVERY-th update only
#: (it is most of the panel's cost); see LookInside.
OCCLUSION_EVERY = 3
#: A patch whose strongest pixel is below this holds no ink; occluding it is a no-op.
INK_LEVEL = 0.05
#: log(p) is taken of max(p, EPS) so a probability of exactly 0 stays finite.
EPS = 1e-7

# Sequential scale for activations: viridis (matplotlib's perceptually uniform map, readable on
# light and dark backgrounds and for the common colour-vision deficiencies) sampled at 9 stops.
_VIRIDIS = [
    (0x44, 0x01, 0x54),
    (0x47, 0x2C, 0x7A),
    (0x3B, 0x51, 0x8B),
    (0x2C, 0x71, 0x8E),
    (0x21, 0x90, 0x8C),
    (0x27, 0xAD, 0x81),
    (0x5C, 0xC8, 0x63),
    (0xAA, 0xDC, 0x32),
    (0xFD, 0xE7, 0x25),
]
# Diverging scale for signed values: ColorBrewer RdBu (blue = negative, white = 0, red = positive).
_RDBU = [
    (0x21, 0x66, 0xAC),
    (0x67, 0xA9, 0xCF),
    (0xD1, 0xE5, 0xF0),
    (0xF7, 0xF7, 0xF7),
    (0xFD, 0xDB, 0xC7),
    (0xEF, 0x8A, 0x62),
    (0xB2, 0x18, 0x2B),
]


def _lut(stops: list[tuple[int, int, int]]) -> np.ndarray:
    """A 256-entry RGBA uint8 lookup table interpolated linearly between colour stops."""
    stops_arr = np.asarray(stops, dtype=np.float64)
    at = np.linspace(0, 1, len(stops))
    x = np.linspace(0, 1, 256)
    rgb = np.stack([np.interp(x, at, stops_arr[:, c]) for c in range(3)], axis=1)
    return np.concatenate([np.rint(rgb), np.full((256, 1), 255.0)], axis=1).astype(np.uint8)


SEQUENTIAL = _lut(_VIRIDIS)
DIVERGING = _lut(_RDBU)


def colorize(values: np.ndarray, lo: float, hi: float, lut: np.ndarray = SEQUENTIAL) -> np.ndarray:
    """Float array -> RGBA uint8 (shape + (4,)) on the scale lo..hi; NaN -> transparent."""
    span = hi - lo if hi > lo else 1.0
    scaled = (np.nan_to_num(values, nan=lo) - lo) * (255.0 / span)
    rgba = np.take(lut, np.clip(scaled, 0, 255).astype(np.uint8), axis=0)  # floor: 256 equal bins
    rgba[np.isnan(values)] = 0
    return rgba


def grid_shape(count: int) -> tuple[int, int]:
    """(rows, cols) of the grid for `count` tiles: one row up to 16 (the 10 outputs), else
    near-square and wider than tall, with no empty cells when a divisor allows (32 -> 4x8)."""
    if count <= 16:
        return 1, count
    root = math.ceil(math.sqrt(count))
    cols = next((c for c in range(root, 2 * root) if count % c == 0), root)
    return math.ceil(count / cols), cols


def arrange(maps: np.ndarray, gap: int = 1) -> tuple[np.ndarray, list[list[int]]]:
    """Tile C maps (C, h, w) into one (H, W) float image, NaN in the gaps and unused cells.

    Returns the image and each map's [x, y] top-left corner in it (map order), which JS uses to
    find the tile under the pointer and to crop a map for the enlarged view.
    """
    count, h, w = maps.shape
    rows, cols = grid_shape(count)
    cell_h, cell_w = h + gap, w + gap
    padded = np.full((rows * cols, cell_h, cell_w), np.nan, dtype=np.float32)
    padded[:count, :h, :w] = maps
    image = padded.reshape(rows, cols, cell_h, cell_w).transpose(0, 2, 1, 3)
    image = image.reshape(rows * cell_h, cols * cell_w)[
        : rows * cell_h - gap, : cols * cell_w - gap
    ]
    return image, _corners(count, cell_w, cell_h, cols)


_CORNERS: dict[tuple[int, int, int, int], list[list[int]]] = {}


def _corners(count: int, cell_w: int, cell_h: int, cols: int) -> list[list[int]]:
    """Tile corners, memoised: the same list object every update (callers may cache its JS copy)."""
    key = (count, cell_w, cell_h, cols)
    if key not in _CORNERS:
        _CORNERS[key] = [[(i % cols) * cell_w, (i // cols) * cell_h] for i in range(count)]
    return _CORNERS[key]


def static_parts(result: dict) -> list:
    """The values of `result` that are the same objects on every update (corners, labels,
    kernels, legend): a converter may convert them once and reuse the copy."""
    parts = [result["legend"]]
    for layer in result["layers"]:
        parts += [layer["corners"], layer.get("labels"), layer.get("kernels")]
    return [part for part in parts if part is not None]


def as_maps(activation: np.ndarray) -> np.ndarray:
    """One layer's activation without batch -> (maps, h, w): HWC -> C maps; a vector -> 1x1 maps."""
    a = np.asarray(activation, dtype=np.float32)
    if a.ndim == 3:
        return np.ascontiguousarray(a.transpose(2, 0, 1))
    if a.ndim == 2:
        return a[None]
    return a.reshape(-1, 1, 1)


def layer_table(contract: dict) -> list[dict]:
    """The network as rows: input first, then contract["outputs"] in network order.

    Each row: name, kind, layer (Keras name), shape (no batch), maps (channels, or units of a
    vector), params, activation. Everything comes from model.json.
    """
    spec = contract["input"]
    rows = [
        {
            "name": spec["name"],
            "kind": "Input",
            "layer": spec["name"],
            "shape": list(spec["shape"][1:]),
            "maps": int(spec["shape"][-1]) if len(spec["shape"]) == 4 else 1,
            "params": 0,
            "activation": None,
        }
    ]
    outputs = contract.get("outputs")
    if not outputs:
        raise KeyError("model.json has no 'outputs' list (contract v2): no layer activations")
    for out in outputs:
        shape = list(out["shape"][1:])
        rows.append(
            {
                "name": out["name"],
                "kind": out["kind"],
                "layer": out.get("layer", out["name"]),
                "shape": shape,
                "maps": int(shape[-1]) if len(shape) == 3 else int(np.prod(shape)),
                "params": int(out.get("params", 0)),
                "activation": out.get("activation"),
            }
        )
    return rows


_LAYOUTS: dict[tuple[int, int, int, int], tuple] = {}


def _layout(count: int, h: int, w: int, gap: int) -> tuple:
    """For one grid shape, memoised: (gather, gaps, corners, width, height). `gather[y, x]` is the
    index into the maps' flat values of grid pixel (y, x) (count*h*w for a gap), so arranging a
    layer per update is one indexing operation instead of arrange()'s padding and reshapes."""
    key = (count, h, w, gap)
    if key not in _LAYOUTS:
        ids = np.arange(count * h * w, dtype=np.float32).reshape(count, h, w)
        image, corners = arrange(ids, gap)
        gaps = np.isnan(image)
        gather = np.where(gaps, count * h * w, np.nan_to_num(image)).astype(np.intp)
        _LAYOUTS[key] = (gather, np.flatnonzero(gaps), corners, image.shape[1], image.shape[0])
    return _LAYOUTS[key]


def _layer_image(row: dict, activation: np.ndarray, fixed: tuple[float, float] | None) -> dict:
    maps = as_maps(activation)
    if maps.shape[0] != row["maps"]:
        raise ValueError(f"{row['name']}: {maps.shape[0]} maps, model.json says {row['maps']}")
    count, h, w = maps.shape
    gap = 1 if h > 1 else 0  # 1x1 units (dense, probs) form a plain cell grid
    gather, gaps, corners, width, height = _layout(count, h, w, gap)
    flat = maps.reshape(count, -1)
    if fixed:
        lo, hi = fixed
    else:
        lo, hi = min(0.0, float(flat.min())), float(flat.max())
        hi = hi if hi > lo else lo + 1.0  # an all-zero layer paints as the bottom colour
    # colorize(), written out for speed: the same floor(255 * (v - lo) / (hi - lo)) bins.
    levels = np.append(flat.ravel(), lo).astype(np.float32)
    levels -= lo
    levels *= 255.0 / (hi - lo)
    np.clip(levels, 0, 255, out=levels)
    rgba = SEQUENTIAL.take(levels.astype(np.uint8)[gather], axis=0)
    rgba.reshape(-1, 4)[gaps] = 0  # gaps are transparent
    return {
        **row,
        "tile": [int(w), int(h)],
        "width": int(width),
        "height": int(height),
        "rgba": rgba.ravel(),
        "corners": corners,
        "lo": round(lo, 4),
        "hi": round(hi, 4),
        # Strongest value in each map: the enlarged view's caption and the tests' "non-trivial".
        "peak": np.round(flat.max(axis=1), 4).tolist(),
    }


def kernel_tiles(contract: dict) -> dict | None:
    """conv1's 3x3 filters as painted tiles on one symmetric diverging scale, or None if absent."""
    kernels = contract.get("kernels", {}).get("conv1")
    if kernels is None:
        return None
    k = np.asarray(kernels, dtype=np.float32)  # (32, 3, 3)
    image, corners = arrange(k, 1)
    bound = float(np.abs(k).max()) or 1.0
    bias = contract["kernels"].get("conv1_bias")
    return {
        "tile": [int(k.shape[2]), int(k.shape[1])],
        "width": int(image.shape[1]),
        "height": int(image.shape[0]),
        "rgba": colorize(image, -bound, bound, DIVERGING).ravel(),
        "corners": corners,
        "lo": round(-bound, 4),
        "hi": round(bound, 4),
        "values": np.round(k, 3).tolist(),
        "bias": None if bias is None else np.round(bias, 3).tolist(),
    }


def occlusion_boxes(image: np.ndarray, patch: int = PATCH, stride: int = STRIDE) -> np.ndarray:
    """[y, x] corners of the patches that contain ink (the only ones worth occluding).

    Positions run every `stride` pixels, plus a last one flush with the edge so the whole image
    is covered.
    """
    size = image.shape[0]
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)
    boxes = [
        (y, x)
        for y in starts
        for x in starts
        if image[y : y + patch, x : x + patch].max() >= INK_LEVEL
    ]
    return np.asarray(boxes, dtype=np.intp).reshape(-1, 2)


def occlude(image: np.ndarray, boxes: np.ndarray, patch: int = PATCH) -> np.ndarray:
    """The batch [N, 28, 28, 1] float32 of copies of `image`, each with one box set to 0."""
    batch = np.repeat(np.asarray(image, np.float32)[None], len(boxes), axis=0)
    for i, (y, x) in enumerate(boxes):
        batch[i, y : y + patch, x : x + patch] = 0.0
    return batch[..., None]


def occlusion_map(
    base_probs: np.ndarray,
    occluded_probs: np.ndarray,
    boxes: np.ndarray,
    size: int = 28,
    patch: int = PATCH,
) -> tuple[np.ndarray, int]:
    """Signed (size, size) map for the top class: mean log-prob drop over the patches covering
    each pixel (positive = supported the answer, negative = argued against); 0 where no patch ran.

    Returns (map, top class index).
    """
    top = int(np.argmax(base_probs))
    base = math.log(max(float(base_probs[top]), EPS))
    drops = base - np.log(np.maximum(np.asarray(occluded_probs, np.float64)[:, top], EPS))
    total = np.zeros((size, size))
    count = np.zeros((size, size))
    for drop, (y, x) in zip(drops, boxes, strict=True):
        total[y : y + patch, x : x + patch] += drop
        count[y : y + patch, x : x + patch] += 1
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0), top


def why_image(image: np.ndarray, signed: np.ndarray) -> tuple[np.ndarray, float]:
    """The 28x28 input in grey (white paper, dark ink) with the signed map blended over it.

    Returns (RGBA uint8 (28, 28, 4), bound) where the colour scale is -bound..bound; the overlay's
    opacity grows with |value| so unaffected paper stays plain.
    """
    bound = float(np.abs(signed).max()) or 1.0
    colour = colorize(signed, -bound, bound, DIVERGING)[..., :3].astype(np.float32)
    grey = (255.0 * (1.0 - np.clip(image, 0, 1)))[..., None].repeat(3, axis=2)
    alpha = (0.85 * np.clip(np.abs(signed) / bound, 0, 1) ** 0.5)[..., None]
    rgb = grey * (1 - alpha) + colour * alpha
    out = np.concatenate([np.rint(rgb), np.full(image.shape + (1,), 255.0)], axis=2)
    return out.astype(np.uint8), bound


class LookInside:
    """Static parts computed once from the contract; `result` builds one update's dict.

    While the drawing changes on every update, the occlusion run (most of the panel's cost) runs
    on every `occlusion_every`-th update only; in between, the last map is shown, marked
    `why.stale`, and the caller should ask for one more update once the drawing is still (JS:
    look-inside.js calls its refresh listeners): an update whose image equals the previous one
    runs it. An image that already has its map reuses it without any run.
    """

    def __init__(
        self,
        contract: dict,
        patch: int = PATCH,
        stride: int = STRIDE,
        occlusion_every: int = OCCLUSION_EVERY,
    ) -> None:
        self.table = layer_table(contract)
        self.labels = list(contract.get("labels", [str(i) for i in range(10)]))
        self.probs_name = contract.get("output", {}).get("name", "probs")
        #: Output names to fetch for the drawn digit (every activation, in network order).
        self.fetches = [row["name"] for row in self.table[1:]]
        self.kernels = kernel_tiles(contract)
        self.kernel_layer = self.fetches[0] if self.kernels else None  # the first conv output
        self.patch, self.stride, self.every = patch, stride, max(1, occlusion_every)
        self.legend = {"sequential": SEQUENTIAL.ravel(), "diverging": DIVERGING.ravel()}
        self._boxes = np.zeros((0, 2), np.intp)
        self._since_run = self.every  # updates since the last occlusion run
        self._mapped: np.ndarray | None = None  # the image the stored map belongs to
        self._previous: np.ndarray | None = None  # the image of the previous update
        self._signed = np.zeros((28, 28))
        self._plan = "run"

    def occlusion_batch(self, image: np.ndarray) -> np.ndarray:
        """[N, 28, 28, 1] occluded copies for ONE batched probs-only run (N = 0: skip the run)."""
        image = np.asarray(image, np.float32).reshape(28, 28)
        still = self._previous is not None and np.array_equal(image, self._previous)
        self._previous = image.copy()
        if self._mapped is not None and np.array_equal(image, self._mapped):
            self._plan = "reuse"
        elif self._mapped is not None and not still and self._since_run + 1 < self.every:
            self._plan = "stale"
        else:  # first map, every `every`-th changing update, or the drawing is still: catch up
            self._plan = "run"
        self._since_run = 0 if self._plan == "run" else self._since_run + 1
        if self._plan != "run":
            return np.zeros((0, 28, 28, 1), np.float32)
        self._boxes = occlusion_boxes(image, self.patch, self.stride)
        self._mapped = image.copy()
        return occlude(image, self._boxes, self.patch)

    def result(
        self, image: np.ndarray, activations: dict, occluded_probs: np.ndarray | None
    ) -> dict:
        """One update as a plain dict (see site/look-inside.js for its documented shape).

        `activations`: output name -> array, with or without the batch axis of 1;
        `occluded_probs`: [N, 10] from the run on `occlusion_batch(image)` (same image), or
        None when that batch was empty.
        """
        acts = {}
        for row in self.table[1:]:
            a = np.asarray(activations[row["name"]])
            acts[row["name"]] = a[0] if a.ndim == len(row["shape"]) + 1 else a  # drop batch of 1
        image = np.asarray(image, np.float32).reshape(28, 28)
        layers = [_layer_image(self.table[0], image[..., None], (0.0, 1.0))]
        for row in self.table[1:]:
            fixed = (0.0, 1.0) if row["name"] == self.probs_name else None
            layers.append(_layer_image(row, acts[row["name"]], fixed))
            if fixed:
                layers[-1]["labels"] = self.labels
        if self.kernels:
            layers[1]["kernels"] = self.kernels
        probs = np.asarray(acts[self.probs_name], np.float64).ravel()
        top = int(np.argmax(probs))
        boxes = self._boxes if self._plan == "run" else np.zeros((0, 2), np.intp)
        if self._plan == "run":
            if occluded_probs is None or len(boxes) == 0:
                self._signed = np.zeros((28, 28))
            else:
                self._signed, _ = occlusion_map(
                    probs, np.asarray(occluded_probs), boxes, 28, self.patch
                )
        signed = self._signed
        why, bound = why_image(image, signed)
        return {
            "layers": layers,
            "legend": self.legend,
            "why": {
                "rgba": why.ravel(),
                "width": 28,
                "height": 28,
                "lo": round(-bound, 4),
                "hi": round(bound, 4),
                "top": self.labels[top],
                "copies": int(len(boxes)),  # occluded copies run for this update
                "stale": self._plan == "stale",  # the map is from an earlier drawing state
                "patch": self.patch,
                "stride": self.stride,
                # the signed map itself (float32 28x28), for tests and the benchmark
                "map": signed.astype(np.float32),
            },
        }
