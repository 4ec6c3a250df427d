"""The canonical dataset: every export of a run in one Parquet file, with its provenance.

:func:`ingest` reads exports (streamed, see :mod:`ksz_reports.ingest.reader`), checks them — every
problem of docs/domain.md#raw-exports, and duplicate cells across files (the same cell and vintage with two
values) — and writes the folder ``out``::

    out/canonical.parquet   the canonical long table (docs/domain.md#the-canonical-table): zstd, row groups, dictionary-
                            encoded dimensions, sorted by indicator, geo, period
    out/ingest.json         inputs (path, sha256, dialect, rows, vintage), software version,
                            configuration hash, and the summary

``out`` is replaced atomically: a failing ingest leaves a previous dataset byte-identical and
writes nothing new. :func:`open_dataset` opens such a folder (and checks that it is one).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ksz_reports import __version__
from ksz_reports.core.atomic import atomic_dir, output_errors
from ksz_reports.core.errors import InputError, UsageError
from ksz_reports.core.schema import CANONICAL_SCHEMA
from ksz_reports.ingest.compact import _concat_columns, _duplicates, _sort_order, _to_batch
from ksz_reports.ingest.validate import _collect

DATA_FILE = "canonical.parquet"
META_FILE = "ingest.json"
FORMAT = "ksz_reports canonical dataset"
FORMAT_VERSION = 2  # 2: lower and upper (the range of a cell masked at the source)
#: Rows per Parquet row group.
ROW_GROUP = 1 << 20
#: The table's sort order (string order of each column); statistics are written for these.
SORT_COLUMNS = ("indicator", "geo", "period")

__all__ = ["Dataset", "IngestSummary", "ingest", "open_dataset"]


@dataclass
class IngestSummary:
    """What :func:`ingest` wrote."""

    out: str
    rows: int
    cells: dict[str, int]
    masked: int
    periods: dict[str, list[str]]
    vintages: list[str]
    files: list[dict] = field(default_factory=list)
    duplicates_dropped: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        """A JSON-able dict."""
        return {
            "out": self.out,
            "rows": self.rows,
            "cells": self.cells,
            "masked": self.masked,
            "periods": self.periods,
            "vintages": self.vintages,
            "files": self.files,
            "duplicates_dropped": self.duplicates_dropped,
            "seconds": round(self.seconds, 3),
        }

    def __str__(self) -> str:
        lines = [
            f"Wrote {self.out}: {self.rows} cells ({self.masked} masked) from "
            f"{len(self.files)} file(s) in {self.seconds:.1f} s; vintages "
            f"{', '.join(self.vintages)}"
        ]
        for ind, n in self.cells.items():
            periods = self.periods.get(ind, [])
            span = f"{periods[0]}…{periods[-1]}" if periods else "-"
            lines.append(f"  {ind}: {n} cells, periods {span}")
        if self.duplicates_dropped:
            lines.append(f"  {self.duplicates_dropped} identical duplicate cells kept once")
        return "\n".join(lines)


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: exists and is not a folder; give a dataset folder for --out.")
    if (
        out.is_dir()
        and any(out.iterdir())
        and not ((out / DATA_FILE).is_file() and (out / META_FILE).is_file())
    ):
        raise UsageError(
            f"{out}: the folder is not empty and is not a dataset (no {DATA_FILE} and "
            f"{META_FILE}); ingest replaces the whole folder, so give a new or empty folder."
        )


def _used(ids: np.ndarray, size: int) -> np.ndarray:
    return np.flatnonzero(np.bincount(ids, minlength=size)) if len(ids) else np.array([], int)


def ingest(
    paths: str | Path | Iterable[str | Path],
    out: str | Path,
    *,
    vintage: Any = None,
    config: Any = None,
    dialect: Any = None,
) -> IngestSummary:
    """Read exports into the canonical dataset folder ``out`` (see the module docstring).

    ``vintage``: extraction date for files that do not carry one. ``dialect``: force a dialect
    for every file (default: detected per file). Raises
    :class:`~ksz_reports.core.errors.InputError` on the first data problem — then nothing is written
    and a previous dataset in ``out`` is left as it was.
    """
    start = time.perf_counter()
    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = list(paths)
    out = Path(out)
    _check_out(out)
    col = _collect(paths, dialect=dialect, vintage=vintage, config=config, stop=True)
    ctx = col.ctx
    c, files = _concat_columns(col.parts)
    col.parts = []
    pa.default_memory_pool().release_unused()  # the parsed chunks are gone
    order, keys = _sort_order(c, ctx)
    keep = _duplicates(c, files, ctx, order, keys)
    del keys
    dropped = int((~keep).sum())
    if dropped:
        order = order[keep]
    del keep, files
    n = len(order)

    # compact dictionaries: used indicators (config order), used geo codes (sorted), sources
    ind_used = _used(c.ind, len(ctx.indicators))
    geo_used = sorted(_used(c.geo, len(ctx.geo)), key=lambda i: ctx.geo.values[i])
    src_used = _used(c.source, len(ctx.source))
    dictionaries = {}
    for name, used, values in (
        ("indicator", ind_used, ctx.indicators),
        ("geo", geo_used, ctx.geo.values),
        ("source", src_used, ctx.source.values),
    ):
        remap = np.zeros(max(len(values), 1), np.int32)
        remap[np.asarray(used, int)] = np.arange(len(used), dtype=np.int32)
        dictionaries[name] = (remap, [values[i] for i in used])

    # summary (after duplicates)
    kept_ind = c.ind[order]
    per_ind = np.bincount(kept_ind, minlength=len(ctx.indicators))
    cells = {ctx.indicators[i]: int(per_ind[i]) for i in ind_used}
    masked = int(np.count_nonzero(c.value[order] < 0 if dropped else c.value < 0))
    pairs = np.unique(kept_ind.astype(np.int64) * max(len(ctx.period), 1) + c.period[order])
    periods: dict[str, list[str]] = {ctx.indicators[i]: [] for i in ind_used}
    for p in pairs:
        i, j = divmod(int(p), max(len(ctx.period), 1))
        periods[ctx.indicators[i]].append(ctx.period.values[j])
    periods = {k: sorted(v) for k, v in periods.items()}
    del kept_ind
    vintages = sorted(v.isoformat() for v in ctx.vintage.values)
    inputs = []
    for reader, report in zip(col.readers, col.reports, strict=True):
        st = reader.stats
        inputs.append(
            {
                "path": str(Path(reader.path).resolve()),
                "name": Path(reader.path).name,
                "sha256": report.sha256,
                "size": Path(reader.path).stat().st_size,
                "dialect": reader.dialect.name,
                "rows": st.rows,
                "cells": st.cells,
                "masked": st.masked,
                "vintage": sorted(v.isoformat() for v in st.vintages),
                "periods": sorted(st.periods),
                "indicators": [i for i in ctx.indicators if i in st.indicators],
                "dropped_aggregates": st.dropped_aggregates,
                "dropped_empty": st.dropped_empty,
            }
        )
    summary = IngestSummary(str(out), n, cells, masked, periods, vintages, inputs, dropped)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "software": {"name": "ksz_reports", "version": __version__},
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "config_hash": ctx.config.hash,
        "inputs": inputs,
        "schema": [{"name": f.name, "type": str(f.type)} for f in CANONICAL_SCHEMA],
        "sort": list(SORT_COLUMNS),
        "summary": {k: v for k, v in summary.to_dict().items() if k not in ("files", "out")},
    }

    with output_errors(out), atomic_dir(out) as tmp:
        writer = pq.ParquetWriter(
            tmp / DATA_FILE,
            CANONICAL_SCHEMA,
            compression="zstd",
            use_dictionary=True,
            write_statistics=list(SORT_COLUMNS),
            sorting_columns=[
                pq.SortingColumn(CANONICAL_SCHEMA.get_field_index(c)) for c in SORT_COLUMNS
            ],
        )
        try:
            for lo in range(0, n, ROW_GROUP):
                batch = _to_batch(c, ctx, order[lo : lo + ROW_GROUP], dictionaries)
                writer.write_batch(batch, row_group_size=ROW_GROUP)
            if n == 0:
                writer.write_table(CANONICAL_SCHEMA.empty_table())
        finally:
            writer.close()
        summary.seconds = time.perf_counter() - start
        meta["summary"]["seconds"] = round(summary.seconds, 3)
        with open(tmp / META_FILE, "w", encoding="utf-8") as fh:
            json.dump(meta, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
    summary.seconds = time.perf_counter() - start
    return summary


# ------------------------------------------------------------------------------------------
# reading a dataset


class Dataset:
    """A canonical dataset folder written by :func:`ingest`."""

    def __init__(self, path: Path, table: pa.Table | None, meta: dict, *, rows: int | None = None):
        self.path = path
        self._table = table
        self.meta = meta
        self.rows = table.num_rows if table is not None else rows

    @property
    def table(self) -> pa.Table:
        """The canonical table, read on first use: a command that finds its publication cached
        never reads the dataset (its schema was checked from the Parquet footer at open)."""
        if self._table is None:
            try:
                self._table = pq.read_table(self.path / DATA_FILE)
            except (pa.ArrowException, OSError) as exc:
                raise _not_dataset(self.path, f"{DATA_FILE} cannot be read ({exc})") from None
            _check_schema(self.path, self._table.schema)
        return self._table

    def __repr__(self) -> str:
        return f"<Dataset {self.path}: {self.rows} cells>"

    def frame(self) -> pd.DataFrame:
        """The table as pandas: categorical dimensions, ``value`` nullable Int64 (NA = masked)."""
        return self.table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)

    @property
    def vintages(self) -> list[dt.date]:
        """The extraction dates in the dataset, sorted."""
        return sorted(pc.unique(self.table["vintage"]).to_pylist())

    @property
    def indicators(self) -> list[str]:
        """The indicator ids present, sorted."""
        return sorted(_present(self.table["indicator"]))

    def periods(self, indicator: str) -> list[str]:
        """The periods present for ``indicator``, sorted (empty when it is absent)."""
        rows = self.table.filter(pc.equal(self.table["indicator"].cast(pa.string()), indicator))
        return sorted(pc.unique(rows["period"]).to_pylist())


def _present(column: pa.ChunkedArray) -> set[str]:
    out: set[str] = set()
    for chunk in column.chunks:
        if pa.types.is_dictionary(chunk.type):
            used = pc.unique(chunk.indices).to_numpy(zero_copy_only=False)
            values = chunk.dictionary.to_pylist()
            out.update(values[int(i)] for i in used if i is not None)
        else:
            out.update(pc.unique(chunk).to_pylist())
    return out


def _not_dataset(path: Path, why: str) -> InputError:
    return InputError(
        f"not a ksz_reports dataset: {why}",
        file=path,
        hint="Run `ksz-reports ingest EXPORT... --out FOLDER` and open that folder",
        code="not-a-dataset",
    )


def open_dataset(path: str | Path) -> Dataset:
    """Open a dataset folder (or its ``canonical.parquet``) and check that it is one.

    Raises :class:`~ksz_reports.core.errors.InputError` when the folder is missing, is not a
    dataset, or its table does not have the canonical schema.
    """
    path = Path(path)
    if path.is_file() and path.name == DATA_FILE:
        path = path.parent
    if not path.exists():
        raise _not_dataset(path, "no such folder")
    if not path.is_dir():
        raise _not_dataset(path, "it is a file, not a dataset folder")
    data, meta_file = path / DATA_FILE, path / META_FILE
    missing = [f.name for f in (data, meta_file) if not f.is_file()]
    if missing:
        raise _not_dataset(path, f"no {' and no '.join(missing)} in the folder")
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _not_dataset(path, f"{META_FILE} is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _not_dataset(path, f"{META_FILE} does not describe a {FORMAT}")
    version = meta.get("format_version")
    if isinstance(version, int) and version != FORMAT_VERSION:
        raise InputError(
            f"dataset format {version} is not the format {FORMAT_VERSION} of this version",
            file=path,
            hint="Ingest the exports again: `ksz-reports ingest EXPORT... --out FOLDER` "
            "(format 2 keeps the range of cells masked at the source)",
            code="old-dataset",
        )
    try:
        footer = pq.read_metadata(data)
        schema, rows = footer.schema.to_arrow_schema(), footer.num_rows
    except (pa.ArrowException, OSError) as exc:
        raise _not_dataset(path, f"{DATA_FILE} cannot be read ({exc})") from None
    _check_schema(path, schema)
    return Dataset(path, None, meta, rows=rows)


def _check_schema(path: Path, schema: pa.Schema) -> None:
    names = list(schema.names)
    expected = list(CANONICAL_SCHEMA.names)
    if names != expected:
        missing = [n for n in expected if n not in names]
        extra = [n for n in names if n not in expected]
        what = (
            f"missing {missing}"
            if missing
            else f"unexpected {extra}"
            if extra
            else "columns out of order"
        )
        raise _not_dataset(path, f"{DATA_FILE} does not have the canonical columns ({what})")
    for f in CANONICAL_SCHEMA:
        got = schema.field(f.name).type
        if got != f.type and not (
            pa.types.is_dictionary(got)
            and pa.types.is_dictionary(f.type)
            and got.value_type == f.type.value_type
        ):
            raise _not_dataset(path, f"column {f.name!r} of {DATA_FILE} is {got}, not {f.type}")
