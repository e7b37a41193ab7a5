"""Canvas ink -> the digits of a written number, left to right, each as its own 28x28 image.

Pure numpy, like preprocess.py beside it (never imports `js` or `pyscript`): the browser loads it
under Pyodide, and build_model/, benchmarks/ and tests/ import it as-is. Each digit's 28x28
image is made by preprocess.normalize_digit, so a digit of a number is normalised exactly like a
single digit; a drawing that is one digit gives exactly preprocess.describe's image (unless
its pen is thick for its size and its strokes are known: see the end of this docstring).

Input: the canvas RGBA pixels (ink in alpha, as getImageData gives) and, when known, the strokes
as point arrays in those canvas pixels plus the pen width. Without strokes (a picture, an MNIST
benchmark canvas) the connected components of the ink stand in for strokes.

Pipeline: segment() -> Segmentation.batch() (ONE (N,28,28,1) model input for every digit and
candidate piece) -> the model, once -> reading(seg, probs): the plain dict the page renders
(its shape is documented in site/number-view.js).

Rules, in order, and why:

1. Units. A stroke is the unit of ink: a pen lift never splits a digit's stroke, and strokes of
   two neighbours stay separate even where their ink touches. Without strokes, a connected
   component of the ink (8-connected, ink >= preprocess.INK_NOISE) is the unit; neighbours
   whose ink touches are one component, cut apart by rule 5 (an earlier rule split them by
   eroding thin contacts first; with rule 5's cuts that lost more numbers than it saved:
   validation 4-digit touching 69.3 -> 75.7 %, abutting 93.8 -> 95.8 % without it).
2. Dots. A stroke whose centre line spans under DOT_PENS pen widths (a click, a dab), or a small
   solid blob, is a dot. A dot inside a digit's box joins it; anywhere else it is dropped.
3. Grouping by columns. A number is written left to right, so the strokes of one digit share
   columns and neighbours mostly do not: two units are one digit when their x-ranges overlap by
   OVERLAP_FRACTION of the narrower one, or one's horizontal centre lies over the other. This
   joins a 5's detached bar, a 7's crossbar, a 1's base, the strokes of a 4, and it ignores
   sizes and a sloping baseline (they move ink up and down, not sideways). Two refinements:
   x-ranges are measured after deslanting (the writing's slant, the median x-on-y slope of the
   tall units, is sheared out: a leaning 1's box no longer reaches over its neighbour), and a
   stroke whose two ends both land on another stroke joins it (a 0 drawn as two halves).
   Repeated until stable (a crossbar can bridge two strokes).
4. Fragments. A group shorter than FRAGMENT_FRACTION of the tallest (a bar, a crossbar, a serif,
   a broken-off piece) is not a digit: it joins the nearest digit within ATTACH_FRACTION of the
   tallest height, else it is dropped (a dash is not a digit) -- unless it is as tall as a
   small digit (SMALL_DIGIT of the tallest and SMALL_DIGIT_PENS pen widths) and has columns of
   its own on the canvas: a flat 2 or a small 5 written apart from its taller neighbours is
   read, not lost (a serif that deslanting moved away from its 7 still shares the 7's columns).
5. Touching ink. Where a group is wider than SPLIT_ASPECT (or, without strokes, LATTICE_ASPECT)
   x the digit height, it may be several digits whose ink touches. cuts.py proposes cut paths
   through the least ink (running down the gaps, along under a bar and round a tail, so that
   interlocking digits come apart where they touch); every piece between two cuts is
   normalised and goes into the one model batch with the rest; resolve() then keeps the cuts
   whose pieces the model reads best, with a prior from each digit's typical width in MNIST
   (cuts.py's docstring gives the rules). A group narrow enough to be one digit is cut only
   if the model is unsure of it whole. The model arbitrates because geometry alone cannot tell
   a wide 0 from a touching 10.
   5b. With strokes, a group of several strokes may still be neighbours whose columns overlap
   (a 1 leaning on a 3, a 3 whose ends land on a 1): its strokes are grouped again by columns,
   more strictly (SPLIT_OVERLAP; bars and serifs join their column), and when two or more
   columns as tall as digits remain, every run of neighbouring columns is a candidate piece,
   chosen like cuts (the group stays whole when the model reads it whole with WHOLE_SURE).
   Pen lifts are where people separate digits, so a stroke is never cut here.
6. Unreadable. More than MAX_DIGITS digits, or a group whose ink is far longer than any digit's
   (centre-line length > SCRIBBLE_LENGTH x its larger side: a scribble, a crossing-out; without
   strokes a looser estimate, or a blot over most of the canvas), is "can't read this as a
   number": no digits are reported, never a made-up number.

Each digit's crop is the canvas ink inside its box, restricted to its own strokes/components
when a neighbour's box reaches into it, cropped to its ink and normalised by
preprocess.normalize_digit. A drawing that is one group takes describe()'s crop unchanged.
When the strokes are known and the pen is thick for the digit's size (THICK_PEN: a digit drawn
small with the app's fixed pen, or ten digits across the canvas, about two pen widths tall), the
digit is drawn anew from its strokes with an MNIST-like pen instead (_restroke): its ink has
closed its loops, its strokes have not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import cuts
import preprocess

#: More digits than this is not read as a number (the reading state becomes "unreadable").
MAX_DIGITS = 12
#: A stroke whose centre line spans less than DOT_PENS pen widths is a dot (a click, a dab);
#: without strokes, a component filling DOT_FILL of its box and at most 3 pen widths across.
DOT_PENS = 0.75
DOT_FILL = 0.6
DOT_CANVAS = 0.08
#: Two units are one digit when their x-ranges overlap by this fraction of the narrower one.
OVERLAP_FRACTION = 0.5
#: A column group shorter than this fraction of the tallest is a fragment (a 5's bar, a 7's
#: crossbar, a 1's base, a serif): it joins the nearest digit within ATTACH_FRACTION of the
#: tallest height, else it is dropped.
FRAGMENT_FRACTION = 0.5
ATTACH_FRACTION = 0.35
#: A fragment too far from every digit to join one is still a digit when it is at least
#: SMALL_DIGIT x the tallest and SMALL_DIGIT_PENS pen widths tall (a dash or an underline is
#: about one pen width tall; MNIST's flattest 2s and 5s are ~0.45 x their neighbours' height).
SMALL_DIGIT = 0.3
SMALL_DIGIT_PENS = 3.0
#: A group wider than SPLIT_ASPECT x max(its height, the median digit height) is touching digits
#: to cut (MNIST's widest digits reach 1.25 x their height, 99th percentile of 3-9); without
#: strokes already from LATTICE_ASPECT (a 1 touching a 0 is ~1.1 wide), as an optional cut.
SPLIT_ASPECT = 1.15
LATTICE_ASPECT = 0.8
#: Rule 5b: a group's strokes are one column when their x-ranges overlap by SPLIT_OVERLAP of
#: the narrower (tuning stroke numbers, seed 77: the tall strokes of one digit overlap by 0.77
#: and more, touching neighbours by at most 0.72); a column shorter than SPLIT_TALL x the
#: median digit height (a bar, a serif) joins the nearest one.
SPLIT_OVERLAP = 0.75
SPLIT_TALL = 0.7
#: Normalised digit images remembered between updates (a few numbers' worth of digits and cut
#: pieces; each kept with its crop's bytes as the key, ~10 KB for a digit on the app canvas).
NORMALIZED_KEPT = 48
#: The largest writing slant corrected when grouping (x px per y px, about 35 degrees).
MAX_SLANT = 0.7
#: Centre-line length (or ink mass / stroke width) above this many times the group's larger side
#: is a scribble. The longest real digit drawn once (an 8 drawn as two loops) is about 4, but a
#: digit whose strokes are gone over two or three times is 2-3 times that: a triplex 8 is 7.4,
#: and drawn with a shaky hand or wide up to 9.4 (benchmarks/drawn_digits.py --writers: 7.5
#: rejected 211 of 13,440 legible drawings as scribbles, 10 none). Scribbles just above the old
#: 7.5 (a Lissajous loop and a bit, a zigzag of 8-10 lines) now reach the model, which reads
#: them as not a digit (uniform output).
SCRIBBLE_LENGTH = 10.0
#: Without strokes the length is ink mass / stroke width, which overlapping scribble hides and
#: blurred ink distorts (MNIST digits set as numbers: 3.0 median, 6.2 at the 99th percentile,
#: 7.2 at most), so the limit is looser.
SCRIBBLE_LENGTH_PIXELS = 9.0
#: ... and ink over more than SCRIBBLE_COVER of the canvas area filling half its box is a blot.
SCRIBBLE_COVER = 0.6
#: With strokes known, a digit whose pen is thicker than MNIST's thickest strokes relative to its
#: longer side (preprocess.STROKE_WIDTH_MAX of the 20 px box) is drawn anew from its strokes,
#: longer side RESTROKE_SIZE px, with MNIST's median pen (7.4 of 80 working px), before it is
#: normalised: small digits written with the app's fixed pen are blobs whose loops have closed.
THICK_PEN = preprocess.STROKE_WIDTH_MAX / preprocess.WORK_BOX
RESTROKE_SIZE = 112
RESTROKE_PEN = 0.0925

EMPTY, DIGITS, UNREADABLE = "empty", "digits", "unreadable"


@dataclass
class Digit:
    """One digit of the number: its ink box on the canvas, its strokes, its 28x28 image."""

    box: tuple[int, int, int, int]  # (top, bottom, left, right) canvas px, bottom/right exclusive
    strokes: list[int]  # indices of the strokes (or connected components) it groups
    image: np.ndarray  # float32 (28, 28), 1 = ink: preprocess.normalize_digit of its ink crop
    index: int = 0  # its row in Segmentation.batch()


@dataclass
class _Lattice:
    """Touching ink that must be cut: candidate cut columns and every plausible piece between
    two of them (rule 4). The model's reading of the pieces picks the cuts (resolve)."""

    pieces: dict[tuple[int, int], Digit]  # (cut i, cut j) -> the piece between them
    n_cuts: int
    optional: bool = False  # narrow enough to be one digit: cut only if read poorly whole


