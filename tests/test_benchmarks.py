"""benchmarks/check.py: budgets are compared correctly on a synthetic document (no browser)."""

from __future__ import annotations

import json
import os

import numpy as np

from benchmarks import check
from benchmarks.stats import summarize

BUDGETS = [
    {"metric": "ready_cold_ms.p50", "max": 2500, "unit": "ms"},
    {"metric": "live_updates_hz.p50", "min": 30, "unit": "updates/s"},
]


def test_hits_pass():
    document = {"ready_cold_ms": {"p50": 2400.0}, "live_updates_hz": {"p50": 30}}
    misses, hits = check.check(document, BUDGETS)
    assert misses == [] and len(hits) == 2


def test_max_and_min_misses_are_listed():
    document = {"ready_cold_ms": {"p50": 2500.1}, "live_updates_hz": {"p50": 29.9}}
    misses, hits = check.check(document, BUDGETS)
    assert hits == []
    assert [m.split(" ")[0] for m in misses] == ["ready_cold_ms.p50", "live_updates_hz.p50"]


def test_unmeasured_metric_is_a_miss():
    misses, _ = check.check({"ready_cold_ms": {"n": 0}}, BUDGETS)
    assert len(misses) == 2 and all("not measured" in m for m in misses)


def test_cli_exit_code(tmp_path, capsys):
    from benchmarks.__main__ import main

    saved = tmp_path / "benchmark.json"
    saved.write_text(json.dumps({"ready_cold_ms": {"p50": 9000}}))
    assert main(["--check-only", str(saved)]) == 1  # the shipped budgets: several misses
    assert "MISS  ready_cold_ms.p50" in capsys.readouterr().err


def test_shipped_budgets_name_the_issue_metrics():
    metrics = {b["metric"] for b in check.load_budgets()}
    assert {"canvas_interactive_ms.p50", "predict_ms.p95", "bytes_returning.served"} <= metrics


def test_summarize():
    assert summarize([]) == {"n": 0}
    s = summarize(range(1, 101))
    assert (s["p50"], s["max"], s["n"]) == (50.5, 100, 100) and 95 <= s["p95"] <= 96


def test_shipped_budgets_hold_the_issue_11_targets():
    budgets = {b["metric"]: b for b in check.load_budgets()}
    assert budgets["ratios.ready_cold_vs_ort.of_medians"]["max"] == 2.0
    assert budgets["ratios.ready_warm_vs_ort.of_medians"]["max"] == 1.5
    assert budgets["longest_task_ms.max"]["max"] == 200
    assert budgets["drawing_while_loading.pointer_to_ink_ms.p95"]["max"] == 50
    assert budgets["predict_ms.p95"]["max"] == 33
    assert budgets["bytes_first_visit.pages_gzip"]["max"] == 10_000_000
    assert budgets["bytes_returning.served"]["max"] == 0


def test_ratio_budgets():
    budgets = [{"metric": "ratios.ready_warm_vs_ort.of_medians", "max": 1.5, "unit": "x"}]
    misses, hits = check.check({"ratios": {"ready_warm_vs_ort": {"of_medians": 1.5}}}, budgets)
    assert misses == [] and hits == ["ratios.ready_warm_vs_ort.of_medians = 1.5 x, budget <= 1.5 x"]
    misses, _ = check.check({"ratios": {"ready_warm_vs_ort": {"of_medians": 1.51}}}, budgets)
    assert len(misses) == 1


def _visit(ready, longest=0.0, sent=0):
    total = {"served": sent, "raw": sent, "pages_gzip": sent, "brotli": None}
    return {
        "ready_ms": ready,
        "interactive_ms": 10.0,
        "longest_task_ms": longest,
        "bytes": {"/": sent},
        "server": {"total": total, "requests": 1, "per_path": {"/": total}},
        "server_bodies": sent,
        "service_worker": "none",
    }


