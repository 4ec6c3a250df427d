"""Reading raw exports into the canonical long table (SPEC §3, §4).

:func:`read_export` returns one file as a canonical Arrow table (:data:`~ksz_reports.core.schema.
CANONICAL_SCHEMA`); :func:`iter_export` streams it as canonical record batches; :func:`validate`
checks files and reports every problem without raising.

How a file is read (the dialect says how, see :mod:`ksz_reports.ingest.dialects`):

- CSV is streamed in newline-aligned chunks of :data:`CHUNK_BYTES`: the calling thread reads
  (and hashes, sha256) the file, :data:`WORKERS` threads parse chunks with pyarrow's CSV reader
  (``pyarrow.csv.open_csv`` streams serially, so chunks are parsed with ``read_csv`` on a buffer
  instead), results come back in file order. Every column is a dictionary of *bytes*: decoding
  (UTF-8, Windows-1252, …), code mapping, period and number parsing are done on the **dictionary
  of unique values** of each chunk, never per row in Python; rows are then mapped with one numpy
  ``take`` per column. A 10-million-row file costs O(unique values) Python work, and the memory
  is bounded by the chunk size. Line numbers stay exact (empty lines are accounted for).
- Excel (.xlsx) is read with openpyxl (title rows above the header, footnotes below the table);
  workbooks are small, the cells are converted column by column.
- Parquet is read batch by batch (integer values taken as they are).

Internally a file becomes compact integer arrays (ids into dictionaries shared by all files of a
read, the seven breakdown codes packed in one int32, the value as int32 with -1 = masked), which
:mod:`ksz_reports.ingest.dataset` sorts, checks for duplicates and writes; :func:`iter_export` and
:func:`read_export` turn them into canonical Arrow batches.

Every data problem raises :class:`~ksz_reports.core.errors.InputError` naming the file, the row as the
user sees it (the line of a CSV file, the sheet row of a workbook, the record number of a Parquet
file), the column as written in the header, and what to do.
"""

from __future__ import annotations

import calendar
import codecs
import contextlib
import csv
import datetime as dt
import difflib
import hashlib
import re
import zipfile
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ksz_reports.core.errors import InputError, KszError, NotFoundError
from ksz_reports.core.schema import CANONICAL_SCHEMA, DIMENSIONS, TOTAL
from ksz_reports.core.text import normalize
from ksz_reports.ingest.dialects import KNOWN_MASKED_TOKENS, Dialect, dialects_for, get_dialect

__all__ = [
    "FileReport",
    "ValidationReport",
    "iter_export",
    "read_export",
    "validate",
]

#: Bytes per CSV chunk: one canonical batch is about this much of the file.
CHUNK_BYTES = 16 << 20
#: Threads parsing CSV chunks (the calling thread maps the parsed chunks meanwhile).
WORKERS = 2
#: Records per Parquet batch.
PARQUET_BATCH = 1 << 20
_HEAD_BYTES = 1 << 20
_FREQ = {"year": 0, "quarter": 1, "month": 2}
_FREQ_NAME = {0: "yearly", 1: "quarterly", 2: "monthly"}
_SEPARATORS = (";", ",", "\t", "|")
_EPOCH = dt.date(1970, 1, 1)
_SEP_NAMES = {
    " ": "space",
    "\u00a0": "no-break space",
    "\u202f": "narrow no-break space",
    ".": "'.'",
    ",": "','",
    "'": "apostrophe",
}

# value status per cell (>= _BAD: an error)
_OK, _MASKED, _DROP, _BAD, _NEG, _FOREIGN, _EMPTY, _BIG = 0, 1, 2, 3, 4, 5, 6, 7
_EMPTY_STATUS = {"missing": _DROP, "zero": _OK, "masked": _MASKED, "error": _EMPTY}
#: Largest count accepted (the compact value is int32; Belgium has < 12 million inhabitants).
_MAX_COUNT = 2**31 - 1
# geo status (negative ids)
_GEO_EMPTY, _GEO_AGG, _GEO_UNKNOWN = -1, -2, -3
# period status (negative ids)
_P_UNPARSEABLE, _P_WRONG_FREQ = -1, -2


# ------------------------------------------------------------------------------------------
# small helpers


def _quote_list(items: Iterable[str], limit: int = 8) -> str:
    items = list(items)
    shown = ", ".join(repr(x) for x in items[:limit])
    return shown + (f" … ({len(items)} in all)" if len(items) > limit else "")


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
            f"not a date: {value!r}",
            hint="Give the vintage (extraction date) as YYYY-MM-DD",
            code="bad-vintage",
        )
    return day


class _Interner:
    """Values ↔ small integer ids, growing (a dictionary shared by every batch and file)."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.index: dict[Any, int] = {}

    def id(self, value: Any) -> int:
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.values)
            self.values.append(value)
        return found

    def __len__(self) -> int:
        return len(self.values)


# ------------------------------------------------------------------------------------------
# geography (reference list)


@cache
def _geo_tables() -> tuple[dict[str, str], frozenset[str]]:
    """Municipality codes of every modelled geography (→ ``Name (code)``) and aggregate codes."""
    from ksz_reports.geo import reference

    munis: dict[str, str] = {}
    aggregates: set[str] = set()
    for geo in reference.geographies():
        for m in geo.municipalities():
            munis.setdefault(m.nis, m.label)
        for level in ("arrondissement", "province", "region", "country"):
            aggregates.update(geo.codes_of(level))
    return munis, frozenset(aggregates - set(munis))


@cache
def _resolve_name(text: str) -> tuple[str | None, str, list[str]]:
    """``(nis, "", [])`` for a municipality name; ``(None, message, suggestions)`` if unknown."""
    from ksz_reports.geo import reference

    try:
        return reference.lookup(text).nis, "", []
    except NotFoundError as exc:
        if type(exc).__name__ == "AmbiguousNameError":
            return None, "ambiguous", list(exc.suggestions)
        first = exc
    for geo in reference.geographies():
        with contextlib.suppress(NotFoundError):
            return geo.lookup(text).nis, "", []
    return None, "unknown", list(first.suggestions)


# ------------------------------------------------------------------------------------------
# file kinds


def _sniff(path: Path) -> tuple[str, int]:
    """What the bytes are: empty, zip, parquet, ole2, utf16, binary or text; and the size."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(8192)
    if not head.strip(b" \t\r\n\x00"):
        return "empty", size
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return "zip", size
    if head.startswith(b"PAR1"):
        return "parquet", size
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "ole2", size
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf16", size
    if b"\x00" in head:
        return "binary", size
    return "text", size


_KIND_TEXT = {
    "zip": "a ZIP archive (an Excel .xlsx workbook?)",
    "parquet": "a Parquet file",
    "ole2": "an old Excel 97-2003 (.xls) workbook",
    "utf16": "UTF-16 text",
    "binary": "binary data",
    "text": "text (a CSV file?)",
}
_KIND_EXT = {"zip": ".xlsx", "parquet": ".parquet", "text": ".csv"}


