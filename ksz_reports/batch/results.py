"""What :func:`~ksz_reports.batch.run.run_batch` returns: the reports rendered, skipped, failed
and not done, per-report outcomes, timings, and the exit code (README.md#command-line)."""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ksz_reports import __version__
from ksz_reports.batch.scope import Shard
from ksz_reports.core.errors import EXIT_FAILURES, EXIT_OK
from ksz_reports.core.progress import format_seconds


@dataclass(frozen=True)
class Failure:
    """A report that failed: its NIS code, name and a one-line error."""

    nis: str
    name: str
    error: str


@dataclass
class ReportOutcome:
    """What happened to one report in this run (rendered or failed; skipped ones are not listed).

    ``worker_pid``, ``worker_tasks`` (reports that worker had rendered, this one included) and
    ``worker_peak_rss_mb`` describe the process that rendered it; ``timings`` are the builder's
    per-stage seconds when its ``render`` accepts ``timings=``.
    """

    nis: str
    status: str
    duration: float
    error: str | None = None
    files: list[dict] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    worker_pid: int | None = None
    worker_tasks: int | None = None
    worker_peak_rss_mb: float | None = None


@dataclass
class BatchResult:
    """The outcome of :func:`run_batch`. ``exit_code`` follows README.md#command-line."""

    out: Path
    shard: Shard | None
    scope: list[str]
    rendered: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    interrupted: int | None = None
    duration: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    publication: dict[str, Any] = field(default_factory=dict)
    manifest: Path | None = None
    index: Path | None = None
    outcomes: list[ReportOutcome] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """128 + signal when interrupted, 1 when any report failed, else 0."""
        if self.interrupted:
            return 128 + self.interrupted
        return EXIT_FAILURES if self.failures else EXIT_OK

    @property
    def ok(self) -> bool:
        """No failure and not interrupted."""
        return self.exit_code == EXIT_OK

    def summary(self) -> str:
        """One line for the log."""
        parts = [
            f"{len(self.rendered)} rendered",
            f"{len(self.failures)} failed",
            f"{len(self.skipped)} up to date",
        ]
        if self.pending:
            parts.append(f"{len(self.pending)} not done")
        head = "interrupted" if self.interrupted else "done"
        if self.interrupted:
            head += f" by {signal.Signals(self.interrupted).name}"
        text = f"{head} in {format_seconds(self.duration)}: " + ", ".join(parts)
        if self.index is not None:
            text += f"; index: {self.index}"
        return text + f" (exit {self.exit_code})"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (the CLI's ``--json``)."""
        return {
            "out": str(self.out),
            "shard": None if self.shard is None else f"{self.shard[0]}/{self.shard[1]}",
            "exit_code": self.exit_code,
            "interrupted": None if not self.interrupted else signal.Signals(self.interrupted).name,
            "in_scope": len(self.scope),
            "rendered": len(self.rendered),
            "skipped": len(self.skipped),
            "failed": len(self.failures),
            "pending": len(self.pending),
            "failures": [{"nis": f.nis, "name": f.name, "error": f.error} for f in self.failures],
            "duration_s": round(self.duration, 3),
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
            "publication": self.publication,
            "manifest": None if self.manifest is None else str(self.manifest),
            "index": None if self.index is None else str(self.index),
            "version": __version__,
        }


__all__ = ["BatchResult", "Failure", "ReportOutcome"]
