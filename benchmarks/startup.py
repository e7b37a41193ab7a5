"""`python -m benchmarks.startup`: where a cold and a warm start of the page spend their time.

One cold load (fresh profile) and one warm load (same profile, browser relaunched), each with:

- an init script that timestamps (page clock, 0 = navigation start) PyScript's progress events,
  console messages and WebAssembly compile / instantiate calls made on the page itself (the
  compute worker's own compiles show in the Chrome trace below);
- an instrumented copy of site/worker.py served in place of the real one (serve.py overrides;
  the site is not changed) that marks when it starts, after each import, and when it finishes,
  plus the worker's own start-up stages (engine.js bootMarks), all as `worker ...` events;
- the resource timing waterfall, and a Chrome trace (CDP Tracing; open in chrome://tracing or
  Perfetto) in artifacts/profile-{cold,warm}-trace.json.

Prints a phase table for each load and writes everything to artifacts/profile.json.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path

from benchmarks import ARTIFACTS, ROOT, browser

HOOKS = r"""
(() => {
  const marks = (window.__marks = []);
  const mark = (name, start, end = performance.now()) => marks.push({ name, start, end });
  window.__benchMark = (name) => mark(name, performance.now());
  const W = WebAssembly;
  const size = (x) => (x && x.byteLength) || 0;
  for (const fn of ["compile", "instantiate", "compileStreaming", "instantiateStreaming"]) {
    const orig = W[fn].bind(W);
    W[fn] = function (source, ...rest) {
      const t0 = performance.now();
      let what = source instanceof W.Module ? "module" : `${size(source)} B`;
      if (source && typeof source.then === "function") what = "stream";
      if (source instanceof Response) what = `stream ${new URL(source.url).pathname}`;
      return orig(source, ...rest).then((r) => (mark(`wasm.${fn} ${what}`, t0), r));
    };
  }
  const log = console.log.bind(console);
  console.log = (...args) => {
    mark(`console: ${String(args[0]).slice(0, 60)}`, performance.now());
    log(...args);
  };
})();
"""


def instrumented_python(path: Path) -> tuple[str, Path]:
    """site/worker.py with marks at its start, after each import and at its end.

    Returns (URL path, instrumented copy written to `path`'s folder). It marks through the
    shim's `bootMark` (engine.js `bootMarks()`, collected as `worker <stage>` events).
    """
    call = "_bench_js.bootMark"
    out = ["import js as _bench_js", f"{call}('worker.py: start')"]
    for line in (ROOT / "site" / "worker.py").read_text().splitlines():
        out.append(line)
        if re.match(r"(import|from) \S+", line):
            out.append(f"{call}('worker.py: {line.strip()}')")
    out.append(f"{call}('worker.py: end')")
    copy = Path(path) / "worker.py"
    copy.write_text("\n".join(out) + "\n")
    return "/worker.py", copy


TRACE_CATEGORIES = ",".join(
    ["devtools.timeline", "v8", "v8.wasm", "blink.user_timing", "loading", "toplevel"]
)


def load(playwright, profile: str, url: str, trace_path) -> dict:
    context = playwright.chromium.launch_persistent_context(
        profile, viewport=browser.VIEWPORT, **browser.launch_options()
    )
    try:
        context.add_init_script(browser.INIT_SCRIPT)
        context.add_init_script(HOOKS)
        page = context.pages[0] if context.pages else context.new_page()
        cdp = context.new_cdp_session(page)
        chunks = []
        cdp.on("Tracing.dataCollected", lambda e: chunks.extend(e["value"]))
        cdp.send("Tracing.start", {"categories": TRACE_CATEGORIES, "transferMode": "ReportEvents"})
        page.goto(url, wait_until="commit")
        page.wait_for_function("window.__bench.ready !== null", timeout=browser.READY_TIMEOUT_MS)
        page.wait_for_load_state("networkidle")
        done = []
        cdp.on("Tracing.tracingComplete", lambda e: done.append(1))
        cdp.send("Tracing.end")
        while not done:
            page.wait_for_timeout(100)
        trace_path.write_text(json.dumps({"traceEvents": chunks}))
        snapshot = page.evaluate(browser.SNAPSHOT_JS)  # a cold start saves one for the warm
        return {
            "snapshot": snapshot,
            "ready": page.evaluate("window.__bench.ready"),
            "interactive": page.evaluate("window.__bench.interactive"),
            "events": page.evaluate("window.__bench.events")
            + (page.evaluate(browser.WORKER_MARKS_JS) or []),
            "marks": page.evaluate("window.__marks"),
            "resources": page.evaluate(browser.WATERFALL_JS),
        }
    finally:
        context.close()


def table(run: dict) -> list[str]:
    rows = [(e[1], e[1], e[0]) for e in run["events"]]
    rows += [(m["start"], m["end"], m["name"]) for m in run["marks"]]
    rows += [
        (r["start"], r["end"], f"fetch {r['name']} ({r['transfer']} B)") for r in run["resources"]
    ]
    rows.append((run["ready"], run["ready"], "READY"))
    return [f"{s:8.0f} {e:8.0f} {e - s:7.0f}  {name}" for s, e, name in sorted(rows)]


def main() -> int:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    report = {}
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as profile:
        url_path, python = instrumented_python(Path(tmp))
        with (
            browser.served_site(overrides={url_path: python}) as server,
            sync_playwright() as pw,
        ):
            for kind in ("cold", "warm"):
                trace = ARTIFACTS / f"profile-{kind}-trace.json"
                report[kind] = load(pw, profile, server.url, trace)
    for kind, run in report.items():
        print(f"\n== {kind}: ready at {run['ready']:.0f} ms, snapshot {run['snapshot']}")
        print("(start / end / duration ms)")
        print("\n".join(table(run)))
    (ARTIFACTS / "profile.json").write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
