"""vendor.py: pins agree with Pyodide's lock, corrupt wheels are refused, re-runs are instant,
the stdlib zip and numpy wheel are pruned to what the app imports (prune.py) and ship bytecode
made by Pyodide's own Python (py_compile.mjs), and the vendored Pyodide imports all that is left."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
import shutil
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import run_in_pyodide

import preprocess
import prune
import vendor
from digit_strokes import digit_paths, place, render_rgba

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "site" / "vendor"


# .pyc magic number of Python 3.12 (Pyodide 0.27.7's 3.12.7); the host's 3.11 has another one.
PY312_MAGIC = (3531).to_bytes(2, "little") + b"\r\n"
UNCHECKED_HASH_FLAGS = b"\x01\0\0\0"


@pytest.fixture(scope="module")
def lock(vendored) -> dict:
    return vendor.load_lock(ROOT / "node_modules")


@pytest.fixture(scope="module")
def vendored_lock(vendored) -> dict:
    return json.loads((vendored / "pyodide" / "pyodide-lock.json").read_text())


def original_wheel(wheel: dict) -> bytes:
    """The wheel as npm's lock pins it, from the cached PyPI download."""
    manifest = vendor.load_manifest()
    source = vendor.wheel_source(manifest, log=lambda msg: None)
    with zipfile.ZipFile(source) as archive:
        return archive.read(manifest["source"]["prefix"] + wheel["file_name"])


def test_manifest_agrees_with_pyodide_lock(lock):
    manifest = vendor.load_manifest()
    assert vendor.check_manifest(manifest, lock) == []
    assert [w["name"] for w in manifest["wheels"]] == ["numpy"]  # all preprocess.py needs


def test_manifest_pyodide_matches_package_json():
    package = json.loads((ROOT / "package.json").read_text())
    assert package["dependencies"] == {
        "@pyscript/core": "0.7.31",
        "onnxruntime-web": "1.21.1",
        "pyodide": "0.27.7",
    }
    assert vendor.load_manifest()["pyodide"] == package["dependencies"]["pyodide"]


def test_check_manifest_reports_drift(lock):
    manifest = json.loads(json.dumps(vendor.load_manifest()))
    manifest["wheels"][0]["sha256"] = "0" * 64
    micropip = lock["packages"]["micropip"]  # depends on packaging, which is not listed
    manifest["wheels"].append(
        {"name": "micropip", "file_name": micropip["file_name"], "sha256": micropip["sha256"]}
    )
    problems = " ".join(vendor.check_manifest(manifest, lock))
    assert "sha256" in problems
    assert "micropip depends on packaging" in problems


def test_vendored_layout(vendored, lock):
    stamp = json.loads((vendored / vendor.STAMP_NAME).read_text())
    files = set(stamp["files"])
    for name in vendor.PYODIDE_CORE_FILES + ("pyodide-shim.mjs",):
        assert f"pyodide/{name}" in files
    for wheel in vendor.load_manifest()["wheels"]:
        assert f"pyodide/{wheel['file_name']}" in files
    for name in vendor.ORT_FILES:
        assert f"ort/{name}" in files
    assert {"pyscript/core.js", "pyscript/core.css"} <= files
    assert not [f for f in files if f.endswith(".map")]
    assert "ort/ort-wasm-simd-threaded.wasm.gz" in files
    assert "pyodide/pyodide.asm.wasm.gz" in files
    assert stamp["versions"] == {
        "@pyscript/core": "0.7.31",
        "onnxruntime-web": "1.21.1",
        "pyodide": "0.27.7",
    }
    assert (
        set(stamp["precompiled"])
        == set(stamp["pruned"])
        == {
            "python_stdlib.zip",
            "numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl",
        }
    )
    for name, digest in stamp["precompiled"].items():
        vendor.verify_sha256(vendored / "pyodide" / name, digest)
    vendor.verify_wheels(vendored / "pyodide", vendor.load_manifest(), vendored_lock_of(vendored))


def vendored_lock_of(folder: Path) -> dict:
    return json.loads((folder / "pyodide" / "pyodide-lock.json").read_text())


