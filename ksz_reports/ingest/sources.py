"""Sources: the bytes, lines or cells of one export as a header and batches of raw columns.

A source reads one file the way of one dialect (:mod:`ksz_reports.ingest.detect` builds them):
it finds the header (a fixed row, or the first row holding the dialect's required columns), the
title rows above it and where the table ends (footnotes after an empty row), and yields the data
as :class:`_Raw` batches of dictionary-encoded columns, numbered by the row the user sees (the
line of a CSV file, the sheet row of a workbook, the record number of a Parquet file).

- CSV (:class:`_CsvSource`) is streamed in newline-aligned chunks of :data:`CHUNK_BYTES`: the
  calling thread reads (and hashes, sha256) the file, :data:`WORKERS` threads parse chunks with
  pyarrow's CSV reader (``pyarrow.csv.open_csv`` streams serially, so chunks are parsed with
  ``read_csv`` on a buffer instead), results come back in file order. Every column is a
  dictionary of *bytes*, which the file's :class:`_Decoder` turns into text (UTF-8,
  Windows-1252, …, chosen per file) on the dictionary's unique values only. Line numbers stay
  exact (empty lines are accounted for), and the memory is bounded by the chunk size.
- Excel (.xlsx, :class:`_XlsxSource`) is read with openpyxl (title rows above the header,
  footnotes below the table); workbooks are small, the cells are converted column by column.
- Parquet (:class:`_ParquetSource`) is read batch by batch (integer values taken as they are).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ksz_reports.core.errors import InputError, quoted
from ksz_reports.ingest.dialects import Dialect

#: Bytes per CSV chunk: one canonical batch is about this much of the file.
CHUNK_BYTES = 16 << 20
#: Threads parsing CSV chunks (the calling thread maps the parsed chunks meanwhile).
WORKERS = 2
#: Records per Parquet batch.
PARQUET_BATCH = 1 << 20
#: The longest field a CSV export may hold (bytes): a longer one is an unclosed quote or not an
#: export, and is refused (never echoed).
MAX_FIELD = 128 << 10
_SEPARATORS = (";", ",", "\t", "|")


# ------------------------------------------------------------------------------------------
# decoding


class _Decoder:
    """Bytes → text with the dialect's encodings, chosen per file.

    The first encoding that decodes is used; when a later value does not decode with it, the
    next encoding is taken for the whole file — unless non-ASCII text was already decoded with
    the first one (then the file mixes encodings: an error). A UTF-8 BOM means UTF-8.
    """

    def __init__(self, encodings: Sequence[str], bom: bool, file: str, dialect: Dialect):
        names = []
        for enc in encodings:
            name = codecs.lookup(enc).name
            name = "utf-8" if name == "utf-8-sig" else name
            if name not in names:
                names.append(name)
        self.encodings = ["utf-8"] if bom else names
        self.pos = 0
        self.non_ascii = False
        self.file = file
        self.dialect = dialect

    @property
    def encoding(self) -> str:
        return self.encodings[self.pos]

    def _fail(self, raw: bytes, row: int | None, column: str | None) -> InputError:
        shown = raw.decode("latin-1")
        tried = " or ".join(self.encodings)
        if self.non_ascii:
            return InputError(
                f"mixed text encodings: {quoted(shown)} is not {self.encoding} like "
                "other text of the file",
                file=self.file,
                row=row,
                column=column,
                hint="Save the whole file in one encoding (UTF-8)",
                code="wrong-encoding",
            )
        return InputError(
            f"cannot decode {quoted(shown)} as {tried} (the encodings of dialect {self.dialect.name})",
            file=self.file,
            row=row,
            column=column,
            hint="Save the file as UTF-8, or add its encoding to csv.encodings in "
            f"{self.dialect.where}",
            code="wrong-encoding",
        )

    def text(self, raw: bytes, row: int | None = None, column: str | None = None) -> str:
        """One byte string (a header line)."""
        while True:
            try:
                out = raw.decode(self.encoding)
                break
            except UnicodeDecodeError:
                if self.non_ascii or self.pos + 1 >= len(self.encodings):
                    raise self._fail(raw, row, column) from None
                self.pos += 1
        if not self.non_ascii and not out.isascii():
            self.non_ascii = True
        return out

    def array(self, arr: pa.Array, where: Any) -> pa.Array:
        """A dictionary of byte strings → strings. ``where(i)`` → (row, column) of item ``i``."""
        if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
            return arr
        while True:
            enc = self.encoding
            if enc == "utf-8":
                try:
                    out = arr.cast(pa.string())
                except pa.ArrowInvalid:
                    out = None
                if out is not None:
                    if not self.non_ascii and pc.all(pc.string_is_ascii(out)).as_py() is False:
                        self.non_ascii = True
                    return out
                items = arr.to_pylist()
                bad = next(i for i, b in enumerate(items) if not _decodes(b, enc))
                if any(not b.isascii() and _decodes(b, enc) for b in items):
                    self.non_ascii = True  # UTF-8 text beside text that is not: mixed
            else:
                try:  # ASCII is the same text in every encoding read here
                    out = arr.cast(pa.string())
                    if pc.all(pc.string_is_ascii(out)).as_py() is not False:
                        return out
                except pa.ArrowInvalid:
                    pass
                items = arr.to_pylist()
                try:
                    texts = [b.decode(enc) for b in items]
                except UnicodeDecodeError:
                    bad = next(i for i, b in enumerate(items) if not _decodes(b, enc))
                else:
                    if not self.non_ascii and not all(t.isascii() for t in texts):
                        self.non_ascii = True
                    return pa.array(texts, pa.string())
            if self.non_ascii or self.pos + 1 >= len(self.encodings):
                row, column = where(bad)
                raise self._fail(arr[bad].as_py(), row, column)
            self.pos += 1


def _decodes(raw: bytes, enc: str) -> bool:
    try:
        raw.decode(enc)
    except UnicodeDecodeError:
        return False
    return True


# ------------------------------------------------------------------------------------------
# sources: a header and batches of raw columns


@dataclass
class _Header:
    names: list[str]
    row: int | None  # 1-based line / sheet row of the header; None for Parquet
    titles: list[str] = field(default_factory=list)


@dataclass
class _Raw:
    """A batch of raw columns (by header index): dictionary arrays of bytes or strings."""

    columns: dict[int, pa.Array]
    n: int
    first_row: int  # row number of the first record (1-based, as the user sees it)
    lines: np.ndarray | None = None  # row numbers when not consecutive (blank lines skipped)

    def row(self, i: int) -> int:
        """The row number (as the user sees it) of record ``i`` of the batch."""
        return int(self.lines[i]) if self.lines is not None else self.first_row + int(i)

    def line_numbers(self) -> np.ndarray:
        """Row numbers of every record (int32)."""
        if self.lines is not None:
            return self.lines
        return np.arange(self.first_row, self.first_row + self.n, dtype=np.int32)


def _split_fields(text: str, sep: str, quote: str) -> list[str]:
    try:
        return next(csv.reader([text], delimiter=sep, quotechar=quote), [])
    except csv.Error:  # a field over csv's limit (or a stray line end): as if one long field
        return [text]


def _too_long(file: str, row: int | None, column: str | None, size: int) -> InputError:
    return InputError(
        f"a field of {size:,} bytes, more than the {MAX_FIELD >> 10} KiB a field of an export may "
        "hold",
        file=file,
        row=row,
        column=column,
        hint="Check the quotes of this line (an unclosed quote swallows the lines after it), or "
        "export the file again",
        code="field-too-long",
    )


class _CsvSource:
    """A CSV export: header found in the first lines, data streamed with pyarrow."""

    def __init__(self, path: Path, dialect: Dialect, head: bytes, complete: bool, required: Any):
        self.path, self.file, self.dialect = path, str(path), dialect
        opts = dialect.csv
        self.bom = head.startswith(codecs.BOM_UTF8)
        self.decoder = _Decoder(opts.encodings, self.bom, self.file, dialect)
        body = head[len(codecs.BOM_UTF8) :] if self.bom else head
        cr, lf = body.find(b"\r"), body.find(b"\n")
        if cr >= 0 and (lf < 0 or cr + 1 < lf):
            raise InputError(
                "the lines end with a carriage return only (CR, old Mac style), not LF or CR LF",
                file=self.file,
                row=1,
                hint="Save the file with LF or CR LF line ends",
                code="cr-line-ends",
            )
        lines = body.split(b"\n")
        if not complete:
            lines = lines[:-1]  # the last one may be cut
        ends = np.cumsum([len(ln) + 1 for ln in lines]) + (len(codecs.BOM_UTF8) if self.bom else 0)
        self.lines = [ln[:-1] if ln.endswith(b"\r") else ln for ln in lines]
        self.quote = opts.quote
        self.sep = opts.separator
        self.sha256: str | None = None
        index = self._find_header(required)
        line = self.lines[index]
        if self.sep == "auto":
            counts = {s: line.count(s.encode()) for s in _SEPARATORS}
            self.sep = max(_SEPARATORS, key=lambda s: counts[s]) if any(counts.values()) else ";"
        text = self.decoder.text(line, row=index + 1)
        names = [n.strip() for n in _split_fields(text, self.sep, self.quote)]
        longest = max((len(n.encode()) for n in names), default=0)
        if longest > MAX_FIELD:
            raise _too_long(self.file, index + 1, None, longest)
        titles = [self.decoder.text(ln, row=i + 1) for i, ln in enumerate(self.lines[:index])]
        self.header = _Header(names, index + 1, titles)
        self.complete = complete
        self.data_offset = min(int(ends[index]), len(head))

    def _find_header(self, required: Any) -> int:
        row = self.dialect.header.row
        if row is not None:
            if row > len(self.lines):
                raise InputError(
                    f"no header: the file has fewer than {row} lines",
                    file=self.file,
                    code="no-header",
                )
            return row - 1
        for i, raw in enumerate(self.lines[: self.dialect.header.search_rows]):
            if not raw.strip():
                continue
            try:
                text = raw.decode(self.decoder.encoding, errors="replace")
            except LookupError:
                continue
            sep = self.sep
            if sep == "auto":
                sep = max(_SEPARATORS, key=lambda s: raw.count(s.encode()))
            if required(_split_fields(text, sep, self.quote)):
                return i
        raise InputError(
            f"no header row with the columns of dialect {self.dialect.name} in "
            f"the first {self.dialect.header.search_rows} lines",
            file=self.file,
            code="no-header",
        )

    def _data_limit(self) -> int | None:
        """Byte offset where the table ends (footnotes after an empty line), or None."""
        if self.dialect.footnotes != "stop_at_empty_row":
            return None
        size = self.path.stat().st_size
        tail_start = 0 if self.complete else max(0, size - (1 << 16))
        with open(self.path, "rb") as fh:
            fh.seek(tail_start)
            tail = fh.read()
        lines = tail.split(b"\n")
        offsets, pos = [], tail_start
        for ln in lines:
            offsets.append(pos)
            pos += len(ln) + 1
        start = 1 if tail_start else (self.header.row or 1)  # skip a cut line / the header
        width = len(self.header.names)
        for i in range(start, len(lines)):
            if not lines[i].strip(b"\r \t"):
                after = [j for j in range(i + 1, len(lines)) if lines[j].strip(b"\r \t")]
                if not after:
                    return None
                for j in after:
                    text = lines[j].rstrip(b"\r").decode(self.decoder.encoding, errors="replace")
                    if width > 2 and len(_split_fields(text, self.sep, self.quote)) >= width:
                        row = None if tail_start else j + 1
                        raise InputError(
                            "a data line after the empty line that ends the table",
                            file=self.file,
                            row=row,
                            hint="Remove the empty line (only footnotes may follow the table)",
                            code="data-after-table",
                        )
                return offsets[i]
        return None

    def batches(self, include: list[int], plain: Sequence[int] = ()) -> Iterator[_Raw]:
        """Newline-aligned chunks of the file, parsed by a small thread pool, in order.

        The calling thread reads (and hashes) the file; the workers parse chunks with
        pyarrow (every column a dictionary of bytes); results come back in file order, so the
        caller's mapping overlaps with the parsing of the next chunks.
        """
        names = [f"f{i}" for i in range(len(self.header.names))]
        binary = pa.dictionary(pa.int32(), pa.binary())
        parse_options = pacsv.ParseOptions(
            delimiter=self.sep,
            quote_char=self.quote or False,
            double_quote=True,
            newlines_in_values=False,
            ignore_empty_lines=True,
        )
        convert_options = pacsv.ConvertOptions(
            column_types={names[i]: pa.binary() if i in plain else binary for i in include},
            include_columns=[names[i] for i in include],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        )

        def parse(chunk: bytes, first: int) -> tuple[pa.Table | Exception, np.ndarray | None]:
            try:
                table = pacsv.read_csv(
                    pa.BufferReader(chunk),
                    read_options=pacsv.ReadOptions(
                        column_names=names, use_threads=False, block_size=len(chunk) + 1
                    ),
                    parse_options=parse_options,
                    convert_options=convert_options,
                )
            except pa.ArrowInvalid as exc:
                return exc, None
            lines = None
            if table.num_rows != chunk.count(b"\n") + (not chunk.endswith(b"\n")):
                lines = _nonblank_lines(chunk, first, quote)
                if len(lines) != table.num_rows:  # a quote pyarrow reads otherwise than RFC 4180
                    return _stray_quote(self.file, chunk, first, quote), None
            if len(chunk) > MAX_FIELD:
                found = _long_field(table)
                if found is not None:
                    j, i, size = found
                    row = int(lines[i]) if lines is not None else first + i
                    return _too_long(self.file, row, self.header.names[include[j]], size), None
            return table, lines

        quote = self.quote.encode()[0] if self.quote else None
        # a record holds at most every field at its longest (and its separators)
        longest = (MAX_FIELD + 3) * len(names)
        limit = self._data_limit()
        sha = hashlib.sha256()
        pending: deque = deque()
        with open(self.path, "rb") as fh, ThreadPoolExecutor(WORKERS) as pool:
            sha.update(fh.read(self.data_offset))
            pos, carry, eof = self.data_offset, b"", False
            cut_row = None
            stray: InputError | None = None  # the file ends inside a quoted field
            line = (self.header.row or 0) + 1
            try:
                while True:
                    while not eof and len(pending) <= WORKERS:
                        want = CHUNK_BYTES if limit is None else min(CHUNK_BYTES, limit - pos)
                        block = fh.read(want) if want > 0 else b""
                        if block:
                            sha.update(block)
                            pos += len(block)
                            data = carry + block if carry else block
                            cut = _record_end(data, quote)
                            if len(data) - cut > longest:  # no record is that long: a quote
                                row = line + data.count(b"\n", 0, cut)  # was never closed
                                raise _too_long(self.file, row, None, len(data) - cut)
                            if cut == 0:
                                carry = data
                                continue
                            chunk, carry = data[:cut], data[cut:]
                        else:
                            if quote is not None and carry.count(bytes([quote])) % 2:
                                stray = _stray_quote(self.file, carry, line, quote)
                            elif carry.strip() and limit is None and self.dialect.csv.final_newline:
                                cut_row = line  # the row the cut record begins on
                            eof, chunk, carry = True, carry, b""
                            if stray is not None:
                                chunk = b""
                        if chunk.strip():
                            pending.append((pool.submit(parse, chunk, line), chunk, line))
                        line += chunk.count(b"\n")
                    if not pending:
                        if stray is not None:
                            raise stray
                        if cut_row is not None:
                            raise InputError(
                                "the file ends inside this row, without the line end that ends "
                                f"every line of dialect {self.dialect.name}: it was cut, and its "
                                "last value may be incomplete",
                                file=self.file,
                                row=cut_row,
                                hint="Copy or export the file again",
                                code="truncated",
                            )
                        break
                    future, chunk, first = pending.popleft()
                    table, lines = future.result()
                    if isinstance(table, InputError):
                        raise table
                    if isinstance(table, Exception):
                        raise self._parse_error(table, chunk, first)
                    if table.num_rows == 0:
                        continue
                    cols = {
                        i: table.column(j).chunk(0)
                        if table.column(j).num_chunks == 1
                        else table.column(j).combine_chunks()
                        for j, i in enumerate(include)
                    }
                    yield _Raw(cols, table.num_rows, first, lines)
            finally:
                for future, _chunk, _first in pending:
                    future.cancel()
            while block := fh.read(1 << 22):
                sha.update(block)
        self.sha256 = sha.hexdigest()

    def _parse_error(self, exc: Exception, chunk: bytes, first: int) -> InputError:
        """Find the line of ``chunk`` whose field count differs from the header (slow path)."""
        expected = len(self.header.names)
        for lineno, raw in enumerate(chunk.split(b"\n"), first):
            if not raw.strip(b"\r"):
                continue
            text = raw.rstrip(b"\r").decode(self.decoder.encoding, errors="replace")
            fields = _split_fields(text, self.sep, self.quote)
            if len(fields) != expected:
                return InputError(
                    f"{len(fields)} fields where the header has {expected}",
                    file=self.file,
                    row=lineno,
                    hint=f"Check the separator ({self.sep!r}) and the quotes of this line",
                    code="bad-csv",
                )
        return InputError(
            f"cannot parse the CSV data: {exc}", file=self.file, row=first, code="bad-csv"
        )


def _long_field(table: pa.Table) -> tuple[int, int, int] | None:
    """(column, row, bytes) of the first field over :data:`MAX_FIELD` (dictionaries: checked on
    their unique values only), or None."""
    for j, column in enumerate(table.columns):
        offset = 0
        for chunk in column.chunks:
            values = chunk.dictionary if pa.types.is_dictionary(chunk.type) else chunk
            if len(values):
                sizes = pc.binary_length(values)
                if pc.max(sizes).as_py() > MAX_FIELD:
                    k = int(np.flatnonzero(sizes.to_numpy(zero_copy_only=False) > MAX_FIELD)[0])
                    if pa.types.is_dictionary(chunk.type):
                        hits = np.flatnonzero(chunk.indices.to_numpy(zero_copy_only=False) == k)
                        i = int(hits[0]) if len(hits) else 0
                    else:
                        i = k
                    return j, offset + i, int(sizes[k].as_py())
            offset += len(chunk)
    return None


def _record_ends(data: np.ndarray, quote: int | None) -> np.ndarray:
    """Offsets of the line ends that end a record: outside quotes (an even number of quote
    characters before them, RFC 4180: a doubled quote inside a quoted field counts twice)."""
    newlines = np.flatnonzero(data == 10)
    if quote is None or not len(newlines):
        return newlines
    quotes = np.flatnonzero(data == quote)
    if not len(quotes):
        return newlines
    return newlines[np.searchsorted(quotes, newlines) % 2 == 0]


def _record_end(data: bytes, quote: int | None) -> int:
    """Offset just after the last line end of ``data`` that ends a record (0: none), so that a
    chunk never ends inside a quoted field (a quoted line break before a chunk boundary)."""
    if quote is None or quote not in data:
        return data.rfind(b"\n") + 1
    ends = _record_ends(np.frombuffer(data, np.uint8), quote)
    return int(ends[-1]) + 1 if len(ends) else 0


def _nonblank_lines(chunk: bytes, first: int, quote: int | None = None) -> np.ndarray:
    """Line numbers of the non-empty records of ``chunk`` (pyarrow skips empty lines); a record
    holding a quoted line break is numbered by the line it begins on."""
    data = np.frombuffer(chunk, np.uint8)
    newlines = np.flatnonzero(data == 10)
    ends = _record_ends(data, quote)
    if not chunk.endswith(b"\n"):
        ends = np.append(ends, len(data))
    starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64)
    length = ends - starts
    cr = np.zeros(len(starts), bool)
    one = length == 1
    cr[one] = data[starts[one]] == 13
    blank = (length == 0) | cr
    return (np.searchsorted(newlines, starts[~blank]) + first).astype(np.int32)


def _stray_quote(file: str, chunk: bytes, first: int, quote: int) -> InputError:
    """A quote the CSV reader takes otherwise than RFC 4180 (inside a field that is not quoted):
    located on the first line with an odd number of quotes."""
    row = first
    for row, raw in enumerate(chunk.split(b"\n"), first):  # noqa: B007 - the row is wanted
        if raw.count(bytes([quote])) % 2:
            break
    q = chr(quote)
    return InputError(
        f"a quote character ({q}) inside a field that is not quoted, or a quoted field that is "
        "not closed",
        file=file,
        row=row,
        hint=f"Quote the whole field and double a quote inside it ({q}{q})",
        code="bad-csv",
    )


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


class _XlsxSource:
    """An Excel workbook: title rows, the header (found or fixed), data, footnotes."""

    def __init__(self, path: Path, dialect: Dialect, rows: list[tuple], sheet: str, required: Any):
        self.path, self.file, self.dialect, self.sheet = path, str(path), dialect, sheet
        self.sha256: str | None = None
        index = self._find_header(rows, required)
        names = [_cell_text(v) for v in rows[index]]
        while names and names[-1] == "":
            names.pop()
        titles = [" ".join(_cell_text(v) for v in r if v is not None) for r in rows[:index]]
        self.header = _Header(names, index + 1, titles)
        data = rows[index + 1 :]
        end = len(data)
        for i, r in enumerate(data):
            if all(v is None or _cell_text(v) == "" for v in r):
                end = i
                break
        if dialect.footnotes == "none":
            end = len(data)
            while end and all(v is None or _cell_text(v) == "" for v in data[end - 1]):
                end -= 1
        width = len(names)
        for i, r in enumerate(data[end:], start=end):
            filled = sum(1 for v in r[:width] if v is not None and _cell_text(v) != "")
            if width > 2 and filled >= width - 1:
                raise InputError(
                    "a data row after the empty row that ends the table",
                    file=self.file,
                    row=index + 2 + i,
                    hint=f"Remove the empty row {index + 2 + end} (only "
                    "footnotes may follow the table)",
                    code="data-after-table",
                )
        self.data = [tuple(r[:width]) + (None,) * (width - len(r)) for r in data[:end]]

    def _find_header(self, rows: list[tuple], required: Any) -> int:
        row = self.dialect.header.row
        if row is not None:
            if row > len(rows):
                raise InputError(
                    f"no header: sheet {self.sheet!r} has fewer than {row} rows",
                    file=self.file,
                    code="no-header",
                )
            return row - 1
        for i, r in enumerate(rows[: self.dialect.header.search_rows]):
            if required([_cell_text(v) for v in r]):
                return i
        raise InputError(
            f"no header row with the columns of dialect {self.dialect.name} in "
            f"the first {self.dialect.header.search_rows} rows of sheet {self.sheet!r}",
            file=self.file,
            hint="Check the column names (see docs/dialects.md)",
            code="no-header",
        )

    def batches(self, include: list[int], plain: Sequence[int] = ()) -> Iterator[_Raw]:
        if not self.data:
            return
        columns = list(zip(*self.data, strict=True))
        cols = {}
        for i in include:
            texts = [_cell_text(v) for v in columns[i]]
            cols[i] = pa.array(texts, pa.string()).dictionary_encode()
        yield _Raw(cols, len(self.data), (self.header.row or 0) + 1)


class _ParquetSource:
    """A Parquet file: the schema's column names are the header; records numbered from 1."""

    def __init__(self, path: Path, dialect: Dialect):
        import pyarrow.parquet as pq

        self.path, self.file, self.dialect = path, str(path), dialect
        self.sha256: str | None = None
        try:
            self.pf = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(
                f"not a readable Parquet file ({exc})",
                file=self.file,
                hint="Copy or export the file again",
                code="wrong-format",
            ) from None
        self.header = _Header(list(self.pf.schema_arrow.names), None)

    def batches(self, include: list[int], plain: Sequence[int] = ()) -> Iterator[_Raw]:
        names = [self.header.names[i] for i in include]
        first = 1
        try:
            for batch in self.pf.iter_batches(batch_size=PARQUET_BATCH, columns=names):
                cols = {}
                for j, i in enumerate(include):
                    cols[i] = _parquet_column(batch.column(j))
                yield _Raw(cols, batch.num_rows, first)
                first += batch.num_rows
        except pa.ArrowException as exc:
            raise InputError(
                f"cannot read the Parquet data ({exc})",
                file=self.file,
                hint="Copy or export the file again",
                code="wrong-format",
            ) from None


def _parquet_column(arr: pa.Array) -> pa.Array:
    """A Parquet column as a dictionary of strings (integers kept as they are for values)."""
    if pa.types.is_integer(arr.type):
        return arr
    if pa.types.is_dictionary(arr.type):
        values = arr.dictionary
        if not pa.types.is_string(values.type):
            values = values.cast(pa.string())
        indices = arr.indices
        if indices.null_count:
            values = pa.concat_arrays([values, pa.array([""], pa.string())])
            indices = pc.fill_null(indices, len(values) - 1)
        return pa.DictionaryArray.from_arrays(indices, values)
    if pa.types.is_date(arr.type) or pa.types.is_timestamp(arr.type):
        arr = arr.cast(pa.date32()).cast(pa.string())
    elif not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    return pc.fill_null(arr, "").dictionary_encode()
