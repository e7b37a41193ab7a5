"""Touching ink -> candidate cuts, and the choice of cuts the model reads best.

Pure numpy, beside segment.py (which calls it) and preprocess.py: the browser loads it under
Pyodide, and benchmarks/ and tests/ import it as-is.

Recognition-based segmentation. Where segment.py finds ink too wide for one digit (neighbours
that touch are one connected component, or one group of strokes), geometry alone cannot say
where one digit ends: a wide 0 and a touching 10 have the same box. So:

1. candidates(): cut paths from top to bottom through the least ink. A path goes down a row
   (straight, or one column aslant for DIAG_STEP: writing leans), then along it as far as it
   likes, never up; each pixel it crosses costs its ink and each sideways pixel PATH_STEP
   more. So it runs down the background between two neighbours,
   along the gap under a 7's bar or round a 3's tail (leaning MNIST digits interlock: no line,
   straight or slanted, separates them), and crosses ink only where the neighbours touch or
   where a stroke blocks the way. One sweep from the top and one from the bottom (dynamic
   programming, vectorised along the row) give, for every pixel, the cheapest path through it.
   In each of the CUT_ROWS the local minima of that cost along the row (the usual place two
   digits meet), the cheapest MAX_CUTS (more for a long group) at least MIN_CUT_GAP x height
   apart, are the starts; a stretch wider than FILL_GAP x height with no start gets its
   cheapest column (interlocking digits leave no thin place between them). Flat ink (under
   FLAT_PENS stroke widths tall: a dash, an underline) gets MAX_CUTS at most. The paths
   through the starts are the cuts; a path within SAME_PATH x height of a kept one (two
   starts, one gap) or that slips round the ink to the group's edge is dropped. Several rows,
   because where two digits touch depends on the pair: a path through the middle row of one
   gap may have to cut a stroke that a path through a higher row goes round.
2. segment.py normalises every piece between two cuts (preprocess.normalize_digit, as for a
   single digit) and puts all of them in the drawing's one model batch.
3. choose(): the model's probabilities pick the cuts. A reading is a path through the cut
   lattice; its score is the sum over its pieces of log(top probability) + PIECE_COST +
   shape_prior(). shape_prior() is what keeps a 0 or a wide 2 whole and a touching pair apart:
   each digit has its own typical width/height in MNIST (ASPECT_TYPICAL: a 1 is 0.4, a 2 or 5
   1.0, a 9 0.7), and a piece read as a digit wider than that digit typically is pays
   ASPECT_PENALTY per unit of aspect beyond (twice per unit below its 2.5th percentile): two
   touching digits read as one "8" are wider than 8s are, half a 2 read as a "7" is wider
   than 7s are, and a sliver read as a 7 is thinner than any 7. A group narrow enough to be
   one digit (`optional`) is kept whole when the model reads it whole with at least
   WHOLE_SURE.
"""

from __future__ import annotations

import numpy as np

import preprocess

