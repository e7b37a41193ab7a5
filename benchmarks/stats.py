"""Summaries of repeated measurements: p50 / p95 / max (linear-interpolated percentiles)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def summarize(values: Iterable[float], digits: int = 2) -> dict:
    """{"p50", "p95", "max", "min", "n"} of the values; {"n": 0} when there are none."""
    data = np.asarray(list(values), dtype=float)
    if data.size == 0:
        return {"n": 0}
    return {
        "p50": round(float(np.percentile(data, 50)), digits),
        "p95": round(float(np.percentile(data, 95)), digits),
        "max": round(float(data.max()), digits),
        "min": round(float(data.min()), digits),
        "n": int(data.size),
    }