def check_precompiled(path: Path, *, source_count: int) -> dict[str, bytes]:
    """Every .py became a sourceless 3.12 unchecked-hash .pyc; returns {name: bytes}."""
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    assert not [n for n in entries if n.endswith(".py")], "a .py was left in place of its .pyc"
    pycs = [n for n in entries if n.endswith(".pyc")]
    assert len(pycs) == source_count
    for name in pycs:
        assert entries[name][:8] == PY312_MAGIC + UNCHECKED_HASH_FLAGS, name
    return entries


def pruned_names(src: Path, keeps, tmp_path: Path) -> list[str]:
    """Entry names of `src` pruned by `keeps`, with .py renamed .pyc (what vendor.py ships)."""
    out = tmp_path / f"pruned-{src.name}"
    prune.prune_archive(src, out, keeps)
    with zipfile.ZipFile(out) as archive:
        return [n + "c" if n.endswith(".py") else n for n in archive.namelist()]


def test_stdlib_zip_ships_bytecode_only(vendored, tmp_path):
    npm_zip = ROOT / "node_modules" / "pyodide" / "python_stdlib.zip"
    names = pruned_names(npm_zip, prune.stdlib_keeps, tmp_path)
    pycs = [n for n in names if n.endswith(".pyc")]
    entries = check_precompiled(vendored / "pyodide" / "python_stdlib.zip", source_count=len(pycs))
    for module in (
        "os",
        "re/__init__",
        "pyodide/__init__",
        "_pyodide/_base",
        "asyncio/base_events",
    ):
        assert f"{module}.pyc" in entries
    # The pruned npm zip's entries otherwise, in the same order.
    with zipfile.ZipFile(vendored / "pyodide" / "python_stdlib.zip") as archive:
        assert archive.namelist() == names


def test_numpy_wheel_ships_bytecode_and_a_matching_record(vendored, tmp_path):
    wheel = vendor.load_manifest()["wheels"][0]
    source = tmp_path / wheel["file_name"]
    source.write_bytes(original_wheel(wheel))
    names = pruned_names(source, prune.numpy_keeps, tmp_path)
    count = len([n for n in names if n.endswith(".pyc")])
    entries = check_precompiled(vendored / "pyodide" / wheel["file_name"], source_count=count)
    assert list(entries) == names
    assert {"numpy/__init__.pyc", "numpy/_core/multiarray.pyc", "numpy/linalg/linalg.pyc"} <= set(
        entries
    )
    record = entries["numpy-2.0.2.dist-info/RECORD"].decode()
    rows = {row[0]: row[1:] for row in csv.reader(io.StringIO(record)) if row}
    for name, data in entries.items():
        if name.endswith("RECORD") or name.endswith("/"):
            continue
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        assert rows[name] == [f"sha256={digest}", str(len(data))], name
    assert not [n for n in rows if n.endswith(".py")]


def test_vendored_lock_has_the_precompiled_wheel_sha256(vendored, lock, vendored_lock):
    vendored_lock = json.loads(json.dumps(vendored_lock))  # the fixture is shared: edit a copy
    for wheel in vendor.load_manifest()["wheels"]:
        path = vendored / "pyodide" / wheel["file_name"]
        entry = vendored_lock["packages"][wheel["name"]]
        assert entry["file_name"] == wheel["file_name"]
        assert entry["sha256"] == vendor.sha256_file(path) != wheel["sha256"]
        vendored_lock["packages"][wheel["name"]] = lock["packages"][wheel["name"]]
    # Nothing else changed, but only the vendored packages are listed.
    names = {wheel["name"] for wheel in vendor.load_manifest()["wheels"]}
    assert vendored_lock == {**lock, "packages": {n: lock["packages"][n] for n in names}}