#: Rows (share of the group's height) whose cheapest paths are candidate cuts.
CUT_ROWS = (0.25, 0.5, 0.75)
#: At most MAX_CUTS candidate cuts per group, at least MIN_CUT_GAP x height apart, none leaving
#: a part narrower than MIN_PART x height.
MAX_CUTS = 6
#: ... or, for a long group, CUTS_PER_HEIGHT per digit height of its width (a row of touching
#: digits needs one cut per neighbour, and a few spares where the thinnest place is wrong).
CUTS_PER_HEIGHT = 2.5
#: ... never more than MOST_CUTS in all, gap filling included (a long flat stroke, an
#: underline, would otherwise ask for hundreds of pieces: the batch grows with the cuts).
MOST_CUTS = 16
#: Ink less than FLAT_PENS stroke widths tall is flat (a dash, an underline): MAX_CUTS only.
FLAT_PENS = 2.0
#: No stretch wider than FILL_GAP x height is left without a candidate cut (a digit is at most
#: about as wide as tall, and interlocking neighbours leave no thin place between them).
#: 0.6 -> 0.4 on validation 4-digit numbers (seeds 77 / 78): touching 75.7 -> 77.2 / 74.8 ->
#: 76.7 %, gaps within one number; ~1.5x the pieces of touching ink without strokes.
FILL_GAP = 0.4
MIN_CUT_GAP = 0.15
MIN_PART = 0.15
#: Each sideways pixel of a cut path costs PATH_STEP (ink units: a pixel of full ink costs 1):
#: a path goes round a stroke's end (or along under a bar) only where that is cheaper than
#: crossing the stroke. A step down one column aslant costs DIAG_STEP: a slanted gap (beside
#: a leaning 1) is followed at 45 degrees for less than along rows (tuning set: touching
#: 67.5 -> 68.8 %, second draw 63.5 -> 67.5 %, gaps same). Two paths closer than SAME_PATH x
#: height on average are one.
PATH_STEP = 0.3
DIAG_STEP = 0.3
SAME_PATH = 0.05
#: Each piece of a reading costs PIECE_COST (log-probability): more pieces must read better.
#: Chosen on validation numbers with the current cuts (-0.05 -> -0.2: 4-digit abutting
#: 91.5 -> 93.0 %, touching +0.5-0.8, other gaps +0.2; flat from -0.1 to -0.3).
PIECE_COST = -0.2
#: Width/height of each digit in MNIST: (2.5th percentile, median) of the ink boxes of the
#: 60,000 training digits, measured at 28 x 28. A piece read as digit k pays ASPECT_PENALTY per
#: unit of aspect above k's median (two touching digits read as one are wide for what they are
#: read as), and twice that per unit below k's 2.5th percentile (a sliver read as a 7).
#: Penalising from the median rather than from the 97.5th percentile was chosen on a tuning set
#: (4-digit MNIST numbers, seed 99, not the benchmark's): touching 40 -> 44 %, gaps unchanged.
ASPECT_TYPICAL = (
    (0.6, 0.9),  # 0
    (0.2, 0.4),  # 1
    (0.6, 1.0),  # 2
    (0.5, 0.8),  # 3
    (0.5, 0.8),  # 4
    (0.6, 1.0),  # 5
    (0.5, 0.75),  # 6
    (0.5, 0.8),  # 7
    (0.5, 0.8),  # 8
    (0.5, 0.7),  # 9
)
ASPECT_PENALTY = 0.75
#: No piece wider than WHOLE_MAX x height is proposed (except the whole group): the widest
#: MNIST digits reach 1.25 (fewer pieces to normalise and read; same readings on the tuning set).
WHOLE_MAX = 1.3
#: A group narrow enough to be one digit stays whole when read whole with this confidence.
WHOLE_SURE = 0.9


