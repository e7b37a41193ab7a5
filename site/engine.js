/**
 * The page's side of the compute worker: starts Python (PyScript) and the model in a Web
 * Worker and hands the page an async `predict`.
 *
 * Everything slow — Pyodide's start-up, numpy, the model session, every prediction — runs in
 * the worker (worker.py), so the page never freezes: strokes drawn while Python loads are drawn
 * at once and read as soon as the worker is ready. The worker only returns plain data; the
 * page paints it.
 */
import { PyWorker, hooks } from "./vendor/pyscript/core.js";

const here = (path) => new URL(path, import.meta.url).href;

/**
 * The Pyodide the worker runs: our shim beside the vendored pyodide.mjs (it adds what PyScript
 * 0.7 expects of Pyodide 0.27, and reports progress; Pyodide's files are found in its folder).
 * `preload` makes it import ort-session.js first, so the model downloads and its ONNX session
 * starts while Python boots instead of after.
 */
const INTERPRETER = here("./vendor/pyodide/pyodide-shim.mjs?preload=..%2F..%2Fort-session.js");

/**
 * Start the worker; `onProgress({stage, bytes})` hears its start-up stages ("python",
 * "python-loaded", "numpy", "model", "ready"; null between them) and the bytes it has received.
 * Resolves to {predict(imageData) -> Promise<result>, bootMarks()} once Python, numpy and the
 * model are loaded and warmed up; rejects with the worker's error otherwise.
 */
export async function startEngine(onProgress = () => {}) {
  hooks.main.onWorker.add((_, xworker) => {
    xworker.onerror = () => {}; // start-up errors reject PyWorker below; the page reports them
    xworker.addEventListener("message", ({ data }) => {
      if (data?.["mnist-draw"] === "progress") onProgress(data);
    });
  });
  const worker = await PyWorker(here("./worker.py"), {
    config: here("./pyscript.toml"),
    version: INTERPRETER,
    async: true, // worker.py awaits the model at top level
  });
  const { error } = await worker.sync.boot_status();
  if (error) throw new Error(error);
  return {
    predict: (imageData) => worker.sync.predict(imageData.data, imageData.width, imageData.height),
    bootMarks: () => worker.sync.boot_marks(),
  };
}