def test_pruned_archives_are_smaller_and_hold_what_the_app_imports(vendored):
    stamp = json.loads((vendored / vendor.STAMP_NAME).read_text())
    modules = prune.app_modules()
    assert len(modules["stdlib"]) > 100 and len(modules["numpy"]) > 50
    folder = vendored / "pyodide"
    stdlib, numpy_wheel = vendor.STDLIB_ZIP, vendor.load_manifest()["wheels"][0]["file_name"]
    for name, section in ((stdlib, "stdlib"), (numpy_wheel, "numpy")):
        report = stamp["pruned"][name]
        assert report["bytes_after"] < 0.6 * report["bytes_before"], name
        assert prune.missing_modules(folder / name, modules[section]) == [], name
    # GitHub Pages sends .zip/.whl as stored: these sizes are first-visit bytes.
    assert (folder / stdlib).stat().st_size < 2_300_000
    assert (folder / numpy_wheel).stat().st_size < 2_150_000

    with zipfile.ZipFile(folder / stdlib) as archive:
        names = set(archive.namelist())
    # Pyodide's package loader needs these to install a wheel.
    for kept in ("email/__init__", "tarfile", "zipfile/__init__", "importlib/metadata/__init__"):
        assert f"{kept}.pyc" in names
    for dropped in (
        "unittest/__init__",
        "xml/__init__",
        "http/__init__",
        "pydoc",
        "encodings/cp1251",
    ):
        assert f"{dropped}.pyc" not in names

    with zipfile.ZipFile(folder / numpy_wheel) as archive:
        names = set(archive.namelist())
    assert "numpy/_core/_multiarray_tests.cpython-312-wasm32-emscripten.so" in names
    assert not [n for n in names if n.endswith((".pyi", ".pxd", ".a", ".h"))]
    for dropped in (
        "random",
        "fft",
        "f2py",
        "polynomial",
        "testing",
        "typing",
        "_core/include",
    ):
        assert not [n for n in names if n.startswith(f"numpy/{dropped}/")], dropped
    assert not [n for n in names if "_umath_tests" in n or "lapack_lite" in n]


def test_prune_archive_drops_entries_and_record_rows_deterministically(tmp_path):
    src = tmp_path / "pkg-1.0-py3-none-any.whl"
    files = {
        "pkg/__init__.py": b"x = 1\n",
        "pkg/tests/test_x.py": b"assert True\n",
        "pkg/x.pyi": b"x: int\n",
    }
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("pkg/", b"")
        archive.writestr("pkg/tests/", b"")
        for name, data in files.items():
            archive.writestr(name, data)
        rows = "".join(f"{name},sha256=x,{len(data)}\n" for name, data in files.items())
        archive.writestr("pkg-1.0.dist-info/RECORD", rows + "pkg-1.0.dist-info/RECORD,,\n")

    def keeps(name: str) -> bool:
        return not (name.startswith("pkg/tests/") or name.endswith(".pyi"))

    report = prune.prune_archive(src, tmp_path / "a.whl", keeps)
    prune.prune_archive(src, tmp_path / "b.whl", keeps)
    assert (tmp_path / "a.whl").read_bytes() == (tmp_path / "b.whl").read_bytes()
    assert report["entries_before"] == 6 and report["entries_after"] == 3
    with zipfile.ZipFile(tmp_path / "a.whl") as archive:
        assert archive.namelist() == ["pkg/", "pkg/__init__.py", "pkg-1.0.dist-info/RECORD"]
        record = archive.read("pkg-1.0.dist-info/RECORD").decode()
    assert record == "pkg/__init__.py,sha256=x,6\npkg-1.0.dist-info/RECORD,,\n"


def test_a_module_lost_by_pruning_stops_vendoring(tmp_path):
    npm_zip = ROOT / "node_modules" / "pyodide" / "python_stdlib.zip"
    out = tmp_path / "python_stdlib.zip"
    prune.prune_archive(
        npm_zip, out, lambda name: prune.stdlib_keeps(name) and "email/" not in name
    )
    with pytest.raises(
        vendor.VendorError, match=r"lost modules the app imports: email,.*prune\.py"
    ):
        vendor.check_app_modules(out, prune.app_modules()["stdlib"], "pruning")


