/**
 * Starts the model download and the onnxruntime-web session at page load, in parallel with
 * Python's start-up (which takes seconds), instead of after it. classifier.py awaits `loaded`,
 * checks the bytes against the contract's sha256 and owns every call into the session.
 *
 * model/model.json is the contract build_model writes next to the ONNX file: file name, input
 * and output names and shape, sha256.
 */
import * as ort from "./vendor/ort/ort.wasm.min.mjs";

// The plain single-threaded WASM build: static hosts (GitHub Pages) send no cross-origin
// isolation headers, so threads are unavailable anyway. Absolute URL: ORT would otherwise
// resolve it against its own module URL.
ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = new URL("./vendor/ort/", location.href).href;

async function download(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} could not be downloaded (HTTP ${response.status})`);
  return response;
}

async function load() {
  const contract = await (await download("./model/model.json")).json();
  const bytes = new Uint8Array(await (await download(`./model/${contract.file}`)).arrayBuffer());
  try {
    // A copy: the caller hashes `bytes` after ORT has taken the model.
    const session = await ort.InferenceSession.create(bytes.slice());
    return { ort, contract, bytes, session, error: null };
  } catch (error) {
    // Reported by classifier.py after its sha256 check, which explains a corrupt file better.
    return { ort, contract, bytes, session: null, error: String(error?.message ?? error) };
  }
}

/** Resolves to {ort, contract, bytes, session, error}; rejects if a download fails. */
export const loaded = load();
loaded.catch(() => {}); // handled by classifier.py when it awaits; not an "unhandled" rejection
