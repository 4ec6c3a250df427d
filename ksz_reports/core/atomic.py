"""Atomic outputs: a failed or killed run never leaves a half-written file and never destroys the
previous good output.

Everything is written to a temporary name in the destination folder, flushed, fsync'ed and then
renamed over the destination (``os.replace`` is atomic on POSIX within one file system).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_path(destination: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``destination``; on success rename it over ``destination``.

    On an exception the temporary file is removed and ``destination`` is untouched.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{destination.name}.", suffix=suffix + ".tmp", dir=destination.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; an output is as readable as any
    try:
        yield tmp_path
        with contextlib.suppress(OSError), open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, destination)
        _fsync_dir(destination.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def write_bytes(destination: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``destination`` atomically."""
    with atomic_path(destination) as tmp:
        tmp.write_bytes(data)
    return Path(destination)


def write_text(destination: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``destination`` atomically (``\\n`` line ends)."""
    return write_bytes(destination, text.encode(encoding))


@contextlib.contextmanager
def atomic_dir(destination: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``destination``; on success swap it in place of ``destination``.

    The previous ``destination`` (if any) is kept until the new one is complete, then removed.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(
        tempfile.mkdtemp(prefix=f".{destination.name}.", suffix=".tmp", dir=destination.parent)
    )
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; a published folder is as readable as any
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if destination.exists():
        old = destination.with_name(f".{destination.name}.old-{os.getpid()}")
        os.replace(destination, old)
    os.replace(tmp, destination)
    _fsync_dir(destination.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
