/**
 * The page's wiring: drawing, controls, status line, and the live-reading loop.
 *
 * The canvas works as soon as this module runs, before Python has loaded. The compute worker
 * (engine.js, worker.py) starts in the background; once ready, every change of the drawing is
 * read there — at most one reading in flight, the next one takes the latest ink — and the
 * reading is painted by result-view.js (the single-digit view), number-view.js and
 * look-inside.js. JS draws and paints; Python computes.
 */
import { Announcer } from "./announce.js";
import { Drawing, MODEL_CANVAS_PX } from "./draw.js";
import { explain } from "./failure.js";
import * as lookInside from "./look-inside.js";
import { NumberView } from "./number-view.js";
import { showDigit, showNothing } from "./result-view.js";
import { installShortcuts } from "./shortcuts.js";

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const canvas = $("canvas");
const statusLine = document.getElementById("status");
const announcer = new Announcer(document.getElementById("announce"));

let engine = null; // the compute worker's functions, once Python and the model are ready
let running = false; // at most one inference in flight
let pending = false; // the drawing changed since the running inference took its pixels
let version = 0; // drawing states seen
let shownVersion = 0; // the drawing state whose result is on screen
let spoken = ""; // the sentence for screen readers describing the result on screen
let penUp = false; // the last change was final (pen lifted, undo, clear): time to announce

const drawing = new Drawing(canvas, (final) => {
  penUp = final;
  if (!final) announcer.hold(); // nothing is spoken while the pen moves
  requestPrediction();
});

/** Status line + <body data-state>; an error stays on screen once shown. */
export function setStatus(message, state = document.body.dataset.state) {
  if (document.body.dataset.state === "error") return;
  document.body.dataset.state = state;
  statusLine.textContent = message;
}

/** Show a failure: a plain sentence, a retry button, the technical detail collapsed. */
export function showError(error) {
  if (document.body.dataset.state === "error") return; // the first failure is the cause
  const { message, detail } = explain(error);
  setStatus(message, "error");
  document.getElementById("error-message").textContent = message;
  document.getElementById("error-detail").textContent = detail;
  document.getElementById("error").hidden = false;
  console.warn(`MNIST-Draw: ${detail}`); // a warning, not an error: the page handled it
}
$("retry").addEventListener("click", () => location.reload());

/** The worker is ready: connect teaching, then read whatever was drawn while loading. */
async function connect(ready) {
  engine = ready;
  window.mnistDraw.engine = ready;
  setStatus("Ready: draw a digit.", "ready");
  requestPrediction(); // strokes drawn while loading are read now
  const teaching = await window.mnistDraw.teaching;
  if (!teaching) return;
  teaching.modelSha256 = engine.modelSha256;
  teaching.onChange = async (records) => {
    await engine.setTaught(records);
    requestPrediction(); // the same drawing, read with what was just taught
  };
  if (teaching.records.length) teaching.onChange(teaching.records);
}

/** Schedule a prediction; coalesces bursts of pointer events into one run per settled state. */
function requestPrediction() {
  version += 1;
  pending = true;
  if (engine && !running) pump();
  else if (!engine && document.body.dataset.state === "loading") {
    $("confidence").textContent = drawing.isEmpty ? "" : "I'll read it as soon as I'm ready";
  }
}

async function pump() {
  running = true;
  try {
    while (pending) {
      pending = false; // pixels read now include every stroke so far; later changes re-arm
      const state = version;
      if (drawing.isEmpty) showEmpty();
      else {
        const reading = await engine.read(modelDrawing(), { inside: lookInside.isOpen(), selected });
        if (withhold(reading)) continue; // not shown, so not settled: the pen-up reading will be
        show(reading);
      }
      shownVersion = state;
    }
    if (penUp) announcer.sayWhenQuiet(spoken); // settled: one announcement per drawing
  } catch (error) {
    showError(error);
  } finally {
    running = false;
  }
}

/**
 * While the pen is down, a digit just begun is often no digit yet, and one piece that is not a
 * digit makes the whole drawing unreadable (`partly`): a number would vanish each time its next
 * digit is started. So such a reading does not replace one with digits until the pen lifts;
 * then the honest verdict shows. (A scribble, unreadable as a whole, shows at once.)
 * `mnistDraw.withheld` keeps the reading held back, for tests.
 */