# Run by the vendored Pyodide under Node: import every module the pruned archives hold, then
# preprocess drawings with site/preprocess.py and use numpy the ways site/*.py may.
IN_PYODIDE = """
import base64, glob, importlib, json, sys, types, zipfile
import numpy as np

SITE = "/lib/python3.12/site-packages/"
names = zipfile.ZipFile("/lib/python312.zip").namelist()
names += [p[len(SITE):] for p in glob.glob(SITE + "numpy/**/*", recursive=True)]
modules = set()
for name in names:
    stem = name.split(".cpython-")[0] if ".cpython-" in name else name.rpartition(".")[0]
    if name.endswith((".py", ".pyc", ".so")) and "-" not in stem:
        modules.add(stem.replace("/", ".").removesuffix(".__init__"))
failed = {}
for module in sorted(modules):
    try:
        importlib.import_module(module)
    except BaseException as error:
        failed[module] = f"{type(error).__name__}: {error}"

preprocess = sys.modules["preprocess"] = types.ModuleType("preprocess")
exec(compile(PREPROCESS, "preprocess.py", "exec"), preprocess.__dict__)
images = []
for data, shape in DRAWINGS:
    rgba = np.frombuffer(base64.b64decode(data), np.uint8).reshape(shape)
    images.append(preprocess.describe(rgba).image.tolist())
a = np.array([[3.0, 1.0], [1.0, 2.0]])
numeric = {
    "solve": np.linalg.solve(a, [9.0, 8.0]).tolist(),
    "norm": float(np.linalg.norm(a)),
    "einsum": np.einsum("ij,j->i", a, [1.0, 1.0]).tolist(),
    "median": float(np.median([3, 1, 2])),
    "pad": np.pad(np.ones((1, 1)), 1).sum().item(),
}
a = np.arange(12, dtype=np.float32).reshape(3, 4)
for call in CALLS:  # numpy the ways site/*.py use it (some load modules lazily, like np.median)
    try:
        eval(call)
    except BaseException as error:
        failed[call] = f"{type(error).__name__}: {error}"
json.dumps({"modules": len(modules), "failed": failed, "images": images, "numeric": numeric})
"""


# numpy functions used by site/*.py (and segment/learn/verdict/look_inside on main), beyond the
# ones `import numpy` already loaded: a call that needs a pruned module fails here, not in a user's
# browser.
NUMPY_CALLS = [
    "np.median(a)",
    "np.ptp(a)",
    "np.unique([3, 1, 3])",
    "np.isin([1, 2], [2])",
    "np.interp(1.5, [1, 2], [10, 20])",
    "np.convolve([1, 2], [1, 1])",
    "np.delete([1, 2], 1)",
    "np.nan_to_num([np.nan])",
    "np.linalg.norm(a)",
    "np.mgrid[0:2, 0:2]",
    "np.meshgrid([1, 2], [1, 2])",
    "np.searchsorted([1, 3], 2)",
    "np.take_along_axis(a, np.argsort(a, 1), 1)",
    "np.cumsum(a)",
    "np.diff(a)",
    "np.hypot(3, 4)",
    "np.rint(a)",
    "np.round(a, 1)",
    "np.tile(a, 2)",
    "np.eye(2)",
    "np.atleast_2d(1)",
    "np.vstack([a, a])",
    "np.stack([a, a])",
    "np.mean(a)",
    "np.where(a > 5, 1, 0)",
    "np.log(a + 1)",
    "np.prod(a)",
    "np.append(a, 1)",
    "np.repeat(a, 2)",
    "np.linspace(0, 1, 3)",
    "np.minimum.at(a, [0], 1)",
    "np.maximum.reduce(a)",
    "np.pad(a, 1)",
    "np.einsum('ij->j', a)",
    "np.isfinite(a).all()",
]


def test_vendored_pyodide_imports_all_it_holds_and_preprocesses_like_cpython(vendored, tmp_path):
    """The pruned, precompiled archives under the real vendored Pyodide (Node): nothing left in
    them fails to import, numpy installs through the vendored lock (sha256 checked), and the
    app's preprocessing gives CPython's result."""
    paths = place(digit_paths(5, "hand"), 280, 0.6, (140, 140))
    transparent = render_rgba(paths, 280, 14.0)  # ink in alpha, as the canvas gives it
    opaque = np.full_like(transparent, 255)  # dark ink on white: the median-background path
    opaque[..., :3] = 255 - transparent[..., 3:]
    drawings = [transparent, opaque]
    encoded = [(base64.b64encode(d.tobytes()).decode(), list(d.shape)) for d in drawings]
    script = tmp_path / "check.py"
    source = (ROOT / "site" / "preprocess.py").read_text()
    script.write_text(
        f"PREPROCESS = {source!r}\nDRAWINGS = {encoded!r}\nCALLS = {NUMPY_CALLS!r}\n{IN_PYODIDE}"
    )
    report = run_in_pyodide(vendored, script)
    assert report["modules"] > 300
    assert report["failed"] == {}
    for drawing, image in zip(drawings, report["images"], strict=True):
        expected = preprocess.describe(drawing).image
        np.testing.assert_allclose(np.asarray(image, np.float32), expected, atol=1e-6)
    numeric = report["numeric"]
    assert numeric["solve"] == pytest.approx([2.0, 3.0])
    assert numeric["norm"] == pytest.approx(float(np.linalg.norm([[3, 1], [1, 2]])))
    assert (numeric["einsum"], numeric["median"], numeric["pad"]) == ([4.0, 3.0], 2.0, 1.0)