def _sweeps(crop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cheapest paths from the top row down to every pixel, and from the bottom row up:
    (cost (2, H, W), entry (2, H, W)); [1] is for the crop upside down.

    A path goes down one row (straight, or one column aslant for DIAG_STEP), then along it as
    far as it likes (each sideways pixel costs PATH_STEP plus its ink), never up; every pixel
    it crosses costs its ink. `entry[k, r, c]` is the path's column in the row before (for
    _trace). Vectorised
    along the row: reaching c from c' < c costs s[c] - s[c'] with s the running sum of
    (ink + PATH_STEP), so the best of all c' is a running minimum; both sweeps and both
    directions along the row run at once (the Python loop over rows is most of the time).
    """
    height, width = crop.shape
    here = np.arange(width)
    flipped = crop[::-1]
    total = np.zeros((2, width))
    reached = np.empty((2, height, width))
    entry = np.empty((2, height, width), np.int64)
    for r in range(height):
        ink = np.stack([crop[r], flipped[r]])
        # Down from the column above, or diagonally from its neighbour (DIAG_STEP more).
        prev, above = total, np.broadcast_to(here, total.shape)
        for shift in (-1, 1):
            side = np.roll(total, -shift, axis=1) + DIAG_STEP
            side[:, 0 if shift < 0 else -1] = np.inf
            better = side < prev
            prev, above = np.where(better, side, prev), np.where(better, here + shift, above)
        down = prev + ink
        # Rows 0-1: along the row rightwards; rows 2-3: leftwards (mirrored).
        t = np.concatenate([down, down[:, ::-1]])
        s = np.cumsum(np.concatenate([ink, ink[:, ::-1]]) + PATH_STEP, axis=1)
        v = t - s
        run = np.minimum.accumulate(v, axis=1)
        origin = np.maximum.accumulate(np.where(v <= run, here, 0), axis=1)
        moved = s + run
        best, came = down, np.broadcast_to(here, down.shape)
        for along, start in (
            (moved[:2], origin[:2]),
            (moved[2:, ::-1], width - 1 - origin[2:, ::-1]),
        ):
            better = along < best
            best, came = np.where(better, along, best), np.where(better, start, came)
        total = reached[:, r] = best
        entry[:, r] = np.take_along_axis(above, came, axis=1)
    return reached, entry


def _trace(entry: np.ndarray, row: int, col: int) -> np.ndarray:
    """The columns of the path _sweeps found to (row, col), for rows 0..row."""
    path = np.empty(row + 1, np.int64)
    for r in range(row, -1, -1):
        path[r] = col
        col = entry[r, col]
    return path


def edges_of(crop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The crop's left and right edges as cuts (the piece between them is the whole crop)."""
    rows, width = crop.shape
    return np.zeros(rows, np.int64), np.full(rows, width, np.int64)


def candidates(crop: np.ndarray, height: float) -> list[np.ndarray]:
    """Rule 1: candidate cuts of a group's crop, left to right, its edges included.

    Each cut is an int array of one column per crop row (a piece is the ink right of one cut
    and left of the next): the crop's left edge (zeros), the cut paths, the right edge (width).
    """
    rows, width = crop.shape
    edges = list(edges_of(crop))
    lo, hi = max(1, int(MIN_PART * height)), width - max(1, int(MIN_PART * height))
    if hi <= lo:
        return edges
    # Ink hardly taller than its stroke (a dash, an underline) is no row of digits: the plain
    # MAX_CUTS at most, gap filling included, or a long flat stroke would ask for a piece every
    # few pixels.
    flat = height < FLAT_PENS * preprocess.stroke_width(crop)
    most = (
        MAX_CUTS
        if flat
        else min(MOST_CUTS, max(MAX_CUTS, int(np.ceil(CUTS_PER_HEIGHT * width / height))))
    )
    (down, up), (entry_down, entry_up) = _sweeps(crop)
    paths: list[tuple[float, np.ndarray]] = []
    for mid in sorted({int(f * (rows - 1)) for f in CUT_ROWS}):
        # The cheapest path through each column of this row: from the top to it plus from it
        # to the bottom (the same sweep, upside down).
        profile = down[mid] + up[rows - 1 - mid] - crop[mid]
        for c in _starts(profile, lo, hi, height, most, MAX_CUTS if flat else MOST_CUTS):
            path = [_trace(entry_down, mid, c), _trace(entry_up, rows - 1 - mid, c)[::-1][1:]]
            paths.append((float(profile[c]), np.concatenate(path)))
    # Paths from different starts often meet (one gap) or slip round the ink to the crop's
    # edge: the cheapest of paths closer than SAME_PATH x height on average, none at an edge,
    # and at most MOST_CUTS (MAX_CUTS when flat), the cheapest.
    kept: list[np.ndarray] = []
    for _, path in sorted(paths, key=lambda p: p[0]):
        at = float(np.median(path))
        if lo <= at < hi and all(np.abs(path - k).mean() >= SAME_PATH * height for k in kept):
            kept.append(path)
    kept = kept[: MAX_CUTS if flat else MOST_CUTS]
    kept.sort(key=lambda path: float(np.median(path)))
    return [edges[0], *kept, edges[1]]


