/**
 * The page's side of the two workers: starts the model (model-worker.js: onnxruntime-web, the
 * model download and its session) and Python (PyScript in a worker: worker.py) at once, side by
 * side, and hands the page async functions to call.
 *
 * Everything slow — Pyodide's start-up, numpy, the model session, every reading — runs in
 * workers, so the page never freezes: strokes drawn while Python loads are drawn at once and
 * read as soon as the workers are ready. The workers only return plain data; the page paints it.
 *
 * The workers start as soon as this module loads: index.html loads it `async`, beside app.js,
 * so start-up does not wait for the page's own modules. The model worker starts first, before
 * PyScript has even downloaded, because its download, compilation and session are the longest
 * single chain of a returning visit. app.js awaits `started` and hears `onProgress`.
 */
const here = (path) => new URL(path, import.meta.url).href;

/**
 * The Pyodide the worker runs: our shim beside the vendored pyodide.mjs (it adds what PyScript
 * 0.7 expects of Pyodide 0.27, and reports progress; Pyodide's files are found in its folder).
 * `progress` names the channel it reports on.
 */
const INTERPRETER = "./vendor/pyodide/pyodide-shim.mjs";

/**
 * Whether the workers count the bytes they download, for the loading indicator: only on a first
 * visit. Once the service worker controls the page, everything comes from local caches, and
 * counting (which reads a copy of every response) only slows the start down.
 */
const COUNT_BYTES = !navigator.serviceWorker?.controller;

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

/** `sources()` resolves to the app's Python modules to import into it ({name: source});
 * `replace`: the saved one is out of date. */
function saveSnapshotLater(sources, replace) {
  return new Promise((resolve) =>
    whenPenRests(async () => {
      const worker = new Worker(here(SNAPSHOT_WORKER), { type: "module" });
      const done = (result) => {
        worker.terminate();
        resolve(result);
      };
      worker.onmessage = ({ data }) => done(data);
      worker.onerror = (event) => done({ error: event.message || "snapshot worker failed" });
      worker.postMessage({ modules: await sources().catch(() => ({})), replace });
    }),
  );
}

/**
 * The model's thread, started now, before PyScript has even downloaded. Its requests come from
 * Python's thread, not from the page: once Python is up, `connect` gives each side one end of a
 * MessageChannel, so every batch goes straight from Python's thread to the model's. If the model
 * worker cannot start (its script failed to load), Python's end gets {failed} instead.
 */
function startModel(onBytes) {
  const model = new Worker(here(`./model-worker.js${COUNT_BYTES ? "?bytes" : ""}`), {
    type: "module",
  });
  const started = new Promise((resolve, reject) => {
    model.onmessage = ({ data }) => {
      if (data.started) resolve();
      if (data.bytes) onBytes(data.bytes);
    };
    model.onerror = (event) =>
      reject(`model-worker.js did not start (${event.message || "it could not be downloaded"})`);
  });
  started.catch(() => {}); // reported through Python (connect), like every model failure
  return {
    /** Connect the compute worker (ort-session.js listens for {modelPort}). */
    connect(compute) {
      const { port1, port2 } = new MessageChannel();
      compute.postMessage({ modelPort: port2 }, [port2]);
      started.then(
        () => model.postMessage({ client: port1 }, [port1]),
        (failed) => port1.postMessage({ failed }),
      );
    },
  };
}

/**
 * Start both workers; `onProgress({stage, bytes})` hears its start-up stages ("python",
 * "python-restored" (from a snapshot), "python-loaded", "packages-loaded", "numpy", "model",
 * "ready"; null between them) and the bytes it has loaded so far (as unpacked, not as sent over
 * the wire). Resolves once Python, numpy and the model are loaded and warmed up to
 * {read, setTaught, modelSha256, snapshot, bootMarks}; rejects with the reason otherwise.
 */
async function startEngine(onProgress) {
  let pythonBytes = 0;
  let modelBytes = 0;
  const model = startModel((bytes) => {
    modelBytes += bytes;
    onProgress({ stage: null, bytes: pythonBytes + modelBytes });
  });
  const token = crypto.randomUUID(); // this page's progress channel (other tabs have theirs)
  const channel = new BroadcastChannel(`mnist-draw:${token}`);
  let restored = false;
  channel.onmessage = ({ data }) => {
    if (data.stage === "python-restored") restored = true;
    pythonBytes = data.bytes;
    onProgress({ stage: data.stage, bytes: pythonBytes + modelBytes });
  };
  let worker;
  let status;
  try {
    const { PyWorker } = await import("./vendor/pyscript/core.js");
    worker = await PyWorker(here("./worker.py"), {
      config: here("./pyscript.toml"),
      version: here(`${INTERPRETER}?progress=${token}${COUNT_BYTES ? "&bytes" : ""}`),
      async: true,
    });
    // Python is up (worker.py has run); now the model: connect it, await its check.
    model.connect(worker);
    status = await worker.sync.boot_status();
    if (status.error) throw new Error(status.error);
  } finally {
    channel.close();
  }
  // One call at a time: the worker's ONNX session runs one batch at a time.
  let queue = Promise.resolve();
  const serial = (call) => (queue = queue.then(call, call));
  // Restored, but with app modules changed since: make a new snapshot all the same.
  const current = restored && status.preloaded_current;
  const sources = () => serial(() => worker.sync.preload_sources());
  return {
    modelSha256: status.model_sha256,
    /** Resolves to {restored: true}, or what making the next start's snapshot gave:
     * {saved: bytes} | {skipped: reason} | {error: message}. */
    snapshot: current ? Promise.resolve({ restored: true }) : saveSnapshotLater(sources, restored),
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
