"""Atomic outputs: a failed or killed run never leaves a half-written file and never destroys the
previous good output.

Everything is written to a temporary name in the destination folder, flushed, fsync'ed and then
renamed over the destination (``os.replace`` is atomic on POSIX within one file system).
A folder is swapped with Linux ``renameat2(RENAME_EXCHANGE)`` (:func:`exchange`): the old and
the new folder trade names in one step, so a reader never finds the destination missing; where
the kernel or file system lacks it, two renames (the old folder put back if the second fails).
A destination that is a symbolic link is resolved: the link stays, its target is replaced.
An output that cannot be written (read-only, permission, full disk) is one
:class:`~ksz_reports.core.errors.OutputError` line (:func:`output_errors`).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ksz_reports.core.errors import OutputError

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _load_renameat2() -> Any:
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # not glibc >= 2.28, not Linux
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


#: libc's ``renameat2``, or None where there is none (tests set None to try the fallback).
RENAMEAT2 = _load_renameat2()


def exchange(a: str | Path, b: str | Path) -> bool:
    """Swap the names of ``a`` and ``b`` (both exist) atomically: True when done, False when the
    system cannot (no ``renameat2``, or a file system without RENAME_EXCHANGE); OSError else."""
    fn = RENAMEAT2
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


_WRITE_ERRNOS = {getattr(errno, name): name for name in OutputError.HINTS if hasattr(errno, name)}


@contextlib.contextmanager
def output_errors(folder: str | Path) -> Iterator[None]:
    """An OSError of writing (read-only, permission, full disk) under ``folder`` becomes one
    :class:`OutputError` line naming the folder."""
    try:
        yield
    except OSError as exc:
        name = _WRITE_ERRNOS.get(exc.errno)
        if name is None:
            raise
        raise OutputError(
            f"cannot write into this folder: {exc.strerror or os.strerror(exc.errno)}",
            file=folder,
            hint=OutputError.HINTS[name],
        ) from None


def resolved(destination: str | Path) -> Path:
    """``destination`` with a symbolic link resolved (the link stays a link; its target is what
    gets written)."""
    destination = Path(destination)
    return Path(os.path.realpath(destination)) if destination.is_symlink() else destination


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

    On an exception the temporary file is removed and ``destination`` is untouched. A symbolic
    link is resolved (its target is replaced, the link stays).
    """
    destination = resolved(destination)
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

    The previous ``destination`` (if any) is kept until the new one is complete; the two trade
    names in one step (:func:`exchange`), so ``destination`` is never missing, then the old one is
    removed. A symbolic link is resolved (its target is replaced, the link stays). On any failure
    nothing is left beside ``destination`` and the previous one is as it was.
    """
    destination = resolved(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(
        tempfile.mkdtemp(prefix=f".{destination.name}.", suffix=".tmp", dir=destination.parent)
    )
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; published folders are readable
        yield tmp
        old = None
        if destination.is_dir() and exchange(tmp, destination):
            old = tmp  # tmp now holds the previous folder
        elif os.path.lexists(destination):
            old = destination.with_name(f".{destination.name}.old-{os.getpid()}")
            os.replace(destination, old)
            try:
                os.replace(tmp, destination)
            except BaseException:
                os.replace(old, destination)  # the previous one back
                raise
        else:
            os.replace(tmp, destination)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(destination.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
