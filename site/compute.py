"""What the compute worker does for the page: one drawing in, one plain reading out.

Imported by worker.py (PyScript's entry in a Web Worker started by engine.js), so Python never
blocks the page: the page keeps drawing while Python starts and while it computes. Per update the
page sends the model canvas's pixels and its strokes; `read` runs the pipeline

    segment.py (ink -> digits, each normalised by preprocess.py)
    -> ONE batched ONNX run (classifier.py: probabilities + features of every digit)
    -> learn.py (the user's taught examples adapt the probabilities)
    -> verdict.py (digit / unsure / not-a-digit: probabilities + ink shape, model.json)
    -> look_inside.py (only while the "Look inside" panel is open)

and returns plain data (dicts, lists, typed arrays) that the page paints. It never touches the
DOM, and it does not import PyScript: the memory snapshot that restores it has none
(pyodide-snapshot.mjs), so worker.py hands it the model's end of the channel (`connect`).
"""

import os
import sys

import js
import numpy as np
from pyodide.ffi import to_js

import learn
import verdict
from classifier import Classifier
from preprocess import EMPTY_LEVEL
from segment import DIGITS, EMPTY, UNREADABLE, reading, segment

model_api = None  # ort-session.js, the model worker's end of the channel (set by connect)
preloaded_current = True  # see connect
classifier: Classifier | None = None  # set by boot_status()
contract: dict = {}
thresholds = None
_panel = None  # look_inside.LookInside, made when the panel first opens (not at start-up)
taught = learn.TaughtSet("")
personal = learn.Personalizer()


def _plain(value):
    """Python results -> JS values that survive postMessage (arrays become typed arrays)."""
    if isinstance(value, dict):
        obj = js.Object.new()
        for key, item in value.items():
            js.Reflect.set(obj, key, _plain(item))
        return obj
    if isinstance(value, np.ndarray):
        if value.dtype == np.uint8:  # RGBA tiles
            return js.Uint8ClampedArray.new(to_js(np.ascontiguousarray(value).ravel()))
        return js.Float32Array.new(to_js(np.asarray(value, np.float32).ravel()))
    if isinstance(value, list | tuple) and value and isinstance(value[0], dict):
        array = js.Array.new()
        for item in value:
            array.push(_plain(item))
        return array
    return to_js(value)


def _judge(result: dict, probs: np.ndarray | None, images: np.ndarray, inked: bool) -> dict:
    """Add verdicts: each digit's, and the drawing's (the single-digit view's data-verdict).

    `images`: the model inputs behind `probs` (verdict.py also checks the shape of their ink).
    `inked`: the canvas holds visible ink; a dot or speck alone reads as no digit (segment.py
    drops it) but is not an empty canvas either.
    """
    if result["state"] != DIGITS:
        empty = result["state"] == EMPTY and not inked
        result["verdict"] = verdict.EMPTY if empty else verdict.NOT_A_DIGIT
        return result
    # Only the pieces that became digits: the batch also holds every candidate cut of touching ink.
    shown = [digit["index"] for digit in result["digits"]]
    judged = verdict.verdicts(probs[shown], thresholds, images[shown])
    for digit, judgement in zip(result["digits"], judged, strict=True):
        digit["verdict"] = judgement
        digit["low"] = digit["verdict"] != verdict.DIGIT
    kinds = {digit["verdict"] for digit in result["digits"]}
    if len(result["digits"]) == 1:
        result["verdict"] = kinds.pop()
        if result["verdict"] == verdict.NOT_A_DIGIT:  # its bars stay, dimmed; no number
            result.update(state=UNREADABLE, reason="not a digit")
    elif verdict.NOT_A_DIGIT in kinds:  # never a made-up number around a non-digit
        # `partly`: other pieces are digits (while a number is written: its next digit, begun)
        result.update(state=UNREADABLE, reason="part of it is not a digit", digits=[], partly=True)
        result["verdict"] = verdict.NOT_A_DIGIT
    else:
        result["verdict"] = verdict.UNSURE if verdict.UNSURE in kinds else verdict.DIGIT
    result["number"] = "".join(
        str(d["digit"]) for d in result["digits"] if d["verdict"] != verdict.NOT_A_DIGIT
    )
    return result


