"""Prune Pyodide's stdlib zip and the numpy wheel to what the app needs (stdlib only).

A derived step of vendor.py: GitHub Pages serves .zip and .whl files as they are (no HTTP
compression), so every module we ship but never import costs first-visit bytes. The rules
below keep:

- stdlib: what the app's worker imports (runtime/app_modules.txt, measured), what Pyodide's
  package loader needs to install a wheel (email, tarfile, zipfile, importlib.metadata, ...),
  and what the pyodide package itself imports. No margin "in case": a module that new app code
  starts to import fails the browser tests and vendor.py's check (fix app_modules.txt), while a
  margin costs every first visit (argparse, difflib, statistics, ... were 0.12 MB). Dropped:
  servers, clients and protocols (http, xml, email servers), test and debug tools (unittest,
  doctest, pdb, pydoc), multiprocessing, and all codecs but the common ones.
- numpy: everything `import numpy` loads plus its small public namespaces (linalg, char,
  strings, rec, ctypeslib, matrixlib, the numpy.core aliases) and numpy.ma, which np.median
  loads. Dropped: random, fft, f2py, polynomial, testing, typing, doc, C headers and static
  libraries, .pyi/.pxd stubs, and the
  test-only extension modules (`_*_tests`, `_simd`, linalg's `lapack_lite`) -- except
  `_multiarray_tests`, which `import numpy` loads -- and numpy.matlib, which imports a dropped
  package.

A wheel's RECORD loses the rows of dropped files. The result is deterministic (entries keep
their order, timestamps and attributes) so the precompile cache, keyed by the pruned archive's
sha256, stays valid across runs.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent
APP_MODULES = ROOT / "runtime" / "app_modules.txt"
ZIP_LEVEL = 9


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Top-level stdlib modules and packages kept whole (`encodings` is filtered by ENCODINGS_KEEP).
# Imported by the app's worker (runtime/app_modules.txt lists the exact modules):
STDLIB_APP = """
    __future__ _collections_abc _compat_pickle _compression _sitebuiltins _weakrefset abc ast
    asyncio base64 bisect bz2 calendar codecs collections concurrent contextlib contextvars copy
    copyreg csv ctypes dataclasses datetime dis email encodings enum fnmatch functools
    genericpath hashlib heapq importlib inspect io ipaddress keyword linecache locale logging
    ntpath numbers opcode operator os pathlib pickle platform posixpath quopri random re reprlib
    selectors shutil signal site socket stat string struct subprocess tarfile tempfile textwrap
    threading token tokenize traceback types typing urllib warnings weakref zipfile zipimport
"""
# Pyodide's own packages, and what they import on some path (console, http, package loader):
STDLIB_PYODIDE = """
    _pyodide pyodide code codeop rlcompleter json sysconfig gzip glob site-packages
    _sysconfigdata__emscripten_wasm32-emscripten
"""
# Imported by kept modules on some path (concurrent.futures.thread and logging.handlers: queue;
# the idna codec: stringprep), so that every module left in the zip imports.
STDLIB_IMPORTED_BY_KEPT = """
    queue stringprep
"""
# PyScript's own Python package (pyscript.display, .web, ...), which the benchmark's bare
# PyScript reference page and any <script type="py"> load from the same vendored stdlib.
STDLIB_PYSCRIPT = """
    html _markupbase json
