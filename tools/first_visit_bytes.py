"""First-visit bytes as GitHub Pages would serve them: every file the app fetches until ready.

Loads site/ (served by serve.py) in a fresh headless Chromium profile, waits for
`body[data-state=ready]`, and lists every file the server sent by then. Each file is counted
the way GitHub Pages serves it: gzip (level 6) for text, JS, JSON and wasm; .zip and .whl as
stored (Pages does not compress them). serve.py's own `.gz` siblings (level 9) are ignored.
Also prints what the service worker downloads afterwards (the rest of its precache list; the
service worker is blocked during the measurement so its precaching cannot race it).

Usage: `python tools/first_visit_bytes.py [--json out.json]` (needs `python vendor.py` first).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import assemble  # noqa: E402
import serve  # noqa: E402
import vendor  # noqa: E402

SITE = ROOT / "site"
STORED = (".zip", ".whl")  # GitHub Pages sends these as they are
PAGES_GZIP_LEVEL = 6


def pages_bytes(path: Path) -> int:
    """Bytes on the wire for `path` from GitHub Pages (body only, no headers)."""
    data = path.read_bytes()
    if path.suffix in STORED:
        return len(data)
    return min(len(data), len(gzip.compress(data, compresslevel=PAGES_GZIP_LEVEL, mtime=0)))


def fetched_until_ready(timeout_ms: int = 180_000) -> list[str]:
    """URL paths the server sent to a fresh Chromium profile until the app was ready."""
    from conftest import launch_options
    from playwright.sync_api import sync_playwright

    server = serve.make_server(SITE, "127.0.0.1", 0, quiet=True)
    serve.start_in_thread(server)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(**launch_options())
            # No service worker: its precaching (after the first start) would race the snapshot.
            page = browser.new_context(service_workers="block").new_page()
            page.goto(server.url)
            page.wait_for_selector("body[data-state=ready]", timeout=timeout_ms)
            sent = [path for path, _ in server.sent]
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return sorted(set(sent))


def measure() -> dict:
    """{"files": {path: {"raw", "pages"}}, "total", "precache_rest"}: sizes in bytes."""
    vendor.ensure_vendored(quiet=True)
    files = {}
    for url_path in fetched_until_ready():
        path = serve.resolve(SITE, url_path)
        if path is None:  # generated on the fly (precache.js): measure the text served
            continue
        files[url_path] = {"raw": path.stat().st_size, "pages": pages_bytes(path)}
    sw = SITE / "sw.js"  # the page registers it on its first visit (blocked while measuring)
    files.setdefault("/sw.js", {"raw": sw.stat().st_size, "pages": pages_bytes(sw)})
    fetched = {p.lstrip("/") for p in files}
    rest = [
        rel
        for rel in assemble.precache_manifest(SITE)["files"]
        if rel not in fetched and not (rel == "index.html" and "" in fetched)
    ]
    return {
        "files": files,
        "total": sum(f["pages"] for f in files.values()),
        "precache_rest": sum(pages_bytes(SITE / rel) for rel in rest),
        "precache_rest_files": len(rest),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    result = measure()
    print(f"{'file':<60} {'raw':>12} {'as Pages serves':>16}")
    for path, size in sorted(result["files"].items(), key=lambda kv: -kv[1]["pages"]):
        print(f"{path:<60} {size['raw']:>12,} {size['pages']:>16,}")
    print(f"{'TOTAL until ready':<60} {'':>12} {result['total']:>16,}")
    print(
        f"service worker downloads afterwards: {result['precache_rest_files']} more files, "
        f"{result['precache_rest']:,} bytes as Pages serves them"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
