"""Lock files of an output folder: one batch at a time, stale locks taken over, never two winners.

A lock is a small JSON file (``pid``, ``host``, ``started``, ``command``, ``proc_start``) created
with ``O_CREAT | O_EXCL`` and held with ``fcntl.flock`` for as long as the holder lives. The kernel
drops the ``flock`` when the holder dies, even by ``kill -9``, so:

- the file exists and its ``flock`` is held → another process holds the lock
  (:class:`~ksz_reports.core.errors.LockedError`, exit code 3, naming pid, host and start time);
- the file exists, its ``flock`` is free, and it names a process of *this* host that is gone
  (pid dead, or the pid now belongs to a younger process) → the lock is stale: it is taken over
  in place, with a warning;
- the file names *another* host → nobody here can tell whether that process still runs (``flock``
  across NFS/SMB is not reliable everywhere), so it counts as held and the message says how to
  remove it by hand.

Taking a lock over rewrites the same file while holding its ``flock``, and every acquisition
checks afterwards that the path still names the inode it locked, so two processes racing for a
stale lock cannot both win. Release unlinks the file while still holding the ``flock``.

``BatchLock`` is a context manager; it is released on return, on any exception, and (when the
caller turns SIGTERM into an exception or a graceful stop, as :mod:`ksz_reports.batch.run` does) on
SIGTERM. A process killed with SIGKILL leaves a stale file that the next run takes over.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ksz_reports.core.errors import LockedError

log = logging.getLogger(__name__)

#: An empty or unreadable lock file younger than this may still be being written by its creator.
EMPTY_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class LockInfo:
    """Who holds (or held) a lock."""

    pid: int | None
    host: str
    started: str
    command: str
    proc_start: str | None = None

    @classmethod
    def current(cls, command: str | None = None) -> LockInfo:
        """The info of this process."""
        return cls(
            pid=os.getpid(),
            host=socket.gethostname(),
            started=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            command=command if command is not None else " ".join(sys.argv),
            proc_start=_process_start(os.getpid()),
        )

    @classmethod
    def parse(cls, text: str) -> LockInfo | None:
        """The info in a lock file's text; None when it is empty or not ours."""
        try:
            data = json.loads(text)
            pid = data.get("pid")
            return cls(
                pid=int(pid) if pid is not None else None,
                host=str(data.get("host", "")),
                started=str(data.get("started", "")),
                command=str(data.get("command", "")),
                proc_start=data.get("proc_start"),
            )
        except (ValueError, TypeError, AttributeError):
            return None

    def to_json(self) -> str:
        """The lock file's content."""
        return (
            json.dumps(
                {
                    "pid": self.pid,
                    "host": self.host,
                    "started": self.started,
                    "command": self.command,
                    "proc_start": self.proc_start,
                },
                indent=1,
            )
            + "\n"
        )

    def describe(self) -> str:
        """``pid 123 on host h since 2026-11-25T03:04:05+01:00 (ksz-reports batch …)``."""
        text = f"pid {self.pid} on host {self.host or '?'} since {self.started or '?'}"
        if self.command:
            cmd = self.command if len(self.command) <= 120 else self.command[:117] + "..."
            text += f" ({cmd})"
        return text

    @property
    def local(self) -> bool:
        """Whether the holder ran on this host."""
        return self.host == socket.gethostname()


