/**
 * Background worker that makes this browser's Pyodide memory snapshot (see pyodide-snapshot.mjs).
 * engine.js starts it after a start-up that had no snapshot to restore (or one whose app modules
 * have changed since) and posts it {modules: {name: source}, replace}; it posts back
 * {saved: bytes} or {skipped: reason} or {error: message}, then the page terminates it.
 */
import { loadPyodide } from "./pyodide.mjs";
import { findSnapshot, makeSnapshot, snapshotFile } from "./pyodide-snapshot.mjs";

const indexURL = new URL("./", import.meta.url).href;

async function run({ modules, replace }) {
  const where = await snapshotFile(indexURL);
  if (!where) return { skipped: "no snapshot key" };
  if (!replace && (await findSnapshot(where).catch(() => null))) return { skipped: "already saved" };
  return { saved: await makeSnapshot(loadPyodide, indexURL, where, modules) };
}

onmessage = ({ data }) =>
  run(data).then(
    (result) => postMessage(result),
    (error) => postMessage({ error: String(error?.message ?? error) }),
  );
