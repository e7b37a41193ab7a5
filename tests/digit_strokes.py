"""Drawn-digit test data: digits as pen strokes, placed and rasterised like a browser canvas.

A digit is a list of strokes; a stroke is a polyline of ``(x, y)`` points (x right, y down). In the
unit box the digit is 1 tall (y in 0..1) and keeps its natural width, centred on x = 0.5, so a 1 is
narrow and a 0 is wide. Everything is plain data, so the same paths can be replayed as Playwright
mouse moves in browser tests.

- ``digit_paths(digit, style)``: the strokes of one digit in one of ``STYLES``; points are at most
  ``STEP`` apart (2% of the height), like the mouse events of a stroke drawn at a steady pace.
- ``place(paths, canvas_px, size_frac, center_xy)``: scale the digit to ``size_frac`` of the canvas
  height and centre its bounding box at ``center_xy`` (canvas pixels).
- ``normalise(paths)`` / ``densify(stroke, step)``: back into the unit box / points at most
  ``step`` apart (what ``digit_paths`` does; benchmarks/drawn_digits.py's writers reuse them).
- ``render_rgba(paths_px, canvas_px, pen_px)`` (from site/drawings.py): what ``getImageData``
  returns for those strokes on a transparent canvas: black ink, alpha = coverage, round caps and
  joins, antialiased.

Styles:

- Hershey stroke fonts (``simplex``, ``duplex``, ``triplex``, ``complex``, ``italic``): the digit
  glyphs of Dr. A. V. Hershey's fonts (see the notice below). Duplex and triplex draw thick strokes
  as 2-3 parallel lines, which a thin pen shows as outlines; the others are single-line.
- Hand-made by this module, mimicking how people draw digits with a mouse or finger: ``hand``
  (1 as one vertical stroke, open 4, 7 without a crossbar, 9 with a straight tail, one-stroke
  figure-8), ``hand_alt`` (1 with a flag and base, closed 4, 7 with a crossbar, 9 with a curved
  tail, flat-topped 3, 8 as two circles) and ``hand_slant`` (``hand`` leaning right with a slight,
  deterministic wobble).

Hershey font notice (required with the font data): The Hershey Fonts were originally created by
Dr. A. V. Hershey while working at the U.S. National Bureau of Standards. The format of the font
data in this distribution was originally created by James Hurt, Cognition, Inc., 900 Technology
Park Drive, Billerica, Massachusetts 01821. The glyph strings below are the digits '0'-'9' of the
fonts futural, futuram, rowmant, timesr and timesi as shipped in the MIT-licensed ``Hershey-Fonts``
2.1.0 package (PyPI); each pair of characters is one point, coordinates relative to 'R', and " R"
lifts the pen.
"""

from __future__ import annotations

import math

import numpy as np

import drawings

Point = tuple[float, float]
Paths = list[list[Point]]

STEP = 0.02  # max distance between consecutive points, as a fraction of the digit's height

HERSHEY_STYLES = ("simplex", "duplex", "triplex", "complex", "italic")
HAND_STYLES = ("hand", "hand_alt", "hand_slant")
STYLES = HERSHEY_STYLES + HAND_STYLES

