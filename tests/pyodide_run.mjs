/**
 * Run Python under Node with the VENDORED Pyodide (site/vendor/pyodide: its pruned, precompiled
 * python_stdlib.zip, its lock and wheels), for tests/test_vendor.py. stdlib Node only.
 *
 *   node tests/pyodide_run.mjs <indexURL folder> <packages comma-separated> <python file>
 *
 * Loads the packages through Pyodide's own loader (which checks each wheel's sha256 against the
 * vendored lock), runs the file, and prints the value of its last expression (a str) on stdout.
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

process.on("uncaughtException", (error) => {
  process.stderr.write(`pyodide_run.mjs: ${error?.message ?? error}\n`); // no minified source
  process.exit(1);
});
const [folder, packages, script] = process.argv.slice(2);
const indexURL = folder.endsWith("/") ? folder : `${folder}/`;
const { loadPyodide } = await import(pathToFileURL(`${indexURL}pyodide.mjs`).href);
const toStderr = (line) => process.stderr.write(`${line}\n`);
const pyodide = await loadPyodide({ indexURL, stdout: toStderr, stderr: toStderr });
const names = packages ? packages.split(",") : [];
if (names.length) {
  await pyodide.loadPackage(names, {
    messageCallback: toStderr,
    errorCallback: (message) => {
      throw new Error(message);
    },
  });
}
const result = await pyodide.runPythonAsync(readFileSync(script, "utf8"));
process.stdout.write(`${result}\n`);
