"""SIGTERM and SIGINT during a batch: a stop request, not a crash. The batch stops submitting,
lets the reports in flight finish and writes its manifest; a second signal (or ``raise_at``)
interrupts at once."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any


class BatchInterrupted(BaseException):  # noqa: N818 - like KeyboardInterrupt, not an error
    """Raised inside :func:`~ksz_reports.batch.run.run_batch` by SIGTERM/SIGINT while preparing;
    never escapes it."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


class _SignalGuard:
    """SIGTERM/SIGINT → a stop request. ``raise_at``: the signal count that raises
    :class:`BatchInterrupted` instead (1 while preparing, 2 rendering in-process, None in pool
    mode and while finishing)."""

    def __init__(self) -> None:
        self.count = 0
        self.signum: int | None = None
        self.first = 0.0
        self.raise_at: int | None = 1
        self._old: dict[int, Any] = {}

    def __enter__(self) -> _SignalGuard:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old.clear()

    def _handle(self, signum: int, frame: Any) -> None:
        self.count += 1
        if self.signum is None:
            self.signum = signum
            self.first = time.monotonic()
        if self.raise_at is not None and self.count >= self.raise_at:
            raise BatchInterrupted(signum)

    @property
    def stop(self) -> bool:
        return self.count > 0


__all__ = ["BatchInterrupted"]