def test_startup_summary_interleaved_ratios():
    from benchmarks.__main__ import ratios, startup_summary

    runs = {
        "app": [(_visit(3000, 250, 9), _visit(2000)), (_visit(5000, 40, 7), _visit(1000))],
        "ort": [(_visit(1000), _visit(1000)), (_visit(2000), _visit(500))],
        "pyscript": [(_visit(2500), _visit(1500)), (_visit(2500), _visit(1500))],
    }
    doc = startup_summary(runs)
    cold = doc["ratios"]["ready_cold_vs_ort"]
    assert cold["of_medians"] == 2.667  # medians 4000 / 1500, rounded to 3 digits
    assert (cold["per_run"]["min"], cold["per_run"]["max"]) == (2.5, 3.0)
    assert doc["ratios"]["ready_warm_vs_ort"]["per_run"]["max"] == 2.0
    assert doc["longest_task_ms"]["max"] == 250
    assert (
        doc["bytes_first_visit"]["pages_gzip"] == 9
        and doc["bytes_first_visit"]["min_pages_gzip"] == 7
    )
    assert set(doc["reference"]) == {"ort", "pyscript"}
    assert ratios([2.0], [1.0]) == {"of_medians": 2.0, "per_run": summarize([2.0], digits=3)}


def test_longest_task_counts_only_tasks_before_ready():
    from benchmarks.browser import longest_task

    assert longest_task([[10, 60], [900, 300], [1200, 900]], until=1000) == 300
    assert longest_task([], until=1000) == 0
    assert longest_task(None, until=1000) is None


def test_pages_gzip_bytes_per_file(tmp_path):
    from benchmarks import transfer

    text, noise = tmp_path / "a.js", tmp_path / "b.wasm"
    text.write_text("let x = 1;\n" * 1000)
    noise.write_bytes(bytes(range(256)) * 4 + os.urandom(4096))
    files = {"/a.js": text, "/b.wasm": noise}
    visit = transfer.visit_bytes(
        [("/a.js", 500), ("/b.wasm", 9000), ("/precache.js", 42)], files.get
    )
    rows = visit["per_path"]
    assert rows["/a.js"]["raw"] == 11_000 and rows["/a.js"]["pages_gzip"] < 200
    assert rows["/b.wasm"]["pages_gzip"] <= noise.stat().st_size  # never more than the raw file
    assert rows["/precache.js"]["pages_gzip"] == 42  # generated: counted as sent
    assert visit["total"]["served"] == 9542 and visit["requests"] == 3
    assert transfer.visit_bytes([], files.get)["total"]["pages_gzip"] == 0


def test_reference_config_keeps_only_the_runtime(tmp_path):
    import tomllib

    from benchmarks import pages

    overrides = pages.reference_overrides(tmp_path)
    config = tomllib.loads(overrides["/ref-pyscript.toml"].read_text())
    site = tomllib.loads((pages.ROOT / "site" / "pyscript.toml").read_text())
    assert config == {"interpreter": pages.SHIM} | {
        k: site[k] for k in pages.RUNTIME_KEYS if k in site
    }
    assert all(path.is_file() for path in overrides.values())
    assert set(pages.PAGES.values()) - {"/"} <= set(overrides)


def test_pointer_to_ink_uses_the_pen_time():
    from benchmarks.loading import analyse

    moves = [  # a 300 ms task held two samples back; the merged event came with a late stamp
        {"stamps": [5.0], "handled": 6.0, "ink": 6.5, "frame": 16.0},
        {"stamps": [330.0], "handled": 331.0, "ink": 331.5, "frame": 340.0},
        {"stamps": [400.0], "handled": 401.0, "ink": None, "frame": None},
    ]
    out = analyse(moves, pen=[4.0, 12.0, 20.0, 395.0, 2000.0], ready_ms=1000)
    assert out["ink"] == [12.0, 328.0, 320.0]
    assert out["handler"] == [2.0, 319.0, 311.0]
    assert out["unseen"] == 1  # 395: its event never drew ink; 2000 is after ready
    assert out["event_to_ink"] == [11.0, 10.0]  # the browser's late stamp hides the freeze


