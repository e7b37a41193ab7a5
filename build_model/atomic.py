"""Atomic file writes: a temp file in the target's folder, fsync, then os.replace.

A crash or exception at any point leaves either the old file or the new one — never a torn
file — and the temp file is removed on failure.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

#: Mode of the files we publish (mkstemp would leave 0600).
FILE_MODE = 0o644


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Atomically replace ``path`` with ``data``; return ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: Path, text: str) -> Path:
    """Atomically replace ``path`` with UTF-8 ``text``; return ``path``."""
    return write_bytes_atomic(path, text.encode("utf-8"))