@dataclass
class Segmentation:
    """The reading of a canvas: its state, the digits left to right, and why if unreadable.

    `digits` is final unless touching ink had to be cut (`slots` then holds candidate pieces);
    either way `batch()` is the one model input and `resolve(probs)` gives the final digits.
    """

    state: str  # EMPTY, DIGITS or UNREADABLE
    digits: list[Digit] = field(default_factory=list)
    reason: str = ""
    canvas: tuple[int, int] = (0, 0)  # (width, height) px
    slots: list[Digit | _Lattice] = field(default_factory=list)
    images: list[np.ndarray] = field(default_factory=list)

    def batch(self) -> np.ndarray:
        """The model input for all digits (and candidate pieces) at once: (N, 28, 28, 1)."""
        if not self.images:
            return np.zeros((0, 28, 28, 1), np.float32)
        return np.stack(self.images)[..., None]

    def resolve(self, probs: np.ndarray | None) -> list[Digit]:
        """The digits left to right, given the model's (N, 10) probabilities for batch().

        Where touching ink was cut, the cuts whose pieces the model reads most confidently win
        (the sum of log top-probabilities over the pieces, a path through the cut lattice).
        """
        if not any(isinstance(slot, _Lattice) for slot in self.slots):
            return self.digits
        probs = np.asarray(probs, np.float64)
        out = []
        for slot in self.slots:
            if isinstance(slot, Digit):
                out.append(slot)
                continue
            shapes = {
                key: (d.index, (d.box[3] - d.box[2]) / max(1, d.box[1] - d.box[0]))
                for key, d in slot.pieces.items()
            }
            keys = cuts.choose(shapes, slot.n_cuts, probs, slot.optional)
            out += [slot.pieces[key] for key in keys]
        return out


