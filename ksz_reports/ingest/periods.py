"""Time: the period of every cell, dates, and the vintage (extraction date).

:func:`parse_date` reads a date as exports and users write it. :class:`_Periods` parses a
period token the dialect's way (``period.formats``, or ``wide.patterns`` for the headers of a
wide-by-period export): a year, quarter or month, or the exact reference date of a stock, the
``following_january`` year label shifted back; and gives each cell the canonical period of its
indicator's frequency (yearly ``2021``, quarterly ``2021Q4``, monthly ``2021-12``; a reference
date only where it ends such a period). :class:`_Vintages` finds the vintage of a file (its
title rows, its file name, or the date given) or reads it per row.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from pathlib import Path

import numpy as np

from ksz_reports.core.errors import InputError, quoted
from ksz_reports.ingest.columns import _Cells, _Column, _Mapped
from ksz_reports.ingest.compact import _FREQ_NAME, _Context
from ksz_reports.ingest.dialects import Dialect
from ksz_reports.ingest.sources import _Raw

__all__ = ["parse_date"]

# period status (negative ids)
_P_UNPARSEABLE, _P_WRONG_FREQ = -1, -2


_DATE_FORMATS = (
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[T ].*)?$"),
    re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$"),
    re.compile(r"^(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})$"),
)


def parse_date(value: object) -> dt.date | None:
    """A date from ``2023-03-15``, ``20230315``, ``15/03/2023`` (or ``.``/``-``), or a date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for pattern in _DATE_FORMATS:
        m = pattern.match(text)
        if m:
            try:
                return dt.date(int(m["y"]), int(m["m"]), int(m["d"]))
            except ValueError:
                return None
    return None


def _as_vintage(value: object) -> dt.date | None:
    if value is None or value == "":
        return None
    day = parse_date(value)
    if day is None:
        raise InputError(
            f"not a date: {quoted(value)}",
            hint="Give the vintage (extraction date) as YYYY-MM-DD",
            code="bad-vintage",
        )
    return day


class _Periods(_Column):
    """The period of every cell: the period column, or the headers of a wide-by-period export,
    parsed the dialect's way and made canonical for each indicator's frequency. ``seen``: the
    canonical periods read (the file's statistics)."""

    def __init__(self, cells: _Cells, dialect: Dialect, ctx: _Context, seen: set[str]):
        super().__init__(cells, dialect, ctx)
        self.seen = seen
        self._tokens: dict[str, tuple | None] = {}
        self._ids: dict[tuple, int] = {}

    def examples(self) -> str:
        """Examples of the periods this dialect reads, for messages."""
        d = self.dialect
        patterns = (
            d.wide.patterns
            if d.wide is not None and d.wide.columns == "period"
            else d.period.formats
        )
        examples = [p.example for p in patterns if p.example]
        return " or ".join(examples) if examples else "2021"

    def parse(self, token: str) -> tuple | None:
        if token in self._tokens:
            return self._tokens[token]
        patterns = self.dialect.period.formats
        if self.dialect.wide is not None and self.dialect.wide.columns == "period":
            patterns = self.dialect.wide.patterns
        out = None
        for p in patterns:
            m = p.match(token)
            if m is not None:
                kind, y, mq, d = m
                if kind == "date":
                    try:
                        day = dt.date(y, mq, d)
                    except ValueError:
                        break
                    if not 1900 <= y <= 2200:  # never a period like '1' or '9999'
                        break
                    if self.dialect.year_label == "following_january" and day.day == 1:
                        day -= dt.timedelta(days=1)
                    out = ("date", day.year, day.month, day.day)
                elif (
                    (kind == "month" and not 1 <= mq <= 12)
                    or (kind == "quarter" and not 1 <= mq <= 4)
                    or not 1900 <= y <= 2200
                ):
                    break
                else:
                    if kind == "year" and self.dialect.year_label == "following_january":
                        y -= 1
                    out = (kind, y, mq, d)
                break
        self._tokens[token] = out
        return out

    def _id(self, parsed: tuple, freq: int) -> int:
        """Canonical period id of a parsed token for an indicator frequency, or a status."""
        key = (parsed, freq)
        found = self._ids.get(key)
        if found is not None:
            return found
        kind, y, mq, d = parsed
        text = None
        if kind == "year":
            text = str(y) if freq == 0 else None
        elif kind == "quarter":
            text = f"{y}Q{mq}" if freq in (0, 1) else None
        elif kind == "month":
            text = f"{y}-{mq:02d}" if freq == 2 else None
        else:
            last = calendar.monthrange(y, mq)[1]
            if d == last:
                if freq == 2:
                    text = f"{y}-{mq:02d}"
                elif mq == 12 and freq == 0:
                    text = str(y)
                elif mq % 3 == 0:
                    text = f"{y}Q{mq // 3}"
        out = self.ctx.period.id(text) if text is not None else _P_WRONG_FREQ
        self._ids[key] = out
        return out

    def map(self, raw: _Raw, ind: _Mapped, used_ind: np.ndarray, vcols: list) -> np.ndarray:
        """Canonical period ids per output row (n × k rows for k value columns)."""
        ctx, d, roles = self.ctx, self.dialect, self.cells.roles
        n, k = raw.n, len(vcols)
        by_header = d.wide is not None and d.wide.columns == "period"
        if by_header:
            tokens = [name for _, name in vcols]
            pm = _Mapped(np.arange(k, dtype=np.int32), None, k)
            used_tok = np.ones(k, bool)
        else:
            pidx = roles["period"]
            parr = raw.columns[pidx]
            tokens = self.cells.strings(parr, raw, self.cells.col(pidx))
            pm = _Mapped(np.arange(len(tokens), dtype=np.int32), self.cells.indices(parr), n)
            used_tok = np.bincount(pm.idx, minlength=len(tokens)) > 0
        table = np.empty((3, len(tokens)), np.int32)
        for j, tok in enumerate(tokens):
            p = self.parse(tok)
            for f in range(3):
                table[f, j] = _P_UNPARSEABLE if p is None else self._id(p, f)
        freqs = np.unique(ctx.freq[used_ind])
        if len(freqs) == 1:
            f = int(freqs[0])
            bad = (table[f] < 0) & used_tok
            per_tok = table[f]
            out = np.repeat(per_tok, n) if by_header else per_tok[pm.idx]
        else:
            fr = ctx.freq[ind.rows()]
            if by_header:
                out = np.concatenate([table[fr, j] for j in range(k)])
            else:
                out = table[fr, pm.idx]
            bad = None
        if not by_header and k > 1:
            out = np.tile(out, k)  # wide by category: the period column holds for every column
        if (bad is None and (out < 0).any()) or (bad is not None and bad.any()):
            i = int(np.flatnonzero(out < 0)[0])
            j, r = divmod(i, n)
            tok = tokens[j] if by_header else tokens[int(pm.idx[r])]
            column = vcols[j][1] if by_header else self.cells.col(roles["period"])
            if table[0, tokens.index(tok)] == _P_UNPARSEABLE:
                raise InputError(
                    f"unparseable period {quoted(tok)}",
                    file=self.file,
                    row=raw.row(r),
                    column=column,
                    hint=f"Write it as the dialect expects, e.g. {self.examples()}",
                    code="bad-period",
                )
            ind_id = ctx.indicators[int(ind.rows()[r])]
            what = _FREQ_NAME[int(ctx.freq[int(ind.rows()[r])])]
            raise InputError(
                f"period {quoted(tok)} does not fit indicator {ind_id!r}, which is {what}",
                file=self.file,
                row=raw.row(r),
                column=column,
                hint="A yearly stock is "
                "dated 31/12 (or a quarter end), a monthly measure is a month",
                code="bad-period",
            )
        self._used(table, used_tok, freqs)
        return out

    def _used(self, table: np.ndarray, used_tok: np.ndarray, freqs: np.ndarray) -> None:
        for f in freqs:
            for pid in np.unique(table[int(f)][used_tok]):
                if pid >= 0:
                    self.seen.add(self.ctx.period.values[int(pid)])