"""
STDLIB_KEEP = _words(STDLIB_APP + STDLIB_PYODIDE + STDLIB_IMPORTED_BY_KEPT + STDLIB_PYSCRIPT)
# Codecs kept: what the app and the loader use, plus the common ones of the web and of files.
ENCODINGS_KEEP = _words(
    """
    __init__ aliases utf_8 utf_8_sig utf_16 utf_16_be utf_16_le utf_32 utf_32_be utf_32_le
    ascii latin_1 cp437 cp1252 iso8859_15 charmap idna punycode raw_unicode_escape
    unicode_escape base64_codec hex_codec zlib_codec undefined
    """
)
# Submodules of kept packages that import dropped ones (http, multiprocessing, socketserver) or
# only run on Windows: dropped, so every module left in the zip imports.
STDLIB_DROP = (
    "urllib/request.",
    "urllib/robotparser.",
    "concurrent/futures/process.",
    "logging/config.",
    "asyncio/windows_events.",
    "asyncio/windows_utils.",
    "json/tool.",  # a command-line tool (argparse)
)

# numpy.ma stays: np.median (preprocess.ink_map) checks `np.ma.isMaskedArray` on every call.
NUMPY_DROP_PACKAGES = _words("random fft f2py polynomial testing typing doc _pyinstaller")
NUMPY_DROP_PREFIXES = tuple(f"numpy/{name}/" for name in NUMPY_DROP_PACKAGES) + (
    "numpy/_core/include/",  # C headers: for building extensions
    "numpy/_core/lib/",  # libnpymath.a and pkg-config files: ditto
)
NUMPY_DROP_SUFFIXES = (".pyi", ".pxd", ".a", ".h", "py.typed")
NUMPY_DROP_MODULES = (
    # Test-only extension modules (never imported by numpy itself).
    "numpy/_core/_operand_flag_tests.",
    "numpy/_core/_rational_tests.",
    "numpy/_core/_struct_ufunc_tests.",
    "numpy/_core/_umath_tests.",
    "numpy/_core/_simd.",
    "numpy/linalg/lapack_lite.",
    # Modules that import a dropped package (polynomial, testing) or are build-time only.
    "numpy/matlib.",
    "numpy/ma/testutils.",
    "numpy/ma/timer_comparison.",
    "numpy/_core/cversions.",
    "numpy/_configtool.",  # a command-line tool (argparse)
)


class PruneError(Exception):
    """Pruning left out something required; the message names it."""


def stdlib_keeps(name: str) -> bool:
    """True if the stdlib zip entry `name` is kept."""
    parts = name.split("/")
    top = parts[0].removesuffix(".pyc").removesuffix(".py")
    if top == "encodings" and len(parts) == 2:
        return parts[1].rsplit(".", 1)[0] in ENCODINGS_KEEP
    if len(parts) == 1 and not name.endswith((".py", ".pyc")):
        return True  # a root file that is no module (none today): keep rather than guess
    return top in STDLIB_KEEP and not name.startswith(STDLIB_DROP)


def numpy_keeps(name: str) -> bool:
    """True if the numpy wheel entry `name` is kept."""
    return not (
        name.startswith(NUMPY_DROP_PREFIXES)
        or name.endswith(NUMPY_DROP_SUFFIXES)
        or name.startswith(NUMPY_DROP_MODULES)
    )


def _drop_record_rows(data: bytes, dropped: set[str]) -> bytes:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(row for row in rows if not (row and row[0] in dropped))
    return out.getvalue().encode("utf-8")


def prune_archive(src: Path, dst: Path, keeps: Callable[[str], bool]) -> dict:
    """Write `src` to `dst` without the entries `keeps` refuses; return a small report.

    Directory entries left empty are dropped too; a *.dist-info/RECORD loses dropped rows.
    """
    with zipfile.ZipFile(src) as zin:
        infos = zin.infolist()
        kept = [i for i in infos if not i.is_dir() and keeps(i.filename)]
        dropped = {i.filename for i in infos if not i.is_dir()} - {i.filename for i in kept}
        used_dirs = {i.filename.rsplit("/", 1)[0] + "/" for i in kept if "/" in i.filename}
        entries = []
        for info in infos:
            if info.is_dir():
                if any(d.startswith(info.filename) for d in used_dirs):
                    entries.append((info, b""))
            elif info in kept:
                data = zin.read(info)
                if info.filename.endswith(".dist-info/RECORD"):
                    data = _drop_record_rows(data, dropped)
                entries.append((info, data))
    with zipfile.ZipFile(dst, "w") as zout:
        for info, data in entries:
            out = zipfile.ZipInfo(info.filename, info.date_time)
            out.create_system = info.create_system
            out.external_attr = info.external_attr
            out.compress_type = info.compress_type
            deflated = info.compress_type == zipfile.ZIP_DEFLATED
            zout.writestr(out, data, compresslevel=ZIP_LEVEL if deflated else None)
    return {
        "entries_before": len(infos),
        "entries_after": len(entries),
        "bytes_before": src.stat().st_size,
        "bytes_after": dst.stat().st_size,
    }


def app_modules(path: Path = APP_MODULES) -> dict[str, list[str]]:
    """{"stdlib": [...], "numpy": [...]}: dotted module names from runtime/app_modules.txt."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
        elif current is None:
            raise PruneError(f"{path}: {line!r} comes before any [section]")
        else:
            current.append(line)
    return sections


def module_files(module: str) -> tuple[str, ...]:
    """Archive entries any one of which provides `module` (source, bytecode or extension)."""
    base = module.replace(".", "/")
    return (f"{base}.py", f"{base}.pyc", f"{base}/__init__.py", f"{base}/__init__.pyc")


def missing_modules(path: Path, modules: list[str]) -> list[str]:
    """The modules of `modules` that the archive at `path` does not provide."""
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
    extensions = {n.split(".cpython-", 1)[0] for n in names if ".cpython-" in n}
    return [
        m
        for m in modules
        if not any(f in names for f in module_files(m)) and m.replace(".", "/") not in extensions
    ]


def check_pruned(path: Path, modules: list[str]) -> None:
    """Raise PruneError unless the pruned archive is valid and provides every module."""
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except zipfile.BadZipFile:
        raise PruneError(f"{path.name} is not a valid zip after pruning") from None
    if bad is not None:
        raise PruneError(f"{path.name}: entry {bad} is corrupt after pruning")
    missing = missing_modules(path, modules)
    if missing:
        raise PruneError(
            f"{path.name} lost modules the app imports: {', '.join(missing)}. Keep them in "
            "prune.py's rules (runtime/app_modules.txt lists what the app imports)."
        )
