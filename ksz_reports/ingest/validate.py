"""Checking exports without raising: a report per file, and every problem found.

:func:`validate` reads every file (:mod:`ksz_reports.ingest.reader`), records each problem
instead of raising it, and checks duplicate cells across all the files (the same cell and
vintage with two values). :func:`_collect` is the read shared with
:func:`~ksz_reports.ingest.dataset.ingest`, which raises the first problem instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ksz_reports.core.errors import InputError, shown_name
from ksz_reports.ingest.compact import _Compact, _concat_columns, _Context, _duplicates, _sort_order
from ksz_reports.ingest.dialects import Dialect
from ksz_reports.ingest.periods import _as_vintage
from ksz_reports.ingest.reader import _FileReader

__all__ = ["FileReport", "ValidationReport", "validate"]


@dataclass
class FileReport:
    """What :func:`validate` found in one file."""

    path: str
    dialect: str | None = None
    rows: int = 0
    cells: int = 0
    masked: int = 0
    periods: list[str] = field(default_factory=list)
    indicators: list[str] = field(default_factory=list)
    vintage: list[str] = field(default_factory=list)
    sha256: str | None = None
    dropped_aggregates: int = 0
    dropped_empty: int = 0
    problems: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        """A JSON-able dict."""
        return {
            "path": self.path,
            "dialect": self.dialect,
            "ok": self.ok,
            "rows": self.rows,
            "cells": self.cells,
            "masked": self.masked,
            "periods": self.periods,
            "indicators": self.indicators,
            "vintage": self.vintage,
            "dropped_aggregates": self.dropped_aggregates,
            "dropped_empty": self.dropped_empty,
            "problems": self.problems,
        }


@dataclass
class ValidationReport:
    """The result of :func:`validate`: one :class:`FileReport` per file, and every problem."""

    files: list[FileReport]
    problems: list[dict]

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def to_dict(self) -> dict:
        """A JSON-able dict: ``ok``, ``files`` and ``problems`` (``InputError.to_dict()``)."""
        return {
            "ok": self.ok,
            "files": [f.to_dict() for f in self.files],
            "problems": self.problems,
        }

    def lines(self) -> list[str]:
        """Human-readable lines: one per file, then one per problem."""
        out = []
        for f in self.files:
            if f.ok:
                periods = f"{f.periods[0]}…{f.periods[-1]}" if f.periods else "-"
                out.append(
                    f"OK {shown_name(str(f.path))}: dialect {f.dialect}, {f.rows} rows, {f.cells} cells "
                    f"({f.masked} masked), indicators {', '.join(f.indicators)}, periods "
                    f"{periods}, vintage {', '.join(f.vintage)}"
                )
            else:
                out.append(
                    f"FAILED {shown_name(str(f.path))}"
                    + (f" (dialect {f.dialect})" if f.dialect else "")
                )
        out.extend(p["text"] for p in self.problems)
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


class _Collected:
    """Every file read into one compact table (for validate and ingest)."""

    def __init__(self, ctx: _Context):
        self.ctx = ctx
        self.parts: list[_Compact] = []
        self.readers: list[_FileReader] = []
        self.reports: list[FileReport] = []
        self.problems: list[InputError] = []


def _collect(
    paths: Iterable[str | Path], *, dialect: Any, vintage: Any, config: Any, stop: bool
) -> _Collected:
    """Read every file; ``stop``: raise the first problem, else record it and go on."""
    ctx = _Context(config)
    out = _Collected(ctx)
    try:
        given = _as_vintage(vintage)
    except InputError as exc:
        if stop:
            raise
        out.problems.append(exc)
        given = None
    for path in paths:
        report = FileReport(str(path))
        out.reports.append(report)
        parts: list[_Compact] = []
        try:
            reader = _FileReader(path, ctx, dialect=dialect, vintage=given)
            report.dialect = reader.dialect.name
            for c in reader.compact():
                parts.append(c)
            report.sha256 = reader.sha256
        except InputError as exc:
            if stop:
                raise
            out.problems.append(exc)
            report.problems.append(exc.to_dict())
            continue
        out.parts.extend(parts)
        out.readers.append(reader)
        st = reader.stats
        report.rows, report.cells, report.masked = st.rows, st.cells, st.masked
        report.dropped_aggregates, report.dropped_empty = st.dropped_aggregates, st.dropped_empty
        report.periods = sorted(st.periods)
        report.indicators = [i for i in ctx.indicators if i in st.indicators]
        report.vintage = sorted(v.isoformat() for v in st.vintages)
    return out


def validate(
    paths: str | Path | Iterable[str | Path],
    *,
    dialect: str | Dialect | None = None,
    vintage: Any = None,
    config: Any = None,
) -> ValidationReport:
    """Read and check exports; never raises for a data problem.

    Returns a :class:`ValidationReport`: per file the dialect, rows, cells, masked cells,
    periods, indicators and vintage, and the problems found (each an ``InputError.to_dict()``
    with a one-line ``text``: file, row, column, what to do). Duplicate cells are checked across
    all the files (same cell and vintage with two values). Writes nothing.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    col = _collect(list(paths), dialect=dialect, vintage=vintage, config=config, stop=False)
    problems = list(col.problems)
    if col.parts and not problems:
        try:
            c, files = _concat_columns(col.parts)
            col.parts = []
            order, keys = _sort_order(c, col.ctx)
            _duplicates(c, files, col.ctx, order, keys)
        except InputError as exc:
            problems.append(exc)
            for r in col.reports:
                if r.path == exc.file:
                    r.problems.append(exc.to_dict())
    return ValidationReport(col.reports, [p.to_dict() for p in problems])