# Digit glyphs '0'..'9' per style; font names of the Hershey-Fonts package in comments.
_HERSHEY: dict[str, tuple[str, ...]] = {
    # futural
    "simplex": (
        "QFNGLJKOKRLWNZQ[S[VZXWYRYOXJVGSFQF",
        "NJPISFS[",
        "LKLJMHNGPFTFVGWHXJXLWNUQK[Y[",
        "MFXFRNUNWOXPYSYUXXVZS[P[MZLYKW",
        "UFKTZT RUFU[",
        "WFMFLOMNPMSMVNXPYSYUXXVZS[P[MZLYKW",
        "XIWGTFRFOGMJLOLTMXOZR[S[VZXXYUYTXQVOSNRNOOMQLT",
        "YFO[ RKFYF",
        "PFMGLILKMMONSOVPXRYTYWXYWZT[P[MZLYKWKTLRNPQOUNWMXKXIWGTFPF",
        "XMWPURRSQSNRLPKMKLLINGQFRFUGWIXMXRWWUZR[P[MZLX",
    ),
    # futuram
    "duplex": (
        ("QFNGLJKOKRLWNZQ[S[VZXWYRYOXJVGSFQF ROGMJLOLRMWOZ RNYQZSZVY RUZWWXRXOWJUG RVHSGQGNH"),
        "NJPISFS[ RNJNKPJRHR[S[",
        "LKLJMHNGPFTFVGWHXJXLWNUQL[ RLKMKMJNHPGTGVHWJWLVNTQK[ RLZYZY[ RK[Y[",
        (
            "MFXFQO RMFMGWG RWFPO RQNSNVOXQYTYUXXVZS[P[MZLYKWLW RPOSOVPXS RTOWQXTXUWXTZ R"
            "XVVYSZPZMYLW ROZLX"
        ),
        "UIU[V[ RVFV[ RVFKVZV RUILV RLUZUZV",
        (
            "MFLO RNGMN RMFWFWG RNGWG RMNPMSMVNXPYSYUXXVZS[P[MZLYKWLW RLOMOONSNVOXR RTNWP"
            "XSXUWXTZ RXVVYSZPZMYLW ROZLX"
        ),
        (
            "VGWIXIWGTFRFOGMJLOLTMXOZR[S[VZXXYUYTXQVOSNRNOOMQ RWHTGRGOH RPGNJMOMTNXQZ RMV"
            "OYRZSZVYXV RTZWXXUXTWQTO RXSVPSOROOPMS RQONQMT"
        ),
        "KFYFO[ RKFKGXG RXFN[O[",
        (
            "PFMGLILKMMNNPOTPVQWRXTXWWYTZPZMYLWLTMRNQPPTOVNWMXKXIWGTFPF RNGMIMKNMPNTOVPXR"
            "YTYWXYWZT[P[MZLYKWKTLRNPPOTNVMWKWIVG RWHTGPGMH RLXOZ RUZXX"
        ),
        (
            "WPURRSQSNRLPKMKLLINGQFRFUGWIXMXRWWUZR[P[MZLXMXNZ RWMVPSR RWNUQRRQRNQLN RPRMP"
            "LMLLMIPG RLKNHQGRGUHWK RSGVIWMWRVWTZ RUYRZPZMY"
        ),
    ),
    # rowmant
    "triplex": (
        (
            "QFNGLJKOKRLWNZQ[S[VZXWYRYOXJVGSFQF RNHMJLNLSMWNY RVYWWXSXNWJVH RQFOGNIMNMSNX"
            "OZQ[ RS[UZVXWSWNVIUGSF"
        ),
        "QHQ[ RRHRZ RSFS[ RSFPINJ RM[W[ RQZO[ RQYP[ RSYT[ RSZU[",
        (
            "LJLKMKMJLJ RLIMINJNKMLLLKKKJLHMGPFTFWGXHYJYLXNUPPRNSLUKXK[ RWHXJXLWN RTFVGWJ"
            "WLVNTPPR RKYLXNXSYWYYX RNXSZWZXY RNXS[W[XZYXYV"
        ),
        (
            "LJLKMKMJLJ RLIMINJNKMLLLKKKJLHMGPFTFWGXIXLWNTO RVGWIWLVN RSFUGVIVLUNSO RQOTO"
            "VPXRYTYWXYWZT[P[MZLYKWKVLUMUNVNWMXLX RWRXTXWWY RSOUPVQWTWWVZT[ RLVLWMWMVLV"
        ),
        "SIS[ RTHTZ RUFU[ RUFJUZU RP[X[ RSZQ[ RSYR[ RUYV[ RUZW[",
        (
            "MFKPMNPMSMVNXPYSYUXXVZS[P[MZLYKWKVLUMUNVNWMXLX RWPXRXVWX RSMUNVOWRWVVYUZS[ R"
            "LVLWMWMVLV RMFWF RMGUG RMHQHUGWF"
        ),
        (
            "VIVJWJWIVI RWHVHUIUJVKWKXJXIWGUFRFOGMILKKOKULXNZQ[S[VZXXYUYTXQVOSNQNOONPMR R"
            "NIMKLOLUMXNY RWXXVXSWQ RRFPGOHNJMNMUNXOZQ[ RS[UZVYWVWSVPUOSN"
        ),
        ("KFKL RYFYIXLTQSSRWR[ RSRRTQWQ[ RXLSQQTPWP[R[ RKJLHNFPFUIWIXHYF RMHNGPGRH RKJLINHPHUI"),
        (
            "PFMGLILLMNPOTOWNXLXIWGTFPF RNGMIMLNN RVNWLWIVG RPFOGNINLONPO RTOUNVLVIUGTF R"
            "POMPLQKSKWLYMZP[T[WZXYYWYSXQWPTO RMQLSLWMY RWYXWXSWQ RPONPMSMWNZP[ RT[VZWWWS"
            "VPTO"
        ),
        (
            "MWMXNXNWMW RWOVQURSSQSNRLPKMKLLINGQFSFVGXIYLYRXVWXUZR[O[MZLXLWMVNVOWOXNYMY R"
            "MPLNLKMI RVHWIXLXRWVVX RQSORNQMNMKNHOGQF RSFUGVIWLWSVWUYTZR["
        ),
    ),
    # timesr
    "complex": (
        ("QFNGLJKOKRLWNZQ[S[VZXWYRYOXJVGSFQF RQFOGNHMJLOLRMWNYOZQ[ RS[UZVYWWXRXOWJVHUGSF"),
        "NJPISFS[ RRGR[ RN[W[",
        (
            "LJMKLLKKKJLHMGPFTFWGXHYJYLXNUPPRNSLUKXK[ RTFVGWHXJXLWNTPPR RKYLXNXSZVZXYYX R"
            "NXS[W[XZYXYV"
        ),
        (
            "LJMKLLKKKJLHMGPFTFWGXIXLWNTOQO RTFVGWIWLVNTO RTOVPXRYTYWXYWZT[P[MZLYKWKVLUMV"
            "LW RWQXTXWWYVZT["
        ),
        "THT[ RUFU[ RUFJUZU RQ[X[",
        "MFKP RKPMNPMSMVNXPYSYUXXVZS[P[MZLYKWKVLUMVLW RSMUNWPXSXUWXUZS[ RMFWF RMGRGWF",
        (
            "WIVJWKXJXIWGUFRFOGMILKKOKULXNZQ[S[VZXXYUYTXQVOSNRNOOMQLT RRFPGNIMKLOLUMXOZQ["
            " RS[UZWXXUXTWQUOSN"
        ),
        "KFKL RKJLHNFPFUIWIXHYF RLHNGPGUI RYFYIXLTQSSRVR[ RXLSQRSQVQ[",
        (
            "PFMGLILLMNPOTOWNXLXIWGTFPF RPFNGMIMLNNPO RTOVNWLWIVGTF RPOMPLQKSKWLYMZP[T[WZ"
            "XYYWYSXQWPTO RPONPMQLSLWMYNZP[ RT[VZWYXWXSWQVPTO"
        ),
        (
            "XMWPURRSQSNRLPKMKLLINGQFSFVGXIYLYRXVWXUZR[O[MZLXLWMVNWMX RQSORMPLMLLMIOGQF R"
            "SFUGWIXLXRWVVXTZR["
        ),
    ),
    # timesi
    "italic": (
        ("TFQGOIMLLOKSKVLYMZO[Q[TZVXXUYRZNZKYHXGVFTF RTFRGPINLMOLSLVMYO[ RQ[SZUXWUXRYNYKXHVF"),
        "TJO[ RVFP[ RVFSIPKNL RUIQKNL",
        ("OJPKOLNKNJOHPGSFVFYGZIZKYMWOTQPSMUKWI[ RVFXGYIYKXMVOPS RJYKXMXRZUZWYXW RMXR[U[WZXW"),
        (
            "OJPKOLNKNJOHPGSFVFYGZIZKYMVOSP RVFXGYIYKXMVO RQPSPVQWRXTXWWYVZS[O[LZKYJWJVKU"
            "LVKW RSPUQVRWTWWVYUZS["
        ),
        "XGR[ RYFS[ RYFJUZU",
        "QFLP RQF[F RQGVG[F RLPMOPNSNVOWPXRXUWXUZR[O[LZKYJWJVKULVKW RSNUOVPWRWUVXTZR[",
        (
            "YIXJYKZJZIYGWFTFQGOIMLLOKSKWLYMZO[R[UZWXXVXSWQVPTOQOOPMRLT RTFRGPINLMOLSLXMZ"
            " RR[TZVXWVWRVP"
        ),
        "NFLL R[FZIXLSRQUPWO[ RXLRRPUOWN[ RMIPFRFWI RNHPGRGWIYIZH[F",
        (
            "SFPGOHNJNMOOQPTPXOYNZLZIYGVFSF RSFQGPHOJOMPOQP RTPWOXNYLYIXGVF RQPMQKSJUJXKZ"
            "N[R[VZWYXWXTWRVQTP RQPNQLSKUKXLZN[ RR[UZVYWWWSVQ"
        ),
        (
            "YMXOVQTRQROQNPMNMKNIPGSFVFXGYHZJZNYRXUVXTZQ[N[LZKXKWLVMWLX ROQNONKOIQGSF RXG"
            "YIYNXRWUUXSZQ["
        ),
    ),
}