@dataclass
class _Group:
    """Units being grouped into one digit; x1/y1 exclusive."""

    x0: int
    x1: int
    y0: int
    y1: int
    units: list[int]
    length: float  # centre-line length estimate (px)
    points: np.ndarray | None = None  # (N, 2) x, y of its ink (units only), for the slant
    sx0: float = 0.0  # x-range after deslanting (see _deslant): what grouping compares
    sx1: float = 0.0
    dot: bool = False  # a dot or speck (rule 2)

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    def absorb(self, other: _Group) -> None:
        self.x0, self.x1 = min(self.x0, other.x0), max(self.x1, other.x1)
        self.sx0, self.sx1 = min(self.sx0, other.sx0), max(self.sx1, other.sx1)
        self.y0, self.y1 = min(self.y0, other.y0), max(self.y1, other.y1)
        self.units += other.units
        self.length += other.length
        self.dot = self.dot and other.dot


# ---- Units: strokes or connected components ------------------------------------------------


def _stroke_units(strokes, pen: float, width: int, height: int) -> list[_Group]:
    """One unit per stroke: its ink box (centre line +- pen/2, on the canvas) and length."""
    r = pen / 2
    units = []
    for i, stroke in enumerate(strokes):
        pts = np.asarray(stroke, dtype=np.float64).reshape(-1, 2)
        if pts.size == 0:
            continue
        x0 = max(0, int(np.floor(pts[:, 0].min() - r)))
        x1 = min(width, int(np.ceil(pts[:, 0].max() + r)))
        y0 = max(0, int(np.floor(pts[:, 1].min() - r)))
        y1 = min(height, int(np.ceil(pts[:, 1].max() + r)))
        if x0 >= x1 or y0 >= y1:
            continue  # entirely off the canvas
        length = float(np.hypot(*np.diff(pts, axis=0).T).sum()) if len(pts) > 1 else 0.0
        extent = max(np.ptp(pts[:, 0]), np.ptp(pts[:, 1]))
        units.append(_Group(x0, x1, y0, y1, [i], length, pts, dot=extent < DOT_PENS * pen))
    return units


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Horizontal runs of True: (row, start, end) arrays, end exclusive, in raster order."""
    height, width = mask.shape
    padded = np.zeros((height, width + 2), np.int8)
    padded[:, 1:-1] = mask
    step = np.diff(padded, axis=1)
    rows, starts = np.nonzero(step == 1)
    _, ends = np.nonzero(step == -1)
    return rows, starts, ends


def _label_runs(rows: np.ndarray, starts: np.ndarray, ends: np.ndarray, width: int) -> np.ndarray:
    """Component label of each run (8-connectivity), labels 0..k-1 in order of first run."""
    n = len(rows)
    if n == 0:
        return np.zeros(0, np.int64)
    stride = width + 2
    key_start = rows * stride + starts
    key_end = rows * stride + ends
    # Runs of the row above that touch run b (8-connected): start <= b.end and end >= b.start.
    above = (rows - 1) * stride
    first = np.searchsorted(key_end, above + starts, side="left")
    last = np.searchsorted(key_start, above + ends, side="right") - 1
    count = np.maximum(last - first + 1, 0)
    b = np.repeat(np.arange(n), count)
    offsets = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    a = np.repeat(first, count) + offsets
    labels = np.arange(n)
    while True:  # min-label propagation with pointer jumping: a few passes
        low = np.minimum(labels[a], labels[b])
        new = labels.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        new = new[new]
        if np.array_equal(new, labels):
            break
        labels = new
    _, dense = np.unique(labels, return_inverse=True)
    return dense


@dataclass
class _Components:
    rows: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    labels: np.ndarray  # per run
    shape: tuple[int, int]

    def image(self) -> np.ndarray:
        """Label image: component index + 1 per pixel, 0 = background."""
        height, width = self.shape
        out = np.zeros(height * width, np.int32)
        lengths = self.ends - self.starts
        idx = np.repeat(self.rows * width + self.starts - np.cumsum(lengths) + lengths, lengths)
        idx += np.arange(int(lengths.sum()))
        out[idx] = np.repeat(self.labels + 1, lengths)
        return out.reshape(height, width)


def _component_units(ink: np.ndarray, pen: float) -> tuple[list[_Group], np.ndarray]:
    """One unit per connected component of the ink (touching neighbours are one: rule 5 cuts);
    -> (units, label image: unit index + 1 per pixel, 0 = background). Length = mass / pen."""
    rows, starts, ends = _runs(ink >= preprocess.INK_NOISE)
    labels = _label_runs(rows, starts, ends, ink.shape[1])
    image = _Components(rows, starts, ends, labels, ink.shape).image()
    k = int(labels.max()) + 1 if labels.size else 0
    x0 = np.full(k, ink.shape[1]), np.zeros(k, np.int64)
    y0 = np.full(k, ink.shape[0]), np.zeros(k, np.int64)
    np.minimum.at(x0[0], labels, starts)
    np.maximum.at(x0[1], labels, ends)
    np.minimum.at(y0[0], labels, rows)
    np.maximum.at(y0[1], labels, rows + 1)
    units = []
    for c in range(k):
        top, bottom, left, right = int(y0[0][c]), int(y0[1][c]), int(x0[0][c]), int(x0[1][c])
        mask = image[top:bottom, left:right] == c + 1
        ys, xs = np.nonzero(mask)
        pts = np.stack([xs + left + 0.5, ys + top + 0.5], axis=1)
        dot = _is_dot(mask, pen, min(ink.shape))
        units.append(_Group(left, right, top, bottom, [c], mask.sum() / pen, pts, dot=dot))
    return units, image


def _is_dot(mask: np.ndarray, pen: float, canvas_side: int) -> bool:
    """Rule 2 without strokes: a speck (under a pen width across) or a small solid blob (a pen
    dab: fills DOT_FILL of its box, at most 3 pen widths and DOT_CANVAS of the canvas across)."""
    side = max(mask.shape)
    small = side <= 3 * pen and side <= DOT_CANVAS * canvas_side
    return side < pen or (small and mask.mean() >= DOT_FILL)


# ---- Grouping and splitting ------------------------------------------------------------------


def _same_digit(a: _Group, b: _Group) -> bool:
    """Rule 3: x-ranges overlap enough, or one's horizontal centre lies over the other."""
    overlap = min(a.sx1, b.sx1) - max(a.sx0, b.sx0)
    if overlap <= 0:
        return False
    if overlap >= OVERLAP_FRACTION * min(a.sx1 - a.sx0, b.sx1 - b.sx0):
        return True
    return a.sx0 <= (b.sx0 + b.sx1) / 2 <= a.sx1 or b.sx0 <= (a.sx0 + a.sx1) / 2 <= b.sx1


