"""benchmarks/check.py: budgets are compared correctly on a synthetic document (no browser)."""

from __future__ import annotations

import json

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
    assert {"canvas_interactive_ms.p50", "predict_ms.p95", "bytes_warm.total"} <= metrics


def test_summarize():
    assert summarize([]) == {"n": 0}
    s = summarize(range(1, 101))
    assert (s["p50"], s["max"], s["n"]) == (50.5, 100, 100) and 95 <= s["p95"] <= 96