def _starts(
    cost: np.ndarray, lo: int, hi: int, height: float, most: int, fill_cap: int
) -> list[int]:
    """Columns in [lo, hi) where cuts start: the cheapest `most` local minima of `cost` at
    least MIN_CUT_GAP x height apart, then gap filling (FILL_GAP) up to `fill_cap` starts."""
    smooth = np.convolve(cost, np.ones(3) / 3, mode="same")
    cols = np.arange(lo, hi)
    width = len(smooth)
    inner = smooth[lo:hi]
    left = np.concatenate([[np.inf], inner[:-1]])
    right = np.concatenate([inner[1:], [np.inf]])
    minima = cols[(inner <= left) & (inner <= right)]
    chosen: list[int] = []
    for c in minima[np.argsort(smooth[minima], kind="stable")]:
        if all(abs(c - k) >= MIN_CUT_GAP * height for k in chosen):
            chosen.append(int(c))
        if len(chosen) == most:
            break
    # Where the thinnest places leave a stretch wider than FILL_GAP x height uncut (digits
    # that interlock have no thin place between them), its thinnest column is a cut too.
    spots = [0, *sorted(chosen), width]
    margin = max(1, int(MIN_CUT_GAP * height))  # >= 1: every new spot shrinks a stretch
    k = 0
    while k < len(spots) - 1:
        a, b = spots[k] + margin, spots[k + 1] - margin
        if spots[k + 1] - spots[k] > FILL_GAP * height and a < b and len(chosen) < fill_cap:
            c = a + int(np.argmin(smooth[a:b]))
            spots.insert(k + 1, c)
            chosen.append(c)
        else:
            k += 1
    return chosen


def piece_ink(crop: np.ndarray, cut0: np.ndarray, cut1: np.ndarray) -> np.ndarray:
    """The crop's ink right of cut0 and left of cut1 (each a column per row), zero elsewhere."""
    if cut0.max() <= 0 and cut1.min() >= crop.shape[1]:
        return crop  # the whole crop
    cols = np.arange(crop.shape[1])[None, :]
    return crop * ((cols >= cut0[:, None]) & (cols < cut1[:, None]))


def shape_prior(aspect: float, digit: int) -> float:
    """Log-penalty for a piece of this width/height read as `digit` (see ASPECT_TYPICAL)."""
    lo, hi = ASPECT_TYPICAL[digit]
    return -ASPECT_PENALTY * (max(0.0, aspect - hi) + 2 * max(0.0, lo - aspect))


def choose(
    pieces: dict[tuple[int, int], tuple[int, float]],
    n_cuts: int,
    probs: np.ndarray,
    optional: bool,
) -> list[tuple[int, int]]:
    """Rule 3: the cuts whose pieces the model reads best -> the (i, j) keys, left to right.

    `pieces`: (cut i, cut j) -> (row of the piece in `probs`, its width/height); (0, n_cuts-1)
    is the whole group. `probs`: the batch's (N, 10) probabilities. The best path from cut 0 to
    the last cut maximises the sum of log(top probability) + PIECE_COST + shape_prior().
    """
    whole = (0, n_cuts - 1)
    if optional and whole in pieces and probs[pieces[whole][0]].max() >= WHOLE_SURE:
        return [whole]
    best: dict[int, tuple[float, list[tuple[int, int]]]] = {0: (0.0, [])}
    for j in range(1, n_cuts):
        options = []
        for (i, jj), (row, aspect) in pieces.items():
            if jj != j or i not in best:
                continue
            p = probs[row]
            digit = int(p.argmax())
            score = np.log(max(float(p[digit]), 1e-9)) + PIECE_COST + shape_prior(aspect, digit)
            options.append((best[i][0] + score, [*best[i][1], (i, j)]))
        if options:
            best[j] = max(options, key=lambda o: o[0])
    return best.get(n_cuts - 1, (0.0, []))[1]