def _merge_columns(groups: list[_Group]) -> list[_Group]:
    """Rule 3, repeated until stable (a crossbar can bridge two strokes)."""
    merged = True
    while merged:
        merged = False
        groups.sort(key=lambda g: g.sx0)
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                if groups[j].sx0 >= groups[i].sx1:
                    break
                if _same_digit(groups[i], groups[j]):
                    groups[i].absorb(groups.pop(j))
                    merged = True
                    break
            if merged:
                break
    return groups


def _gap(a: _Group, b: _Group) -> float:
    """Distance between two boxes (0 when they touch or overlap), horizontal first."""
    dx = max(0, a.sx0 - b.sx1, b.sx0 - a.sx1)
    dy = max(0, a.y0 - b.y1, b.y0 - a.y1)
    return dx + 0.5 * dy


def _deslant(units: list[_Group], pad: float) -> float:
    """Rule 3a: measure the writing's slant and set every unit's deslanted x-range.

    Handwriting leans, so the box of a leaning 1 or 7 reaches over its neighbour's columns. The
    slant is the median over the tall units of their ink's x-on-y regression slope (a baseline
    that slopes moves whole digits, not the ink within one); x' = x - slant * (y - middle).
    Returns the slant (x px per y px).
    """
    tallest = max(u.height for u in units)
    slants = []
    for u in units:
        if u.points is None or u.height < 0.5 * tallest or len(u.points) < 3:
            continue
        x, y = u.points[:, 0], u.points[:, 1]
        var = float(((y - y.mean()) ** 2).mean())
        if var > 0:
            slants.append(float(((x - x.mean()) * (y - y.mean())).mean()) / var)
    slant = float(np.clip(np.median(slants), -MAX_SLANT, MAX_SLANT)) if slants else 0.0
    middle = np.mean([(u.y0 + u.y1) / 2 for u in units])
    for u in units:
        if u.points is None or len(u.points) == 0:
            u.sx0, u.sx1 = float(u.x0), float(u.x1)
            continue
        xs = u.points[:, 0] - slant * (u.points[:, 1] - middle)
        u.sx0, u.sx1 = float(xs.min()) - pad, float(xs.max()) + pad
    return slant