_HERSHEY_CAP, _HERSHEY_BASE = -12, 9  # cap line and baseline of these fonts' digits


def _hershey_paths(glyph: str) -> Paths:
    """Decode one glyph string into strokes in the unit box (height = cap line to baseline)."""
    strokes = []
    for part in glyph.split(" R"):
        pts = [
            (ord(part[i]) - ord("R"), ord(part[i + 1]) - ord("R")) for i in range(0, len(part), 2)
        ]
        if pts:
            strokes.append(pts)
    xs = [x for s in strokes for x, _ in s]
    mid, height = (min(xs) + max(xs)) / 2, _HERSHEY_BASE - _HERSHEY_CAP
    return [
        [(0.5 + (x - mid) / height, (y - _HERSHEY_CAP) / height) for x, y in s] for s in strokes
    ]


# ---- hand-made strokes --------------------------------------------------------------------------
# Built from straight lines, ellipse arcs and Catmull-Rom splines through a few control points.
# Angles are in degrees on screen (y down): 0 = right, 90 = bottom, -90 = top; increasing angles
# run clockwise.


def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float) -> list[Point]:
    n = max(2, int(abs(a1 - a0) / 3) + 1)
    return [
        (cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
        for a in np.linspace(a0, a1, n)
    ]


def _spline(*ctrl: Point) -> list[Point]:
    """Catmull-Rom spline through the control points (endpoints included)."""
    p = np.array([ctrl[0], *ctrl, ctrl[-1]], dtype=float)
    out = [tuple(p[1])]
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        for t in np.linspace(0, 1, 17)[1:]:
            q = 0.5 * (
                2 * p1
                + (p2 - p0) * t
                + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                + (3 * p1 - p0 - 3 * p2 + p3) * t**3
            )
            out.append((float(q[0]), float(q[1])))
    return out


def _join(*parts: list[Point]) -> list[Point]:
    """Concatenate pieces into one stroke (the pen stays down between them)."""
    out: list[Point] = []
    for part in parts:
        out.extend(part[1:] if out and math.dist(out[-1], part[0]) < 1e-9 else part)
    return out


def _hand(digit: int) -> Paths:
    """The common mouse-drawn form: one stroke where people use one."""
    if digit == 0:
        return [_arc(0.5, 0.5, 0.3, 0.5, -95, -455)]
    if digit == 1:
        return [[(0.52, 0.0), (0.48, 1.0)]]
    if digit == 2:
        return [
            _join(_arc(0.5, 0.27, 0.27, 0.27, -165, 25), [(0.74, 0.39), (0.18, 1.0), (0.84, 1.0)])
        ]
    if digit == 3:
        return [
            _join(
                _arc(0.47, 0.25, 0.26, 0.25, -160, 90),
                _arc(0.47, 0.74, 0.29, 0.26, -90, 155),
            )
        ]
    if digit == 4:  # open top: down-and-across, then the vertical
        return [[(0.28, 0.0), (0.16, 0.62), (0.88, 0.62)], [(0.66, 0.08), (0.66, 1.0)]]
    if digit == 5:
        return [
            _join([(0.3, 0.02), (0.27, 0.45)], _arc(0.48, 0.69, 0.31, 0.31, -130, 150)),
            [(0.3, 0.02), (0.8, 0.02)],
        ]
    if digit == 6:
        return [
            _join(
                _spline((0.74, 0.04), (0.5, 0.12), (0.29, 0.4), (0.2, 0.7)),
                _arc(0.48, 0.7, 0.28, 0.29, 180, -170),
            )
        ]
    if digit == 7:
        return [[(0.14, 0.02), (0.84, 0.02), (0.42, 1.0)]]
    if digit == 8:  # one stroke: S down, then back up through the waist
        return [
            _spline(
                (0.7, 0.12),
                (0.5, 0.0),
                (0.3, 0.1),
                (0.31, 0.33),
                (0.5, 0.47),
                (0.72, 0.62),
                (0.74, 0.85),
                (0.5, 1.0),
                (0.26, 0.86),
                (0.28, 0.62),
                (0.5, 0.47),
                (0.68, 0.32),
                (0.71, 0.13),
            )
        ]
    if digit == 9:  # loop, then a straight tail
        return [_join(_arc(0.5, 0.29, 0.28, 0.29, 5, -355), [(0.78, 0.29), (0.74, 1.0)])]
    raise ValueError(f"digit must be 0..9, got {digit!r}")


def _hand_alt(digit: int) -> Paths:
    """Less common but frequent variants."""
    if digit == 0:  # narrower, started at the top right, slight overlap
        return [_arc(0.5, 0.5, 0.24, 0.5, -60, -440)]
    if digit == 1:  # flag and base
        return [[(0.34, 0.2), (0.56, 0.0), (0.56, 1.0)], [(0.36, 1.0), (0.76, 1.0)]]
    if digit == 2:  # curvy, bottom stroke swinging out
        return [
            _spline(
                (0.2, 0.25),
                (0.45, 0.02),
                (0.75, 0.14),
                (0.72, 0.42),
                (0.45, 0.7),
                (0.2, 0.98),
                (0.5, 0.93),
                (0.84, 0.98),
            )
        ]
    if digit == 3:  # flat top
        return [
            _join([(0.2, 0.02), (0.78, 0.02), (0.44, 0.4)], _arc(0.47, 0.7, 0.3, 0.3, -95, 150))
        ]
    if digit == 4:  # closed: triangle apex joins the vertical
        return [[(0.64, 0.0), (0.12, 0.68), (0.9, 0.68)], [(0.64, 0.0), (0.64, 1.0)]]
    if digit == 5:  # one stroke, top bar first
        return [
            _join([(0.8, 0.02), (0.3, 0.02), (0.26, 0.44)], _arc(0.48, 0.69, 0.31, 0.31, -130, 150))
        ]
    if digit == 6:  # straight stem into a small loop
        return [_join([(0.68, 0.0), (0.22, 0.68)], _arc(0.46, 0.75, 0.25, 0.25, 164, -190))]
    if digit == 7:  # with a crossbar
        return [[(0.14, 0.02), (0.84, 0.02), (0.42, 1.0)], [(0.34, 0.5), (0.8, 0.5)]]
    if digit == 8:  # two stacked circles ("snowman")
        return [_arc(0.5, 0.24, 0.22, 0.24, -90, -450), _arc(0.5, 0.74, 0.27, 0.26, -90, -450)]
    if digit == 9:  # curved tail
        return [
            _join(
                _arc(0.5, 0.29, 0.28, 0.29, 5, -355),
                _spline((0.78, 0.29), (0.76, 0.7), (0.6, 0.95), (0.3, 0.98)),
            )
        ]
    raise ValueError(f"digit must be 0..9, got {digit!r}")


def _slant(paths: Paths, digit: int, shear: float = 0.25, wobble: float = 0.012) -> Paths:
    """Lean right (top moves right) and add a smooth, seeded wobble of ~1% of the height."""
    rng = np.random.default_rng(1000 + digit)
    phase, freq = rng.uniform(0, 2 * math.pi, 2), rng.uniform(5, 9, 2)
    out = []
    for s in paths:
        out.append(
            [
                (
                    x + shear * (0.5 - y) + wobble * math.sin(freq[0] * y + phase[0]),
                    y + wobble * math.sin(freq[1] * x + phase[1]),
                )
                for x, y in s
            ]
        )
    return out


def densify(stroke: list[Point], step: float) -> list[Point]:
    """Insert points on straight segments so consecutive points are at most ``step`` apart."""
    out = [stroke[0]]
    for a, b in zip(stroke, stroke[1:], strict=False):
        n = max(1, math.ceil(math.dist(a, b) / step - 1e-9))
        out.extend(
            (a[0] + (b[0] - a[0]) * k / n, a[1] + (b[1] - a[1]) * k / n) for k in range(1, n + 1)
        )
    return out


def normalise(paths: Paths) -> Paths:
    """Scale to height 1, top at y = 0, horizontally centred on x = 0.5."""
    xs = [x for s in paths for x, _ in s]
    ys = [y for s in paths for _, y in s]
    h = max(ys) - min(ys)
    mid = (min(xs) + max(xs)) / 2
    return [[(0.5 + (x - mid) / h, (y - min(ys)) / h) for x, y in s] for s in paths]


def digit_paths(digit: int, style: str) -> Paths:
    """Strokes of ``digit`` in ``style`` (one of ``STYLES``) in the unit box, densified to STEP."""
    if not isinstance(digit, int) or not 0 <= digit <= 9:
        raise ValueError(f"digit must be 0..9, got {digit!r}")
    if style in _HERSHEY:
        paths = _hershey_paths(_HERSHEY[style][digit])
    elif style == "hand":
        paths = normalise(_hand(digit))
    elif style == "hand_alt":
        paths = normalise(_hand_alt(digit))
    elif style == "hand_slant":
        paths = normalise(_slant(_hand(digit), digit))
    else:
        raise ValueError(f"unknown style {style!r}; expected one of {STYLES}")
    return [densify(s, STEP) for s in paths]


def place(paths: Paths, canvas_px: int, size_frac: float, center_xy: tuple[float, float]) -> Paths:
    """Scale unit-box ``paths`` so the digit is ``size_frac * canvas_px`` tall (ink centre lines),
    and move its bounding-box centre to ``center_xy``; returns strokes in canvas pixels."""
    xs = [x for s in paths for x, _ in s]
    ys = [y for s in paths for _, y in s]
    h = max(max(ys) - min(ys), 1e-9)
    k = size_frac * canvas_px / h
    mx, my = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    cx, cy = center_xy
    return [[(cx + (x - mx) * k, cy + (y - my) * k) for x, y in s] for s in paths]


# The rasteriser lives in site/drawings.py (the app and build_model render stored drawings with it);
# re-exported here so tests keep one import for strokes and pixels.
render_rgba = drawings.render_rgba
