/**
 * The page's side of the compute worker: starts Python (PyScript) and the model in a Web
 * Worker and hands the page async functions to call.
 *
 * Everything slow — Pyodide's start-up, numpy, the model session, every reading — runs in the
 * worker (worker.py), so the page never freezes: strokes drawn while Python loads are drawn at
 * once and read as soon as the worker is ready. The worker only returns plain data; the page
 * paints it.
 *
 * The worker starts as soon as this module loads: index.html loads it `async`, beside app.js,
 * so start-up does not wait for the page's own modules. app.js awaits `started` and hears
 * `onProgress`.
 */
import { PyWorker } from "./vendor/pyscript/core.js";

const here = (path) => new URL(path, import.meta.url).href;

/**
 * The Pyodide the worker runs: our shim beside the vendored pyodide.mjs (it adds what PyScript
 * 0.7 expects of Pyodide 0.27, and reports progress; Pyodide's files are found in its folder).
 * `preload` makes it import ort-session.js first, so the model downloads and its ONNX session
 * starts while Python boots instead of after; `progress` names the channel it reports on.
 */
const INTERPRETER = "./vendor/pyodide/pyodide-shim.mjs?preload=..%2F..%2Fort-session.js";

/**
 * Makes this browser's Pyodide memory snapshot in the background (see
 * vendor/pyodide/pyodide-snapshot.mjs), so the next start restores Python and numpy instead of
 * starting them. It costs one more Python start-up of CPU, so it waits until the pen has rested
 * for a while: live readings come first.
 */
const SNAPSHOT_WORKER = "./vendor/pyodide/snapshot-worker.mjs";
const SNAPSHOT_QUIET_MS = 3000; // without pointer events, after ready

function whenPenRests(start) {
  let timer;
  const events = ["pointerdown", "pointermove"];
  const rested = () => {
    for (const type of events) removeEventListener(type, wait, true);
    (globalThis.requestIdleCallback ?? ((run) => run()))(start);
  };
  const wait = () => {
    clearTimeout(timer);
    timer = setTimeout(rested, SNAPSHOT_QUIET_MS);
  };
  for (const type of events) addEventListener(type, wait, { capture: true, passive: true });
  wait();
}

function saveSnapshotLater() {
  return new Promise((resolve) =>
    whenPenRests(() => {
      const worker = new Worker(here(SNAPSHOT_WORKER), { type: "module" });
      const done = (result) => {
        worker.terminate();
        resolve(result);
      };
      worker.onmessage = ({ data }) => done(data);
      worker.onerror = (event) => done({ error: event.message || "snapshot worker failed" });
    }),
  );
}

/**
 * Start the worker; `onProgress({stage, bytes})` hears its start-up stages ("python",
 * "python-restored" (from a snapshot), "python-loaded", "packages-loaded", "numpy", "model",
 * "ready"; null between them) and the bytes it has loaded so far (as unpacked, not as sent over
 * the wire). Resolves once Python, numpy and the model are loaded and warmed up to
 * {read, setTaught, modelSha256, snapshot, bootMarks}; rejects with the reason otherwise.
 */
async function startEngine(onProgress) {
  const token = crypto.randomUUID(); // this page's progress channel (other tabs have theirs)
  const channel = new BroadcastChannel(`mnist-draw:${token}`);
  let restored = false;
  channel.onmessage = ({ data }) => {
    if (data.stage === "python-restored") restored = true;
    onProgress(data);
  };
  let worker;
  try {
    worker = await PyWorker(here("./worker.py"), {
      config: here("./pyscript.toml"),
      version: here(`${INTERPRETER}&progress=${token}`),
      async: true, // worker.py awaits the model at top level
    });
  } finally {
    channel.close();
  }
  const { error, model_sha256: modelSha256 } = await worker.sync.boot_status();
  if (error) throw new Error(error);
  // One call at a time: the worker's ONNX session runs one batch at a time.
  let queue = Promise.resolve();
  const serial = (call) => (queue = queue.then(call, call));
  return {
    modelSha256,
    /** Resolves to {restored: true}, or what making the next start's snapshot gave:
     * {saved: bytes} | {skipped: reason} | {error: message}. */
    snapshot: restored ? Promise.resolve({ restored: true }) : saveSnapshotLater(),
    /** Read the model canvas: {pixels: ImageData, strokes: [Float32Array x,y,...], penWidth}. */
    read: ({ pixels, strokes, penWidth }, options) =>
      serial(() =>
        worker.sync.read(pixels.data, pixels.width, pixels.height, strokes, penWidth, options),
      ),
    /** The user's taught drawings changed; resolves to how many examples the worker uses. */
    setTaught: (records) => serial(() => worker.sync.set_taught(records)),
    bootMarks: () => worker.sync.boot_marks(),
  };
}

let latest = null;
const listeners = new Set();
/** Hear start-up progress (the latest at once, if any). */
export function onProgress(listener) {
  listeners.add(listener);
  if (latest) listener(latest);
}
/** The engine (see startEngine), started now. */
export const started = startEngine((progress) => {
  latest = progress;
  for (const listener of listeners) listener(progress);
});
started.catch(() => {}); // app.js shows it
