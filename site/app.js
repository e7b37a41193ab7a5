/**
 * The page's wiring: drawing, controls, status line, and the live-prediction loop.
 *
 * The canvas works as soon as this module runs, before Python has loaded. main.py (under
 * PyScript) imports this module, hands over its `predict(imageData)` with `connectPredictor`, and
 * renders results with `showPrediction` / `showEmpty`. JS draws and passes pixels; Python
 * preprocesses and runs the model.
 */
import { Announcer } from "./announce.js";
import { Drawing } from "./draw.js";
import { startEngine } from "./engine.js";
import { explain } from "./failure.js";
import { installShortcuts } from "./shortcuts.js";
import * as lookInside from "./look-inside.js";

/** Below this top probability the answer is shown as "not sure" with the runner-up. */
export const CONFIDENT = 0.6;

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const canvas = $("canvas");
const statusLine = document.getElementById("status");
const announcer = new Announcer(document.getElementById("announce"));

let predict = null; // set by main.py once Python, the model and the session are ready
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

/** Called by main.py with its async predictor once everything is loaded and warmed up. */
export function connectPredictor(predictor) {
  predict = predictor;
  setStatus("Ready: draw a digit.", "ready");
  requestPrediction(); // strokes drawn while loading are predicted now
}

/** Ask for a fresh update of the current drawing (the "Look inside" panel, when opened). */
export function refresh() {
  requestPrediction();
}

/** Schedule a prediction; coalesces bursts of pointer events into one run per settled state. */
function requestPrediction() {
  version += 1;
  pending = true;
  if (predict && !running) pump();
  else if (!predict && document.body.dataset.state === "loading") {
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
      else show(await predict(drawing.pixels()));
      shownVersion = state;
    }
    if (penUp) announcer.sayWhenQuiet(spoken); // settled: one announcement per drawing
  } catch (error) {
    showError(error);
  } finally {
    running = false;
  }
}

function show(result) {
  if (result.empty) showEmpty();
  else showPrediction(result.probabilities, result.image, result.timings);
}

const probabilityBars = [...$("probabilities").querySelectorAll("[data-digit]")];
const prediction = $("prediction");
const previewContext = $("preview").getContext("2d");

/**
 * Render a result: `probabilities` (10 floats), `modelInput` (the 784 floats the model saw,
 * 1 = ink) and `timings` (ms per stage, for the benchmark).
 */
export function showPrediction(probabilities, modelInput, timings) {
  window.mnistDraw.last = { probabilities, modelInput, timings };
  const ranked = [...probabilities.keys()].sort((a, b) => probabilities[b] - probabilities[a]);
  const [best, second] = ranked;
  const confidence = probabilities[best];
  prediction.textContent = String(best);
  prediction.dataset.confidence = confidence.toFixed(4);
  prediction.classList.toggle("unsure", confidence < CONFIDENT);
  const percent = (p) => `${Math.round(p * 100)}%`;
  const verdict =
    confidence < CONFIDENT
      ? `Not sure: ${best} (${percent(confidence)}) or ${second} (${percent(probabilities[second])})`
      : `${percent(confidence)} sure`;
  $("confidence").textContent = verdict;
  for (const bar of probabilityBars) {
    const p = probabilities[Number(bar.dataset.digit)];
    bar.dataset.p = p.toFixed(4);
    bar.style.setProperty("--p", p);
    bar.classList.toggle("best", Number(bar.dataset.digit) === best);
    bar.querySelector("b").textContent = percent(p);
  }
  drawPreview(modelInput);
  spoken = confidence < CONFIDENT ? verdict : `${best}, ${percent(confidence)} sure`;
}

export function showEmpty() {
  window.mnistDraw.last = null;
  prediction.textContent = "";
  prediction.dataset.confidence = "0";
  prediction.classList.remove("unsure");
  $("confidence").textContent = "Draw a digit";
  for (const bar of probabilityBars) {
    bar.dataset.p = "0";
    bar.style.setProperty("--p", 0);
    bar.classList.remove("best");
    bar.querySelector("b").textContent = "0%";
  }
  previewContext.clearRect(0, 0, 28, 28);
  spoken = "Canvas empty";
  lookInside.clear(); // the panel empties with the canvas
}

function drawPreview(modelInput) {
  const image = previewContext.createImageData(28, 28);
  for (let i = 0; i < 784; i++) image.data[i * 4 + 3] = Math.round(modelInput[i] * 255);
  previewContext.putImageData(image, 0, 0);
}

$("clear").addEventListener("click", () => drawing.clear());
$("undo").addEventListener("click", () => drawing.undo());
$("redo").addEventListener("click", () => drawing.redo());
installShortcuts(drawing);

const STAGES = {
  python: "Starting Python",
  "python-loaded": "Python started",
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
  const text = `${STAGES[stage] ?? "Downloading the recogniser"}… ${megabytes} MB received`;
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

if (typeof WebAssembly !== "object") {
  showError("WebAssembly is not available");
} else {
  setStatus("Loading the recogniser…", "loading");
}
/** A read-only view for tests and the benchmark: the drawing and the last result. */
window.mnistDraw = {
  drawing,
  last: null,
  /** True when the result on screen belongs to the current drawing. */
  settled: () => predict !== null && !running && shownVersion === version,
};
showEmpty();

startEngine(showProgress).then(
  (engine) => {
    window.__engine = engine;
    connectPredictor(engine.predict);
  },
  (error) => showError(error),
);
