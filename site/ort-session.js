/**
 * Starts the model download and the onnxruntime-web session as soon as the compute worker
 * starts, in parallel with Python's start-up (which takes longer), instead of after it.
 *
 * Runs inside the compute worker (see worker.py): pyodide-shim.mjs imports it before it loads
 * Python (its `?preload=` parameter), and worker.py imports the same module instance through
 * pyscript.toml's [js_modules.worker]. classifier.py awaits `loaded`, checks the bytes against
 * the contract's sha256 and owns every call into the session.
 *
 * model/model.json is the contract build_model writes next to the ONNX file: file name, input
 * and output names and shapes, sha256.
 */
import * as ort from "./vendor/ort/ort.wasm.min.mjs";

// URLs relative to this module: the worker runs from a blob: URL, so `location` is no base.
const here = (path) => new URL(path, import.meta.url).href;

// The plain single-threaded WASM build: static hosts (GitHub Pages) send no cross-origin
// isolation headers, so threads are unavailable anyway. This worker is already off the page's
// main thread, so ORT's own proxy worker is not needed.
ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = here("./vendor/ort/");

async function download(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} could not be downloaded (HTTP ${response.status})`);
  return response;
}

async function load() {
  const contract = await (await download(here("./model/model.json"))).json();
  const bytes = new Uint8Array(await (await download(here(`./model/${contract.file}`))).arrayBuffer());
  try {
    // A copy: the caller hashes `bytes` after ORT has taken the model.
    const session = await ort.InferenceSession.create(bytes.slice());
    return { ort, contract, bytes, session, error: null };
  } catch (error) {
    // Reported by classifier.py after its sha256 check, which explains a corrupt file better.
    return { ort, contract, bytes, session: null, error: String(error?.message ?? error) };
  }
}

/** The bytes of another file of the model's folder (e.g. learn.py's reference features). */
export async function modelFile(name) {
  return new Uint8Array(await (await download(here(`./model/${name}`))).arrayBuffer());
}

/** Resolves to {ort, contract, bytes, session, error}; rejects if a download fails. */
export const loaded = load();
loaded.catch(() => {}); // handled by classifier.py when it awaits; not an "unhandled" rejection