def test_live_pairs_each_update_with_its_latest_snapshot():
    from benchmarks.live import analyse

    probe = {
        "moves": [[1.0, 2.0], [9.0, 10.0], [19.0, 20.0]],
        "snaps": [3.0, 3.0, 21.0, 21.1],  # e.g. pixels() and its getImageData both recorded
        "updates": [
            {"t": 15.0, "frame": 16.0, "timings": None},
            {"t": 40.0, "frame": None, "timings": {"model_ms": 2.0}},
        ],
    }
    out = analyse(probe)
    assert out["latency"] == [14.0, 31.0]  # oldest new move: 1.0, then 9.0
    assert out["to_frame"] == [15.0] and out["parts"]["model_ms"] == [2.0]


def test_a_failed_reference_page_is_reported_not_fatal():
    from benchmarks.__main__ import startup_summary
    from benchmarks.table import markdown

    runs = {
        "app": [(_visit(3000), _visit(2000))],
        "ort": [(_visit(1000), _visit(1000))],
        "pyscript": [(_visit(2500), _visit(1500))],  # a run before it failed: left out
    }
    doc = startup_summary(runs, {"pyscript": "ref-pyscript.html failed to start: boom"})
    assert doc["reference"]["pyscript"] == {"error": "ref-pyscript.html failed to start: boom"}
    assert set(doc["ratios"]) == {"ready_cold_vs_ort", "ready_warm_vs_ort"}
    doc.update(
        drawing_while_loading={},
        live_throttled={},
        predict_ms={},
        live_updates_hz={},
        repetitions={"starts": 1},
        machine={},
    )
    assert "failed: ref-pyscript.html failed to start: boom" in markdown(doc)


def test_live_number_budgets_hold_the_issue_13_target():
    budgets = {b["metric"]: b for b in check.load_budgets()}
    assert budgets["live_number.live_updates_hz.p50"]["min"] == 30  # issue 13: 6 digits, 30 Hz
    assert budgets["live_number.read_right"]["min"] == 1  # measured on a page that reads it


def test_pen_points_are_evenly_spaced_along_a_stroke():
    from benchmarks.live import along

    points = along([(0, 0), (10, 0), (10, 10)], 5)
    assert points[0] == (0, 0) and points[-1] == (10, 10)
    assert np.allclose(points, [(0, 0), (5, 0), (10, 0), (10, 5), (10, 10)])


def test_the_six_digit_number_is_drawn_over_the_canvas_in_the_given_time():
    from benchmarks.live_number import NUMBER, number_strokes

    box = {"x": 100.0, "y": 50.0, "width": 560.0, "height": 560.0}
    strokes = number_strokes(box, seconds=3.0, hz=120)
    points = np.concatenate([np.asarray(s) for s in strokes])
    assert len(NUMBER) == 6 and len(strokes) >= 6
    assert (points[:, 0] > 100).all() and (points[:, 0] < 660).all()
    assert (points[:, 1] > 50).all() and (points[:, 1] < 610).all()
    samples = sum(len(s) - 1 for s in strokes) + len(strokes) - 1  # moves + pen lifts
    assert abs(samples - 3.0 * 120) <= len(strokes)  # rounding: at most one per stroke


def test_live_number_summary_says_whether_the_page_read_the_number():
    from benchmarks.live_number import summary

    drawing = {
        "latency": [20.0, 30.0],
        "waited": [5.0, 6.0],
        "to_frame": [25.0],
        "parts": {"transfer_ms": [], "preprocess_ms": [], "model_ms": [4.0]},
        "updates_hz": 33.0,
        "moves_hz": 118.0,
        "states": ["digits", "unreadable"],
    }
    out = summary([{**drawing, "shown": "314159"}, {**drawing, "shown": "31415"}], "314159")
    assert out["read_right"] == 0.5 and out["shown"] == ["314159", "31415"]
    assert out["live_updates_hz"]["p50"] == 33.0 and out["predict_ms"]["n"] == 4
    assert out["states_while_drawing"] == {"digits": 2, "unreadable": 2}
    assert summary([])["read_right"] is None