def test_py_compile_script_compiles_keeps_broken_source_and_rewrites_record(tmp_path):
    """runtime/py_compile.mjs under Node, on a tiny wheel (twice in one job: same bytes)."""
    src = tmp_path / "pkg-1.0-py3-none-any.whl"
    files = {
        "pkg/__init__.py": b"from .mod import f\n",
        "pkg/mod.py": b"# -*- coding: latin-1 -*-\ndef f():\n    return '\xe9'\n",
        "pkg/broken.py": b"def (:\n",
        "pkg/data.txt": b"not python\n",
    }
    record = "".join(f"{name},sha256=x,{len(data)}\n" for name, data in files.items())
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr("pkg-1.0.dist-info/RECORD", record + "pkg-1.0.dist-info/RECORD,,\n")
    prefix = "/lib/python3.12/site-packages/"
    jobs = [
        {"src": str(src), "dst": str(tmp_path / f"out{i}.whl"), "prefix": prefix} for i in (1, 2)
    ]
    report = vendor.run_py_compile(ROOT, ROOT / "node_modules", jobs, log=lambda msg: None)

    assert report["python"] == "3.12.7" and bytes.fromhex(report["magic"]) == PY312_MAGIC
    assert report["archives"][0]["compiled"] == 2
    assert [k.split(":")[0] for k in report["archives"][0]["kept_source"]] == ["pkg/broken.py"]
    out = tmp_path / "out1.whl"
    assert out.read_bytes() == (tmp_path / "out2.whl").read_bytes()
    assert vendor.check_compiled(out, PY312_MAGIC) == 2
    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == [
            "pkg/__init__.pyc",
            "pkg/mod.pyc",
            "pkg/broken.py",
            "pkg/data.txt",
            "pkg-1.0.dist-info/RECORD",
        ]
        assert archive.read("pkg/data.txt") == files["pkg/data.txt"]
        pyc = archive.read("pkg/mod.pyc")
        assert prefix.encode() + b"pkg/mod.py" in pyc  # co_filename: where it lives in the browser
        record_out = archive.read("pkg-1.0.dist-info/RECORD").decode()
    assert "pkg/mod.pyc,sha256=" in record_out and "pkg/mod.py," not in record_out
    assert "pkg/broken.py,sha256=x" in record_out


def test_py_compile_failure_stops_vendoring(tmp_path):
    jobs = [{"src": str(tmp_path / "missing.zip"), "dst": str(tmp_path / "o.zip"), "prefix": "/"}]
    with pytest.raises(vendor.VendorError, match=r"py_compile\.mjs failed.*rerun"):
        vendor.run_py_compile(ROOT, ROOT / "node_modules", jobs, log=lambda msg: None)


def test_check_compiled_refuses_wrong_magic_and_leftover_source(tmp_path):
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("a.pyc", b"\x00\x00\r\n" + UNCHECKED_HASH_FLAGS + b"\0" * 8)
    with pytest.raises(vendor.VendorError, match="not an unchecked-hash pyc"):
        vendor.check_compiled(bad, PY312_MAGIC)
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("a.pyc", PY312_MAGIC + UNCHECKED_HASH_FLAGS + b"\0" * 8)
        archive.writestr("a.py", b"")
    with pytest.raises(vendor.VendorError, match="kept beside"):
        vendor.check_compiled(bad, PY312_MAGIC)