function withhold(reading) {
  const hold = !penUp && Boolean(reading.partly) && Boolean(lastReading?.digits.length);
  window.mnistDraw.withheld = hold ? reading : null;
  return hold;
}

/** The drawing as the worker reads it: the model canvas's pixels and strokes, and the pen. */
function modelDrawing() {
  const scale = (stroke) => Float32Array.from(stroke.points.flat(), (v) => v * MODEL_CANVAS_PX);
  const [first] = drawing.strokes;
  return {
    pixels: drawing.pixels(),
    strokes: drawing.strokes.map(scale),
    penWidth: first.width * MODEL_CANVAS_PX,
  };
}

let selected = 0; // which digit of a number the single-digit view shows
let lastReading = null;
const numberView = new NumberView(document.getElementById("number-view"), {
  overlay: $("boxes"),
  onSelect: (_, position) => {
    selected = Math.max(0, position);
    if (lastReading) show(lastReading);
    if (lookInside.isOpen()) requestPrediction(); // the panel explains the chosen digit
  },
});

/** Paint a reading (compute.py's `read`). */
function show(reading) {
  lastReading = reading;
  const digits = reading.digits;
  const digit = digits.length ? digits[Math.min(selected, digits.length - 1)] : null;
  numberView.render(reading, { settled: penUp && !pending });
  window.mnistDraw.last = {
    reading,
    probabilities: digit ? [...digit.probs] : null,
    modelInput: digit ? digit.image : null,
    timings: reading.timings,
  };
  if (digit) spoken = showDigit(digit, digits.length === 1 ? reading.verdict : digit.verdict);
  else if (reading.verdict === "empty") spoken = showNothing();
  else spoken = showNothing("not-a-digit", "That doesn't look like a digit");
  if (digits.length > 1) spoken = ""; // the number view announces a number, once
  if (reading.inside) lookInside.render(reading.inside);
  else if (!digit) lookInside.clear();
}

export function showEmpty() {
  window.mnistDraw.last = null;
  lastReading = null;
  selected = 0;
  numberView.render({ state: "empty", number: "", reason: "", canvas: [0, 0], digits: [] });
  spoken = showNothing();
  lookInside.clear(); // the panel empties with the canvas
}

$("clear").addEventListener("click", () => drawing.clear());
$("undo").addEventListener("click", () => drawing.undo());
$("redo").addEventListener("click", () => drawing.redo());
installShortcuts(drawing);

const STAGES = {
  python: "Starting Python",
  "python-restored": "Restoring Python",
  "python-loaded": "Installing numpy",
  "packages-loaded": "Loading numpy",
  numpy: "Loading numpy",
  model: "Loading the model",
  ready: "Almost ready",
};
let stage = null;
/** Start-up progress from the worker: its stage and the megabytes it has received. */
function showProgress(progress) {
  if (document.body.dataset.state !== "loading") return;
  stage = progress.stage ?? stage;
  const megabytes = (progress.bytes / 1e6).toFixed(1);
  const text = `${STAGES[stage] ?? "Downloading the recogniser"}… ${megabytes} MB loaded`;
  document.getElementById("loading-text").textContent = text;
  setStatus(text);
}

// Failures of the runtime itself (before the worker can report anything).
addEventListener("error", (event) => {
  if (document.body.dataset.state === "loading") showError(event.error ?? event.message);
});
addEventListener("unhandledrejection", (event) => {
  if (document.body.dataset.state === "loading") {
    showError(event.reason);
  }
});

// Without WebAssembly nothing can run: the error is final, and the page never connects to the
// engine (were its workers to have WebAssembly after all, it would turn the page "ready").
const canRun = typeof WebAssembly === "object";
if (!canRun) {
  showError("WebAssembly is not available");
} else {
  setStatus("Loading the recogniser…", "loading");
}
/** A read-only view for tests and the benchmark: the drawing and the last result. */
window.mnistDraw = {
  drawing,
  last: null,
  withheld: null,
  /** True when the result on screen belongs to the current drawing. */
  settled: () => engine !== null && !running && shownVersion === version,
};
showEmpty();
lookInside.onUpdateWanted(requestPrediction); // opened, or its map is stale: read again

// Loaded after the canvas works: the worker's runtime must not delay the first stroke.
if (canRun) {
  import("./engine.js")
    .then(({ started, onProgress }) => {
      onProgress(showProgress);
      return started;
    })
    .then(connect, showError);
}
