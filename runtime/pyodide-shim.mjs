/**
 * Pyodide 0.27.7 shim for PyScript 0.7.x (copied next to pyodide.mjs by vendor.py).
 *
 * PyScript's bundled Python does `from pyodide.ffi import jsnull`, which exists only from
 * Pyodide 0.28 on; on 0.27.7 every <script type="py"> would fail with an ImportError.
 * This module re-exports Pyodide's `loadPyodide` and `version` (PyScript needs both) and,
 * once Python is up, defines `pyodide.ffi.jsnull = None` when it is missing. PyScript only
 * uses it in `is_none`, and 0.27 already converts JS null to None, so None is faithful.
 *
 * PyScript derives Pyodide's indexURL from this file's folder, so it must sit beside
 * pyodide.mjs. Point pyscript.toml's `interpreter` at this file.
 */
import { loadPyodide as loadPyodideOriginal, version } from "./pyodide.mjs";

export { version };

const PATCH = `
import pyodide.ffi as _ffi
if not hasattr(_ffi, "jsnull"):
    _ffi.jsnull = None
del _ffi
`;

export async function loadPyodide(options) {
  const pyodide = await loadPyodideOriginal(options);
  pyodide.runPython(PATCH);
  return pyodide;
}
