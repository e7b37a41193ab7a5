"""Serve site/ locally for development and tests (stdlib only).

`python serve.py` vendors the browser runtime if site/vendor/ is missing or stale (see vendor.py),
then serves site/ on http://127.0.0.1:8000/. What it does beyond http.server:

- exact MIME types (application/wasm for .wasm, text/javascript for .mjs, ...), never sniffed;
- a pre-compressed `<file>.gz` sibling is sent with `Content-Encoding: gzip` when the client
  accepts gzip (`Vary: Accept-Encoding` always);
- `Cache-Control: no-cache` plus ETag / Last-Modified (304 on revalidation) for app files, one day
  of caching for vendor/ files, whose content only changes when versions are re-pinned
  (hard-reload after re-vendoring);
- anything that is not a plain file inside site/ is a 404: `..` segments, encoded slashes or
  backslashes, dotfiles, directories without index.html, symlinks resolving outside site/;
- security headers on every response: the Content-Security-Policy of the served index.html's
  `<meta http-equiv>` tag (one source of truth; GitHub Pages can only use the tag) plus
  `frame-ancestors 'none'`, which a tag cannot carry; `X-Content-Type-Options: nosniff`;
  `Referrer-Policy: no-referrer`;
- `/precache.js` (the service worker's file list) is generated on each request from the served
  folder by assemble.py, the same code that writes it into the Pages build, with an ETag of its
  content (revalidation -> 304, as Pages does for the static file);
- a busy port is a one-line error naming --port (exit 2); Ctrl+C stops it quietly.

Tests start it in a thread with `start_in_thread(make_server(root, host, port))`.
"""

from __future__ import annotations

import argparse
import collections
import email.utils
import errno
import hashlib
import html
import itertools
import mimetypes
import re
import shutil
import sys
import threading
import urllib.parse
import webbrowser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent
SITE = ROOT / "site"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
VENDOR_CACHE_CONTROL = "public, max-age=86400"
APP_CACHE_CONTROL = "no-cache"
PRECACHE_URL_PATH = "/precache.js"  # generated, see send_precache
#: Directives a <meta> CSP cannot express, added to the header version.
CSP_HEADER_ONLY = "frame-ancestors 'none'"
#: How many recent responses `SiteServer.sent` remembers (tests and benchmarks look at the last few
#: hundred); older entries are dropped so a long-running server does not grow.
SENT_HISTORY = 4096
_CSP_META = re.compile(
    r"""<meta\s+http-equiv=(["'])Content-Security-Policy\1\s+content=(["'])(.*?)\2""", re.I | re.S
)

MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".wasm": "application/wasm",
    ".onnx": "application/octet-stream",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".py": "text/x-python; charset=utf-8",
    ".toml": "application/toml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".ico": "image/x-icon",
    ".gz": "application/gzip",
}


