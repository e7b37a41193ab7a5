"""`python -m benchmarks`: measure MNIST-Draw's start-up, live prediction and preprocessing.

    python -m benchmarks             # full run: 5 cold/warm start pairs, >= 5 drawings of 3 s
                                     # (more until >= 200 live updates were measured)
    python -m benchmarks --quick     # fewer repetitions, for a fast look
    python -m benchmarks --check     # also compare with benchmarks/budgets.json; exit 1 on a miss
    python -m benchmarks --check-only artifacts/benchmark.json   # check a saved document

Prints one JSON document and writes it to artifacts/benchmark.json; the resource waterfalls of
the first cold and warm start go to artifacts/benchmark-waterfall.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from benchmarks import ARTIFACTS, check, cpython, machine
from benchmarks.stats import summarize

FULL = {"starts": 5, "drawings": 5, "seconds": 3.0, "min_updates": 200, "preprocess": 200}
QUICK = {"starts": 2, "drawings": 2, "seconds": 2.0, "min_updates": 0, "preprocess": 50}
MOVE_HZ = 120


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


def live_summary(drawings: list[dict]) -> dict:
    pick = lambda key: [x for d in drawings for x in d[key]]  # noqa: E731
    return {
        "predict_ms": summarize(pick("latency")),
        "predict_parts_ms": {
            "input_wait": summarize(pick("waited")),
            **{
                k: summarize(v for d in drawings for v in d["parts"][k])
                for k in ("transfer_ms", "preprocess_ms", "model_ms")
            },
            "to_next_frame": summarize(pick("to_frame")),
        },
        "live_updates_hz": summarize(d["updates_hz"] for d in drawings),
        "pen_moves_hz": summarize(d["moves_hz"] for d in drawings),
    }


def run(reps: dict) -> tuple[dict, dict]:
    from playwright.sync_api import sync_playwright

    from benchmarks import browser, live

    with browser.served_site() as server:
        with sync_playwright() as pw:
            pairs = browser.cold_and_warm(pw, server, reps["starts"])
        version, canvas_px, drawings = asyncio.run(
            live.run(
                server.url,
                browser.launch_options(),
                browser.VIEWPORT,
                browser.READY_TIMEOUT_MS,
                reps,
                MOVE_HZ,
            )
        )
    cold, warm = [c for c, _ in pairs], [w for _, w in pairs]
    document = {
        "canvas_interactive_ms": summarize(r["interactive_ms"] for r in cold),
        "canvas_interactive_warm_ms": summarize(r["interactive_ms"] for r in warm),
        "ready_cold_ms": summarize(r["ready_ms"] for r in cold),
        "ready_warm_ms": summarize(r["ready_ms"] for r in warm),
        "bytes_cold": bytes_summary(cold),
        "bytes_warm": bytes_summary(warm),
        **live_summary(drawings),
        "live_setup": {
            "canvas_px": canvas_px,
            "move_hz": MOVE_HZ,
            "seconds": reps["seconds"],
            "drawings": len(drawings),
        },
        **cpython.measure(reps["preprocess"]),
        "machine": machine.info(version),
        "repetitions": reps,
    }
    waterfall = {
        "cold": {"events": cold[0]["events"], "resources": cold[0]["waterfall"]},
        "warm": {"events": warm[0]["events"], "resources": warm[0]["waterfall"]},
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