def test_pyscript_chunks_are_all_present(vendored):
    """Every static import in the vendored PyScript bundle resolves to a vendored file; dynamic
    imports that do not are the on-use chunks (editor, terminal, zip) left out on purpose."""
    folder = vendored / "pyscript"
    stamp = json.loads((vendored / vendor.STAMP_NAME).read_text())
    left_out = set(stamp["pyscript_left_out"])
    assert {n for n in left_out if n.startswith(("codemirror", "xterm", "zip-"))}
    for js in folder.glob("*.js"):
        text = js.read_text()
        for target in vendor.STATIC_IMPORT.findall(text):
            assert (folder / target).is_file(), f"{js.name} imports missing {target}"
        for target in vendor.DYNAMIC_IMPORT.findall(text):
            assert (folder / target).is_file() or target[2:] in left_out, f"{js.name}: {target}"
    assert not [n for n in left_out if (folder / n).exists()]
    assert (folder / "core.js").is_file() and (folder / "core.css").is_file()


def test_unused_pyscript_chunks_refuses_a_static_import_of_one(tmp_path):
    (tmp_path / "core.js").write_text('export{a}from"./core-AAAAAAAA.js";')
    (tmp_path / "core-AAAAAAAA.js").write_text('const e=()=>import("./py-editor-BBBBBBBB.js");')
    (tmp_path / "py-editor-BBBBBBBB.js").write_text(
        'const c=()=>import("./codemirror-CCCCCCCC.js");'
    )
    (tmp_path / "codemirror-CCCCCCCC.js").write_text('import{x}from"./index-DDDDDDDD.js";')
    (tmp_path / "index-DDDDDDDD.js").write_text("export const x=1;")
    unused = vendor.unused_pyscript_chunks(tmp_path)
    assert unused == {"codemirror-CCCCCCCC.js", "index-DDDDDDDD.js"}
    (tmp_path / "core-AAAAAAAA.js").write_text('import{x}from"./codemirror-CCCCCCCC.js";')
    with pytest.raises(vendor.VendorError, match="core-AAAAAAAA.js imports codemirror-CCCCCCCC"):
        vendor.unused_pyscript_chunks(tmp_path)


def test_ort_module_loads_only_the_vendored_wasm_build(vendored):
    text = (vendored / "ort" / "ort.wasm.min.mjs").read_text()
    # The only glue module it can import is the plain build's (not .jsep/.jspi/.asyncify).
    assert set(re.findall(r"ort-wasm-simd-threaded[\w.]*\.mjs", text)) == {
        "ort-wasm-simd-threaded.mjs"
    }
    glue = (vendored / "ort" / "ort-wasm-simd-threaded.mjs").read_text()
    assert "ort-wasm-simd-threaded.wasm" in glue


def test_shim_reexports_loader_and_adds_jsnull(vendored):
    shim = (vendored / "pyodide" / "pyodide-shim.mjs").read_text()
    assert 'from "./pyodide.mjs"' in shim
    assert "export { version }" in shim
    assert "export async function loadPyodide" in shim
    assert "jsnull = None" in shim