def _process_start(pid: int) -> str | None:
    """Start time of ``pid`` in clock ticks since boot (Linux ``/proc``), to detect pid reuse."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            stat = fh.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def pid_alive(pid: int | None, proc_start: str | None = None) -> bool:
    """Whether process ``pid`` of this host is alive and (if known) is the one started then."""
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, belongs to another user
    if proc_start is not None:
        now = _process_start(pid)
        if now is not None and now != proc_start:
            return False  # the pid was reused by another process
    # A zombie (killed, not yet reaped) holds no lock any more.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            state = fh.read().rsplit(")", 1)[-1].split()[0]
        if state in ("Z", "X"):
            return False
    except (OSError, IndexError):
        pass
    return True


def _same_inode(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (st.st_ino, st.st_dev) == (own.st_ino, own.st_dev)


def _read_fd(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", errors="replace")


def _write_fd(fd: int, text: str) -> None:
    os.lseek(fd, 0, os.SEEK_SET)
    os.ftruncate(fd, 0)
    data = text.encode("utf-8")
    while data:
        n = os.write(fd, data)
        data = data[n:]
    with contextlib.suppress(OSError):
        os.fsync(fd)


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def _retry_flock(fd: int, seconds: float = 1.0) -> bool:
    deadline = time.monotonic() + seconds
    while not _try_flock(fd):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


def _locked_message(path: Path, info: LockInfo | None, what: str) -> str:
    holder = info.describe() if info is not None else "a process that is still writing the lock"
    text = f"{what} {path.parent} is locked by {holder} (lock file {path})"
    if info is not None and not info.local:
        text += (
            "; it runs on another host, so it cannot be checked from here: if no batch runs "
            f"there any more, delete {path}"
        )
    else:
        text += "; wait for it to finish"
    return text


class BatchLock:
    """An exclusive lock on ``path`` (see the module docstring).

    ``with BatchLock(out / ".lock", command="ksz-reports batch …"):`` raises
    :class:`~ksz_reports.core.errors.LockedError` when another live process holds it. ``wait`` (seconds)
    polls for that long before giving up; ``warn`` receives the one-line warning of a takeover.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        command: str | None = None,
        wait: float = 0.0,
        poll: float = 0.2,
        warn: Callable[[str], None] | None = None,
        what: str = "the output folder",
        stale_after: float | None = None,
    ):
        self.path = Path(path)
        self.stale_after = stale_after
        self.command = command
        self.wait = wait
        self.poll = poll
        self.warn = warn or log.warning
        self.what = what
        self.info: LockInfo | None = None
        self._fd: int | None = None

    # -- public ------------------------------------------------------------------------------

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._fd is not None

    def acquire(self) -> BatchLock:
        """Take the lock, waiting up to ``self.wait`` seconds; LockedError when it stays held."""
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this object")
        deadline = time.monotonic() + self.wait
        while True:
            holder = self._attempt()
            if holder is None:
                return self
            if time.monotonic() >= deadline:
                raise LockedError(_locked_message(self.path, holder[0], self.what))
            time.sleep(self.poll)

    def release(self) -> None:
        """Give the lock back: unlink the file while still holding its ``flock``, then close."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if _same_inode(fd, self.path):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path)
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> BatchLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    # -- internals ---------------------------------------------------------------------------

    def _expired(self, fd: int) -> bool:
        """A lock of another host older than ``stale_after`` (for short-lived locks only)."""
        if self.stale_after is None:
            return False
        return time.time() - os.fstat(fd).st_mtime > self.stale_after

    def _attempt(self) -> tuple[LockInfo | None] | None:
        """One try. None when acquired; ``(holder,)`` when someone else holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        mine = LockInfo.current(self.command)
        for _ in range(20):  # the file may vanish or be replaced between our calls: retry
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                pass
            else:
                # Only a prober that opened the new file in the meantime can hold its flock,
                # and only for an instant.
                if not _retry_flock(fd):
                    os.close(fd)
                    continue
                if not _same_inode(fd, self.path):
                    os.close(fd)
                    continue
                _write_fd(fd, mine.to_json())
                self._fd, self.info = fd, mine
                return None
            try:
                fd = os.open(self.path, os.O_RDWR)
            except FileNotFoundError:
                continue  # released meanwhile: create it
            keep = False
            try:
                if not _try_flock(fd):
                    holder = LockInfo.parse(_read_fd(fd))
                    if (
                        holder is not None
                        and holder.local
                        and not pid_alive(holder.pid, holder.proc_start)
                    ):
                        time.sleep(0.05)  # a dead holder's file, briefly probed by someone
                        continue
                    return (holder,)
                if not _same_inode(fd, self.path):
                    continue  # we locked an inode its holder just unlinked
                text = _read_fd(fd)
                holder = LockInfo.parse(text)
                if holder is None:
                    age = time.time() - os.fstat(fd).st_mtime
                    if age < EMPTY_GRACE_SECONDS:
                        return (None,)
                    self.warn(f"taking over the unreadable lock {self.path} ({age:.0f} s old)")
                elif not holder.local and self._expired(fd):
                    self.warn(
                        f"taking over the lock {self.path} of {holder.describe()}: older than "
                        f"{self.stale_after:.0f} s, longer than that lock is ever held"
                    )
                elif not holder.local or pid_alive(holder.pid, holder.proc_start):
                    # Another host: cannot be checked. Same host and alive: a filesystem whose
                    # flock does not work (or a lock held by a forked child): respect it.
                    return (holder,)
                else:
                    self.warn(
                        f"taking over the stale lock {self.path}: {holder.describe()} is no "
                        "longer running"
                    )
                _write_fd(fd, mine.to_json())
                self._fd, self.info = fd, mine
                keep = True
                return None
            finally:
                if not keep:
                    with contextlib.suppress(OSError):
                        fcntl.flock(fd, fcntl.LOCK_UN)
                    os.close(fd)
        raise LockedError(f"could not take the lock {self.path}: it keeps changing")


def probe(path: str | Path) -> LockInfo | None:
    """Who holds the lock ``path`` now, without taking it: None when it is free or stale.

    A lock of another host whose ``flock`` is free counts as held (it cannot be checked from here).
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        # flock works on a read-only descriptor too.
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                info = LockInfo.parse(_read_fd(fd))
                return info or LockInfo(None, "", "", "")
            raise
        if not _same_inode(fd, path):
            return None
        text = _read_fd(fd)
        info = LockInfo.parse(text)
        if info is None:
            age = time.time() - os.fstat(fd).st_mtime
            return LockInfo(None, "", "", "") if age < EMPTY_GRACE_SECONDS else None
        if not info.local or pid_alive(info.pid, info.proc_start):
            return info
        return None
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def locked_error(path: str | Path, info: LockInfo, what: str = "the output folder") -> LockedError:
    """The LockedError naming the holder ``info`` of ``path``."""
    return LockedError(_locked_message(Path(path), info, what))


__all__ = ["BatchLock", "LockInfo", "probe", "pid_alive", "locked_error"]
