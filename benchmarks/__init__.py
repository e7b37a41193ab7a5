"""Performance benchmarks for MNIST-Draw: `python -m benchmarks [--quick] [--check]`.

Modules, one job each:

- `browser`: serves site/ (serve.py, in a thread) and measures page start-up in headless
  Chromium: canvas interactive, ready cold / warm, longest main-thread task, bytes, waterfall;
- `pages`: the app and the two reference pages (onnxruntime-web only; bare PyScript + numpy,
  in `reference/`) served from the same vendored files through serve.py's overrides;
- `transfer`: bytes per visit from serve.py's `sent` list (worker requests included), and what
  GitHub Pages would send (gzip per file; brotli if the package is installed);
- `loading`: a stroke drawn while the page loads: pointer-to-ink latency, long tasks;
- `live`: drawing continuously on the loaded page: stroke -> probabilities latency, its parts
  (window.mnistDraw.last.timings) and live updates per second, also on a 4x throttled CPU;
- `live_number`: the same for a 6-digit number written stroke by stroke (stroke -> number
  view), and whether the page then shows that number (`python -m benchmarks.live_number`);
- `cpython`: preprocess.preprocess_canvas timings under CPython and the ONNX model size;
- `machine`: cores, Chromium and package versions, git commit;
- `stats`: p50 / p95 / max summaries; `check`: the comparison with budgets.json;
- `startup`: `python -m benchmarks.startup`, where a cold / warm start spends its time.

`drawn_digits.py` (model accuracy on rendered digits) is a separate script with its own CLI.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
BUDGETS = Path(__file__).resolve().parent / "budgets.json"