class _Vintages(_Column):
    """The vintage (extraction date) of the cells: the file's (its title rows, its file name, or
    the date given), or the ``vintage`` column's. ``seen``: the vintages read (the file's
    statistics)."""

    def __init__(self, cells: _Cells, dialect: Dialect, ctx: _Context, seen: set[dt.date]):
        super().__init__(cells, dialect, ctx)
        self.seen = seen
        self._cache: dict[str, int] = {}

    def of_file(self, path: Path, titles: list[str], given: dt.date | None) -> dt.date | None:
        """The vintage of the whole file (None: the dialect reads it per row)."""
        d = self.dialect
        if d.vintage.column:
            return None
        found = None
        if d.vintage.title and titles:
            for i, line in enumerate(titles, 1):
                m = re.search(d.vintage.title, line)
                if m:
                    text = m.groupdict().get("date") or (m.group(1) if m.groups() else m.group(0))
                    found = parse_date(text)
                    if found is None:
                        raise InputError(
                            f"the extraction date {quoted(text)} is not a date",
                            file=self.file,
                            row=i,
                            hint="Write it as DD/MM/YYYY or YYYY-MM-DD",
                            code="bad-vintage",
                        )
                    break
        if found is None and d.vintage.filename:
            m = re.search(d.vintage.filename, path.name)
            if m:
                text = m.groupdict().get("date") or (m.group(1) if m.groups() else m.group(0))
                found = parse_date(text)
                if found is None:
                    raise InputError(
                        f"the date {quoted(text)} in the file name is not a date",
                        file=self.file,
                        hint="Name the file <dialect>_<YYYY-MM-DD>.<ext>",
                        code="bad-vintage",
                    )
        if found is None:
            found = given
        if found is None:
            sources = []
            if d.vintage.title:
                sources.append("no extraction date in the title rows")
            if d.vintage.filename:
                sources.append("no date in the file name")
            why = " and ".join(sources) or f"dialect {d.name} does not carry one"
            raise InputError(
                f"missing vintage (extraction date): {why}",
                file=self.file,
                hint=f"Pass --vintage YYYY-MM-DD, or name the file "
                f"{d.name}_<YYYY-MM-DD>{path.suffix}",
                code="missing-vintage",
            )
        return found

    def rows(self, raw: _Raw) -> np.ndarray:
        idx = self.cells.roles["vintage"]
        arr = raw.columns[idx]
        ctx = self.ctx

        def fn(token: str) -> int:
            day = parse_date(token)
            return -1 if day is None else ctx.vintage.id(day)

        m = self.cells.map(arr, raw, self.cells.col(idx), self._cache, fn, np.int16)
        bad = m.table < 0
        if bad.any():
            i = m.locate(bad)
            if i is not None:
                raise InputError(
                    f"not a vintage date: {quoted(self.cells.token(arr, i))}",
                    file=self.file,
                    row=raw.row(i),
                    column=self.cells.col(idx),
                    hint="Write the extraction date as YYYY-MM-DD",
                    code="bad-vintage",
                )
            m.table[bad] = 0
        for v in np.unique(m.table[np.bincount(m.idx, minlength=len(m.table)) > 0]):
            self.seen.add(ctx.vintage.values[int(v)])
        return m.rows()
