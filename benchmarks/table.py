"""`python -m benchmarks.table [artifacts/benchmark.json]`: issue 11's start-up table, in Markdown.

One row per page (ORT-only, PyScript + numpy, the app): cold and warm ready (min-max of the
interleaved runs, and the median), first-visit bytes as GitHub Pages gzip, the longest
main-thread task; then the app / reference ratios and the drawing and live figures.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from benchmarks import ARTIFACTS

NAMES = {"ort": "onnxruntime-web only", "pyscript": "bare PyScript + numpy", "app": "**our app**"}


def _spread(s: dict) -> str:
    if not s.get("n"):
        return "n/a"
    return f"{s['min']:.0f}–{s['max']:.0f} (p50 {s['p50']:.0f})"


def _mb(n) -> str:
    return "n/a" if n is None else f"{n / 1e6:.1f} MB"


def markdown(doc: dict) -> str:
    """The tables for one benchmark document."""
    rows = ["| page | cold ms | warm ms | first visit (gzip) | longest task cold ms |"]
    rows.append("|---|---|---|---|---|")
    pages = {
        **doc.get("reference", {}),
        "app": {
            "ready_cold_ms": doc["ready_cold_ms"],
            "ready_warm_ms": doc["ready_warm_ms"],
            "bytes_first_visit": doc["bytes_first_visit"],
            "longest_task_cold_ms": doc["longest_task_cold_ms"],
        },
    }
    for name in ("ort", "pyscript", "app"):
        if name in pages and "error" in pages[name]:
            rows.append(f"| {NAMES[name]} | failed: {pages[name]['error'][:80]} | | | |")
        elif name in pages:
            p = pages[name]
            rows.append(
                f"| {NAMES[name]} | {_spread(p['ready_cold_ms'])} | {_spread(p['ready_warm_ms'])}"
                f" | {_mb(p['bytes_first_visit']['pages_gzip'])}"
                f" | {_spread(p['longest_task_cold_ms'])} |"
            )
    rows.append("")
    rows.append("| ratio (app / reference) | of medians | per run (min–max) |")
    rows.append("|---|---|---|")
    for key, r in doc.get("ratios", {}).items():
        rows.append(
            f"| {key} | {r['of_medians']:.2f} | {r['per_run']['min']:.2f}–"
            f"{r['per_run']['max']:.2f} |"
        )
    load = doc.get("drawing_while_loading", {})
    throttled = doc.get("live_throttled", {})
    number = doc.get("live_number", {})
    rows += [
        "",
        f"- longest main-thread task before ready, all app starts: "
        f"{_spread(doc['longest_task_ms'])} ms",
        f"- pointer-to-ink while loading: p50 {load.get('pointer_to_ink_ms', {}).get('p50')} / "
        f"p95 {load.get('pointer_to_ink_ms', {}).get('p95')} / "
        f"max {load.get('pointer_to_ink_ms', {}).get('max')} ms",
        f"- live stroke -> bars: p50 {doc['predict_ms'].get('p50')} / p95 "
        f"{doc['predict_ms'].get('p95')} ms, {doc['live_updates_hz'].get('p50')} updates/s; "
        f"CPU throttled x{throttled.get('cpu_throttling_rate')}: p50 "
        f"{throttled.get('predict_ms', {}).get('p50')} / p95 "
        f"{throttled.get('predict_ms', {}).get('p95')} ms",
        f"- live 6-digit number -> number view: p50 {number.get('predict_ms', {}).get('p50')} / "
        f"p95 {number.get('predict_ms', {}).get('p95')} ms, "
        f"{number.get('live_updates_hz', {}).get('p50')} updates/s, read right "
        f"{number.get('read_right')}",
        f"- returning visit: {doc['bytes_returning']['served']} bytes sent by the server",
        f"- repetitions {doc['repetitions'].get('starts')}; load average (1 min) at start "
        f"{doc['machine'].get('load_average_1m_at_start')}, at end "
        f"{doc['machine'].get('load_average_1m')}",
    ]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else ARTIFACTS / "benchmark.json"
    print(markdown(json.loads(path.read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
