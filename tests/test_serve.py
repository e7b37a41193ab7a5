"""serve.py over real HTTP: MIME types, gzip negotiation, revalidation, traversal, busy port."""

from __future__ import annotations

import gzip
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import serve

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A small site: one file per MIME type, a big compressible file with a .gz sibling."""
    root = tmp_path_factory.mktemp("site")
    files = {
        "index.html": b"<!doctype html><title>t</title>",
        "a.js": b"export const a = 1;\n",
        "a.mjs": b"export const b = 2;\n",
        "a.wasm": b"\0asm\1\0\0\0",
        "a.json": b"{}",
        "a.py": b"print('hi')\n",
        "a.toml": b"x = 1\n",
        "a.css": b"body{}",
        "a.onnx": b"\x08\x07",
        "a.whl": b"PK\5\6" + b"\0" * 18,
        "app.webmanifest": b"{}",
        "sub/index.html": b"<p>sub</p>",
        ".hidden": b"secret",
        "vendor/v.js": b"export {};\n",
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    big = b"const x = 'abcdefgh';\n" * 5000
    (root / "big.js").write_bytes(big)
    (root / "big.js.gz").write_bytes(gzip.compress(big, mtime=0))
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.txt").write_text("outside")
    (root / "link.txt").symlink_to(outside / "secret.txt")
    (root / "inside-link.js").symlink_to(root / "a.js")
    return root


@pytest.fixture(scope="module")
def server(tree):
    srv = serve.make_server(tree, "127.0.0.1", 0)
    serve.start_in_thread(srv)
    yield srv
    srv.shutdown()
    srv.server_close()


def fetch(server, path: str, method: str = "GET", headers: dict | None = None):
    """Send a raw request (the path goes out exactly as given, no normalisation)."""
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for key, value in (headers or {}).items():
            conn.putheader(key, value)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("path", "mime"),
    [
        ("/", "text/html; charset=utf-8"),
        ("/a.js", "text/javascript; charset=utf-8"),
        ("/a.mjs", "text/javascript; charset=utf-8"),
        ("/a.wasm", "application/wasm"),
        ("/a.json", "application/json"),
        ("/a.py", "text/x-python; charset=utf-8"),
        ("/a.toml", "application/toml; charset=utf-8"),
        ("/a.css", "text/css; charset=utf-8"),
        ("/a.onnx", "application/octet-stream"),
        ("/a.whl", "application/zip"),
        ("/app.webmanifest", "application/manifest+json"),
        ("/sub/", "text/html; charset=utf-8"),
    ],
)
def test_mime_types(server, tree, path, mime):
    status, headers, body = fetch(server, path)
    assert status == 200
    assert headers["Content-Type"] == mime
    assert headers["X-Content-Type-Options"] == "nosniff"
    rel = path.lstrip("/") + ("index.html" if path.endswith("/") else "")
    assert body == (tree / rel).read_bytes()


def test_head_has_length_but_no_body(server, tree):
    status, headers, body = fetch(server, "/a.js", method="HEAD")
    assert status == 200 and body == b""
    assert int(headers["Content-Length"]) == (tree / "a.js").stat().st_size


@pytest.mark.parametrize(
    ("accept", "gzipped"),
    [("gzip, deflate, br", True), ("br;q=1.0, gzip;q=0.5", True), ("*", True), (None, False),
     ("identity", False), ("gzip;q=0", False), ("br", False)],
)  # fmt: skip
def test_gzip_negotiation(server, tree, accept, gzipped):
    headers = {"Accept-Encoding": accept} if accept else {}
    status, got, body = fetch(server, "/big.js", headers=headers)
    assert status == 200
    assert got["Vary"] == "Accept-Encoding"
    assert got["Content-Type"] == "text/javascript; charset=utf-8"
    original = (tree / "big.js").read_bytes()
    if gzipped:
        assert got["Content-Encoding"] == "gzip"
        assert len(body) < len(original) // 10
        assert gzip.decompress(body) == original
    else:
        assert "Content-Encoding" not in got
        assert body == original


def test_file_without_gz_sibling_is_sent_plain(server):
    status, headers, _ = fetch(server, "/a.js", headers={"Accept-Encoding": "gzip"})
    assert status == 200 and "Content-Encoding" not in headers


def test_etag_and_last_modified_revalidate_to_304(server):
    status, headers, _ = fetch(server, "/a.js")
    assert status == 200
    assert headers["Cache-Control"] == "no-cache"
    etag, last_modified = headers["ETag"], headers["Last-Modified"]

    status, headers, body = fetch(server, "/a.js", headers={"If-None-Match": etag})
    assert (status, body) == (304, b"")
    assert headers["ETag"] == etag
    status, _, body = fetch(server, "/a.js", headers={"If-Modified-Since": last_modified})
    assert (status, body) == (304, b"")
    status, _, _ = fetch(server, "/a.js", headers={"If-None-Match": '"stale"'})
    assert status == 200


def test_generated_precache_revalidates_to_304(server):
    status, headers, body = fetch(server, "/precache.js")
    assert status == 200 and body and headers["Cache-Control"] == "no-cache"
    sent = len(server.sent)
    status, _, body = fetch(server, "/precache.js", headers={"If-None-Match": headers["ETag"]})
    assert (status, body) == (304, b"")
    assert len(server.sent) == sent  # no body sent: a returning visit costs nothing
    status, _, _ = fetch(server, "/precache.js", headers={"If-None-Match": '"stale"'})
    assert status == 200


def test_gzip_variant_has_its_own_etag(server):
    _, plain, _ = fetch(server, "/big.js")
    _, packed, _ = fetch(server, "/big.js", headers={"Accept-Encoding": "gzip"})
    assert plain["ETag"] != packed["ETag"]
    status, _, _ = fetch(server, "/big.js", headers={"If-None-Match": plain["ETag"]})
    assert status == 304
    headers = {"Accept-Encoding": "gzip", "If-None-Match": plain["ETag"]}
    status, _, _ = fetch(server, "/big.js", headers=headers)
    assert status == 200  # the cached plain body is not a valid gzip response


def test_vendor_files_are_cached_longer(server):
    _, headers, _ = fetch(server, "/vendor/v.js")
    assert headers["Cache-Control"] == serve.VENDOR_CACHE_CONTROL
    assert "ETag" in headers


@pytest.mark.parametrize(
    "path",
    [
        "/../etc/passwd",
        "/sub/../../etc/passwd",
        "/%2e%2e/etc/passwd",
        "/%2E%2E/%2E%2E/etc/passwd",
        "/sub/%2e%2e/%2e%2e/etc/passwd",
        "/..%2f..%2fetc%2fpasswd",
        "/sub%2findex.html",
        "/..\\..\\etc\\passwd",
        "/%5c..%5cetc%5cpasswd",
        "/a.js%00.html",
        "/%ff%fe",
        "/.hidden",
        "/%2ehidden",
        "/link.txt",
        "/missing.js",
        "/sub",
        "//etc/passwd",
        "etc/passwd",
    ],
)
def test_traversal_and_oddities_are_404(server, path):
    status, _, body = fetch(server, path)
    assert status == 404
    assert b"outside" not in body and b"root:" not in body and b"secret" not in body


def test_symlink_inside_root_is_served(server):
    status, _, body = fetch(server, "/inside-link.js")
    assert (status, body) == (200, b"export const a = 1;\n")


def test_query_string_is_ignored(server):
    status, _, _ = fetch(server, "/a.js?v=123")
    assert status == 200


def test_unsupported_method(server):
    status, _, _ = fetch(server, "/a.js", method="POST")
    assert status == 501


def test_fifty_parallel_requests(server, tree):
    expected = (tree / "big.js").read_bytes()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(lambda _: fetch(server, "/big.js"), range(50)))
    assert all(status == 200 and body == expected for status, _, body in results)
    assert time.monotonic() - started < 20


def test_keep_alive_serves_several_requests_on_one_connection(server):
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        for _ in range(3):
            conn.request("GET", "/a.js")
            response = conn.getresponse()
            assert response.status == 200 and response.read() == b"export const a = 1;\n"
    finally:
        conn.close()


def run_serve(*args: str, **kwargs) -> subprocess.Popen:
    cmd = [sys.executable, str(ROOT / "serve.py"), "--no-vendor", "--quiet", *args]
    pipe = subprocess.PIPE
    return subprocess.Popen(cmd, stdout=pipe, stderr=pipe, text=True, **kwargs)


def test_busy_port_is_a_clear_error_with_exit_2(tree):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        proc = run_serve("--root", str(tree), "--port", str(port))
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "already in use" in err and "--port" in err
    assert "Traceback" not in err


def test_ctrl_c_stops_cleanly(tree):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # As from a terminal: SIGINT at its default even when this test runs in a background job
    # (a shell starts those with SIGINT ignored, and Python then never raises KeyboardInterrupt).
    proc = run_serve(
        "--root",
        str(tree),
        "--port",
        str(port),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert "Serving" in proc.stdout.readline()
        status, _, _ = fetch_port(port, "/a.js")
        assert status == 200
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert "stopped" in out


def fetch_port(port: int, path: str):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_real_site_assets_have_the_types_the_browser_needs(site_server):
    """The vendored runtime: wasm streaming compile needs application/wasm; modules need JS."""
    cases = {
        "/vendor/pyodide/pyodide.asm.wasm": "application/wasm",
        "/vendor/ort/ort-wasm-simd-threaded.wasm": "application/wasm",
        "/vendor/pyodide/pyodide-shim.mjs": "text/javascript; charset=utf-8",
        "/vendor/pyscript/core.js": "text/javascript; charset=utf-8",
        "/pyscript.toml": "application/toml; charset=utf-8",
        "/worker.py": "text/x-python; charset=utf-8",
    }
    for path, mime in cases.items():
        status, headers, _ = fetch(site_server, path, method="HEAD")
        assert (status, headers["Content-Type"]) == (200, mime), path
    _, headers, _ = fetch(
        site_server, "/vendor/pyodide/pyodide.asm.wasm", "HEAD", {"Accept-Encoding": "gzip"}
    )
    assert headers["Content-Encoding"] == "gzip"
