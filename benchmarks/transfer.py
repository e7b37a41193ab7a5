"""Bytes of a visit as the server saw them, and as GitHub Pages would send them compressed.

The source of truth is serve.py's `server.sent` list: one (URL path, body bytes) entry per full
response, whoever asked (the page, a dedicated Web Worker, a service worker). Page-level CDP
Network events miss requests made inside workers; the server does not.

For each path the visit fetched, `pages_gzip` is what GitHub Pages would send: the file's
bytes gzip-compressed at level 6 (Pages compresses every compressible type; for an already
compressed file such as a wheel the gzip layer saves little, and we never count more than the raw
file). `brotli` (quality 11) is added when the `brotli` package is installed: what a server
offering it would send. Figures are memoised per file (path, size, mtime).
"""

from __future__ import annotations

import functools
import gzip
from pathlib import Path

try:  # optional: only where the package is installed
    import brotli
except ImportError:  # pragma: no cover - depends on the environment
    brotli = None


@functools.lru_cache(maxsize=512)
def _compressed(path: str, size: int, mtime_ns: int) -> tuple[int, int | None]:
    data = Path(path).read_bytes()
    gz = min(len(data), len(gzip.compress(data, compresslevel=6, mtime=0)))
    br = min(len(data), len(brotli.compress(data, quality=11))) if brotli else None
    return gz, br


def compressed_sizes(path: Path) -> tuple[int, int | None]:
    """(gzip -6 bytes, brotli bytes or None) of a file, never more than its raw size."""
    stat = Path(path).stat()
    return _compressed(str(path), stat.st_size, stat.st_mtime_ns)


def sent_since(server, mark: int) -> list[tuple[str, int]]:
    """The server's (URL path, body bytes) entries since `mark` (an earlier len(server.sent))."""
    return list(server.sent)[mark:]


def visit_bytes(entries: list[tuple[str, int]], locate) -> dict:
    """Per-path and total bytes of one visit's responses.

    `locate(url_path)` gives the served file (None for generated responses such as
    /precache.js, which count as sent). Returns {"total": {"served", "raw", "pages_gzip",
    "brotli"}, "per_path": {path: {...}}}, sorted by gzip size, largest first.
    """
    per_path: dict[str, dict] = {}
    for url_path, sent in entries:
        file = locate(url_path)
        raw, gz, br = sent, sent, sent
        if file is not None and Path(file).is_file():
            raw = Path(file).stat().st_size
            gz, br = compressed_sizes(file)
        row = per_path.setdefault(
            url_path, {"served": 0, "raw": 0, "pages_gzip": 0, "brotli": 0, "requests": 0}
        )
        row["served"] += sent
        row["raw"] += raw
        row["pages_gzip"] += gz
        row["brotli"] = None if br is None or row["brotli"] is None else row["brotli"] + br
        row["requests"] += 1
    rows = per_path.values()
    total = {
        k: None if any(r[k] is None for r in rows) else sum(r[k] for r in rows)
        for k in ("served", "raw", "pages_gzip", "brotli")
    }
    if brotli is None:
        total["brotli"] = None  # not installed: not measured (also for an empty visit)
    ordered = dict(sorted(per_path.items(), key=lambda kv: -kv[1]["pages_gzip"]))
    return {"total": total, "requests": len(entries), "per_path": ordered}
