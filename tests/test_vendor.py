"""vendor.py: pins agree with Pyodide's lock, corrupt wheels are refused, re-runs are instant."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
import zipfile
from pathlib import Path

import pytest

import vendor

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "site" / "vendor"


@pytest.fixture(scope="module")
def vendored() -> Path:
    vendor.ensure_vendored(quiet=True)
    return VENDOR


@pytest.fixture(scope="module")
def lock(vendored) -> dict:
    return vendor.load_lock(ROOT / "node_modules")


def test_manifest_agrees_with_pyodide_lock(lock):
    manifest = vendor.load_manifest()
    assert vendor.check_manifest(manifest, lock) == []
    assert [w["name"] for w in manifest["wheels"]] == ["numpy"]  # all preprocess.py needs


def test_manifest_pyodide_matches_package_json():
    package = json.loads((ROOT / "package.json").read_text())
    assert package["dependencies"] == {
        "@pyscript/core": "0.7.31",
        "onnxruntime-web": "1.30.0",
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
        "onnxruntime-web": "1.30.0",
        "pyodide": "0.27.7",
    }
    vendor.verify_wheels(vendored / "pyodide", vendor.load_manifest(), lock)


def test_pyscript_chunks_are_all_present(vendored):
    """Every relative import in the vendored PyScript bundle resolves to a vendored file."""
    folder = vendored / "pyscript"
    for js in folder.glob("*.js"):
        for target in re.findall(r"""(?:import\(|from)\s*["'](\./[^"']+)["']""", js.read_text()):
            assert (folder / target).is_file(), f"{js.name} imports missing {target}"


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


def test_corrupted_wheel_copy_is_refused(vendored, lock, tmp_path):
    manifest = vendor.load_manifest()
    for wheel in manifest["wheels"]:
        shutil.copy(vendored / "pyodide" / wheel["file_name"], tmp_path)
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
    for rel in ("package.json", "package-lock.json", "runtime/pyodide-shim.mjs"):
        shutil.copy(ROOT / rel, project / rel)
    (project / "node_modules").symlink_to(ROOT / "node_modules")

    manifest = vendor.load_manifest()
    source = tmp_path / "cache" / manifest["source"]["file"]
    source.parent.mkdir()
    with zipfile.ZipFile(source, "w") as archive:
        for wheel in manifest["wheels"]:
            data = (VENDOR / "pyodide" / wheel["file_name"]).read_bytes()
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
