"""The output-folder lock: exclusive, names its holder, takes over stale locks, never two winners."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from ksz_reports.core.errors import EXIT_LOCKED, LockedError
from ksz_reports.core.lock import BatchLock, LockInfo, _process_start, pid_alive, probe

ROOT = Path(__file__).resolve().parents[1]

HOLD = textwrap.dedent(
    """
    import sys, time
    from ksz_reports.core.lock import BatchLock
    with BatchLock(sys.argv[1], command="holder-under-test"):
        print("ready", flush=True)
        time.sleep(60)
    """
)


def _holder(path: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _write_info(path: Path, **fields) -> None:
    info = {
        "pid": None,
        "host": socket.gethostname(),
        "started": "2026-01-01T00:00:00+00:00",
        "command": "old batch",
        "proc_start": None,
        **fields,
    }
    path.write_text(json.dumps(info))


def test_lock_file_names_its_holder_and_is_removed_on_release(tmp_path):
    path = tmp_path / ".lock"
    with BatchLock(path, command="ksz-reports batch --all") as lock:
        info = json.loads(path.read_text())
        assert info["pid"] == os.getpid()
        assert info["host"] == socket.gethostname()
        assert info["command"] == "ksz-reports batch --all"
        assert info["started"]
        assert lock.held
    assert not path.exists()
    assert not lock.held


def test_second_lock_is_refused_with_the_holder_named(tmp_path):
    path = tmp_path / ".lock"
    with BatchLock(path, command="first batch"), pytest.raises(LockedError) as err:
        BatchLock(path).acquire()
    text = str(err.value)
    assert f"pid {os.getpid()}" in text
    assert socket.gethostname() in text
    assert "since" in text and "first batch" in text
    assert err.value.exit_code == EXIT_LOCKED == 3


def test_lock_held_by_another_process_then_taken_over_after_kill_9(tmp_path):
    path = tmp_path / ".lock"
    proc = _holder(path)
    try:
        with pytest.raises(LockedError, match=f"pid {proc.pid} "):
            BatchLock(path).acquire()
        assert probe(path) is not None and probe(path).pid == proc.pid
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    warnings: list[str] = []
    assert probe(path) is None  # stale: holder gone
    with BatchLock(path, warn=warnings.append):
        assert json.loads(path.read_text())["pid"] == os.getpid()
    assert len(warnings) == 1 and "stale" in warnings[0] and str(proc.pid) in warnings[0]


def test_stale_lock_of_a_dead_pid_is_taken_over(tmp_path):
    path = tmp_path / ".lock"
    _write_info(path, pid=_dead_pid())
    warnings: list[str] = []
    with BatchLock(path, warn=warnings.append):
        assert json.loads(path.read_text())["pid"] == os.getpid()
    assert warnings and "no longer running" in warnings[0]


def test_reused_pid_does_not_keep_a_lock_alive(tmp_path):
    path = tmp_path / ".lock"
    # Our own pid, but a start time that is not ours: the pid was reused.
    _write_info(path, pid=os.getpid(), proc_start="1")
    assert not pid_alive(os.getpid(), "1")
    with BatchLock(path, warn=lambda _: None):
        pass


def test_live_local_pid_without_flock_is_respected(tmp_path):
    # A filesystem where flock does nothing: the pid check still protects the running batch.
    path = tmp_path / ".lock"
    parent = os.getppid()
    _write_info(path, pid=parent, proc_start=_process_start(parent))
    with pytest.raises(LockedError, match=f"pid {parent} "):
        BatchLock(path).acquire()


def test_lock_of_another_host_is_not_taken_over(tmp_path):
    path = tmp_path / ".lock"
    _write_info(path, pid=_dead_pid(), host="other-machine.example")
    with pytest.raises(LockedError) as err:
        BatchLock(path).acquire()
    assert "other-machine.example" in str(err.value)
    assert "delete" in str(err.value)
    assert probe(path) is not None


def test_empty_lock_file_is_respected_while_young_and_taken_over_when_old(tmp_path):
    path = tmp_path / ".lock"
    path.write_text("")
    with pytest.raises(LockedError, match="still writing"):
        BatchLock(path).acquire()
    old = time.time() - 60
    os.utime(path, (old, old))
    warnings: list[str] = []
    with BatchLock(path, warn=warnings.append):
        pass
    assert warnings and "unreadable" in warnings[0]


def test_released_on_exception(tmp_path):
    path = tmp_path / ".lock"
    with pytest.raises(RuntimeError), BatchLock(path):
        raise RuntimeError("boom")
    assert not path.exists()
    with BatchLock(path):
        pass


def test_wait_polls_until_the_holder_releases(tmp_path):
    path = tmp_path / ".lock"
    first = BatchLock(path).acquire()
    threading.Timer(0.3, first.release).start()
    t0 = time.monotonic()
    with BatchLock(path, wait=10, poll=0.05):
        assert time.monotonic() - t0 < 5


def test_racing_for_a_stale_lock_has_exactly_one_winner(tmp_path):
    path = tmp_path / ".lock"
    _write_info(path, pid=_dead_pid())
    script = textwrap.dedent(
        """
        import sys, time
        from ksz_reports.core.errors import LockedError
        from ksz_reports.core.lock import BatchLock
        time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
        try:
            with BatchLock(sys.argv[1], warn=lambda _: None):
                print("won", flush=True)
                time.sleep(1.0)
        except LockedError:
            print("locked", flush=True)
        """
    )
    start = time.time() + 1.0
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(path), str(start)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for _ in range(6)
    ]
    outputs = [p.communicate(timeout=30)[0].strip() for p in procs]
    assert sorted(outputs) == ["locked"] * 5 + ["won"]
    assert not path.exists()


def test_lock_info_describe_is_one_line():
    info = LockInfo(123, "h", "2026-11-25T03:04:05+01:00", "x" * 500)
    text = info.describe()
    assert "\n" not in text and len(text) < 200
    assert text.startswith("pid 123 on host h since 2026-11-25T03:04:05+01:00")


def test_short_lived_lock_of_another_host_expires(tmp_path):
    path = tmp_path / ".merge.lock"
    _write_info(path, pid=1234, host="crashed-host.example")
    with pytest.raises(LockedError):
        BatchLock(path, stale_after=600).acquire()
    old = time.time() - 3600
    os.utime(path, (old, old))
    warnings: list[str] = []
    with BatchLock(path, stale_after=600, warn=warnings.append):
        pass
    assert warnings and "crashed-host.example" in warnings[0]
