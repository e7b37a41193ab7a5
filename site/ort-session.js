/**
 * The compute worker's handle on the model: starts model-worker.js (onnxruntime-web, the model
 * download and the ONNX session on a thread of their own) as soon as the compute worker starts,
 * so the model loads while Python starts, and passes batches to it.
 *
 * Runs inside the compute worker (see worker.py): pyodide-shim.mjs imports it before it loads
 * Python (its `?preload=` parameter), and worker.py imports the same module instance through
 * pyscript.toml's [js_modules.worker]. classifier.py awaits `loaded`, checks the model's sha256
 * against the contract (model/model.json, written by build_model) and owns every call.
 */
const worker = new Worker(new URL("./model-worker.js", import.meta.url), { type: "module" });
const pending = new Map(); // run id -> {resolve, reject}
let nextId = 0;
let settle;

/** Resolves to {contract, sha256, error} (error: ONNX Runtime refused the model); rejects if a
 * download failed. */
export const loaded = new Promise((resolve, reject) => (settle = { resolve, reject }));
loaded.catch(() => {}); // handled by classifier.py when it awaits; not an "unhandled" rejection

worker.onmessage = ({ data }) => {
  if (data.bytes) globalThis.countDownloaded?.(data.bytes); // the shim's progress report
  else if (data.loaded) settle.resolve(data.loaded);
  else if (data.failed) settle.reject(new Error(data.failed));
  else {
    const call = pending.get(data.id);
    pending.delete(data.id);
    if (data.error) call.reject(new Error(data.error));
    else call.resolve(data.outputs);
  }
};
worker.onerror = (event) => {
  const error = new Error(`the model worker failed: ${event.message ?? "unknown error"}`);
  settle.reject(error);
  for (const call of pending.values()) call.reject(error);
  pending.clear();
};

/** One run: input name, its data (Float32Array, moved to the model's thread) and dims, and the
 * outputs to fetch -> {name: {data: Float32Array, dims}}. */
export function run(inputName, data, dims, fetches) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, input: { name: inputName, data, dims }, fetches }, [data.buffer]);
  });
}

/** The bytes of another file of the model's folder (e.g. learn.py's reference features). */
export async function modelFile(name) {
  const url = new URL(`./model/${name}`, import.meta.url);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} could not be downloaded (HTTP ${response.status})`);
  return new Uint8Array(await response.arrayBuffer());
}