def _check_kind(path: Path, fmt: str) -> None:
    """Raise when the bytes are not what the extension (format) says."""
    file = str(path)
    kind, size = _sniff(path)
    if kind == "empty":
        raise InputError(
            "empty file" + (" (0 bytes)" if size == 0 else " (only blank lines)"),
            file=file,
            hint="Export the data again",
            code="empty-file",
        )
    expected = {"csv": "text", "xlsx": "zip", "parquet": "parquet"}[fmt]
    if kind == "utf16" and fmt == "csv":
        raise InputError(
            "the file is UTF-16 text, which is not read",
            file=file,
            hint="Save it as CSV UTF-8 (or Windows-1252)",
            code="wrong-encoding",
        )
    if kind == "ole2" and fmt == "xlsx":
        raise InputError(
            "not an .xlsx workbook: it is an old Excel 97-2003 (.xls) file",
            file=file,
            hint="Open it in Excel and save it as .xlsx",
            code="wrong-format",
        )
    if kind != expected:
        ext = path.suffix or "(no extension)"
        better = _KIND_EXT.get(kind)
        hint = f"Give it the {better} extension" if better else "Export the data again"
        raise InputError(
            f"the extension says {ext} but the content is {_KIND_TEXT[kind]}",
            file=file,
            hint=hint,
            code="wrong-format",
        )
    if fmt == "xlsx":
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
                bad = zf.testzip()
        except (zipfile.BadZipFile, OSError, EOFError):
            raise InputError(
                "damaged ZIP archive: not a readable .xlsx workbook",
                file=file,
                hint="Export or download the workbook again",
                code="wrong-format",
            ) from None
        if "xl/workbook.xml" not in names:
            raise InputError(
                "a ZIP archive without an Excel workbook inside (no xl/workbook.xml)",
                file=file,
                hint="Give an .xlsx workbook saved by Excel or LibreOffice",
                code="wrong-format",
            )
        if bad is not None:
            raise InputError(
                f"damaged ZIP archive: member {bad!r} is corrupt",
                file=file,
                hint="Export or download the workbook again",
                code="wrong-format",
            )
    if fmt == "parquet":
        with open(path, "rb") as fh:
            fh.seek(max(0, size - 4))
            tail = fh.read(4)
        if size < 12 or tail != b"PAR1":
            raise InputError(
                "truncated Parquet file (no PAR1 footer)",
                file=file,
                hint="Copy or export the file again",
                code="wrong-format",
            )


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
                f"mixed text encodings: {shown!r} is not {self.encoding} like "
                "other text of the file",
                file=self.file,
                row=row,
                column=column,
                hint="Save the whole file in one encoding (UTF-8)",
                code="wrong-encoding",
            )
        return InputError(
            f"cannot decode {shown!r} as {tried} (the encodings of dialect {self.dialect.name})",
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
    return next(csv.reader([text], delimiter=sep, quotechar=quote), [])


class _CsvSource:
    """A CSV export: header found in the first lines, data streamed with pyarrow."""

    def __init__(self, path: Path, dialect: Dialect, head: bytes, complete: bool, required: Any):
        self.path, self.file, self.dialect = path, str(path), dialect
        opts = dialect.csv
        self.bom = head.startswith(codecs.BOM_UTF8)
        self.decoder = _Decoder(opts.encodings, self.bom, self.file, dialect)
        body = head[len(codecs.BOM_UTF8) :] if self.bom else head
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
                lines = _nonblank_lines(chunk, first)
            return table, lines

        limit = self._data_limit()
        sha = hashlib.sha256()
        pending: deque = deque()
        with open(self.path, "rb") as fh, ThreadPoolExecutor(WORKERS) as pool:
            sha.update(fh.read(self.data_offset))
            pos, carry, eof = self.data_offset, b"", False
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
                            cut = data.rfind(b"\n") + 1
                            if cut == 0:
                                carry = data
                                continue
                            chunk, carry = data[:cut], data[cut:]
                        else:
                            eof, chunk, carry = True, carry, b""
                        if chunk.strip():
                            pending.append((pool.submit(parse, chunk, line), chunk, line))
                        line += chunk.count(b"\n")
                    if not pending:
                        break
                    future, chunk, first = pending.popleft()
                    table, lines = future.result()
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


def _nonblank_lines(chunk: bytes, first: int) -> np.ndarray:
    """Line numbers of the non-empty lines of ``chunk`` (pyarrow skips empty lines)."""
    data = np.frombuffer(chunk, np.uint8)
    ends = np.flatnonzero(data == 10)
    if not chunk.endswith(b"\n"):
        ends = np.append(ends, len(data))
    starts = np.concatenate([[0], ends[:-1] + 1])
    length = ends - starts
    cr = np.zeros(len(starts), bool)
    one = length == 1
    cr[one] = data[starts[one]] == 13
    blank = (length == 0) | cr
    return (np.flatnonzero(~blank) + first).astype(np.int32)


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


# ------------------------------------------------------------------------------------------
# header → roles


@dataclass
class _Layout:
    roles: dict[str, int]  # canonical role → header index
    values: list[tuple[int, str]]  # value columns: (header index, header text)
    unknown: list[int]
    not_period: list[int]
    duplicate: tuple[str, int] | None
    missing: list[str]
    recognised: int

    @property
    def ok(self) -> bool:
        return not self.missing and self.duplicate is None


def _map_header(names: Sequence[str], dialect: Dialect, config: Any) -> _Layout:
    aliases = dialect.alias_index()
    ignored = dialect.ignored()
    roles: dict[str, int] = {}
    values: list[tuple[int, str]] = []
    unknown: list[int] = []
    not_period: list[int] = []
    duplicate = None
    recognised = 0
    wide = dialect.wide
    for i, name in enumerate(names):
        key = normalize(name)
        if not key:
            continue
        role = aliases.get(key)
        if role is not None:
            recognised += 1
            if role in roles:
                duplicate = duplicate or (role, i)
            else:
                roles[role] = i
            continue
        if key in ignored:
            recognised += 1
            continue
        if wide is not None:
            if wide.columns == "period":
                if any(p.match(name) for p in wide.patterns):
                    values.append((i, name))
                    recognised += 1
                elif re.search(wide.looks_like, name):
                    not_period.append(i)
                else:
                    unknown.append(i)
            else:
                dim = wide.columns
                code = dialect.value_map(dim).get(key) or config.codes.lookup(dim, name)
                if code is not None:
                    values.append((i, name))
                    recognised += 1
                else:
                    unknown.append(i)
            continue
        unknown.append(i)
    missing = [r for r in dialect.required_roles if r not in roles]
    if wide is not None and not values and not not_period:
        missing.append("period" if wide.columns == "period" else wide.columns)
    return _Layout(roles, values, unknown, not_period, duplicate, missing, recognised)


def _required_check(dialect: Dialect) -> Any:
    """A predicate: does this row of cells hold every required column of the dialect?"""
    aliases = dialect.alias_index()
    need = set(dialect.required_roles)

    def check(cells: Sequence[str]) -> bool:
        found = {aliases.get(normalize(c)) for c in cells}
        return need <= found

    return check


# ------------------------------------------------------------------------------------------
# probing a file: extension, kind, header per candidate dialect


class _Probe:
    """What is read once per file for detection: head bytes, or the workbook's rows."""

    def __init__(self, path: Path, fmt: str):
        self.path, self.fmt = path, fmt
        self.head = b""
        self.complete = True
        self.rows: list[tuple] | None = None
        self.sheets: list[str] = []
        self._wb: Any = None
        if fmt == "csv":
            with open(path, "rb") as fh:
                self.head = fh.read(_HEAD_BYTES)
                self.complete = not fh.read(1)

    def sheet_rows(self, sheet: str | None) -> tuple[list[tuple], str]:
        import openpyxl

        if self._wb is None:
            try:
                self._wb = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
            except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the same problem
                raise InputError(
                    f"cannot read the workbook ({type(exc).__name__}: {exc})",
                    file=str(self.path),
                    hint="Open it in Excel and save it again as .xlsx",
                    code="wrong-format",
                ) from None
            self.sheets = list(self._wb.sheetnames)
            self._cache: dict[str, list[tuple]] = {}
        name = sheet if sheet in self.sheets else self.sheets[0]
        if name not in self._cache:
            self._cache[name] = [tuple(r) for r in self._wb[name].iter_rows(values_only=True)]
        return self._cache[name], name

    def source(self, dialect: Dialect) -> Any:
        required = _required_check(dialect)
        if self.fmt == "csv":
            return _CsvSource(self.path, dialect, self.head, self.complete, required)
        if self.fmt == "xlsx":
            rows, name = self.sheet_rows(dialect.xlsx.sheet)
            return _XlsxSource(self.path, dialect, rows, name, required)
        return _ParquetSource(self.path, dialect)

    def close(self) -> None:
        if self._wb is not None:
            with contextlib.suppress(Exception):
                self._wb.close()


def _candidates(path: Path, dialects: dict[str, Dialect]) -> list[Dialect]:
    ext = path.suffix.lower().lstrip(".")
    found = [d for d in dialects.values() if ext in d.file_extensions]
    if not found:
        known = sorted({e for d in dialects.values() for e in d.file_extensions})
        raise InputError(
            f"unsupported file type {path.suffix or '(no extension)'!r}",
            file=str(path),
            hint="Exports are read from " + ", ".join("." + e for e in known),
            code="wrong-format",
        )
    return found


def _detect_with(
    path: Path, dialects: dict[str, Dialect], config: Any
) -> tuple[Dialect, Any, _Layout, _Probe]:
    """Detect the dialect; return it with its source, header layout and probe."""
    candidates = _candidates(path, dialects)
    fmt = candidates[0].format
    _check_kind(path, fmt)
    probe = _Probe(path, fmt)
    try:
        return _detect_in(path, candidates, fmt, probe, config)
    except BaseException:
        probe.close()
        raise


def _detect_in(
    path: Path, candidates: list[Dialect], fmt: str, probe: _Probe, config: Any
) -> tuple[Dialect, Any, _Layout, _Probe]:
    """Parse the header the way of every candidate dialect; pick the one that fits."""
    tried: list[tuple[Dialect, Any, _Layout]] = []
    errors: list[InputError] = []
    undecodable: list[tuple[Dialect, InputError]] = []
    for d in candidates:
        if d.format != fmt:
            continue
        try:
            src = probe.source(d)
        except InputError as exc:
            if exc.code == "wrong-format":
                raise
            if exc.code == "wrong-encoding":
                undecodable.append((d, exc))
            else:
                errors.append(exc)
            continue
        tried.append((d, src, _map_header(src.header.names, d, config)))
    ok = [t for t in tried if t[2].ok]
    if not ok:
        # a dialect whose header fits but whose encodings cannot decode it: say so
        for d, exc in undecodable:
            lenient = _CsvSource(
                path,
                d.model_copy(update={"csv": d.csv.model_copy(update={"encodings": ["latin-1"]})}),
                probe.head,
                probe.complete,
                _required_check(d),
            )
            if _map_header(lenient.header.names, d, config).ok:
                raise exc
        errors.extend(exc for _d, exc in undecodable)

    def score(t: tuple[Dialect, Any, _Layout]) -> tuple:
        d, _src, lay = t
        named = bool(d.filename and re.search(d.filename, path.name))
        return (named, lay.recognised, -len(lay.unknown))

    file = str(path)
    names = ", ".join(d.name for d in candidates)
    if len(ok) == 1:
        d, src, lay = ok[0]
        return d, src, lay, probe
    if len(ok) > 1:
        ok.sort(key=score, reverse=True)
        if score(ok[0]) != score(ok[1]):
            d, src, lay = ok[0]
            return d, src, lay, probe
        tied = [t[0].name for t in ok if score(t) == score(ok[0])]
        seen = ok[0][1].header
        raise InputError(
            f"ambiguous export: the header fits dialects {', '.join(tied)} equally",
            file=file,
            row=seen.row,
            hint=f"Header seen: {_quote_list(seen.names, 12)}. Pass the "
            "dialect explicitly, or rename the file after its dialect",
            code="ambiguous-dialect",
        )
    # none fits: the closest one explains what is missing
    near = [t for t in tried if t[2].recognised >= 2 and t[2].duplicate is None]
    if near:
        near.sort(key=score, reverse=True)
        d, src, lay = near[0]
        if len(near) == 1 or score(near[0]) != score(near[1]):
            raise _missing(file, d, src.header, lay)
    if tried:
        seen = tried[0][1].header
        raise InputError(
            f"no dialect fits the header (tried {names})",
            file=file,
            row=seen.row,
            hint=f"Header seen: {_quote_list(seen.names, 12)}. Check the column names "
            "(docs/dialects.md) or add a dialect in config/dialects/",
            code="unknown-dialect",
        )
    raise errors[0]


def _missing(file: str, d: Dialect, header: _Header, lay: _Layout) -> InputError:
    role = lay.missing[0]
    if d.wide is not None and role in ("period", d.wide.columns) and role not in d.columns:
        what = "period" if role == "period" else f"{role} category"
        return InputError(
            f"no {what} columns (dialect {d.name})",
            file=file,
            row=header.row,
            hint=f"A wide export has one column per {what}; header seen: "
            f"{_quote_list(header.names, 12)}",
            code="missing-column",
        )
    aliases = d.columns.get(role, [])
    also = f" (also accepted: {_quote_list(aliases[1:], 6)})" if aliases[1:] else ""
    return InputError(
        f"missing required column {aliases[0]!r} ({role}) for dialect {d.name}",
        file=file,
        row=header.row,
        hint=f"Add the column{also}; header seen: {_quote_list(header.names, 12)}",
        code="missing-column",
    )


def _detect(path: Path, dialects: dict[str, Dialect], config: Any = None) -> Dialect:
    probe = None
    try:
        d, _src, _lay, probe = _detect_with(path, dialects, _config(config))
        return d
    finally:
        if probe is not None:
            probe.close()


def _config(config: Any) -> Any:
    if config is None:
        from ksz_reports.core.config import default_config

        return default_config()
    return config


# ------------------------------------------------------------------------------------------
# the shared context of a read (several files)


class _Context:
    """Dictionaries shared by every file of one read: indicators, codes, geo, periods, …"""

    def __init__(self, config: Any = None):
        self.config = _config(config)
        self.dialects = dialects_for(self.config)
        self.indicators: list[str] = list(self.config.indicators)
        self.freq = np.array(
            [_FREQ[self.config.indicators[i].frequency] for i in self.indicators], np.int8
        )
        self.dim_values = {d: [TOTAL, *self.config.codes.codes_of(d)] for d in DIMENSIONS}
        self.dim_index = {d: {c: i for i, c in enumerate(v)} for d, v in self.dim_values.items()}
        self.allowed = {
            d: np.array([d in self.config.indicators[i].dimensions for i in self.indicators])
            for d in DIMENSIONS
        }
        # the 7 breakdown codes of a cell packed in one integer (mixed radix, last fastest)
        self.dim_sizes = [len(self.dim_values[d]) for d in DIMENSIONS]
        self.dim_mult = [
            int(np.prod(self.dim_sizes[j + 1 :], dtype=object)) for j in range(len(DIMENSIONS))
        ]
        self.dkey_size = int(np.prod(self.dim_sizes, dtype=object))
        self.dkey_dtype = np.int32 if self.dkey_size < 2**31 else np.int64
        self._decode: list[np.ndarray] | None = None
        self.geo = _Interner()
        self.period = _Interner()
        self.source = _Interner()
        self.vintage = _Interner()  # dates
        self.files: list[str] = []
        self._geo_cache: dict[str, int] = {}

    def decode_tables(self) -> list[np.ndarray] | None:
        """Per dimension: packed key → code id (int8), when the key space is small."""
        if self._decode is None and self.dkey_size <= 1 << 24:
            keys = np.arange(self.dkey_size, dtype=np.int64)
            self._decode = [
                ((keys // m) % s).astype(np.int8)
                for m, s in zip(self.dim_mult, self.dim_sizes, strict=True)
            ]
        return self._decode

    def geo_id(self, token: str) -> int:
        """Intern id of a NIS code token, or a negative status."""
        found = self._geo_cache.get(token)
        if found is not None:
            return found
        raw = token.strip()
        if not raw:
            out = _GEO_EMPTY
        elif raw.isdigit() and raw.isascii() and len(raw) <= 5:
            code = raw.zfill(5)
            munis, aggregates = _geo_tables()
            if code in munis:
                out = self.geo.id(code)
            elif code in aggregates:
                out = _GEO_AGG
            else:
                out = _GEO_UNKNOWN
        elif raw.isdigit():
            out = _GEO_UNKNOWN
        else:
            out = _GEO_UNKNOWN - 1  # a name: resolved by the caller
        self._geo_cache[token] = out
        return out


@dataclass
class _Compact:
    """Canonical cells of one batch as small integer arrays (ids into the context's lists)."""

    ind: np.ndarray  # int16 ids into _Context.indicators
    period: np.ndarray  # int16 ids into _Context.period
    geo: np.ndarray  # int16 ids into _Context.geo
    dkey: np.ndarray  # int32: the breakdown codes packed (see _Context.dim_mult)
    value: np.ndarray  # int32 persons; -1 = masked at source
    vintage: np.ndarray  # int16 ids into _Context.vintage
    source: np.ndarray  # int32 ids into _Context.source
    line: np.ndarray  # int32 row numbers (for messages)
    file: int

    def __len__(self) -> int:
        return len(self.ind)


# ------------------------------------------------------------------------------------------
# one file


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
            raise InputError("no such file", file=self.file, code="no-file")
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
            d = get_dialect(dialect, ctx.config) if isinstance(dialect, str) else dialect
            ext = self.path.suffix.lower().lstrip(".")
            if ext not in d.file_extensions:
                raise InputError(
                    f"dialect {d.name} reads "
                    f"{', '.join('.' + e for e in d.file_extensions)} files, not "
                    f"{self.path.suffix or '(no extension)'}",
                    file=self.file,
                    code="wrong-format",
                )
            _check_kind(self.path, d.format)
            self.probe = _Probe(self.path, d.format)
            self.dialect = d
            self.src = self.probe.source(d)
            self.layout = _map_header(self.src.header.names, d, ctx.config)
            if not self.layout.ok and self.layout.duplicate is None:
                raise _missing(self.file, d, self.src.header, self.layout)
        self.header = self.src.header
        self._period_tokens: dict[str, tuple | None] = {}
        self._period_ids: dict[tuple, int] = {}
        self._check_layout()
        self.file_id = len(ctx.files)
        ctx.files.append(self.file)
        self.source_id = ctx.source.id(self.path.name)
        self.vintage = self._vintage(vintage)
        self.stats = FileStats()
        if self.vintage is not None:
            self.stats.vintages.add(self.vintage)
        self._caches: dict[str, dict[Any, int]] = {}
        d = self.dialect
        self._fixed_indicator = None
        if d.indicator.fixed is not None:
            if d.indicator.fixed not in ctx.config.indicators:
                from ksz_reports.core.errors import ConfigError

                raise ConfigError(
                    f"unknown indicator {d.indicator.fixed!r}", file=d.where, key="indicator.fixed"
                )
            self._fixed_indicator = ctx.indicators.index(d.indicator.fixed)
        masked = [m.strip().lower() for m in d.numbers.masked]
        self._masked = pa.array(masked, pa.string())
        foreign = [t.lower() for t in _all_masked_tokens(ctx.dialects) if t.lower() not in masked]
        self._foreign = pa.array(foreign, pa.string())
        self._zero = pa.array([z.strip().lower() for z in d.numbers.zero_tokens], pa.string())
        if d.numbers.thousands:
            cls = "[" + "".join(re.escape(c) for c in d.numbers.thousands) + "]"
            self._thousands = cls
            self._number = rf"^-?(\d{{1,18}}|\d{{1,3}}({cls}\d{{3}}){{1,5}})$"
        else:
            self._thousands = None
            self._number = r"^-?\d{1,18}$"

    # -- header checks ------------------------------------------------------------------------

    def _col(self, index: int) -> str:
        return self.header.names[index]

    def _check_layout(self) -> None:
        d, lay, hdr = self.dialect, self.layout, self.header
        if lay.duplicate is not None:
            role, i = lay.duplicate
            raise InputError(
                f"two columns for {role}: {self._col(lay.roles[role])!r} and {self._col(i)!r}",
                file=self.file,
                row=hdr.row,
                column=self._col(i),
                hint="Remove one of them",
                code="duplicate-column",
            )
        if lay.missing:
            raise _missing(self.file, d, hdr, lay)
        if lay.unknown and d.unknown_columns == "error":
            i = lay.unknown[0]
            raise InputError(
                f"unknown column for dialect {d.name}",
                file=self.file,
                row=hdr.row,
                column=self._col(i),
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
                column=self._col(i),
                hint=f"Write the period as the dialect expects, e.g. {self._examples()}",
                code="bad-period",
            )
        if d.wide is not None and d.wide.columns == "period":
            for _i, name in lay.values:
                parsed = self._parse_period(name)
                if parsed is None:
                    raise InputError(
                        "a period column whose header is not a valid period",
                        file=self.file,
                        row=hdr.row,
                        column=name,
                        hint=f"Write the period as the dialect expects, e.g. {self._examples()}",
                        code="bad-period",
                    )

    def _examples(self) -> str:
        """Examples of the periods this dialect reads, for messages."""
        d = self.dialect
        patterns = (
            d.wide.patterns
            if d.wide is not None and d.wide.columns == "period"
            else d.period.formats
        )
        examples = [p.example for p in patterns if p.example]
        return " or ".join(examples) if examples else "2021"

    def _vintage(self, given: dt.date | None) -> dt.date | None:
        d = self.dialect
        if d.vintage.column:
            return None
        found = None
        if d.vintage.title and self.header.titles:
            for i, line in enumerate(self.header.titles, 1):
                m = re.search(d.vintage.title, line)
                if m:
                    text = m.groupdict().get("date") or (m.group(1) if m.groups() else m.group(0))
                    found = parse_date(text)
                    if found is None:
                        raise InputError(
                            f"the extraction date {text!r} is not a date",
                            file=self.file,
                            row=i,
                            hint="Write it as DD/MM/YYYY or YYYY-MM-DD",
                            code="bad-vintage",
                        )
                    break
        if found is None and d.vintage.filename:
            m = re.search(d.vintage.filename, self.path.name)
            if m:
                text = m.groupdict().get("date") or (m.group(1) if m.groups() else m.group(0))
                found = parse_date(text)
                if found is None:
                    raise InputError(
                        f"the date {text!r} in the file name is not a date",
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
                f"{d.name}_<YYYY-MM-DD>{self.path.suffix}",
                code="missing-vintage",
            )
        return found

    # -- periods ------------------------------------------------------------------------------

    def _parse_period(self, token: str) -> tuple | None:
        if token in self._period_tokens:
            return self._period_tokens[token]
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
        self._period_tokens[token] = out
        return out

    def _period_id(self, parsed: tuple, freq: int) -> int:
        """Canonical period id of a parsed token for an indicator frequency, or a status."""
        key = (parsed, freq)
        found = self._period_ids.get(key)
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
        self._period_ids[key] = out
        return out

    # -- mapping dictionaries -----------------------------------------------------------------

    def _where(self, arr: pa.Array, raw: _Raw, column: str) -> Any:
        """(row, column) of the first row holding dictionary item ``i`` (error path)."""

        def where(i: int) -> tuple[int | None, str]:
            hits = np.flatnonzero(self._indices(arr) == i)
            return (raw.row(int(hits[0])) if len(hits) else None), column

        return where

    def _strings(self, arr: pa.Array, raw: _Raw, column: str) -> list[str]:
        """The dictionary's values as text (decoded with the file's encoding)."""
        values = arr.dictionary
        if isinstance(self.src, _CsvSource):
            values = self.src.decoder.array(values, self._where(arr, raw, column))
        return values.to_pylist()

    def _indices(self, arr: pa.Array) -> np.ndarray:
        return arr.indices.to_numpy(zero_copy_only=False)

    def _map(
        self, arr: pa.Array, raw: _Raw, column: str, cache: dict, fn: Any, dtype: Any
    ) -> _Mapped:
        """Map a dictionary array through ``fn(token) -> int`` on its unique values only."""
        tokens = self._strings(arr, raw, column)
        table = np.fromiter(
            (cache[t] if t in cache else cache.setdefault(t, fn(t)) for t in tokens),
            dtype=np.int64,
            count=len(tokens),
        )
        return _Mapped(table.astype(dtype), self._indices(arr), raw.n)

    def _token(self, arr: pa.Array, row: int) -> str:
        value = arr[row]
        if isinstance(value, pa.DictionaryScalar):
            value = value.value
        out = value.as_py()
        if isinstance(out, bytes):
            return out.decode(self.src.decoder.encoding, errors="replace")
        return "" if out is None else str(out)

    # -- indicators ---------------------------------------------------------------------------

    def _indicators(self, raw: _Raw) -> _Mapped:
        if self._fixed_indicator is not None:
            return _Mapped(np.array([self._fixed_indicator], np.int16), None, raw.n)
        idx = self.layout.roles["indicator"]
        arr = raw.columns[idx]
        own = self.dialect.indicator_map()
        ctx = self.ctx

        def fn(token: str) -> int:
            ind = own.get(normalize(token)) or ctx.config.indicator_lookup(token)
            return ctx.indicators.index(ind) if ind in ctx.config.indicators else -1

        m = self._map(arr, raw, self._col(idx), self._caches.setdefault("ind", {}), fn, np.int16)
        bad = m.table < 0
        if bad.any():
            i = m.locate(bad)
            if i is not None:
                token = self._token(arr, i)
                raise InputError(
                    f"unknown indicator {token!r}",
                    file=self.file,
                    row=raw.row(i),
                    column=self._col(idx),
                    hint=self._indicator_hint(token),
                    code="unknown-indicator",
                )
            m.table[bad] = 0
        return m

    def _indicator_hint(self, token: str) -> str:
        cfg = self.ctx.config
        names: dict[str, str] = {}
        for ind in cfg.indicators.values():
            for n in [ind.id, *ind.aliases, ind.labels.nl, ind.labels.fr, ind.labels.en]:
                names.setdefault(normalize(n), f"{ind.id} ({ind.labels.nl})")
        for k, v in self.dialect.indicator_map().items():
            names.setdefault(k, v)
        close = difflib.get_close_matches(normalize(token), list(names), n=5, cutoff=0.6)
        seen = list(dict.fromkeys(names[c] for c in close))[:3]
        text = f"Did you mean: {', '.join(seen)}? " if seen else ""
        return text + (
            "Use an indicator id or label of config/indicators.yaml, or map it in "
            f"indicator.values of {self.dialect.where}"
        )

    # -- dimensions ---------------------------------------------------------------------------

    def _dim(self, raw: _Raw, dim: str) -> _Mapped:
        idx = self.layout.roles[dim]
        arr = raw.columns[idx]
        own = self.dialect.value_map(dim)
        lookup = self.ctx.config.codes.lookup
        index = self.ctx.dim_index[dim]

        def fn(token: str) -> int:
            code = own.get(normalize(token)) or lookup(dim, token)
            return index.get(code, -1) if code is not None else -1

        m = self._map(arr, raw, self._col(idx), self._caches.setdefault(dim, {}), fn, np.int32)
        bad = m.table < 0
        if bad.any():
            i = m.locate(bad)
            if i is not None:
                raise self._unknown_code(dim, self._token(arr, i), raw.row(i), self._col(idx))
            m.table[bad] = 0
        return m

    def _unknown_code(self, dim: str, token: str, row: int | None, column: str) -> InputError:
        if not token.strip():
            return InputError(
                f"empty {dim} value",
                file=self.file,
                row=row,
                column=column,
                hint="Write a code or label of config/codes.yaml, or 'Totaal' for the total",
                code="unknown-code",
            )
        codes = self.ctx.config.codes
        keys = {normalize(c): c for c in self.ctx.dim_values[dim]}
        code_of = codes._lookup[dim]
        close = difflib.get_close_matches(normalize(token), list(code_of), n=8, cutoff=0.5)
        picked = list(dict.fromkeys(code_of[k] for k in close))[:3]
        if not picked:
            picked = list(keys.values())[:6]
        shown = ", ".join(f"{c} ({codes.label(dim, c)})" for c in picked)
        return InputError(
            f"unknown {dim} code {token!r}",
            file=self.file,
            row=row,
            column=column,
            hint=f"Closest known codes: {shown}. Use a code or label of "
            f"config/codes.yaml, or map it in value_maps.{dim} of {self.dialect.where}",
            code="unknown-code",
        )

    # -- geography ----------------------------------------------------------------------------

    def _geo_token(self, token: str) -> int:
        """Geo id of a NIS code or a municipality name, or a negative status."""
        text = token.strip()
        if not text or text.isdigit():
            return self.ctx.geo_id(text)
        nis, _why, _suggestions = _resolve_name(text)
        return _GEO_UNKNOWN if nis is None else self.ctx.geo_id(nis)

    def _geo(self, raw: _Raw) -> np.ndarray:
        """Geo ids per row (``_GEO_AGG`` for a dropped aggregate)."""
        roles = self.layout.roles
        role = "geo" if "geo" in roles else "geo_name"
        idx = roles[role]
        arr = raw.columns[idx]
        m = self._map(
            arr, raw, self._col(idx), self._caches.setdefault(role, {}), self._geo_token, np.int32
        )
        unknown = m.table == _GEO_UNKNOWN
        if unknown.any():
            i = m.locate(unknown)
            if i is not None:
                raise self._unknown_geo(self._token(arr, i).strip(), raw.row(i), self._col(idx))
        empty = m.table == _GEO_EMPTY
        if not empty.any():
            rows = m.rows()
        elif role == "geo" and "geo_name" in roles:
            rows = m.rows()
            at = np.flatnonzero(rows == _GEO_EMPTY)
            nidx = roles["geo_name"]
            col = raw.columns[nidx]
            cache = self._caches.setdefault("geo_name", {})
            if pa.types.is_dictionary(col.type):
                names = self._map(col, raw, self._col(nidx), cache, self._geo_token, np.int32)
                got = names.table[names.idx[at]]
            else:  # a plain column: encode just the rows without a code
                part = pc.dictionary_encode(col.take(pa.array(at)))
                sub_raw = _Raw({}, len(at), 0, raw.line_numbers()[at])
                names = self._map(part, sub_raw, self._col(nidx), cache, self._geo_token, np.int32)
                got = names.rows()
            bad = got < 0
            bad &= got != _GEO_AGG
            if bad.any():
                i = int(at[np.flatnonzero(bad)[0]])
                token = self._token(raw.columns[nidx], i).strip()
                if not token:
                    raise InputError(
                        f"empty NIS code and empty {self._col(nidx)!r}",
                        file=self.file,
                        row=raw.row(i),
                        column=self._col(idx),
                        hint="Give the NIS code or the name of the municipality",
                        code="unknown-nis",
                    )
                raise self._unknown_geo(token, raw.row(i), self._col(nidx))
            rows[at] = got
        else:
            i = m.locate(empty)
            what = "empty NIS code" if role == "geo" else "empty municipality name"
            raise InputError(
                what,
                file=self.file,
                row=raw.row(i or 0),
                column=self._col(idx),
                hint="Give the 5-digit NIS code of the municipality",
                code="unknown-nis",
            )
        if self.dialect.geo.aggregates == "error" and (m.table == _GEO_AGG).any():
            agg = rows == _GEO_AGG
            if agg.any():
                i = int(np.flatnonzero(agg)[0])
                raise InputError(
                    f"{self._token(arr, i).strip()!r} is not a municipality "
                    "but an aggregate (arrondissement, province, region or Belgium)",
                    file=self.file,
                    row=raw.row(i),
                    column=self._col(idx),
                    hint="Give municipalities only: aggregates are computed from them",
                    code="unknown-nis",
                )
        return rows

    def _unknown_geo(self, token: str, row: int, column: str) -> InputError:
        if token.isdigit():
            munis, _agg = _geo_tables()
            code = token.zfill(5) if len(token) <= 5 else token
            same = [c for c in munis if c[:2] == code[:2]] or list(munis)
            close = difflib.get_close_matches(code, same, n=3, cutoff=0.6)
            did = f"Did you mean: {', '.join(munis[c] for c in close)}? " if close else ""
            return InputError(
                f"unknown NIS code {token!r}",
                file=self.file,
                row=row,
                column=column,
                hint=f"{did}Give the 5-digit NIS code of a municipality",
                code="unknown-nis",
            )
        _nis, why, sugg = _resolve_name(token)
        if why == "ambiguous":
            return InputError(
                f"ambiguous municipality name {token!r}",
                file=self.file,
                row=row,
                column=column,
                hint=f"It may be {', '.join(sugg)}; give the NIS code",
                code="unknown-municipality",
            )
        did = f"Did you mean: {', '.join(sugg)}? " if sugg else ""
        return InputError(
            f"unknown municipality {token!r}",
            file=self.file,
            row=row,
            column=column,
            hint=f"{did}Give the NIS code, or the Dutch or French name",
            code="unknown-municipality",
        )

    # -- numbers ------------------------------------------------------------------------------

    def _values(self, arr: pa.Array, raw: _Raw, column: str) -> tuple[_Mapped, _Mapped]:
        """Values (int32, -1 = masked) and statuses, parsed on the dictionary's unique values."""
        if pa.types.is_integer(arr.type):
            return self._int_values(arr, raw.n)
        d = self.dialect.numbers
        text = arr.dictionary
        if isinstance(self.src, _CsvSource):
            text = self.src.decoder.array(text, self._where(arr, raw, column))
        t = pc.utf8_trim_whitespace(text)
        low = pc.utf8_lower(t)
        st = np.full(len(t), _BAD, np.int8)
        digits = pc.replace_substring_regex(t, self._thousands, "") if self._thousands else t
        isnum = pc.match_substring_regex(t, self._number).to_numpy(zero_copy_only=False)
        num = pc.cast(pc.if_else(pa.array(isnum), digits, "0"), pa.int64()).to_numpy().copy()
        st[isnum] = _OK
        st[isnum & (num < 0)] = _NEG
        st[isnum & (num > _MAX_COUNT)] = _BIG
        empty = pc.utf8_length(t).to_numpy(zero_copy_only=False) == 0
        st[empty] = _EMPTY_STATUS[d.empty]
        if len(self._zero):
            zero = pc.is_in(low, self._zero).to_numpy(zero_copy_only=False)
            st[zero] = _OK
            num[zero] = 0
        foreign = pc.is_in(low, self._foreign).to_numpy(zero_copy_only=False)
        foreign |= pc.match_substring_regex(low, r"^<\s*\d+$").to_numpy(zero_copy_only=False)
        st[foreign] = _FOREIGN
        st[pc.is_in(low, self._masked).to_numpy(zero_copy_only=False)] = _MASKED
        num[st != _OK] = 0
        num[st == _MASKED] = -1
        idx = self._indices(arr)
        return _Mapped(num.astype(np.int32), idx, raw.n), _Mapped(st, idx, raw.n)

    def _int_values(self, arr: pa.Array, n: int) -> tuple[_Mapped, _Mapped]:
        d = self.dialect.numbers
        values = pc.fill_null(arr.cast(pa.int64()), 0).to_numpy().copy()
        st = np.zeros(len(values), np.int8)
        if arr.null_count:
            st[arr.is_null().to_numpy(zero_copy_only=False)] = _EMPTY_STATUS[d.empty]
        neg = values < 0
        if neg.any():
            allowed = {int(m) for m in d.masked if re.fullmatch(r"-\d+", m.strip())}
            known = {
                int(m) for m in _all_masked_tokens(self.ctx.dialects) if re.fullmatch(r"-\d+", m)
            }
            st[neg] = _NEG
            st[neg & np.isin(values, list(known - allowed))] = _FOREIGN
            st[neg & np.isin(values, list(allowed))] = _MASKED
        st[values > _MAX_COUNT] = _BIG
        values[st != _OK] = 0
        values[st == _MASKED] = -1
        return _Mapped(values.astype(np.int32), None, n), _Mapped(st, None, n)

    def _value_error(self, status: int, token: str, row: int, column: str) -> InputError:
        d = self.dialect
        allowed = ", ".join(repr(m) for m in d.numbers.masked) or "none"
        if status == _NEG:
            return InputError(
                f"negative count {token!r}",
                file=self.file,
                row=row,
                column=column,
                hint="A number of persons is never negative; a masked cell is written "
                f"as one of the dialect's masked tokens ({allowed})",
                code="negative-count",
            )
        if status == _FOREIGN:
            return InputError(
                f"masked token {token!r} is not allowed by dialect {d.name}",
                file=self.file,
                row=row,
                column=column,
                hint=f"This dialect masks with: {allowed}. Fix "
                f"the file, or add the token to numbers.masked in {d.where}",
                code="masked-token",
            )
        if status == _EMPTY:
            return InputError(
                "empty count",
                file=self.file,
                row=row,
                column=column,
                hint=f"Write 0, or a masked token ({allowed})",
                code="empty-count",
            )
        if status == _BIG:
            return InputError(
                f"implausible count {token!r}",
                file=self.file,
                row=row,
                column=column,
                hint=f"A number of persons is at most {_MAX_COUNT}; check the column",
                code="not-a-number",
            )
        seps = ", ".join(_SEP_NAMES.get(s, repr(s)) for s in d.numbers.thousands)
        fmt = "a whole number of persons" + (f" (thousands separator: {seps})" if seps else "")
        return InputError(
            f"not a count: {token!r}",
            file=self.file,
            row=row,
            column=column,
            hint=f"Write {fmt}, or a masked token ({allowed})",
            code="not-a-number",
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

    def _periods(self, raw: _Raw, ind: _Mapped, used_ind: np.ndarray, vcols: list) -> np.ndarray:
        """Canonical period ids per output row (n × k rows for k value columns)."""
        ctx, d, lay = self.ctx, self.dialect, self.layout
        n, k = raw.n, len(vcols)
        by_header = d.wide is not None and d.wide.columns == "period"
        if by_header:
            tokens = [name for _, name in vcols]
            pm = _Mapped(np.arange(k, dtype=np.int32), None, k)
            used_tok = np.ones(k, bool)
        else:
            pidx = lay.roles["period"]
            parr = raw.columns[pidx]
            tokens = self._strings(parr, raw, self._col(pidx))
            pm = _Mapped(np.arange(len(tokens), dtype=np.int32), self._indices(parr), n)
            used_tok = np.bincount(pm.idx, minlength=len(tokens)) > 0
        table = np.empty((3, len(tokens)), np.int32)
        for j, tok in enumerate(tokens):
            p = self._parse_period(tok)
            for f in range(3):
                table[f, j] = _P_UNPARSEABLE if p is None else self._period_id(p, f)
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
            column = vcols[j][1] if by_header else self._col(lay.roles["period"])
            if table[0, tokens.index(tok)] == _P_UNPARSEABLE:
                raise InputError(
                    f"unparseable period {tok!r}",
                    file=self.file,
                    row=raw.row(r),
                    column=column,
                    hint=f"Write it as the dialect expects, e.g. {self._examples()}",
                    code="bad-period",
                )
            ind_id = ctx.indicators[int(ind.rows()[r])]
            what = _FREQ_NAME[int(ctx.freq[int(ind.rows()[r])])]
            raise InputError(
                f"period {tok!r} does not fit indicator {ind_id!r}, which is {what}",
                file=self.file,
                row=raw.row(r),
                column=column,
                hint="A yearly stock is "
                "dated 31/12 (or a quarter end), a monthly measure is a month",
                code="bad-period",
            )
        self._used_periods(table, used_tok, freqs)
        return out

    def _used_periods(self, table: np.ndarray, used_tok: np.ndarray, freqs: np.ndarray) -> None:
        for f in freqs:
            for pid in np.unique(table[int(f)][used_tok]):
                if pid >= 0:
                    self.stats.periods.add(self.ctx.period.values[int(pid)])

    def _batch(self, raw: _Raw) -> _Compact | None:
        ctx, d, lay = self.ctx, self.dialect, self.layout
        n = raw.n
        self.stats.rows += n
        vcols = (
            [(lay.roles["value"], self._col(lay.roles["value"]))]
            if d.layout == "long"
            else lay.values
        )
        k = len(vcols)

        def rep(a: np.ndarray) -> np.ndarray:
            return np.tile(a, k) if k > 1 else a

        ind = self._indicators(raw)
        if ind.idx is None:
            used_ind = ind.table
        else:
            used_ind = np.flatnonzero(np.bincount(ind.idx, minlength=len(ind.table)))
            used_ind = np.unique(ind.table[used_ind])
        for i in used_ind:
            self.stats.indicators.add(ctx.indicators[int(i)])
        geo = self._geo(raw)
        # breakdown: the codes packed in one integer, built with one take per column
        dkey = None
        for dim, size_after in zip(DIMENSIONS, ctx.dim_mult, strict=True):
            if dim not in lay.roles:
                continue
            m = self._dim(raw, dim)
            nonzero = m.table != 0
            if nonzero.any() and not ctx.allowed[dim][used_ind].all():
                wrong = nonzero[m.idx] & ~ctx.allowed[dim][ind.rows()]
                if wrong.any():
                    i = int(np.flatnonzero(wrong)[0])
                    code = ctx.dim_values[dim][int(m.table[m.idx[i]])]
                    ind_id = ctx.indicators[int(ind.rows()[i])]
                    raise self._no_breakdown(
                        ind_id, dim, code, raw.row(i), self._col(lay.roles[dim])
                    )
            part = (m.table * size_after).astype(ctx.dkey_dtype)[m.idx]
            if dkey is None:
                dkey = part
            else:
                dkey += part
        if dkey is None:
            dkey = np.zeros(n, ctx.dkey_dtype)
        if d.wide is not None and d.wide.columns != "period":
            dim = d.wide.columns
            own = d.value_map(dim)
            codes = [
                own.get(normalize(name)) or ctx.config.codes.lookup(dim, name) for _, name in vcols
            ]
            ids = [ctx.dim_index[dim][c] for c in codes]
            mult = ctx.dim_mult[DIMENSIONS.index(dim)]
            if any(ids) and not ctx.allowed[dim][used_ind].all():
                allowed = ctx.allowed[dim][ind.rows()]
                for j, code_id in enumerate(ids):
                    if code_id and not allowed.all():
                        i = int(np.flatnonzero(~allowed)[0])
                        raise self._no_breakdown(
                            ctx.indicators[int(ind.rows()[i])],
                            dim,
                            codes[j],
                            raw.row(i),
                            vcols[j][1],
                        )
            dkey = np.concatenate([dkey + ctx.dkey_dtype(cid * mult) for cid in ids])
        else:
            dkey = rep(dkey)
        period = self._periods(raw, ind, used_ind, vcols)
        # values
        value_parts, drop_parts = [], []
        for ci, name in vcols:
            vm, sm = self._values(raw.columns[ci], raw, name)
            bad = sm.table >= _BAD
            if bad.any():
                i = sm.locate(bad)
                if i is not None:
                    raise self._value_error(
                        int(sm.table[sm.idx[i] if sm.idx is not None else i]),
                        self._token(raw.columns[ci], i),
                        raw.row(i),
                        name,
                    )
            value_parts.append(vm.rows())
            dropm = sm.table == _DROP
            drop_parts.append(
                dropm[sm.idx]
                if dropm.any() and sm.idx is not None
                else dropm
                if dropm.any()
                else None
            )
        value = np.concatenate(value_parts) if k > 1 else value_parts[0]
        keep = None
        if any(p is not None for p in drop_parts):
            drop = np.concatenate([p if p is not None else np.zeros(n, bool) for p in drop_parts])
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
            vint = rep(self._vintage_rows(raw))
        else:
            vint = np.full(n * k, ctx.vintage.id(self.vintage), np.int16)
        if "source" in lay.roles:
            sidx = lay.roles["source"]
            sm = self._map(
                raw.columns[sidx],
                raw,
                self._col(sidx),
                self._caches.setdefault("source", {}),
                lambda t: ctx.source.id(t.strip() or self.path.name),
                np.int32,
            )
            src = rep(sm.rows())
        else:
            src = np.full(n * k, self.source_id, np.int32)
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

    def _no_breakdown(self, ind_id: str, dim: str, code: str, row: int, column: str) -> InputError:
        return InputError(
            f"indicator {ind_id!r} has no breakdown by {dim} (value {code!r})",
            file=self.file,
            row=row,
            column=column,
            hint=f"Write 'Totaal' (total) for "
            f"{dim}, or add {dim} to the indicator's dimensions in "
            "config/indicators.yaml",
            code="unknown-code",
        )

    def _vintage_rows(self, raw: _Raw) -> np.ndarray:
        idx = self.layout.roles["vintage"]
        arr = raw.columns[idx]
        ctx = self.ctx

        def fn(token: str) -> int:
            day = parse_date(token)
            return -1 if day is None else ctx.vintage.id(day)

        m = self._map(arr, raw, self._col(idx), self._caches.setdefault("vint", {}), fn, np.int16)
        bad = m.table < 0
        if bad.any():
            i = m.locate(bad)
            if i is not None:
                raise InputError(
                    f"not a vintage date: {self._token(arr, i)!r}",
                    file=self.file,
                    row=raw.row(i),
                    column=self._col(idx),
                    hint="Write the extraction date as YYYY-MM-DD",
                    code="bad-vintage",
                )
            m.table[bad] = 0
        for v in np.unique(m.table[np.bincount(m.idx, minlength=len(m.table)) > 0]):
            self.stats.vintages.add(ctx.vintage.values[int(v)])
        return m.rows()


@dataclass
class _Mapped:
    """A column mapped on its unique values: ``table[idx]`` per row (``idx`` None: 0 or
    identity — a one-entry table is broadcast, a full table is per row)."""

    table: np.ndarray
    idx: np.ndarray | None
    n: int

    def rows(self) -> np.ndarray:
        """The mapped value of every row."""
        if self.idx is None:
            return (
                np.full(self.n, self.table[0], self.table.dtype)
                if len(self.table) == 1 and self.n != 1
                else self.table
            )
        return self.table[self.idx]

    def locate(self, bad: np.ndarray) -> int | None:
        """The first row whose entry is flagged in ``bad`` (per entry), or None."""
        if self.idx is None:
            hits = (
                np.flatnonzero(bad)
                if len(bad) == self.n
                else (np.arange(self.n) if bad[0] else np.array([], int))
            )
        else:
            hits = np.flatnonzero(bad[self.idx])
        return int(hits[0]) if len(hits) else None


@cache
def _masked_union(tokens: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(tokens))


def _all_masked_tokens(dialects: dict[str, Dialect]) -> tuple[str, ...]:
    tokens = list(KNOWN_MASKED_TOKENS)
    for d in dialects.values():
        tokens.extend(m.strip() for m in d.numbers.masked)
    return _masked_union(tuple(tokens))


# ------------------------------------------------------------------------------------------
# compact → canonical


def _dict_array(ids: np.ndarray, values: Sequence[str] | pa.Array) -> pa.DictionaryArray:
    if not isinstance(values, pa.Array):
        values = pa.array(values, pa.string())
    return pa.DictionaryArray.from_arrays(pa.array(ids.astype(np.int32, copy=False)), values)


def _to_batch(
    c: _Compact,
    ctx: _Context,
    take: np.ndarray | None = None,
    dictionaries: dict[str, tuple[np.ndarray, list[str]]] | None = None,
) -> pa.RecordBatch:
    """A canonical record batch from compact arrays (rows ``take`` when given).

    ``dictionaries``: per column, (old id → new id, new values) to compact the dictionaries.
    """

    def col(a: np.ndarray) -> np.ndarray:
        return a if take is None else a[take]

    def dict_col(name: str, ids: np.ndarray, values: Sequence[str]) -> pa.DictionaryArray:
        if dictionaries and name in dictionaries:
            remap, new_values = dictionaries[name]
            return _dict_array(remap[ids], new_values)
        return _dict_array(ids, values)

    period_values = pa.array(ctx.period.values, pa.string())
    vint = np.array([(v - _EPOCH).days for v in ctx.vintage.values], np.int32)
    value = col(c.value)
    masked = value < 0
    dims = _unpack_dims(col(c.dkey), ctx)
    arrays = [
        dict_col("indicator", col(c.ind), ctx.indicators),
        period_values.take(pa.array(col(c.period))),
        dict_col("geo", col(c.geo), ctx.geo.values),
        *[dict_col(dim, a, ctx.dim_values[dim]) for dim, a in zip(DIMENSIONS, dims, strict=True)],
        pa.array(value.astype(np.int64), pa.int64(), mask=masked if masked.any() else None),
        dict_col("source", col(c.source), ctx.source.values),
        pa.array(vint[col(c.vintage)], pa.date32()),
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=CANONICAL_SCHEMA)


def _unpack_dims(dkey: np.ndarray, ctx: _Context) -> list[np.ndarray]:
    """The 7 breakdown code ids (DIMENSIONS order) of packed keys."""
    tables = ctx.decode_tables()
    if tables is not None:
        return [t[dkey] for t in tables]
    out = []
    rest = dkey
    for size in reversed(ctx.dim_sizes):
        rest, code = np.divmod(rest, size)
        out.append(code.astype(np.int32, copy=False))
    return out[::-1]


def _concat_columns(parts: list[_Compact]) -> tuple[_Compact, np.ndarray]:
    """Concatenate, freeing each column's parts as soon as it is copied; and the file ids."""
    files = np.concatenate([np.full(len(p), p.file, np.int16) for p in parts])
    if len(parts) == 1 and parts[0].file >= 0:
        return parts[0], files
    out: dict[str, Any] = {}
    for name in ("ind", "period", "geo", "dkey", "value", "vintage", "source", "line"):
        out[name] = np.concatenate([getattr(p, name) for p in parts])
        for p in parts:
            setattr(p, name, None)
    return _Compact(file=-1, **out), files


# ------------------------------------------------------------------------------------------
# keys, sorting and duplicates


def _ranks(values: Sequence[Any]) -> np.ndarray:
    """Rank of each value in sorted order (id → rank), int64."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = np.empty(len(values), np.int64)
    ranks[order] = np.arange(len(values))
    return ranks


def _key_parts(c: _Compact, ctx: _Context) -> list[tuple[Any, int]]:
    """The sort key's parts, most significant first: (rows → rank or id, number of values).

    Each part is a function building its array when called, so that only one temporary array
    lives at a time.
    """

    def ranked(ids: np.ndarray, values: Sequence[Any]) -> Any:
        return lambda: np.take(_ranks(values).astype(np.int32), ids)

    return [
        (ranked(c.ind, ctx.indicators), len(ctx.indicators)),
        (ranked(c.geo, ctx.geo.values), max(len(ctx.geo), 1)),
        (ranked(c.period, ctx.period.values), max(len(ctx.period), 1)),
        (lambda: c.dkey, ctx.dkey_size),
        (lambda: c.vintage, max(len(ctx.vintage), 1)),
    ]


def _sort_order(c: _Compact, ctx: _Context) -> tuple[np.ndarray, np.ndarray | None]:
    """Row order by indicator, geo, period (string order), then breakdown and vintage; and the
    sorted packed keys (None when the key does not fit 63 bits: then a lexsort)."""
    if len(c) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    parts = _key_parts(c, ctx)
    if int(np.prod([size for _a, size in parts], dtype=object)) < 2**63:
        key = np.zeros(len(c), np.int64)
        for build, size in parts:
            key *= size
            key += build()
        order = np.argsort(key, kind="stable")
        return order, np.take(key, order)
    return np.lexsort([build() for build, _size in reversed(parts)]), None


def _duplicates(
    c: _Compact, files: np.ndarray, ctx: _Context, order: np.ndarray, sorted_keys: np.ndarray | None
) -> np.ndarray:
    """Rows (in ``order``) to keep: identical duplicates dropped, conflicting ones raise."""
    n = len(order)
    if n < 2:
        return np.ones(n, bool)
    if sorted_keys is not None:
        same = sorted_keys[1:] == sorted_keys[:-1]
    else:
        same = np.ones(n - 1, bool)
        for a in (c.ind, c.geo, c.period, c.dkey, c.vintage):
            s = a[order]
            same &= s[1:] == s[:-1]
    if not same.any():
        return np.ones(n, bool)
    pos = np.flatnonzero(same)
    a, b = order[pos], order[pos + 1]
    differ = c.value[a] != c.value[b]
    if differ.any():
        j = int(np.flatnonzero(differ)[0])
        ra, rb = int(a[j]), int(b[j])
        if (files[ra], c.line[ra]) > (files[rb], c.line[rb]):
            ra, rb = rb, ra
        raise _duplicate_error(c, files, ctx, ra, rb)
    keep = np.ones(n, bool)
    keep[pos + 1] = False
    return keep


def _duplicate_error(c: _Compact, files: np.ndarray, ctx: _Context, ra: int, rb: int) -> InputError:
    def shown(r: int) -> str:
        return "masked" if c.value[r] < 0 else str(int(c.value[r]))

    fa, fb = ctx.files[int(files[ra])], ctx.files[int(files[rb])]
    key = [
        f"indicator {ctx.indicators[int(c.ind[ra])]}",
        f"period {ctx.period.values[int(c.period[ra])]}",
        f"geo {ctx.geo.values[int(c.geo[ra])]}",
    ]
    dims = _unpack_dims(c.dkey[ra : ra + 1], ctx)
    for d, a in zip(DIMENSIONS, dims, strict=True):
        if a[0] != 0:
            key.append(f"{d} {ctx.dim_values[d][int(a[0])]}")
    first = f"row {int(c.line[ra])}" if fa == fb else f"{fa} row {int(c.line[ra])}"
    hint = (
        "Keep one of the two rows"
        if fa == fb
        else "Keep one of the two files, or give them their own vintages"
    )
    return InputError(
        f"duplicate cell with two different values: {shown(rb)} here and "
        f"{shown(ra)} in {first} ({', '.join(key)}; vintage "
        f"{ctx.vintage.values[int(c.vintage[ra])]})",
        file=fb,
        row=int(c.line[rb]),
        hint=hint,
        code="duplicate-cell",
    )


# ------------------------------------------------------------------------------------------
# public API


def _vintage_arg(vintage: Any) -> dt.date | None:
    return _as_vintage(vintage)


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
    whole file): :func:`read_export`, :func:`validate` and ingest check them.
    Raises :class:`~ksz_reports.core.errors.InputError` on the first data problem.
    """
    ctx = _Context(config)
    reader = _FileReader(path, ctx, dialect=dialect, vintage=_vintage_arg(vintage))
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
    reader = _FileReader(path, ctx, dialect=dialect, vintage=_vintage_arg(vintage))
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
                    f"OK {f.path}: dialect {f.dialect}, {f.rows} rows, {f.cells} cells "
                    f"({f.masked} masked), indicators {', '.join(f.indicators)}, periods "
                    f"{periods}, vintage {', '.join(f.vintage)}"
                )
            else:
                out.append(f"FAILED {f.path}" + (f" (dialect {f.dialect})" if f.dialect else ""))
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
        given = _vintage_arg(vintage)
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
