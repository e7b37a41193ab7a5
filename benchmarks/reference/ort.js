/**
 * Benchmark reference (a): what a JavaScript-only page pays to give its first answer with our
 * model: fetch the contract and the ONNX file, create the onnxruntime-web session (same build
 * and settings as site/ort-session.js), run one inference, then <body data-state="ready">.
 */
import * as ort from "./vendor/ort/ort.wasm.min.mjs";

ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = new URL("./vendor/ort/", location.href).href;

async function fetchOk(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response;
}

async function main() {
  const contract = await (await fetchOk("./model/model.json")).json();
  const bytes = new Uint8Array(await (await fetchOk(`./model/${contract.file}`)).arrayBuffer());
  const session = await ort.InferenceSession.create(bytes);
  const dims = contract.input.shape.map((d) => d ?? 1); // null = dynamic batch
  const input = new ort.Tensor("float32", new Float32Array(dims.reduce((a, b) => a * b)), dims);
  // Only the probabilities, like a live update (model.json v2 has more named outputs).
  const fetches = session.outputNames.includes("probs") ? ["probs"] : undefined;
  const out = await session.run({ [session.inputNames[0]]: input }, fetches);
  document.getElementById("status").textContent = `ready: ${Object.keys(out).join(", ")}`;
  document.body.dataset.state = "ready";
}

main().catch((error) => {
  document.getElementById("status").textContent = String(error?.message ?? error);
  document.body.dataset.state = "error";
});