def _join_closing(units: list[_Group], pen: float) -> list[_Group]:
    """Rule 3b (strokes only): a stroke whose two ends both land on another stroke closes a
    shape with it (a 0 drawn as two halves, a 9's loop and tail), so it is the same digit,
    however little their columns overlap."""
    tol = pen
    out: list[_Group] = []
    for u in units:
        host = None
        if u.points is not None and len(u.points) > 1:
            ends = u.points[[0, -1]]
            for v in out:
                if v.points is None or np.hypot(*(ends[0] - ends[1])) < 2 * tol:
                    continue
                d = np.hypot(v.points[:, None, 0] - ends[:, 0], v.points[:, None, 1] - ends[:, 1])
                if (d.min(axis=0) <= tol).all():
                    host = v
                    break
        if host is None:
            out.append(u)
        else:
            points = np.concatenate([host.points, u.points])
            host.absorb(u)
            host.points = points
    return out


def _group(units: list[_Group], pen: float) -> tuple[list[_Group], list[int]]:
    """Rules 2 and 3: merge units sharing columns, attach fragments, drop dots and specks.

    -> (digit groups left to right, indices of the dropped units).
    """
    groups = _merge_columns(
        [
            _Group(u.x0, u.x1, u.y0, u.y1, list(u.units), u.length, None, u.sx0, u.sx1, u.dot)
            for u in units
        ]
    )
    solid = [g for g in groups if not g.dot]
    if not solid:
        return [], [i for g in groups for i in g.units]  # only dots: nothing to read
    tallest = max(g.height for g in solid)
    digits = [g for g in solid if g.height >= FRAGMENT_FRACTION * tallest]
    fragments = [g for g in groups if not any(g is d for d in digits)]
    dropped = []
    reach = ATTACH_FRACTION * tallest
    apart = []
    for frag in fragments:
        near = min(digits, key=lambda d: _gap(frag, d))
        if _gap(frag, near) <= reach and not (frag.dot and _gap(frag, near) > 0):
            near.absorb(frag)
        else:
            apart.append(frag)
    # Judged once every bar and serif has joined its digit, so that the digits' columns are whole.
    small = [
        frag
        for frag in apart
        if not frag.dot
        and frag.height >= max(SMALL_DIGIT * tallest, SMALL_DIGIT_PENS * pen)
        and all(frag.x0 >= d.x1 or d.x0 >= frag.x1 for d in digits)
    ]
    digits += small  # small digits in columns of their own
    for frag in apart:
        if not any(frag is d for d in small):
            dropped += frag.units  # a dot, a speck or a dash away from every digit
    digits.sort(key=lambda g: (g.sx0 + g.sx1) / 2)
    return digits, dropped