def test_corrupted_wheel_copy_is_refused(vendored, vendored_lock, tmp_path):
    manifest = vendor.load_manifest()
    for wheel in manifest["wheels"]:
        shutil.copy(vendored / "pyodide" / wheel["file_name"], tmp_path)
    lock = vendored_lock  # the vendored wheels are the precompiled ones
    vendor.verify_wheels(tmp_path, manifest, lock)  # intact copies pass

    numpy = tmp_path / next(w["file_name"] for w in manifest["wheels"] if w["name"] == "numpy")
    data = bytearray(numpy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    numpy.write_bytes(bytes(data))
    with pytest.raises(vendor.VendorError, match=r"sha256 mismatch for numpy-2\.0\.2.*rerun"):
        vendor.verify_wheels(tmp_path, manifest, lock)

    numpy.unlink()
    with pytest.raises(vendor.VendorError, match="numpy-2.0.2.* is missing"):
        vendor.verify_wheels(tmp_path, manifest, lock)


def make_project(tmp_path: Path, corrupt: str | None, monkeypatch) -> Path:
    """A throwaway project root whose wheel source is a zip we build (optionally corrupted)."""
    project = tmp_path / "project"
    (project / "runtime").mkdir(parents=True)
    (project / "site").mkdir()
    for rel in (
        "package.json",
        "package-lock.json",
        *(f"runtime/{name}" for name in vendor.RUNTIME_MODULES),
        "runtime/app_modules.txt",
        vendor.PY_COMPILE_SCRIPT,
    ):
        shutil.copy(ROOT / rel, project / rel)
    (project / "node_modules").symlink_to(ROOT / "node_modules")

    manifest = vendor.load_manifest()
    source = tmp_path / "cache" / manifest["source"]["file"]
    source.parent.mkdir()
    with zipfile.ZipFile(source, "w") as archive:
        for wheel in manifest["wheels"]:
            data = original_wheel(wheel)
            if wheel["name"] == corrupt:
                data = data[:-100]  # truncated download
            archive.writestr(manifest["source"]["prefix"] + wheel["file_name"], data)
    manifest["source"]["sha256"] = hashlib.sha256(source.read_bytes()).hexdigest()
    (project / "runtime" / "wheels.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("MNIST_DRAW_CACHE", str(source.parent))
    return project


def test_vendor_stops_on_a_corrupt_wheel_in_the_source(vendored, tmp_path, monkeypatch):
    project = make_project(tmp_path, corrupt="numpy", monkeypatch=monkeypatch)
    with pytest.raises(vendor.VendorError, match="sha256 mismatch for numpy"):
        vendor.ensure_vendored(project, quiet=True)
    assert not (project / "site" / "vendor" / vendor.STAMP_NAME).exists()
    assert not vendor.is_vendored(project)


def test_vendor_end_to_end_then_instant_rerun(vendored, tmp_path, monkeypatch):
    project = make_project(tmp_path, corrupt=None, monkeypatch=monkeypatch)
    assert vendor.ensure_vendored(project, quiet=True) is True
    assert vendor.is_vendored(project)

    started = time.monotonic()
    assert vendor.ensure_vendored(project, quiet=True) is False
    assert time.monotonic() - started < 0.5

    # A deleted or truncated file makes the folder incomplete again.
    (project / "site" / "vendor" / "ort" / "ort.wasm.min.mjs").write_text("truncated")
    assert not vendor.is_vendored(project)


def test_source_download_with_wrong_hash_is_refused(vendored, tmp_path, monkeypatch):
    project = make_project(tmp_path, corrupt=None, monkeypatch=monkeypatch)
    manifest = json.loads((project / "runtime" / "wheels.json").read_text())
    manifest["source"]["sha256"] = "0" * 64
    (project / "runtime" / "wheels.json").write_text(json.dumps(manifest))
    with pytest.raises(vendor.VendorError, match="delete that file and rerun"):
        vendor.ensure_vendored(project, quiet=True)


def test_missing_npm_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(vendor.shutil, "which", lambda name: None)
    with pytest.raises(vendor.VendorError, match="npm was not found"):
        vendor.npm_ci(tmp_path, log=lambda msg: None)


def test_main_prints_one_message_and_exits_nonzero(monkeypatch, capsys):
    def fail(**kwargs):
        raise vendor.VendorError("sha256 mismatch for x.whl: ... rerun `python vendor.py`.")

    monkeypatch.setattr(vendor, "ensure_vendored", fail)
    assert vendor.main([]) == 1
    err = capsys.readouterr().err
    assert err.startswith("vendor.py: error: sha256 mismatch") and "Traceback" not in err


def test_snapshot_key_changes_with_every_input_of_a_snapshot(tmp_path):
    """A browser-made Pyodide snapshot is keyed by this: any input changed -> a new key."""
    for name in vendor.SNAPSHOT_INPUTS:
        (tmp_path / name).write_bytes(name.encode())
    (tmp_path / "numpy-2.0.2-x.whl").write_bytes(b"wheel")
    (tmp_path / "unrelated.txt").write_bytes(b"x")

    def key() -> str:
        return json.loads(vendor.write_snapshot_key(tmp_path).read_text())["key"]

    first = key()
    assert key() == first
    (tmp_path / "unrelated.txt").write_bytes(b"y")
    assert key() == first
    seen = {first}
    for name in [*vendor.SNAPSHOT_INPUTS, "numpy-2.0.2-x.whl"]:
        (tmp_path / name).write_bytes(b"changed " + name.encode())
        seen.add(key())
    assert len(seen) == len(vendor.SNAPSHOT_INPUTS) + 2
