"""`python -m benchmarks`: measure MNIST-Draw's start-up, live prediction and preprocessing.

    python -m benchmarks             # full run: 5 cold/warm start pairs of the app and of both
                                     # reference pages, interleaved; 3 cold starts drawing while
                                     # loading; >= 5 drawings of 3 s (more until >= 200 live
                                     # updates were measured), 3 of the 6-digit number
                                     # "314159" + 2 on a 4x throttled CPU
    python -m benchmarks --quick     # fewer repetitions, for a fast look
    python -m benchmarks --check     # also compare with benchmarks/budgets.json; exit 1 on a miss
    python -m benchmarks --check-only artifacts/benchmark.json   # check a saved document

Prints one JSON document and writes it to artifacts/benchmark.json; the resource waterfalls of
the first cold and warm start go to artifacts/benchmark-waterfall.json.

Start-up is compared with two reference pages built from the same vendored files (pages.py):
onnxruntime-web only, and bare PyScript + numpy. `ratios` holds app / reference ready times,
per interleaved run (app, ort, pyscript, app, ...) and as the ratio of the medians; the budgets
check the ratio of medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

from benchmarks import ARTIFACTS, check, cpython, machine, pages
from benchmarks.stats import summarize

FULL = {
    "starts": 5,
    "loading_draws": 3,
    "drawings": 5,
    "number_drawings": 3,
    "throttled_drawings": 2,
    "seconds": 3.0,
    "min_updates": 200,
    "preprocess": 200,
}
QUICK = {
    "starts": 2,
    "loading_draws": 1,
    "drawings": 2,
    "number_drawings": 1,
    "throttled_drawings": 1,
    "seconds": 2.0,
    "min_updates": 0,
    "preprocess": 50,
}
MOVE_HZ = 120
CPU_THROTTLING = 4


def bytes_summary(runs: list[dict]) -> dict:
    """Bytes of the heaviest run (runs should agree; `min_total` shows if they did not)."""
    totals = [sum(r["bytes"].values()) for r in runs]
    heaviest = runs[totals.index(max(totals))]
    return {
        "total": max(totals),
        "min_total": min(totals),
        "requests": len(heaviest["bytes"]),
        "server_bodies_incl_service_worker": max(r["server_bodies"] for r in runs),
        "service_worker": sorted({r["service_worker"] for r in runs}),
        "per_resource": heaviest["bytes"],
    }


def server_bytes(runs: list[dict]) -> dict:
    """Server-side bytes until ready (see transfer.py) of the heaviest run, plus the spread."""
    totals = [r["server"]["total"]["pages_gzip"] for r in runs]
    heaviest = runs[totals.index(max(totals))]["server"]
    return {
        **heaviest["total"],
        "min_pages_gzip": min(totals),
        "requests": heaviest["requests"],
        "per_path": heaviest["per_path"],
    }


def ratios(app: list[float], reference: list[float]) -> dict:
    """app / reference per interleaved run (summarised) and as the ratio of the medians."""
    per_run = [a / r for a, r in zip(app, reference, strict=True)]
    of_medians = summarize(app)["p50"] / summarize(reference)["p50"]
    return {"of_medians": round(of_medians, 3), "per_run": summarize(per_run, digits=3)}


def startup_summary(
    runs: dict[str, list[tuple[dict, dict]]], failures: dict[str, str] | None = None
) -> dict:
    """Start-up figures of the app (top-level keys) and the reference pages, and their ratios.

    A reference page that failed (`failures`: name -> error) is reported with its error; runs
    it completed before failing are left out, so ratios stay pairwise.
    """
    failures = failures or {}
    runs = {name: pairs for name, pairs in runs.items() if name not in failures}
    cold = {name: [c for c, _ in pairs] for name, pairs in runs.items()}
    warm = {name: [w for _, w in pairs] for name, pairs in runs.items()}
    ready = lambda visits: [v["ready_ms"] for v in visits]  # noqa: E731
    longest = lambda visits: summarize(v["longest_task_ms"] for v in visits)  # noqa: E731
    document = {
        "canvas_interactive_ms": summarize(r["interactive_ms"] for r in cold["app"]),
        "canvas_interactive_warm_ms": summarize(r["interactive_ms"] for r in warm["app"]),
        "ready_cold_ms": summarize(ready(cold["app"])),
        "ready_warm_ms": summarize(ready(warm["app"])),
        "longest_task_ms": longest(cold["app"] + warm["app"]),
        "longest_task_cold_ms": longest(cold["app"]),
        "longest_task_warm_ms": longest(warm["app"]),
        "bytes_first_visit": server_bytes(cold["app"]),
        "bytes_returning": server_bytes(warm["app"]),
        "bytes_cold": bytes_summary(cold["app"]),
        "bytes_warm": bytes_summary(warm["app"]),
        # What each visit did about the Pyodide snapshot: a warm start restored it or not.
        "snapshot": {
            kind: [v.get("snapshot") for v in visits["app"]]
            for kind, visits in (("cold", cold), ("warm", warm))
        },
        "reference": {},
        "ratios": {},
    }
    for name in runs.keys() - {"app"}:
        document["reference"][name] = {
            "ready_cold_ms": summarize(ready(cold[name])),
            "ready_warm_ms": summarize(ready(warm[name])),
            "longest_task_cold_ms": longest(cold[name]),
            "bytes_first_visit": server_bytes(cold[name]),
            "bytes_returning": server_bytes(warm[name]),
        }
        for kind, visits in (("cold", cold), ("warm", warm)):
            document["ratios"][f"ready_{kind}_vs_{name}"] = ratios(
                ready(visits["app"]), ready(visits[name])
            )
    for name, error in failures.items():
        document["reference"][name] = {"error": error}
    document["runs_ready_ms"] = {
        name: {"cold": ready(cold[name]), "warm": ready(warm[name])} for name in runs
    }
    return document


def loading_summary(visits: list[dict]) -> dict:
    """Drawing while the page loads (loading.py): pointer-to-ink, handler delay, long tasks."""
    return {
        "pointer_to_ink_ms": summarize(x for v in visits for x in v["ink"]),
        "pointer_to_handler_ms": summarize(x for v in visits for x in v["handler"]),
        "event_to_ink_ms": summarize(x for v in visits for x in v["event_to_ink"]),
        "longest_task_ms": summarize(v["longest_task_ms"] for v in visits),
        "ready_ms": summarize(v["ready_ms"] for v in visits),
        "strokes": [v["strokes"] for v in visits],
        "samples_without_ink": sum(v["unseen"] for v in visits),
        # [start, duration] ms of every task over 200 ms, per visit: what froze the ink
        "tasks_over_200ms": [[t for t in v["long_tasks"] if t[1] > 200] for v in visits],
        "events": [v["events"] for v in visits],
    }


def run(reps: dict) -> tuple[dict, dict]:
    from playwright.sync_api import sync_playwright

    from benchmarks import browser, live, live_number, loading

    load_at_start = round(os.getloadavg()[0], 2)

    with (
        tempfile.TemporaryDirectory(prefix="mnist-draw-bench-ref-") as workdir,
        browser.served_site(overrides=pages.reference_overrides(workdir)) as server,
    ):
        with sync_playwright() as pw:
            failures: dict[str, str] = {}
            runs = browser.cold_and_warm(pw, server, reps["starts"], pages.PAGES, failures)
        options = browser.launch_options()
        while_loading = asyncio.run(
            loading.run(server.url, options, browser.VIEWPORT, reps["loading_draws"], MOVE_HZ)
        )
        live_runs = asyncio.run(
            live.run(
                server.url,
                options,
                browser.VIEWPORT,
                browser.READY_TIMEOUT_MS,
                reps,
                MOVE_HZ,
                CPU_THROTTLING,
            )
        )
    cold, warm = [c for c, _ in runs["app"]], [w for _, w in runs["app"]]
    document = {
        **startup_summary(runs, failures),
        "drawing_while_loading": loading_summary(while_loading),
        **live.summary(live_runs["drawings"]),
        "live_number": live_number.summary(live_runs["number"]),
        "live_throttled": {
            "cpu_throttling_rate": CPU_THROTTLING,
            **live.summary(live_runs["throttled"]),
        },
        "live_setup": {
            "canvas_px": live_runs["canvas_px"],
            "move_hz": MOVE_HZ,
            "seconds": reps["seconds"],
            "drawings": len(live_runs["drawings"]),
            "number_drawings": len(live_runs["number"]),
            "throttled_drawings": len(live_runs["throttled"]),
        },
        **cpython.measure(reps["preprocess"]),
        "machine": {
            **machine.info(live_runs["chromium"]),
            "load_average_1m_at_start": load_at_start,
        },
        "repetitions": reps,
    }
    waterfall = {
        kind: {
            "events": visit["events"],
            "long_tasks": visit["long_tasks"],
            "resources": visit["waterfall"],
        }
        for kind, visit in (("cold", cold[0]), ("warm", warm[0]))
    }
    return document, waterfall


def report_check(document: dict) -> int:
    misses, hits = check.check(document, check.load_budgets())
    for line in hits:
        print(f"  ok    {line}", file=sys.stderr)
    for line in misses:
        print(f"  MISS  {line}", file=sys.stderr)
    print(f"budgets: {len(hits)} met, {len(misses)} missed", file=sys.stderr)
    return 1 if misses else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--check", action="store_true", help="compare with budgets.json")
    parser.add_argument("--check-only", type=Path, metavar="JSON", help="check a saved document")
    parser.add_argument("--out", type=Path, default=ARTIFACTS / "benchmark.json")
    args = parser.parse_args(argv)

    if args.check_only:
        return report_check(json.loads(args.check_only.read_text()))
    document, waterfall = run(QUICK if args.quick else FULL)
    text = json.dumps(document, indent=2)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    (args.out.parent / "benchmark-waterfall.json").write_text(json.dumps(waterfall, indent=1))
    return report_check(document) if args.check else 0


if __name__ == "__main__":
    sys.exit(main())
