/**
 * The page's wiring: drawing, controls, status line, and the live-prediction loop.
 *
 * The canvas works as soon as this module runs, before Python has loaded. main.py (under
 * PyScript) imports this module, hands over its `predict(imageData)` with `connectPredictor`, and
 * renders results with `showPrediction` / `showEmpty`. JS draws and passes pixels; Python
 * preprocesses and runs the model.
 */
import { Drawing } from "./draw.js";
import * as lookInside from "./look-inside.js";

/** Below this top probability the answer is shown as "not sure" with the runner-up. */
export const CONFIDENT = 0.6;

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const canvas = $("canvas");
const statusLine = document.getElementById("status");
const announcer = document.getElementById("announce");

let predict = null; // set by main.py once Python, the model and the session are ready
let running = false; // at most one inference in flight
let pending = false; // the drawing changed since the running inference took its pixels
let version = 0; // drawing states seen
let shownVersion = 0; // the drawing state whose result is on screen

const drawing = new Drawing(canvas, () => requestPrediction());

/** Status line + <body data-state>; an error stays on screen once shown. */
export function setStatus(message, state = document.body.dataset.state) {
  if (document.body.dataset.state === "error") return;
  document.body.dataset.state = state;
  statusLine.textContent = message;
}

export function showError(message) {
  setStatus(message, "error");
  document.getElementById("error").textContent = message;
  console.warn(message); // a warning, not an error: the page itself handled it
}

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
}

async function pump() {
  running = true;
  try {
    while (pending) {
      pending = false; // pixels read now include every stroke so far; later changes re-arm
      const state = version;
      if (drawing.isEmpty) showEmpty();
      else await predict(drawing.pixels());
      shownVersion = state;
    }
  } catch (error) {
    showError(`Prediction failed: ${error.message ?? error}`);
  } finally {
    running = false;
  }
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
  }
  drawPreview(modelInput);
  announce(confidence < CONFIDENT ? verdict : `${best}, ${percent(confidence)} sure`);
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
  }
  previewContext.clearRect(0, 0, 28, 28);
  lookInside.clear(); // issue 16: the panel empties with the canvas
  announce("Canvas empty");
}

function drawPreview(modelInput) {
  const image = previewContext.createImageData(28, 28);
  for (let i = 0; i < 784; i++) image.data[i * 4 + 3] = Math.round(modelInput[i] * 255);
  previewContext.putImageData(image, 0, 0);
}

// Announce only settled answers, not every frame while the pen moves.
let announceTimer = 0;
function announce(text) {
  clearTimeout(announceTimer);
  announceTimer = setTimeout(() => (announcer.textContent = text), 400);
}

$("clear").addEventListener("click", () => drawing.clear());
$("undo").addEventListener("click", () => drawing.undo());
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    drawing.clear();
  } else if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") {
    event.preventDefault();
    drawing.undo();
  }
});

// Loading stages and failures of the runtime itself (before main.py can report anything).
addEventListener("py:progress", ({ detail }) => setStatus(`Loading Python: ${detail}…`));
addEventListener("error", (event) => {
  if (document.body.dataset.state === "loading") showError(`Could not start: ${event.message}`);
});
addEventListener("unhandledrejection", (event) => {
  if (document.body.dataset.state === "loading") {
    showError(`Could not start: ${event.reason?.message ?? event.reason}`);
  }
});

if (typeof WebAssembly !== "object") {
  showError(
    "This browser cannot run WebAssembly, which the recogniser needs. " +
      "Try a current Chrome, Firefox, Safari or Edge, or enable WebAssembly.",
  );
} else {
  setStatus("Loading Python runtime…", "loading");
}
/** A read-only view for tests and the benchmark: the drawing and the last result. */
window.mnistDraw = {
  drawing,
  last: null,
  /** True when the result on screen belongs to the current drawing. */
  settled: () => predict !== null && !running && shownVersion === version,
};
showEmpty();
