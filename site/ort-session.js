/**
 * The compute worker's handle on the model: one end of a MessageChannel to model-worker.js
 * (onnxruntime-web, the model download and the ONNX session on a thread of their own), which the
 * page (engine.js) started before Python and connects once Python is up.
 *
 * Runs inside the compute worker: PyScript imports it (pyscript.toml's [js_modules.worker]) before
 * it runs worker.py, so it listens before the page sends the port; worker.py reaches it as
 * `polyscript.js_modules.ort_session`.
 * classifier.py awaits `loaded`, checks the model's sha256 against the contract
 * (model/model.json, written by build_model) and owns every call.
 */
const pending = new Map(); // run id -> {resolve, reject}
let nextId = 0;
let model = null; // the port, once the page has sent it
let settle;

/** Resolves to {contract, sha256, error} (error: ONNX Runtime refused the model); rejects if a
 * download failed or the model worker could not start. */
export const loaded = new Promise((resolve, reject) => (settle = { resolve, reject }));
loaded.catch(() => {}); // handled by classifier.py when it awaits; not an "unhandled" rejection

addEventListener("message", ({ data }) => {
  if (!data?.modelPort || model) return;
  model = data.modelPort;
  model.onmessage = answered;
});

function answered({ data }) {
  if (data.loaded) settle.resolve(data.loaded);
  else if (data.failed) {
    const error = new Error(data.failed);
    settle.reject(error);
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  } else {
    const call = pending.get(data.id);
    pending.delete(data.id);
    if (data.error) call.reject(new Error(data.error));
    else call.resolve(data.outputs);
  }
}

/** One run: input name, its data (Float32Array, moved to the model's thread) and dims, and the
 * outputs to fetch -> {name: {data: Float32Array, dims}}. */
export function run(inputName, data, dims, fetches) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    model.postMessage({ id, input: { name: inputName, data, dims }, fetches }, [data.buffer]);
  });
}

/** The bytes of another file of the model's folder (e.g. learn.py's reference features). */
export async function modelFile(name) {
  const url = new URL(`./model/${name}`, import.meta.url);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} could not be downloaded (HTTP ${response.status})`);
  return new Uint8Array(await response.arrayBuffer());
}
