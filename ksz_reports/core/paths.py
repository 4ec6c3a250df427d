"""Paths given on the command line, checked before a command starts: one line each.

A missing path, a folder where a file is wanted (or the reverse), a symbolic link loop, a
dangling link, a named pipe (FIFO) or device, or a path that cannot be read is refused with one
:class:`~ksz_reports.core.errors.InputError` line naming the path (escaped) and the option, exit
2 — not click's three-line usage error ("does not exist" is said only of what does not exist).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ksz_reports.core.errors import InputError


def _fail(path: Path, what: str, hint: str, code: str) -> InputError:
    return InputError(what, file=os.fsdecode(path), hint=hint, code=code)


def _stat(path: Path, what: str, missing_ok: bool) -> os.stat_result | None:
    """``os.stat(path)``, or None when it does not exist (and ``missing_ok``); else one line."""
    try:
        return os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _fail(
                path,
                "a symbolic link loop (too many levels of symbolic links)",
                f"Point the link at the {what} itself",
                "bad-path",
            ) from None
        if exc.errno == errno.ENOENT:
            if os.path.islink(path):
                target = os.fsdecode(os.readlink(path))
                raise _fail(
                    path,
                    f"a symbolic link to {target!r}, which does not exist",
                    f"Point the link at an existing {what}",
                    "bad-path",
                ) from None
            if missing_ok:
                return None
            raise _fail(path, "does not exist", f"Give an existing {what}", "not-found") from None
        if exc.errno == errno.ENOTDIR:
            raise _fail(
                path,
                "a part of the path is a file, not a folder",
                f"Give the path of a {what}",
                "bad-path",
            ) from None
        if exc.errno == errno.EACCES:
            raise _fail(
                path,
                "cannot be reached: permission denied on a folder of the path",
                "Check the permissions",
                "unreadable",
            ) from None
        raise _fail(
            path, f"cannot be read ({exc.strerror})", "Check the path", "unreadable"
        ) from None


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def check_input_file(path: Path) -> Path:
    """An existing, readable regular file (a link to one is fine)."""
    st = _stat(path, "file", missing_ok=False)
    if stat.S_ISDIR(st.st_mode):
        raise _fail(path, "a folder, not a file", "Give the path of a file", "bad-path")
    if not stat.S_ISREG(st.st_mode):
        raise _fail(
            path,
            f"{_kind(st.st_mode)}, not a regular file",
            "Copy the data to a regular file first and give that",
            "bad-path",
        )
    _readable(path, lambda: open(path, "rb"))  # noqa: SIM115 - closed by _readable
    return path


def check_input_folder(path: Path) -> Path:
    """An existing folder whose entries can be listed."""
    _folder(path, _stat(path, "folder", missing_ok=False))
    _readable(path, lambda: os.scandir(path))
    return path


def check_output_folder(path: Path) -> Path:
    """A folder to write to: missing (it is created) or a folder; never a file, a loop, a pipe."""
    st = _stat(path, "folder", missing_ok=True)
    if st is not None:
        _folder(path, st)
    return path


def _folder(path: Path, st: os.stat_result) -> None:
    """``path`` (with its ``st``) must be a folder: one line saying what it is instead."""
    if not stat.S_ISDIR(st.st_mode):
        what = "a file" if stat.S_ISREG(st.st_mode) else _kind(st.st_mode)
        raise _fail(path, f"{what}, not a folder", "Give the path of a folder", "bad-path")


def _readable(path: Path, opener) -> None:
    """``opener()`` (a context manager on ``path``) must work: one line when it cannot."""
    try:
        with opener():
            pass
    except OSError as exc:
        raise _fail(
            path, f"cannot be read ({exc.strerror})", "Check the permissions", "unreadable"
        ) from None


def check_output_file(path: Path) -> Path:
    """A file to write: missing or a regular file; never a folder, a loop, a pipe."""
    st = _stat(path, "file", missing_ok=True)
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise _fail(path, "a folder, not a file", "Give the path of a file", "bad-path")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise _fail(
            path,
            f"{_kind(st.st_mode)}, not a regular file",
            "Give the path of a regular file",
            "bad-path",
        )
    return path
