"""What the numbers were measured on: cores, Chromium, pinned package versions, git commit."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import re
import subprocess

from benchmarks import ROOT


def _git(*args: str) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def _pip_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def info(chromium_version: str) -> dict:
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    npm = {
        name.removeprefix("node_modules/"): entry["version"]
        for name, entry in lock.items()
        if name.count("node_modules/") == 1
        and name.removeprefix("node_modules/") in ("@pyscript/core", "pyodide", "onnxruntime-web")
    }
    wheels = json.loads((ROOT / "runtime" / "wheels.json").read_text())["wheels"]
    return {
        "cores": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),  # other work on the machine skews times
        "platform": platform.platform(),
        "python": platform.python_version(),
        "chromium": chromium_version,
        "npm": npm,
        "pyodide_wheels": {
            w["name"]: re.match(r"[^-]+-([^-]+)-", w["file_name"]).group(1) for w in wheels
        },
        "cpython_packages": {n: _pip_version(n) for n in ("numpy", "playwright", "onnxruntime")},
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }
