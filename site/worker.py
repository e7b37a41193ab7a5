"""PyScript's entry to the compute worker (engine.js starts it): makes sure the modules a memory
snapshot restored are the current ones, imports the pipeline (compute.py) and exports its calls
to the page, which awaits them (no SharedArrayBuffer needed).

Kept small on purpose: Pyodide compiles this file from source on every start (with the pipeline
in it, ~40 ms of a returning visit's start), while compute.py and everything it imports come
already imported from the snapshot (or, on a first visit, from the files PyScript writes).
"""

import hashlib
import sys

import js
from polyscript import js_modules, xworker


def _keep_preloaded_modules() -> bool:
    """Restored from a memory snapshot, our modules may be imported already (pyodide-snapshot.mjs
    records the sha256 of each source it imported in `_preloaded_sources`). Keep them only if
    the files PyScript has just written are the same; else drop them all (they import each
    other), so the imports below load the current files. False: drop them, the snapshot is out
    of date (the page then makes a new one)."""
    record = sys.modules.get("_preloaded_sources")
    if record is None:
        return True
    for name, sha256 in record.sha256.items():
        try:
            with open(f"{name}.py", "rb") as file:
                current = hashlib.sha256(file.read()).hexdigest() == sha256
        except OSError:
            current = False
        if not current:
            for module in [*record.sha256, "_preloaded_sources"]:
                sys.modules.pop(module, None)
            return False
    return True


preloaded_current = _keep_preloaded_modules()
js.bootMark("numpy")
import numpy  # noqa: E402, F401 - after the mark: the import is a start-up stage of its own

# isort: split
import compute  # noqa: E402

js.bootMark("model")  # Python's part is ready; the model is connected by the page next
compute.connect(js_modules.ort_session, preloaded_current)

xworker.sync.read = compute.read
xworker.sync.set_taught = compute.set_taught
xworker.sync.boot_status = compute.boot_status
xworker.sync.boot_marks = compute.boot_marks
xworker.sync.preload_sources = compute.preload_sources