def _stamp(strokes, indices, pen: float, box: tuple[int, int, int, int]) -> np.ndarray:
    """Boolean mask over `box` of the pixels within pen/2 + 1 px of the given strokes."""
    top, bottom, left, right = box
    mask = np.zeros((bottom - top, right - left), bool)
    r = pen / 2 + 1.0
    ri = int(np.ceil(r))
    oy, ox = np.mgrid[-ri : ri + 1, -ri : ri + 1]
    disc = (oy * oy + ox * ox) <= r * r
    oy, ox = oy[disc], ox[disc]
    step = max(1.0, r / 2)
    for i in indices:
        pts = np.asarray(strokes[i], dtype=np.float64).reshape(-1, 2)
        if len(pts) > 1:  # resample so consecutive stamps overlap
            seg = np.hypot(*np.diff(pts, axis=0).T)
            along = np.concatenate([[0.0], np.cumsum(seg)])
            t = np.arange(0.0, along[-1] + step, step)
            pts = np.stack([np.interp(t, along, pts[:, 0]), np.interp(t, along, pts[:, 1])], 1)
        cy = np.floor(pts[:, 1]).astype(np.int64)[:, None] + oy - top
        cx = np.floor(pts[:, 0]).astype(np.int64)[:, None] + ox - left
        ok = (cy >= 0) & (cy < mask.shape[0]) & (cx >= 0) & (cx < mask.shape[1])
        mask[cy[ok], cx[ok]] = True
    return mask


def _restroke(strokes, indices) -> np.ndarray:
    """The given strokes drawn anew, their longer side RESTROKE_SIZE px, with a pen RESTROKE_PEN
    of that: the digit as if written large with an MNIST-like pen."""
    points = [np.asarray(strokes[i], dtype=np.float64).reshape(-1, 2) for i in indices]
    low = np.concatenate(points).min(axis=0)
    extent = np.concatenate(points).max(axis=0) - low
    scale = RESTROKE_SIZE / max(float(extent.max()), 1.0)
    pen = RESTROKE_PEN * RESTROKE_SIZE
    pad = pen / 2 + 2
    scaled = [(p - low) * scale + pad for p in points]
    width, height = np.ceil(extent * scale + 2 * pad).astype(int)
    return _stamp(scaled, range(len(scaled)), pen, (0, height, 0, width)).astype(np.float32)


def _overlaps(g: _Group, others: list[_Group]) -> bool:
    return any(
        o is not g and o.x0 < g.x1 and g.x0 < o.x1 and o.y0 < g.y1 and g.y0 < o.y1 for o in others
    )


# ---- The whole reading -----------------------------------------------------------------------