def content_type(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in MIME_TYPES:
        return MIME_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def accepts_gzip(header: str | None) -> bool:
    """True if an Accept-Encoding header allows gzip (a `q=0` refuses it)."""
    for item in (header or "").split(","):
        token, _, params = item.strip().partition(";")
        if token.strip().lower() in ("gzip", "*"):
            q = params.strip().lower()
            if q.startswith("q="):
                try:
                    return float(q[2:]) > 0
                except ValueError:
                    return False
            return True
    return False


def resolve(root: Path, url_path: str) -> Path | None:
    """Map a URL path to a file inside `root`, or None (→ 404) for anything suspicious.

    `root` must already be resolved. Each segment is percent-decoded on its own, so `%2f`
    cannot smuggle in a separator; `..`, `.`, dotfiles, backslashes and NULs are refused; the
    final file must still lie inside `root` after following symlinks.
    """
    if "\\" in url_path or not url_path.startswith("/"):
        return None
    parts = []
    for raw in url_path.split("/")[1:]:
        segment = urllib.parse.unquote(raw, errors="strict") if "%" in raw else raw
        if any(ch in segment for ch in "/\\\0") or segment.startswith("."):
            return None
        if segment:
            parts.append(segment)
    candidate = root.joinpath(*parts)
    if url_path.endswith("/") or not parts:
        candidate = candidate / "index.html"
    try:
        real = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not real.is_relative_to(root) or not real.is_file():
        return None
    return real


def meta_csp(index_html: Path) -> str | None:
    """The Content-Security-Policy of an HTML file's <meta http-equiv> tag (whitespace folded)."""
    try:
        match = _CSP_META.search(index_html.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None
    return " ".join(html.unescape(match.group(3)).split()) if match else None


class SentLog:
    """(URL path, body bytes) of each full response, keeping only the last `maxlen` in memory.

    `len()` counts every response ever sent, and slices use those absolute positions, so
    `log[len_before:]` is "what was sent since then" as long as that is within the last `maxlen`.
    """

    def __init__(self, maxlen: int = SENT_HISTORY):
        self._recent: collections.deque[tuple[str, int]] = collections.deque(maxlen=maxlen)
        self._total = 0
        self._lock = threading.Lock()

    def append(self, entry: tuple[str, int]) -> None:
        with self._lock:
            self._recent.append(entry)
            self._total += 1

    def __len__(self) -> int:
        return self._total

    def __getitem__(self, index: slice) -> list[tuple[str, int]]:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("SentLog supports plain slices only, e.g. sent[n:]")
        with self._lock:
            first = self._total - len(self._recent)  # absolute position of the oldest kept
            start, stop, _ = index.indices(self._total)
            if start < first:
                raise IndexError(f"entries before #{first} were dropped (SENT_HISTORY)")
            return list(itertools.islice(self._recent, start - first, max(start, stop) - first))


class SiteHandler(BaseHTTPRequestHandler):
    """GET/HEAD for static files under `server.root`."""

    protocol_version = "HTTP/1.1"
    server_version = "mnist-draw-serve"
    timeout = 30  # drop idle keep-alive connections

    def do_GET(self) -> None:
        self.send_file(head_only=False)

    def end_headers(self) -> None:
        # Every response, errors included: never sniffed, no referrer, the page's own CSP.
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        csp = self.server.content_security_policy()
        if csp:
            self.send_header("Content-Security-Policy", f"{csp.rstrip('; ')}; {CSP_HEADER_ONLY}")
        super().end_headers()

    def do_HEAD(self) -> None:
        self.send_file(head_only=True)

    def send_file(self, head_only: bool) -> None:
        url_path = urllib.parse.urlsplit(self.path).path
        if url_path == PRECACHE_URL_PATH:
            self.send_precache(head_only)
            return
        try:
            path = self.server.overrides.get(url_path) or resolve(self.server.root, url_path)
        except UnicodeDecodeError:
            path = None
        if path is not None and not path.is_file():  # an override naming no file: a 404
            path = None
        if path is None:
            self.send_error(HTTPStatus.NOT_FOUND)
            return

        body_path, encoding = path, None
        gz = path.with_name(path.name + ".gz")
        if path.suffix != ".gz" and gz.is_file() and accepts_gzip(self.headers["Accept-Encoding"]):
            body_path, encoding = gz, "gzip"
        stat = body_path.stat()
        etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}{"-gz" if encoding else ""}"'
        last_modified = email.utils.formatdate(int(stat.st_mtime), usegmt=True)
        vendor = path.is_relative_to(self.server.root / "vendor")

        status = HTTPStatus.OK
        if_none_match = self.headers["If-None-Match"]
        if if_none_match is not None:
            tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
            if etag in tags or "*" in tags:
                status = HTTPStatus.NOT_MODIFIED
        elif self.headers["If-Modified-Since"]:
            try:
                since = email.utils.parsedate_to_datetime(self.headers["If-Modified-Since"])
                if int(stat.st_mtime) <= since.timestamp():
                    status = HTTPStatus.NOT_MODIFIED
            except (TypeError, ValueError, OverflowError):
                pass

        self.send_response(status)
        self.send_header("Content-Type", content_type(path))
        self.send_header("Cache-Control", VENDOR_CACHE_CONTROL if vendor else APP_CACHE_CONTROL)
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", last_modified)
        self.send_header("Vary", "Accept-Encoding")
        if encoding:
            self.send_header("Content-Encoding", encoding)
        if status == HTTPStatus.NOT_MODIFIED:
            self.end_headers()
            return
        self.send_header("Content-Length", str(stat.st_size))
        self.end_headers()
        if head_only:
            return
        try:
            with open(body_path, "rb") as f:
                shutil.copyfileobj(f, self.wfile, 256 * 1024)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return
        self.server.sent.append((url_path, stat.st_size))

    def send_precache(self, head_only: bool) -> None:
        """precache.js for the served folder, built now (file hashes are memoised by mtime)."""
        import assemble

        body = assemble.precache_script(self.server.root).encode()
        # Revalidated like a static file (as on Pages, where it is one): the service worker's
        # update check on every visit gets a 304, not the whole list again.
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        tags = [
            t.strip().removeprefix("W/") for t in (self.headers["If-None-Match"] or "").split(",")
        ]
        unchanged = etag in tags
        self.send_response(HTTPStatus.NOT_MODIFIED if unchanged else HTTPStatus.OK)
        self.send_header("Content-Type", MIME_TYPES[".js"])
        self.send_header("Cache-Control", APP_CACHE_CONTROL)
        self.send_header("ETag", etag)
        if unchanged:
            self.end_headers()
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head_only:
            # Logged before writing: a client that has read the body finds it in the log.
            self.server.sent.append((PRECACHE_URL_PATH, len(body)))
            self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        if not self.server.quiet:
            super().log_message(format, *args)


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        root: Path,
        address: tuple[str, int],
        quiet: bool = False,
        overrides: dict[str, Path] | None = None,
    ):
        self.root = Path(root).resolve()
        self.quiet = quiet
        # URL path -> file served instead of site/'s (tests use it for a stand-in model, or
        # name a missing file to make a download fail with a 404).
        self.overrides = {url: Path(p).resolve() for url, p in (overrides or {}).items()}
        self.sent = SentLog()  # (URL path, body bytes) of recent full responses
        self._csp: tuple[int, str | None] = (-1, None)  # (index.html mtime_ns, policy)
        super().__init__(address, SiteHandler)

    def content_security_policy(self) -> str | None:
        """The served index.html's <meta> CSP, re-read when the file changes."""
        index = self.root / "index.html"
        try:
            mtime = index.stat().st_mtime_ns
        except OSError:
            return None
        if self._csp[0] != mtime:
            self._csp = (mtime, meta_csp(index))
        return self._csp[1]

    def handle_error(self, request, client_address) -> None:
        # A client hanging up mid-response is routine (page reloads); anything else is printed.
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


