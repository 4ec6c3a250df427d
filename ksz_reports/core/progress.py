"""What a batch tells its operator while it runs.

- on a terminal: a progress bar (rich) with the count, elapsed time and ETA; failures and warnings
  are printed above it;
- otherwise (cron, systemd, a pipe): one plain, timestamped line per event on stderr, e.g.
  ``2026-11-25T03:04:05 rendered 44021 Gent (1.3 s) [12/581]``;
- quiet: nothing but failures, warnings and errors.

:func:`make_progress` picks one; :mod:`ksz_reports.batch.run` calls the :class:`Progress` methods.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from typing import TextIO

MODES = ("auto", "bar", "log", "quiet")


def _now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def _seconds(s: float) -> str:
    if s < 60:
        return f"{s:.1f} s"
    m, s = divmod(int(round(s)), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


class Progress:
    """Receives the events of a batch. This base class prints nothing at all."""

    def start(self, title: str, total: int, todo: int) -> None:
        """The batch starts: ``total`` reports in scope, ``todo`` of them to render."""

    def info(self, text: str) -> None:
        """A line of context (publication reused, shard, …)."""

    def warning(self, text: str) -> None:
        """Something the operator should know (a stale lock taken over, …)."""

    def error(self, text: str) -> None:
        """An error that does not stop the batch by itself."""

    def rendered(self, nis: str, name: str, seconds: float, done: int, todo: int) -> None:
        """One report was rendered."""

    def failed(self, nis: str, name: str, error: str, done: int, todo: int) -> None:
        """One report failed (the batch goes on)."""

    def finish(self, summary: str) -> None:
        """The batch ended; ``summary`` is one line."""

    def close(self) -> None:
        """Release the terminal (stop a progress bar); called however the batch ends."""


class LogProgress(Progress):
    """Plain timestamped lines on ``stream`` (stderr by default)."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False):
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet

    def _line(self, text: str, always: bool = False) -> None:
        if self.quiet and not always:
            return
        # A closed or broken stderr must not fail the batch.
        with contextlib.suppress(OSError, ValueError):
            print(f"{_now()} {text}", file=self.stream, flush=True)

    def start(self, title: str, total: int, todo: int) -> None:
        self._line(
            f"{title}: {total} reports in scope, {todo} to render, {total - todo} up to date"
        )

    def info(self, text: str) -> None:
        self._line(text)

    def warning(self, text: str) -> None:
        self._line(f"WARNING {text}", always=True)

    def error(self, text: str) -> None:
        self._line(f"ERROR {text}", always=True)

    def rendered(self, nis: str, name: str, seconds: float, done: int, todo: int) -> None:
        self._line(f"rendered {nis} {name} ({seconds:.1f} s) [{done}/{todo}]")

    def failed(self, nis: str, name: str, error: str, done: int, todo: int) -> None:
        self._line(f"FAILED {nis} {name}: {error} [{done}/{todo}]", always=True)

    def finish(self, summary: str) -> None:
        self._line(summary)


class QuietProgress(LogProgress):
    """Only failures, warnings and errors."""

    def __init__(self, stream: TextIO | None = None):
        super().__init__(stream, quiet=True)


class RichProgress(Progress):
    """A rich progress bar on a terminal; messages are printed above the bar."""

    def __init__(self, stream: TextIO | None = None):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as _Bar

        self.console = Console(file=stream if stream is not None else sys.stderr)
        self.bar = _Bar(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[current]}"),
            console=self.console,
            transient=False,
        )
        self.task: int | None = None

    def _print(self, text: str, style: str | None = None) -> None:
        self.console.print(text, style=style, markup=False, highlight=False)

    def start(self, title: str, total: int, todo: int) -> None:
        self._print(
            f"{title}: {total} reports in scope, {todo} to render, {total - todo} up to date"
        )
        self.bar.start()
        self.task = self.bar.add_task("rendering", total=max(todo, 0), current="")

    def info(self, text: str) -> None:
        self._print(text)

    def warning(self, text: str) -> None:
        self._print(f"warning: {text}", style="yellow")

    def error(self, text: str) -> None:
        self._print(f"error: {text}", style="bold red")

    def _advance(self, nis: str, name: str) -> None:
        if self.task is not None:
            self.bar.update(self.task, advance=1, current=f"{nis} {name}")

    def rendered(self, nis: str, name: str, seconds: float, done: int, todo: int) -> None:
        self._advance(nis, name)

    def failed(self, nis: str, name: str, error: str, done: int, todo: int) -> None:
        self._print(f"FAILED {nis} {name}: {error}", style="red")
        self._advance(nis, name)

    def finish(self, summary: str) -> None:
        self.close()
        self._print(summary)

    def close(self) -> None:
        if self.task is not None:
            self.bar.update(self.task, current="")
            self.task = None
        self.bar.stop()


def make_progress(
    mode: str | Progress | None = "auto", *, quiet: bool = False, stream: TextIO | None = None
) -> Progress:
    """The reporter for ``mode``: ``auto`` (bar on a terminal, log lines otherwise), ``bar``,
    ``log``, ``quiet``, or a :class:`Progress` object (returned as is). ``quiet=True`` wins."""
    if isinstance(mode, Progress):
        return mode
    stream = stream if stream is not None else sys.stderr
    mode = "quiet" if quiet else (mode or "auto")
    if mode not in MODES:
        raise ValueError(f"unknown progress mode {mode!r}; use one of {', '.join(MODES)}")
    if mode == "quiet":
        return QuietProgress(stream)
    if mode == "auto":
        try:
            mode = "bar" if stream.isatty() else "log"
        except (AttributeError, ValueError):
            mode = "log"
    if mode == "bar":
        try:
            return RichProgress(stream)
        except ImportError:  # rich is a dependency, but a broken install must not stop a batch
            return LogProgress(stream)
    return LogProgress(stream)


__all__ = [
    "Progress",
    "LogProgress",
    "QuietProgress",
    "RichProgress",
    "make_progress",
    "MODES",
    "format_seconds",
]

format_seconds = _seconds