def segment(
    rgba: np.ndarray, strokes: list | None = None, pen_width: float | None = None
) -> Segmentation:
    """Split the ink of canvas pixels into the digits of a number, left to right.

    `rgba`: (H, W, 4) uint8 canvas pixels. `strokes`: point arrays (K, 2) of (x, y) canvas px,
    one per stroke, or None to use connected components of the ink. `pen_width`: the pen's
    lineWidth in canvas px (estimated from the ink when None). Raises ValueError for malformed
    pixels; an empty or unreadable canvas is a normal result.
    """
    ink = preprocess.ink_map(preprocess.validate_rgba(rgba))
    height, width = ink.shape
    result = Segmentation(EMPTY, canvas=(width, height))
    full_box = preprocess.bounding_box(ink)
    if full_box is None or float(ink.max()) < preprocess.EMPTY_LEVEL:
        return result
    if pen_width is None or pen_width <= 0:
        pen_width = max(1.0, preprocess.stroke_width(ink))
    comps = None
    if strokes is not None:
        units = _stroke_units(strokes, pen_width, width, height)
    else:
        units, comps = _component_units(ink, pen_width)
    if not units:
        return result
    slant = 0.0
    if len(units) == 1 and not units[0].dot:
        groups, dropped = units, []  # one stroke or component: nothing to group
    else:
        if strokes is not None:
            units = _join_closing(units, pen_width)
        slant = _deslant(units, pen_width / 2 if strokes is not None else 0.5)
        groups, dropped = _group(units, pen_width)
    if not groups:
        return result  # only specks: nothing to read
    if len(groups) > MAX_DIGITS:
        result.state, result.reason = UNREADABLE, f"more than {MAX_DIGITS} digits"
        return result
    # Without strokes the length is an estimate (ink mass / stroke width): a looser limit.
    limit = SCRIBBLE_LENGTH if strokes is not None else SCRIBBLE_LENGTH_PIXELS
    for g in groups:
        cover = g.width * g.height / (width * height)
        blot = (
            strokes is None
            and cover > SCRIBBLE_COVER
            and g.length * pen_width > 0.5 * g.width * g.height
        )
        if g.length > limit * max(g.width, g.height) or blot:
            result.state, result.reason = UNREADABLE, "scribble: ink too long for a digit"
            return result

    crops = []
    single = len(groups) == 1 and not dropped
    for g in groups:
        if single:
            box = full_box  # exactly describe()'s crop: a single digit is read as before
            crop = ink[box[0] : box[1], box[2] : box[3]]
        else:
            box = (g.y0, g.y1, g.x0, g.x1)
            crop = ink[g.y0 : g.y1, g.x0 : g.x1]
            if comps is not None or _overlaps(g, groups) or dropped:
                if comps is not None:
                    mask = np.isin(comps[g.y0 : g.y1, g.x0 : g.x1], np.asarray(g.units) + 1)
                else:
                    mask = _stamp(strokes, g.units, pen_width, box)
                crop = crop * mask
        crops.append((g, box, crop, float(crop.shape[0])))
    ref = float(np.median([c[3] for c in crops]))
    # Without strokes, touching neighbours are one component: a group as wide as a digit may
    # be two (a 1 touching a 0), so the model is asked from LATTICE_ASPECT on. With strokes,
    # neighbours are separate units already and only a group too wide for any digit is cut.
    whole_up_to = LATTICE_ASPECT if comps is not None else SPLIT_ASPECT
    split_strokes = strokes is not None
    for g, box, crop, own in crops:
        units = sorted(g.units)
        height = max(own, ref)
        if crop.shape[1] <= whole_up_to * height:
            source = crop if single else None  # None: _piece normalises the digit's own ink
            if strokes is not None and pen_width > THICK_PEN * max(crop.shape):
                source = _restroke(strokes, g.units)
            image = None
            if source is not None:
                image = preprocess.normalize_digit(source) if single else _normalized(source)
            left, right = cuts.edges_of(crop)
            digit = _piece(crop, box, left, right, units, image)
            if digit is None:
                continue
            lattice = None
            if split_strokes:
                lattice = _stroke_lattice(ink, strokes, pen_width, slant, box, digit, ref)
            result.slots.append(lattice or digit)
            continue
        paths = cuts.candidates(crop, height)
        whole = (0, len(paths) - 1)  # always a candidate, so a reading always exists
        starts = [float(np.median(p)) for p in paths]
        pieces = {}
        for i in range(len(paths)):
            for j in range(i + 1, len(paths)):
                w = starts[j] - starts[i]
                if w > cuts.WHOLE_MAX * height and (i, j) != whole:
                    continue
                if w >= cuts.MIN_PART * height or (i, j) == whole:
                    piece = _piece(crop, box, paths[i], paths[j], units)
                    # A piece as short as a fragment (a 5's bar cut off) is not a digit.
                    short = piece is None or piece.box[1] - piece.box[0] < FRAGMENT_FRACTION * ref
                    if piece is not None and (not short or (i, j) == whole):
                        pieces[(i, j)] = piece
        optional = crop.shape[1] <= SPLIT_ASPECT * height
        result.slots.append(_Lattice(pieces, len(paths), optional))
    for slot in result.slots:
        for d in slot.pieces.values() if isinstance(slot, _Lattice) else [slot]:
            d.index = len(result.images)
            result.images.append(d.image)
    result.digits = [slot for slot in result.slots if isinstance(slot, Digit)]
    if len(result.digits) > MAX_DIGITS:
        result.state, result.reason = UNREADABLE, f"more than {MAX_DIGITS} digits"
        result.slots, result.images, result.digits = [], [], []
        return result
    if result.images:
        result.state = DIGITS
    return result