async def read(pixels, width: int, height: int, strokes, pen_width: float, options):
    """One live update: the model canvas (RGBA pixels, strokes as flat [x0, y0, x1, y1, ...]
    arrays in its pixels, the pen width) -> the reading the page paints.

    `options`: {inside: the "Look inside" panel is open, selected: index of the digit whose
    single-digit view (and panel) is shown}.
    """
    now = js.performance.now
    start = now()
    classifier.runs = []
    rgba = np.asarray(pixels.to_py()).reshape(height, width, 4)
    points = [np.asarray(s.to_py(), np.float32).reshape(-1, 2) for s in strokes]
    seg = segment(rgba, points, pen_width)
    segmented = now()
    probs, batch = None, seg.batch()
    if seg.state == DIGITS:
        out = await classifier.run(batch, [classifier.probs, classifier.features])
        probs = personal.adapt(out[classifier.probs], out[classifier.features])
    modelled = now()
    inked = int(rgba[..., 3].max()) >= EMPTY_LEVEL * 255
    result = _judge(reading(seg, probs), probs, batch, inked)
    result["learned"] = len(personal) > 0
    options = options.to_py() if options else {}
    if options.get("inside") and result["digits"] and (look := _look()) is not None:
        chosen = min(int(options.get("selected") or 0), len(result["digits"]) - 1)
        image = np.asarray(result["digits"][chosen]["image"], np.float32).reshape(28, 28)
        result["inside"] = await _look_inside(look, image)
    for digit in result["digits"]:
        digit["image"] = np.asarray(digit["image"], np.float32)
        digit["probs"] = np.asarray(digit["probs"], np.float32)
    result["timings"] = {
        "segment_ms": segmented - start,
        "model_ms": modelled - segmented,
        "total_ms": now() - start,
    }
    result["runs"] = classifier.runs  # what this update asked of the model (benchmarks count)
    return _plain(result)


def _look():
    """The Look inside helper, or None for a model without layer outputs (the panel then says
    it has nothing to show). Imported and set up on first use: most visits never open it."""
    global _panel
    if _panel is None:
        from look_inside import LookInside

        try:
            _panel = LookInside(contract)
        except KeyError:
            _panel = False
    return _panel or None


async def _look_inside(look, image: np.ndarray) -> dict:
    """The panel's data for one digit: its activations and an occlusion map (two runs)."""
    now = js.performance.now
    start = now()
    activations = await classifier.run(image[None, ..., None], look.fetches)
    activated = now()
    batch = look.occlusion_batch(image)
    occluded = None
    if len(batch):
        occluded = (await classifier.run(batch, [look.probs_name]))[look.probs_name]
    occluded_at = now()
    result = look.result(image, activations, occluded)
    result["timings"] = {  # ms per stage, for benchmarks/look_inside.py
        "activations_ms": activated - start,
        "occlusion_ms": occluded_at - activated,
        "arrange_ms": now() - occluded_at,
    }
    return result


async def _load_reference() -> None:
    """learn.py's reference features (model.json "reference"), fetched once, on the first
    taught example: nobody who never teaches downloads them. Without them learn.py falls back
    to a stricter fixed threshold, so a failed download only costs some adaptation."""
    spec = contract.get("reference")
    if not spec or taught.reference is not None:
        return
    try:
        data = await model_api.modelFile(spec["file"])
        taught.reference = learn.Reference.from_bytes(bytes(data.to_py()), spec)
    except Exception as error:  # any failure: learn without it, and say why
        js.console.warn(f"learning without reference features: {type(error).__name__}: {error}")


async def set_taught(records) -> int:
    """The user's taught drawings changed: features for new ones (one batched run), then a new
    personaliser. Returns how many examples it learned from."""
    global personal
    records = records.to_py() if records else []
    if records:
        await _load_reference()
    ids, batch = taught.pending(records)
    if ids:
        features = await classifier.run(batch, [classifier.features])
        taught.set_features(ids, features[classifier.features])
    personal = taught.personalizer(records)
    return len(personal)


def connect(model, modules_current: bool) -> None:
    """worker.py's hand-over: `model` is ort-session.js (the model worker's end of the channel
    engine.js connects once Python is up); `modules_current`: whether the modules a snapshot
    restored were current (worker.py's check; reported by boot_status)."""
    global model_api, preloaded_current
    model_api, preloaded_current = model, modules_current


async def boot_status():
    """Await the model (engine.js starts it before Python and connects it once worker.py has
    run), check it: {"error": None, "model_sha256", "preloaded_current"} (see connect), else
    the reason loading failed."""
    global classifier, contract, thresholds, taught
    try:
        classifier = await Classifier.load(model_api)
        load_error = None
    except Exception as error:  # shown by the page
        load_error = f"{type(error).__name__}: {error}"
    else:
        contract = classifier.contract
        thresholds = contract.get("verdict") or None
        if thresholds and "shape" in thresholds:  # arrays once, not from JSON lists per stroke
            shape = thresholds["shape"]
            for key in ("means", "precisions"):
                shape[key] = np.asarray(shape[key], dtype=np.float64)
        taught = learn.TaughtSet(contract.get("sha256", ""))
    js.bootMark("ready")
    return _plain(
        {
            "error": load_error,
            "model_sha256": contract.get("sha256", ""),
            "preloaded_current": preloaded_current,
        }
    )


def preload_sources():
    """{module name: source} of our modules imported so far (the files PyScript wrote into the
    working directory), for the next memory snapshot (engine.js)."""
    here = os.getcwd()
    sources = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        if os.path.dirname(path) == here and path.endswith(".py"):
            with open(path, encoding="utf-8") as file:
                sources[name] = file.read()
    return _plain(sources)


def boot_marks():
    """[[stage, epoch ms], ...] of this worker's start-up (for the benchmark)."""
    return js.bootMarks
