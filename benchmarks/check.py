"""Compare a benchmark JSON document with budgets.json: which budgets it hits and misses.

A budget names a metric by its dotted path in the document ("ready_cold_ms.p50") and a bound,
"max" (the value must be <= it) or "min" (>= it). A metric missing from the document is a miss:
a budget nobody measured is not met.
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import BUDGETS


def load_budgets(path: Path = BUDGETS) -> list[dict]:
    return json.loads(Path(path).read_text())["budgets"]


def lookup(document: dict, dotted: str):
    """The value at a dotted path ("bytes_cold.total"), or None if any step is missing."""
    value = document
    for key in dotted.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _num(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def check(document: dict, budgets: list[dict]) -> tuple[list[str], list[str]]:
    """Return (misses, hits), one human-readable line per budget."""
    misses, hits = [], []
    for budget in budgets:
        metric, unit = budget["metric"], budget.get("unit", "")
        value = lookup(document, metric)
        if "max" in budget:
            op, bound = "<=", budget["max"]
        else:
            op, bound = ">=", budget["min"]
        if not isinstance(value, int | float) or isinstance(value, bool):
            misses.append(f"{metric}: not measured (budget {op} {bound} {unit})".rstrip())
            continue
        ok = value <= bound if op == "<=" else value >= bound
        line = f"{metric} = {_num(value)} {unit}, budget {op} {_num(bound)} {unit}"
        (hits if ok else misses).append(line.replace("  ", " ").strip())
    return misses, hits