def _stroke_lattice(
    ink: np.ndarray,
    strokes,
    pen: float,
    slant: float,
    box: tuple[int, int, int, int],
    whole: Digit,
    ref: float,
) -> _Lattice | None:
    """Rule 5b (strokes known): a group of several strokes that shares columns may still be two
    neighbours (a 1 leaning on a 3, the ends of a 3 touching a 1). Its strokes are grouped
    again, more strictly: two sets are one column when their deslanted x-ranges overlap by
    SPLIT_OVERLAP of the narrower one (the tall strokes of one digit overlap by more, touching
    neighbours by less); a column shorter than SPLIT_TALL x the median digit height (a bar, a
    serif) joins its nearest column. With two columns or more, every run of neighbouring
    columns is a candidate piece, read by the model with the whole group (resolve). None when
    the group is one column."""
    if len(whole.strokes) < 2:
        return None
    cols = []  # [x0, x1, y0, y1, strokes]
    for k in whole.strokes:
        pts = np.asarray(strokes[k], dtype=np.float64).reshape(-1, 2)
        xs = pts[:, 0] - slant * pts[:, 1]
        x0, x1 = float(xs.min()) - pen / 2, float(xs.max()) + pen / 2
        cols.append([x0, x1, float(pts[:, 1].min()), float(pts[:, 1].max()) + pen, [k]])
    merged = True
    while merged and len(cols) > 1:
        merged = False
        for a in range(len(cols)):
            for b in range(a + 1, len(cols)):
                ca, cb = cols[a], cols[b]
                overlap = min(ca[1], cb[1]) - max(ca[0], cb[0])
                if overlap >= SPLIT_OVERLAP * min(ca[1] - ca[0], cb[1] - cb[0]):
                    cols[a] = _join_col(ca, cb)
                    del cols[b]
                    merged = True
                    break
            if merged:
                break
    tall = [c for c in cols if c[3] - c[2] >= SPLIT_TALL * ref]
    if len(tall) < 2:
        return None
    for c in cols:
        if not any(c is t for t in tall):  # a bar or a serif joins the nearest column
            near = min(range(len(tall)), key=lambda i: abs(tall[i][0] + tall[i][1] - c[0] - c[1]))
            tall[near] = _join_col(tall[near], c)
    tall.sort(key=lambda c: c[0] + c[1])
    n = len(tall)
    top, bottom, left, right = box
    region = ink[top:bottom, left:right]
    pieces = {(0, n): whole}
    for i in range(n):
        for j in range(i + 1, n + 1):
            if (i, j) == (0, n):
                continue
            own = sorted(k for c in tall[i:j] for k in c[4])
            part = region * _stamp(strokes, own, pen, box)
            inner = preprocess.bounding_box(part)
            if inner is None:
                continue
            t, b, x0, x1 = inner
            image = _normalized(part[t:b, x0:x1])
            pieces[(i, j)] = Digit((top + t, top + b, left + x0, left + x1), own, image)
    return _Lattice(pieces, n + 1, optional=True)


def _join_col(a: list, b: list) -> list:
    return [min(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3]), a[4] + b[4]]


def _piece(crop, box, cut0, cut1, units: list[int], image=None) -> Digit | None:
    """The digit between two cuts of a group's crop (cuts.candidates: a column per row): its
    tight box on the canvas and its 28x28 image (preprocess.normalize_digit)."""
    part = cuts.piece_ink(crop, cut0, cut1)
    inner = preprocess.bounding_box(part)
    if inner is None:
        return None
    t, b, left, right = inner
    if image is None:
        image = _normalized(part[t:b, left:right])
    return Digit((box[0] + t, box[0] + b, box[2] + left, box[2] + right), units, image)


_NORMALIZED: dict[tuple, np.ndarray] = {}


def _normalized(crop: np.ndarray) -> np.ndarray:
    """preprocess.normalize_digit(crop), remembered for the last NORMALIZED_KEPT crops.

    While a number is written, every update segments the whole canvas again, but only the
    digit being drawn has changed: the others' crops are the same pixels, so their images are
    looked up instead of normalised again (the same function of the same pixels: the same
    image). Keyed by the crop's shape and bytes; the images are never modified in place."""
    key = (crop.shape, crop.tobytes())
    image = _NORMALIZED.get(key)
    if image is None:
        image = preprocess.normalize_digit(crop)
        if len(_NORMALIZED) >= NORMALIZED_KEPT:
            del _NORMALIZED[next(iter(_NORMALIZED))]  # the oldest
        _NORMALIZED[key] = image
    return image


def forget() -> None:
    """Drop the remembered images (benchmarks time segmentation from scratch)."""
    _NORMALIZED.clear()


def reading(seg: Segmentation, probs: np.ndarray | None, low_below: float = 0.6) -> dict:
    """The plain, JSON-able result the page renders (site/number-view.js documents the shape).

    `probs`: (N, 10) class probabilities of seg.batch() from ONE batched model run (None or
    empty when there are no digits). A digit whose top probability is below `low_below` is
    marked low-confidence.
    """
    out = {
        "state": seg.state,
        "number": "",
        "reason": seg.reason,
        "canvas": list(seg.canvas),
        "digits": [],
    }
    if seg.state != DIGITS:
        return out
    probs = np.asarray(probs, dtype=np.float64).reshape(len(seg.images), 10)
    for d in seg.resolve(probs):
        p = probs[d.index]
        best = int(p.argmax())
        top, bottom, left, right = d.box
        out["digits"].append(
            {
                "digit": best,
                "confidence": float(p[best]),
                "low": bool(p[best] < low_below),
                "probs": [float(v) for v in p],
                "box": [left, top, right - left, bottom - top],
                "strokes": list(d.strokes),
                "index": d.index,
                "image": d.image.ravel().tolist(),
            }
        )
    out["number"] = "".join(str(d["digit"]) for d in out["digits"])
    return out