def make_server(
    root: Path = SITE,
    host: str = DEFAULT_HOST,
    port: int = 0,
    quiet: bool = True,
    overrides: dict[str, Path] | None = None,
) -> SiteServer:
    """Bind (port 0 picks a free port) without serving yet; raises OSError if the port is busy."""
    return SiteServer(root, (host, port), quiet=quiet, overrides=overrides)


def start_in_thread(server: SiteServer) -> threading.Thread:
    """Serve in a daemon thread; stop with `server.shutdown(); server.server_close()`."""
    thread = threading.Thread(target=server.serve_forever, name="serve.py", daemon=True)
    thread.start()
    return thread


def port_number(text: str) -> int:
    """argparse type for --port: an integer 0..65535 (0 = any free port)."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)")
    return port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve site/ locally (vendoring it first).")
    parser.add_argument("--host", default=DEFAULT_HOST, help="default %(default)s")
    parser.add_argument(
        "--port", type=port_number, default=DEFAULT_PORT, help="default %(default)s"
    )
    parser.add_argument("--root", type=Path, default=SITE, help="folder to serve (default site/)")
    parser.add_argument("--open", action="store_true", help="open the page in a browser")
    parser.add_argument("--no-vendor", action="store_true", help="do not run vendor.py first")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        print(f"serve.py: --root {args.root} is not a folder", file=sys.stderr)
        return 2

    if not args.no_vendor:
        import vendor

        try:
            vendor.ensure_vendored()
        except (vendor.VendorError, OSError) as exc:
            print(f"serve.py: vendoring failed: {exc}", file=sys.stderr)
            return 1
    try:
        server = make_server(args.root, args.host, args.port, quiet=args.quiet)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            print(
                f"serve.py: port {args.port} on {args.host} is already in use (another serve.py?). "
                f"Stop that process or pick another port, e.g. `python serve.py --port "
                f"{args.port + 1}`.",
                file=sys.stderr,
            )
            return 2
        print(f"serve.py: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    print(f"Serving {server.root} at {server.url}  (Ctrl+C to stop)", flush=True)
    if args.open:
        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nstopped", flush=True)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # Ctrl+C before serving started (e.g. while vendoring)
        sys.exit(130)
