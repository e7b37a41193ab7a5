/**
 * Pyodide 0.27.7 loader for PyScript 0.7.x workers (copied next to pyodide.mjs by vendor.py).
 *
 * 1. Compatibility: PyScript's bundled Python does `from pyodide.ffi import jsnull`, which exists
 *    only from Pyodide 0.28 on. Once Python is up, this module defines `pyodide.ffi.jsnull =
 *    None` when it is missing (PyScript only uses it in `is_none`; 0.27 maps JS null to None).
 * 2. Snapshot: when this browser has saved a Pyodide memory snapshot for these exact files
 *    (pyodide-snapshot.mjs), Python and numpy are restored from it instead of started; if it
 *    fails to restore, it is deleted and Python starts the normal way (the user sees nothing).
 * 3. Progress: `?progress=<token>` names a BroadcastChannel ("mnist-draw:<token>", one per page)
 *    on which it posts {stage, bytes} while it loads (bytes received so far by this worker's
 *    fetches, counted only with `&bytes`), so the page can show real progress on a slow link.
 *    `globalThis.bootMarks` keeps [stage, epoch ms] for benchmarks.
 *
 * PyScript derives Pyodide's indexURL from this file's folder, so it must sit beside
 * pyodide.mjs.
 */
import { loadPyodide as loadPyodideOriginal, version } from "./pyodide.mjs";
import {
  compileLibraries,
  findSnapshot,
  forgetSnapshots,
  reloadLibraries,
  snapshotFile,
} from "./pyodide-snapshot.mjs";

export { version };

const params = new URL(import.meta.url).searchParams;
const token = params.get("progress");
const channel = token ? new BroadcastChannel(`mnist-draw:${token}`) : null;
const marks = (globalThis.bootMarks ??= []);
let received = 0;

/** Record a start-up stage and tell the page. */
export function mark(stage) {
  marks.push([stage, performance.timeOrigin + performance.now()]);
  channel?.postMessage({ stage, bytes: received });
}

// A failed download of any start-up file rejects this, naming the file.
let failDownload;
const downloadFailure = new Promise((_, reject) => (failDownload = reject));
downloadFailure.catch(() => {});

// Bytes downloaded so far, reported at most every 100 ms.
let lastReport = 0;
function countDownloaded(bytes) {
  received += bytes;
  const now = performance.now();
  if (channel && now - lastReport > 100) {
    lastReport = now;
    channel.postMessage({ stage: null, bytes: received });
  }
}

// Count the bytes this worker downloads as they arrive, by reading a clone of each response:
// the original goes to its caller untouched (wasm streaming compilation and its code cache
// need the real Response). Only when asked (`&bytes`: the page's first visit): a clone makes the
// browser pump the whole body through this thread, which slowed a returning visit's start (all
// read from local caches, nothing worth a progress bar) by 40 ms.
const countBytes = params.has("bytes");
if (channel) {
  const originalFetch = globalThis.fetch;
  const count = async (body) => {
    for await (const chunk of body) countDownloaded(chunk.byteLength);
  };
  globalThis.fetch = async (resource, ...rest) => {
    let response;
    try {
      response = await originalFetch(resource, ...rest);
    } catch (error) {
      failDownload(new Error(`${resource} could not be downloaded (${error.message})`));
      throw error;
    }
    if (!response.ok) {
      failDownload(new Error(`${response.url} could not be downloaded (HTTP ${response.status})`));
    }
    if (countBytes && response.body) count(response.clone().body).catch(() => {});
    return response;
  };
}
globalThis.bootMark = mark; // for worker.py


// Looked up while the rest of the worker loads; null when there is none (or no private file system).
const indexURL = new URL("./", import.meta.url).href;
const savedSnapshot = snapshotFile(indexURL)
  .then(findSnapshot)
  .then((snapshot) => snapshot && compileLibraries(snapshot))
  .catch(() => null);
let restoring = null; // the snapshot loadPyodide is restoring, for the module factory

// Pyodide's wasm is compiled from now on, while PyScript and Pyodide's JS load, instead of once
// PyScript calls loadPyodide. Pyodide skips its own download when `WasmOffsetConverter` exists
// (its source-map mode, which this build does not use otherwise); the module factory below
// hands Emscripten this module, or lets it download its own if compiling failed.
const coreURL = `${indexURL}pyodide.asm.wasm`;
const compiledCore = WebAssembly.compileStreaming(fetch(coreURL));
compiledCore.catch(() => {}); // Emscripten downloads it again and reports
globalThis.WasmOffsetConverter ??= class {};

function instantiateCore(imports, receive) {
  compiledCore.then(
    async (module) => receive(await WebAssembly.instantiate(module, imports), module),
    async () => {
      const { instance, module } = await WebAssembly.instantiateStreaming(fetch(coreURL), imports);
      receive(instance, module);
    },
  );
  return {}; // Emscripten's protocol: exports arrive through `receive`
}

// Pyodide's module factory (pyodide.asm.js defines it globally), wrapped: the core from
// compiledCore, and when restoring a snapshot, numpy's libraries reloaded before loadPyodide
// puts the memory back.
let moduleFactory;
Object.defineProperty(globalThis, "_createPyodideModule", {
  configurable: true,
  get: () => moduleFactory,
  set: (factory) => {
    moduleFactory = async (settings) => {
      settings.instantiateWasm = instantiateCore;
      const Module = await factory(settings);
      const snapshot = restoring;
      restoring = null;
      if (snapshot) await reloadLibraries(Module, snapshot);
      return Module;
    };
  },
});
// Pyodide's 1.2 MB of JS, parsed now instead of when PyScript calls loadPyodide (which then
// finds it loaded; its failures are reported there).
import(`${indexURL}pyodide.asm.js`).catch(() => {});

/** Python and numpy from the saved snapshot, or null (and the snapshot forgotten) if it fails. */
async function restore(options, snapshot) {
  try {
    restoring = snapshot;
    const load = loadPyodideOriginal({ ...options, _loadSnapshot: snapshot.memory });
    const pyodide = await Promise.race([load, downloadFailure]);
    Object.assign(pyodide.loadedPackages, snapshot.loadedPackages);
    return pyodide;
  } catch (error) {
    restoring = null;
    console.warn(`Python snapshot not restored (${error?.message ?? error}); starting normally.`);
    await forgetSnapshots(indexURL).catch(() => {});
    return null;
  }
}

const PATCH = `
import pyodide.ffi as _ffi
if not hasattr(_ffi, "jsnull"):
    _ffi.jsnull = None
del _ffi
`;

export async function loadPyodide(options) {
  mark("python");
  const { packages: wanted = [], ...rest } = options;
  const snapshot = await savedSnapshot;
  let pyodide = snapshot && (await restore(rest, snapshot));
  if (pyodide) mark("python-restored");
  // Pyodide only logs a wasm download that failed, then waits forever: fail instead.
  else pyodide = await Promise.race([loadPyodideOriginal(rest), downloadFailure]);
  pyodide.runPython(PATCH);
  mark("python-loaded");
  const packages = wanted.filter((name) => !(name in pyodide.loadedPackages));
  // Separately from loadPyodide, to time the two stages (packages_cache = "passthrough").
  if (packages.length) {
    const load = pyodide.loadPackage(packages, { messageCallback: () => {}, errorCallback: () => {} });
    await Promise.race([load, downloadFailure]);
    const missing = packages.filter((name) => !(name in pyodide.loadedPackages));
    if (missing.length) throw new Error(`${missing.join(", ")} could not be loaded`);
  }
  mark("packages-loaded");
  return pyodide;
}
