"""Reading one export into the canonical long table (docs/domain.md#the-canonical-table, docs/domain.md#raw-exports).

:func:`read_export` returns one file as a canonical Arrow table (:data:`~ksz_reports.core.schema.
CANONICAL_SCHEMA`); :func:`iter_export` streams it as canonical record batches
(:func:`~ksz_reports.ingest.validate.validate` checks files and reports every problem without
raising, :func:`~ksz_reports.ingest.dataset.ingest` writes the canonical dataset).

How a file is read (the dialect says how, see :mod:`ksz_reports.ingest.dialects`): the dialect is
detected or given (:mod:`ksz_reports.ingest.detect`), the header is checked, the source
(:mod:`ksz_reports.ingest.sources`) yields batches of raw columns, and :class:`_FileReader` maps
them, column family by column family (:mod:`ksz_reports.ingest.columns`,
:mod:`ksz_reports.ingest.periods`), onto compact canonical batches
(:mod:`ksz_reports.ingest.compact`), counting the file's rows, cells and periods
(:class:`FileStats`).

Every data problem raises :class:`~ksz_reports.core.errors.InputError` naming the file, the row as the
user sees it (the line of a CSV file, the sheet row of a workbook, the record number of a Parquet
file), the column as written in the header, and what to do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ksz_reports.core.errors import InputError, KszError, quoted
from ksz_reports.core.paths import check_input_file
from ksz_reports.core.schema import CANONICAL_SCHEMA
from ksz_reports.ingest.checks import (
    SameMunicipality,
    check_counts,
    check_geo_periods,
    check_periods_vintage,
)
from ksz_reports.ingest.columns import _Breakdowns, _Cells, _Geography, _Indicators
from ksz_reports.ingest.compact import (
    _Compact,
    _concat_columns,
    _Context,
    _duplicates,
    _sort_order,
    _to_batch,
)
from ksz_reports.ingest.counts import _Counts
from ksz_reports.ingest.detect import _detect_with, _open_with
from ksz_reports.ingest.dialects import Dialect
from ksz_reports.ingest.header import _missing
from ksz_reports.ingest.periods import _as_vintage, _Periods, _Vintages
from ksz_reports.ingest.sources import _CsvSource, _ParquetSource, _Raw
from ksz_reports.ingest.swing import swing_source

__all__ = ["FileStats", "iter_export", "read_export"]


@dataclass
class FileStats:
    """Counts of one file, filled while it is read."""

    rows: int = 0
    cells: int = 0
    masked: int = 0
    dropped_aggregates: int = 0
    dropped_empty: int = 0
    periods: set[str] = field(default_factory=set)
    indicators: set[str] = field(default_factory=set)
    vintages: set[dt.date] = field(default_factory=set)


class _FileReader:
    """Reads one export with its dialect into compact canonical batches."""

    def __init__(
        self,
        path: str | Path,
        ctx: _Context,
        *,
        dialect: Any = None,
        vintage: dt.date | None = None,
    ):
        self.path = Path(path)
        self.file = str(path)
        self.ctx = ctx
        if not self.path.is_file():
            if not os.path.lexists(self.path):
                raise InputError("no such file", file=self.file, code="no-file")
            check_input_file(self.path)  # a folder, a link loop, a FIFO: said as such
        self.probe = None
        try:
            self._open(dialect, vintage)
        except OSError as exc:
            if self.probe is not None:
                self.probe.close()
            raise InputError(
                f"cannot read the file ({exc.strerror or exc})", file=self.file, code="unreadable"
            ) from None
        except BaseException:
            if self.probe is not None:
                self.probe.close()
            raise

    def _open(self, dialect: Any, vintage: dt.date | None) -> None:
        ctx = self.ctx
        if dialect is None:
            self.dialect, self.src, self.layout, self.probe = _detect_with(
                self.path, ctx.dialects, ctx.config
            )
        else:
            self.dialect, self.src, self.layout, self.probe = _open_with(
                self.path, self.file, dialect, ctx.config
            )
        self.header = self.src.header
        d = self.dialect
        decoder = self.src.decoder if isinstance(self.src, _CsvSource) else None
        self.cells = _Cells(self.file, self.header.names, self.layout.roles, decoder)
        self.stats = FileStats()
        self.periods = _Periods(self.cells, d, ctx, self.stats.periods)
        self._check_layout()
        if d.layout == "swing":  # one column per indicator code: read as long rows
            self.src = swing_source(self.src, self.layout, d, ctx.config)
            self.layout, self.header = self.src.layout, self.src.header
            self.cells = _Cells(self.file, self.header.names, self.layout.roles, None)
            self.periods = _Periods(self.cells, d, ctx, self.stats.periods)
        self.file_id = len(ctx.files)
        ctx.files.append(self.file)
        self.source_id = ctx.source.id(self.path.name)
        self.vintages = _Vintages(self.cells, d, ctx, self.stats.vintages)
        self.vintage = self.vintages.of_file(self.path, self.header.titles, vintage)
        if self.vintage is not None:
            self.stats.vintages.add(self.vintage)
        self.indicators = _Indicators(self.cells, d, ctx)
        self.breakdowns = _Breakdowns(self.cells, d, ctx)
        self.geography = _Geography(self.cells, d, ctx)
        self.counts = _Counts(self.cells, d, ctx)
        self._sources: dict[str, int] = {}
        self.same_municipality = SameMunicipality(self.file, ctx)

    # -- header checks ------------------------------------------------------------------------

    def _check_layout(self) -> None:
        d, lay, hdr = self.dialect, self.layout, self.header
        if lay.duplicate is not None:
            what, first, i = lay.duplicate
            raise InputError(
                f"two columns for {what} of dialect {d.name}: {quoted(self.cells.col(first))} "
                f"(column {first + 1}) and {quoted(self.cells.col(i))} (column {i + 1})",
                file=self.file,
                row=hdr.row,
                column=self.cells.col(i),
                hint="Remove one of them (every cell once)",
                code="duplicate-column",
            )
        if lay.missing:
            raise _missing(self.file, d, hdr, lay)
        if isinstance(self.src, _ParquetSource):
            self._check_parquet_types()
        if lay.unknown and d.unknown_columns == "error":
            i = lay.unknown[0]
            if d.layout == "swing":
                raise InputError(
                    f"unknown indicator code {self.cells.col(i)!r} (dialect {d.name})",
                    file=self.file,
                    row=hdr.row,
                    column=self.cells.col(i),
                    hint=f"Map it to an indicator in swing.codes of {d.where} (in a --config "
                    "folder: dialects/swing.yaml), or list it in ignore_columns",
                    code="unknown-column",
                )
            raise InputError(
                f"unknown column for dialect {d.name}",
                file=self.file,
                row=hdr.row,
                column=self.cells.col(i),
                hint=f"Remove the column, or add its name to "
                f"columns or ignore_columns in {d.where}",
                code="unknown-column",
            )
        if lay.not_period:
            i = lay.not_period[0]
            raise InputError(
                "a period column whose header is not a period",
                file=self.file,
                row=hdr.row,
                column=self.cells.col(i),
                hint=f"Write the period as the dialect expects, e.g. {self.periods.examples()}",
                code="bad-period",
            )
        if d.wide is not None and d.wide.columns == "period":
            for _i, name in lay.values:
                parsed = self.periods.parse(name)
                if parsed is None:
                    raise InputError(
                        "a period column whose header is not a valid period",
                        file=self.file,
                        row=hdr.row,
                        column=name,
                        hint=f"Write the period as the dialect expects, e.g. {self.periods.examples()}",
                        code="bad-period",
                    )

    def _check_parquet_types(self) -> None:
        """Codes, periods and names of a Parquet file are text (a NIS code stored as an integer
        has lost what the canonical table keeps: refused, never guessed)."""
        schema = self.src.pf.schema_arrow
        numeric = {"value", "lower", "upper", "vintage"}
        for role, i in self.layout.roles.items():
            if role in numeric:
                continue
            typ = schema.field(self.header.names[i]).type
            if pa.types.is_dictionary(typ):
                typ = typ.value_type
            if not (pa.types.is_string(typ) or pa.types.is_large_string(typ)):
                raise InputError(
                    f"column {role} is stored as {typ}, not as text",
                    file=self.file,
                    column=self.header.names[i],
                    hint="Store it as text (string or dictionary of strings, a NIS code as "
                    "'11001'), as ksz-reports ingest writes it",
                    code="wrong-type",
                )

    # -- batches ------------------------------------------------------------------------------

    def _include(self) -> list[int]:
        lay = self.layout
        cols = set(lay.roles.values()) | {i for i, _ in lay.values}
        return sorted(cols)

    def compact(self) -> Iterator[_Compact]:
        """The file's cells as compact batches (raises InputError on the first problem)."""
        try:
            roles = self.layout.roles
            # names are only needed where the code is empty: not worth a dictionary per row
            plain = [roles["geo_name"]] if "geo" in roles and "geo_name" in roles else []
            for raw in self.src.batches(self._include(), plain):
                out = self._batch(raw)
                if out is not None:
                    yield out
            if self.dialect.layout == "swing":  # the file's rows, not the long rows read
                self.stats.rows = self.src.rows_read
        except KszError:
            raise
        except (pa.ArrowException, OSError) as exc:
            raise InputError(
                f"cannot read the file ({type(exc).__name__}: {exc})",
                file=self.file,
                code="unreadable",
            ) from None
        finally:
            if self.probe is not None:
                self.probe.close()
        if self.stats.rows == 0:
            raise InputError(
                "no data rows below the header",
                file=self.file,
                row=self.header.row,
                hint="Export the data again (the file holds only the header)",
                code="header-only",
            )

    @property
    def sha256(self) -> str:
        """sha256 of the file (from the streamed read when there was one)."""
        digest = getattr(self.src, "sha256", None)
        if digest:
            return digest
        h = hashlib.sha256()
        with open(self.path, "rb") as fh:
            while block := fh.read(1 << 22):
                h.update(block)
        return h.hexdigest()

    def _batch(self, raw: _Raw) -> _Compact | None:
        ctx, d, lay = self.ctx, self.dialect, self.layout
        n = raw.n
        self.stats.rows += n
        vcols = (
            [(lay.roles["value"], self.cells.col(lay.roles["value"]))]
            if d.layout == "long"
            else lay.values
        )
        k = len(vcols)

        def rep(a: np.ndarray) -> np.ndarray:
            return np.tile(a, k) if k > 1 else a

        ind = self.indicators.map(raw)
        if ind.idx is None:
            used_ind = ind.table
        else:
            used_ind = np.flatnonzero(np.bincount(ind.idx, minlength=len(ind.table)))
            used_ind = np.unique(ind.table[used_ind])
        for i in used_ind:
            self.stats.indicators.add(ctx.indicators[int(i)])
        geo = self.geography.map(raw)
        dkey = self.breakdowns.keys(raw, ind, used_ind)
        if d.wide is not None and d.wide.columns != "period":
            dkey = self.breakdowns.by_header(dkey, raw, ind, used_ind, vcols)
        else:
            dkey = rep(dkey)
        period = self.periods.map(raw, ind, used_ind, vcols)
        value, drop = self.counts.map(raw, vcols)
        if "lower" in lay.roles:  # the canonical table: the range of a cell masked at source
            value = self.counts.with_ranges(raw, value, lay.roles["lower"], lay.roles.get("upper"))
        keep = None
        if drop is not None:
            self.stats.dropped_empty += int(drop.sum())
            keep = ~drop
        geo_r = rep(geo)
        if (geo < 0).any():
            agg = geo_r < 0
            self.stats.dropped_aggregates += int(agg.sum())
            keep = ~agg if keep is None else keep & ~agg
        ind_r = rep(ind.rows())
        line = rep(raw.line_numbers())
        # vintage and source per row
        if d.vintage.column:
            vint = rep(self.vintages.rows(raw))
        else:
            vint = np.full(n * k, ctx.vintage.id(self.vintage), np.int16)
        if "source" in lay.roles:
            sidx = lay.roles["source"]
            sm = self.cells.map(
                raw.columns[sidx],
                raw,
                self.cells.col(sidx),
                self._sources,
                lambda t: ctx.source.id(t.strip() or self.path.name),
                np.int32,
            )
            src = rep(sm.rows())
        else:
            src = np.full(n * k, self.source_id, np.int32)
        self._check(raw, vcols, ind_r, period, geo_r, dkey, value, vint, keep, line)
        if keep is not None:
            ind_r, period, geo_r, dkey = ind_r[keep], period[keep], geo_r[keep], dkey[keep]
            value, vint, src, line = value[keep], vint[keep], src[keep], line[keep]
        out = _Compact(
            ind=ind_r.astype(np.int16, copy=False),
            period=period.astype(np.int16, copy=False),
            geo=geo_r.astype(np.int16, copy=False),
            dkey=dkey,
            value=value,
            vintage=vint,
            source=src,
            line=line,
            file=self.file_id,
        )
        self.stats.cells += len(out)
        self.stats.masked += int(np.count_nonzero(value < 0))
        return out if len(out) else None

    def _check(
        self,
        raw: _Raw,
        vcols: list,
        ind: np.ndarray,
        period: np.ndarray,
        geo: np.ndarray,
        dkey: np.ndarray,
        value: np.ndarray,
        vint: np.ndarray,
        keep: np.ndarray | None,
        line: np.ndarray,
    ) -> None:
        """Checks of whole cells (:mod:`ksz_reports.ingest.checks`) before rows are dropped."""
        n, roles, cells = raw.n, self.layout.roles, self.cells
        by_period = self.dialect.wide is not None and self.dialect.wide.columns == "period"

        def named(i: int) -> str | None:
            r = i % n
            if "geo_name" not in roles:
                return None
            if "geo" in roles and cells.token(raw.columns[roles["geo"]], r).strip():
                return None
            return cells.token(raw.columns[roles["geo_name"]], r).strip()

        def at_geo(i: int) -> tuple[int, str]:
            role = "geo_name" if named(i) is not None else "geo"
            return raw.row(i % n), cells.col(roles[role])

        def at_period(i: int) -> tuple[int, str]:
            if by_period:
                return raw.row(i % n), vcols[i // n][1]
            return raw.row(i % n), cells.col(roles["period"])

        def at_value(i: int) -> tuple[int, str]:
            return raw.row(i % n), vcols[i // n][1]

        ctx = self.ctx
        check_periods_vintage(
            self.file,
            ctx,
            ind,
            period,
            vint,
            keep,
            at_period,
            cells.col(roles["vintage"]) if self.dialect.vintage.column else None,
        )
        if self.dialect.layout != "swing":  # a Swing row's geolevel names its geography
            check_geo_periods(self.file, ctx, geo, period, keep, at_geo, named)
        self.same_municipality.check(ind, period, geo, dkey, vint, keep, line)
        check_counts(self.file, ctx, geo, period, dkey, value, keep, at_value)


# ------------------------------------------------------------------------------------------
# public API


def iter_export(
    path: str | Path,
    *,
    dialect: str | Dialect | None = None,
    vintage: Any = None,
    config: Any = None,
) -> Iterator[pa.RecordBatch]:
    """Stream one export as canonical record batches (:data:`~ksz_reports.core.schema.CANONICAL_SCHEMA`).

    ``dialect``: a name or :class:`~ksz_reports.ingest.dialects.Dialect` (default: detected).
    ``vintage``: extraction date (``date`` or ``YYYY-MM-DD``) for files that do not carry one.
    Memory is bounded by the batch size. Duplicate cells are not checked here (they need the
    whole file): :func:`read_export`, :func:`~ksz_reports.ingest.validate.validate` and ingest
    check them.
    Raises :class:`~ksz_reports.core.errors.InputError` on the first data problem.
    """
    ctx = _Context(config)
    reader = _FileReader(path, ctx, dialect=dialect, vintage=_as_vintage(vintage))
    for c in reader.compact():
        yield _to_batch(c, ctx)


def read_export(
    path: str | Path,
    *,
    dialect: str | Dialect | None = None,
    vintage: Any = None,
    config: Any = None,
) -> pa.Table:
    """Read one export into the canonical table (:data:`~ksz_reports.core.schema.CANONICAL_SCHEMA`).

    Dimensions are dictionary-encoded, ``value`` is int64 with null = masked at source,
    ``source`` the file name, ``vintage`` the extraction date. Rows keep the file's order (a
    wide file: column by column); an identical duplicate cell is kept once, a duplicate with
    another value raises.
    Raises :class:`~ksz_reports.core.errors.InputError` on the first data problem.
    """
    ctx = _Context(config)
    reader = _FileReader(path, ctx, dialect=dialect, vintage=_as_vintage(vintage))
    parts = list(reader.compact())
    c, files = _concat_columns(parts)
    order, keys = _sort_order(c, ctx)
    keep_sorted = _duplicates(c, files, ctx, order, keys)
    take = None
    if not keep_sorted.all():
        keep = np.zeros(len(c), bool)
        keep[order[keep_sorted]] = True
        take = np.flatnonzero(keep)
    return pa.Table.from_batches([_to_batch(c, ctx, take)], schema=CANONICAL_SCHEMA)
