/**
 * The model's own thread: onnxruntime-web, the model download and the ONNX session.
 *
 * Why a thread of its own: the compute worker's thread is busy starting Python; sharing it, the
 * model's download, compilation and session waited for Python's long tasks and Python's for
 * theirs. Here they run side by side. Started by the page (engine.js) before anything else.
 *
 * Messages. To the page: {started: true} once this script has loaded, then {bytes: n} for what
 * it has downloaded (the loading indicator). From the page: {client: MessagePort}, the compute
 * worker's end of a channel (ort-session.js). On that port it posts first {loaded: {contract,
 * sha256, error}} (sha256 of the bytes it loaded, error if ONNX Runtime refused them) or
 * {failed: message} if a download failed; then answers
 * {id, input: {name, data: Float32Array, dims}, fetches: [output names]}
 * with {id, outputs: {name: {data: Float32Array, dims}}} or {id, error}.
 */
import * as ort from "./vendor/ort/ort.wasm.min.mjs";

const here = (path) => new URL(path, import.meta.url).href;

// The plain single-threaded WASM build: static hosts (GitHub Pages) send no cross-origin
// isolation headers, so threads are unavailable anyway.
ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = here("./vendor/ort/");

// Every download (ORT fetches its .wasm itself): a failure named plainly, and on a first visit
// (`?bytes` on this script's URL) counted. Counting reads a clone of the body, which makes the
// browser pump it through this thread instead of straight into the wasm compiler: worth it only
// for a progress bar on a slow link, not on a returning visit that reads local caches.
const countBytes = new URL(import.meta.url).searchParams.has("bytes");
let downloadFailed = null;
const originalFetch = globalThis.fetch;
globalThis.fetch = async (resource, ...rest) => {
  const response = await originalFetch(resource, ...rest).catch((error) => {
    throw (downloadFailed ??= new Error(`${resource} could not be downloaded (${error.message})`));
  });
  if (!response.ok) {
    downloadFailed ??= new Error(`${response.url} could not be downloaded (HTTP ${response.status})`);
  } else if (countBytes && response.body) {
    count(response.clone().body).catch(() => {});
  }
  return response;
};
async function count(body) {
  for await (const chunk of body) reportBytes(chunk.byteLength);
}

// At most one progress message per 100 ms: a cached 11 MB .wasm arrives in hundreds of chunks.
let unreported = 0;
let lastReport = -Infinity;
function reportBytes(bytes, now = performance.now()) {
  unreported += bytes;
  if (now - lastReport < 100) return;
  lastReport = now;
  postMessage({ bytes: unreported });
  unreported = 0;
}

async function download(url) {
  const response = await fetch(url);
  if (!response.ok) throw downloadFailed;
  return response;
}

const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");

async function load() {
  const contract = await (await download(here("./model/model.json"))).json();
  const bytes = new Uint8Array(await (await download(here(`./model/${contract.file}`))).arrayBuffer());
  const sha256 = hex(await crypto.subtle.digest("SHA-256", bytes));
  try {
    const session = await ort.InferenceSession.create(bytes);
    await warmUp(session, contract);
    return { session, contract, sha256, error: null };
  } catch (error) {
    if (downloadFailed) throw downloadFailed; // its .wasm did not arrive
    // Reported by classifier.py after its sha256 check, which explains a corrupt file better.
    return { session: null, contract, sha256, error: String(error?.message ?? error) };
  }
}

/**
 * One run of every output on a blank image, here and now: V8 compiles ONNX Runtime's kernels
 * lazily, on first use, and the first reading would otherwise wait for that (~150 ms).
 */
async function warmUp(session, contract) {
  const [, ...dims] = contract.input.shape;
  const blank = new ort.Tensor("float32", new Float32Array(dims.reduce((a, b) => a * b)), [1, ...dims]);
  const results = await session.run({ [contract.input.name]: blank }, session.outputNames);
  for (const result of Object.values(results)) result.dispose();
  blank.dispose();
}

const loaded = load();
const flush = () => reportBytes(0, Infinity); // the rest of the count
loaded.then(flush, flush);

/** Answer the compute worker on `port`: first how loading went, then every run. */
function serve(port) {
  loaded.then(
    ({ session, ...report }) => port.postMessage({ loaded: report }),
    (error) => port.postMessage({ failed: String(error?.message ?? error) }),
  );
  port.onmessage = ({ data }) => answer(port, data);
}

onmessage = ({ data }) => {
  if (data.client) serve(data.client);
};
postMessage({ started: true });

async function answer(port, { id, input, fetches }) {
  try {
    const { session } = await loaded;
    const tensor = new ort.Tensor("float32", input.data, input.dims);
    const results = await session.run({ [input.name]: tensor }, fetches);
    tensor.dispose();
    const outputs = {};
    for (const name of fetches) {
      // A copy of its own, so that it can be transferred.
      outputs[name] = { data: results[name].data.slice(), dims: results[name].dims };
    }
    port.postMessage({ id, outputs }, fetches.map((name) => outputs[name].data.buffer));
    for (const name of fetches) results[name].dispose();
  } catch (error) {
    port.postMessage({ id, error: String(error?.message ?? error) });
  }
}
