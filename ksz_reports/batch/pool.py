"""The batch's process pools, seen from the batch process: the report hashes spread over
``jobs`` processes when computing them here would be slow, and the render slots — one
one-process pool per slot, replaced after ``recycle_after`` reports, killed on a timeout or a
second signal. What runs inside those processes is :mod:`ksz_reports.batch.workers`.

Worker recycling is done here, not with ``ProcessPoolExecutor(max_tasks_per_child=...)``: on
Python 3.11 that option can deadlock once a worker retires (CPython gh-115634, fixed only in
3.13+). Each worker slot is a one-process pool that is replaced after ``recycle_after`` reports,
which is the same behaviour without the bug, and isolates crashes to the report that caused them.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, CancelledError, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from ksz_reports.batch.options import _Options
from ksz_reports.batch.signals import _SignalGuard
from ksz_reports.batch.workers import (
    _failed,
    _hash_chunk,
    _hash_init,
    _hash_many,
    _worker_init,
    _worker_render,
    one_line,
)
from ksz_reports.core.progress import Progress

#: Compute report hashes in ``jobs`` processes when doing it here would take longer than this.
HASH_POOL_AFTER = 10.0

#: Seconds a fresh worker may take to start (spawn, imports, building and warming up the
#: renderer) on top of the report timeout before its report is failed as hanging.
START_GRACE = 300.0
_HASH_SAMPLE = 5


def _report_hashes(
    builder: Any, codes: list[str], o: _Options, publication_path: Path, reporter: Progress
) -> tuple[dict[str, str | None], dict[str, str]]:
    """``report_hash`` of every report (None and an error line where it fails).

    Computed here; but when a sample shows that would take longer than
    :data:`HASH_POOL_AFTER` seconds and ``jobs > 1``, the rest is spread over ``jobs`` spawned
    processes (an unchanged re-run must cost a small fraction of a full one).
    """
    t0 = time.perf_counter()
    hashes, errors = _hash_many(builder, codes[:_HASH_SAMPLE], o.formats, o.lang)
    rest = codes[_HASH_SAMPLE:]
    projected = (time.perf_counter() - t0) / max(1, min(len(codes), _HASH_SAMPLE)) * len(rest)
    if not rest or o.jobs < 2 or projected <= HASH_POOL_AFTER:
        more, more_errors = _hash_many(builder, rest, o.formats, o.lang)
        return {**hashes, **more}, {**errors, **more_errors}
    reporter.info(
        f"computing {len(rest)} report hashes in {o.jobs} processes "
        f"(about {projected:.0f} s in one)"
    )
    n = min(len(rest), o.jobs * 8)
    chunks = [rest[i * len(rest) // n : (i + 1) * len(rest) // n] for i in range(n)]
    pool = ProcessPoolExecutor(
        o.jobs,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_hash_init,
        initargs=(o.factory_ref, str(publication_path), o.config, os.getpid()),
    )
    done: set[str] = set()
    try:
        futures = [pool.submit(_hash_chunk, c, o.formats, o.lang) for c in chunks]
        for fut in futures:
            part, part_errors = fut.result()
            hashes.update(part)
            errors.update(part_errors)
            done.update(part)
    except BrokenProcessPool:
        reporter.warning("a hashing process died; computing the remaining hashes here")
        left = [c for c in rest if c not in done]
        more, more_errors = _hash_many(builder, left, o.formats, o.lang)
        hashes.update(more)
        errors.update(more_errors)
    except BaseException:
        for proc in list(getattr(pool, "_processes", {}).values()):
            with contextlib.suppress(Exception):
                proc.kill()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return hashes, errors


class _Slot:
    """One worker process (a one-process pool), replaced after ``recycle_after`` reports."""

    def __init__(self, ctx: Any, initargs: tuple, recycle_after: int | None):
        self.ctx = ctx
        #: When the worker began the current report (its monotonic clock, the same on one host):
        #: a report's timeout counts from there, not from the slow start of a fresh worker.
        self.started = ctx.Value("d", 0.0, lock=False)
        self.initargs = (*initargs, self.started)
        self.recycle_after = recycle_after
        self.executor: ProcessPoolExecutor | None = None
        self.tasks = 0
        self.future: Any = None
        self.nis: str | None = None
        self.submitted = 0.0
        self.retired: list[ProcessPoolExecutor] = []

    def submit(self, nis: str, out: Path, formats: tuple[str, ...], lang: str) -> None:
        if self.executor is not None and self.recycle_after and self.tasks >= self.recycle_after:
            self.retire()
        if self.executor is None:
            self.executor = ProcessPoolExecutor(
                1, mp_context=self.ctx, initializer=_worker_init, initargs=self.initargs
            )
            self.tasks = 0
        self.started.value = 0.0
        self.future = self.executor.submit(_worker_render, nis, str(out), formats, lang)
        self.nis = nis
        self.submitted = time.monotonic()
        self.tasks += 1

    def overdue(self, now: float, timeout: float) -> bool:
        """The current report has run longer than ``timeout``, or its worker has not even
        begun it after :data:`START_GRACE` more seconds (a hanging start)."""
        if self.future is None:
            return False
        started = self.started.value
        if started > 0.0:
            return now - started > timeout
        return now - self.submitted > timeout + START_GRACE

    def retire(self, kill: bool = False) -> None:
        ex, self.executor = self.executor, None
        self.tasks = 0
        if ex is None:
            return
        if kill:
            for proc in list(getattr(ex, "_processes", {}).values()):
                with contextlib.suppress(Exception):
                    proc.kill()
        ex.shutdown(wait=False, cancel_futures=True)
        self.retired.append(ex)

    def close(self, kill: bool = False) -> None:
        self.retire(kill=kill)
        for ex in self.retired:
            with contextlib.suppress(Exception):
                ex.shutdown(wait=True, cancel_futures=True)
        self.retired.clear()


def _render_pool(
    todo: list[str],
    hashes: dict[str, str | None],
    o: _Options,
    guard: _SignalGuard,
    *,
    publication_path: Path,
    record: Callable[[dict[str, Any], str | None], None],
    warn: Callable[[str], None],
) -> list[str]:
    """Render ``todo`` in ``jobs`` worker slots, passing every result to ``record``; returns what
    was not done (on a stop)."""
    ctx = multiprocessing.get_context("spawn")
    initargs = (o.factory_ref, str(publication_path), o.config, os.getpid())
    slots = [_Slot(ctx, initargs, o.recycle_after) for _ in range(min(o.jobs, len(todo)))]
    pending = deque(todo)
    crashes: Counter[str] = Counter()
    killed = False
    try:
        while True:
            if not guard.stop:
                for s in slots:
                    if s.future is None and pending:
                        s.submit(pending.popleft(), o.out, o.formats, o.lang)
            busy = {s.future: s for s in slots if s.future is not None}
            if not busy:
                break
            done, _ = wait(busy, timeout=0.25, return_when=FIRST_COMPLETED)
            for fut in done:
                s = busy[fut]
                nis = s.nis or ""
                s.future, s.nis = None, None
                try:
                    res = fut.result()
                except CancelledError:
                    pending.appendleft(nis)
                    continue
                except BrokenProcessPool:
                    s.retire(kill=True)
                    if guard.stop:  # e.g. Ctrl-C reached a worker still starting up
                        pending.appendleft(nis)
                        continue
                    crashes[nis] += 1
                    if crashes[nis] < 2:
                        warn(f"the worker rendering {nis} died; retrying it once")
                        pending.append(nis)
                        continue
                    res = _failed(
                        nis,
                        "the worker process died while rendering this report "
                        "(crash or out of memory)",
                    )
                except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable result
                    res = _failed(nis, one_line(exc))
                record(res, hashes.get(nis))
            now = time.monotonic()
            if o.report_timeout is not None:
                for s in slots:
                    if s.overdue(now, o.report_timeout):
                        nis = s.nis or ""
                        s.future, s.nis = None, None
                        s.retire(kill=True)
                        record(
                            _failed(
                                nis,
                                f"timed out after {o.report_timeout:.0f} s; the worker was killed",
                            ),
                            hashes.get(nis),
                        )
            if guard.stop and (guard.count >= 2 or now - guard.first > o.stop_grace):
                for s in slots:
                    if s.future is not None:
                        pending.appendleft(s.nis or "")
                        s.future, s.nis = None, None
                        s.retire(kill=True)
                killed = True
                break
    finally:
        for s in slots:
            s.close(kill=killed)
    return list(pending)


__all__ = ["HASH_POOL_AFTER"]
