"""Which dialect reads an export: the kind of its bytes, its extension and its header.

:func:`detect_dialect` (and the reader, through :func:`_detect_with`) checks that the bytes are
what the extension says (:func:`_check_kind`: an old .xls, UTF-16 text, a damaged workbook or a
truncated Parquet file is named as such), reads the head of the file once (:class:`_Probe`),
parses the header the way of every dialect reading that extension and picks the one whose header
holds all its required columns; none or a tie is an error naming the dialects tried and the
header seen. :func:`_open_with` opens a file with a given dialect instead.
"""

from __future__ import annotations

import contextlib
import re
import zipfile
from pathlib import Path
from typing import Any

from ksz_reports.core.archive import DEFAULT_MAX_BYTES, DEFAULT_MAX_RATIO, check_members
from ksz_reports.core.errors import InputError, cap
from ksz_reports.ingest.dialects import Dialect, _config, dialects_for, get_dialect
from ksz_reports.ingest.header import (
    _Layout,
    _map_header,
    _missing,
    _quote_list,
    _required_check,
)
from ksz_reports.ingest.sources import _CsvSource, _ParquetSource, _XlsxSource

_HEAD_BYTES = 1 << 20


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


def _xlsx_limits(config: Any) -> tuple[int, float]:
    """``ingest.xlsx_max_bytes`` and ``ingest.xlsx_max_ratio`` of the configuration."""
    ingest = getattr(getattr(config, "settings", None), "ingest", None)
    if ingest is None:
        return DEFAULT_MAX_BYTES, DEFAULT_MAX_RATIO
    return ingest.xlsx_max_bytes, ingest.xlsx_max_ratio


def _missing_sheet(zf: zipfile.ZipFile, names: set[str]) -> tuple[str, str] | None:
    """(sheet name, part) of the first sheet whose part the archive lacks, or None."""
    import posixpath
    import xml.etree.ElementTree as ET

    try:
        book = ET.fromstring(zf.read("xl/workbook.xml"))
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ET.ParseError, zipfile.BadZipFile, OSError, EOFError):
        return None  # openpyxl says what is wrong
    targets = {}
    for rel in rels:
        target = rel.get("Target", "")
        if rel.get("Type", "").endswith("/worksheet") and target:
            part = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
            targets[rel.get("Id")] = posixpath.normpath(part)
    rid = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    for sheet in book.iter():
        if sheet.tag.endswith("}sheet") and sheet.get(rid) in targets:
            part = targets[sheet.get(rid)]
            if part not in names:
                return sheet.get("name", "?"), part
    return None


def _check_kind(path: Path, fmt: str, config: Any = None) -> None:
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
        max_bytes, max_ratio = _xlsx_limits(config)
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
                check_members(zf, file, max_bytes, max_ratio)  # before any member is read
                bad = zf.testzip()
                lost = _missing_sheet(zf, names) if "xl/workbook.xml" in names else None
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
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
        if lost is not None:
            raise InputError(
                f"damaged workbook: the part {lost[1]!r} of sheet {lost[0]!r} is missing",
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
                    f"cannot read the workbook ({type(exc).__name__}: {cap(str(exc))})",
                    file=str(self.path),
                    hint="Open it in Excel and save it again as .xlsx",
                    code="wrong-format",
                ) from None
            self.sheets = list(self._wb.sheetnames)
            self._cache: dict[str, list[tuple]] = {}
        if not self.sheets:
            raise InputError(
                "damaged workbook: it holds no sheet",
                file=str(self.path),
                hint="Export or download the workbook again",
                code="wrong-format",
            )
        name = sheet if sheet in self.sheets else self.sheets[0]
        if name not in self._cache:
            try:
                rows = [tuple(r) for r in self._wb[name].iter_rows(values_only=True)]
            except Exception as exc:  # noqa: BLE001 - malformed sheet XML, a bad cell, …
                raise InputError(
                    f"damaged workbook: sheet {name!r} cannot be read "
                    f"({type(exc).__name__}: {cap(str(exc))})",
                    file=str(self.path),
                    hint="Export or download the workbook again",
                    code="wrong-format",
                ) from None
            self._cache[name] = rows
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
    fmt = candidates[0].format_of(path.suffix.lower().lstrip("."))
    _check_kind(path, fmt, config)
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
        if d.format_of(path.suffix.lower().lstrip(".")) != fmt:
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
    # a header that fits but for a duplicated column is that dialect's (the reader says which)
    ok = [t for t in tried if not t[2].missing]
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
    if errors and all(t[2].recognised == 0 for t in tried):
        raise errors[0]  # the dialect whose header was searched for says why it was not found
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


def _open_with(
    path: Path, file: str, dialect: str | Dialect, config: Any
) -> tuple[Dialect, Any, _Layout, _Probe]:
    """Open the export with a given dialect (a name or a Dialect); return it with its source,
    header layout and probe, like :func:`_detect_with`. ``file``: the path as given, for
    messages."""
    d = get_dialect(dialect, config) if isinstance(dialect, str) else dialect
    ext = path.suffix.lower().lstrip(".")
    if ext not in d.file_extensions:
        raise InputError(
            f"dialect {d.name} reads "
            f"{', '.join('.' + e for e in d.file_extensions)} files, not "
            f"{path.suffix or '(no extension)'}",
            file=file,
            code="wrong-format",
        )
    fmt = d.format_of(ext)
    _check_kind(path, fmt, config)
    probe = _Probe(path, fmt)
    try:
        src = probe.source(d)
        layout = _map_header(src.header.names, d, config)
        if not layout.ok and layout.duplicate is None:
            raise _missing(file, d, src.header, layout)
    except BaseException:
        probe.close()
        raise
    return d, src, layout, probe


def detect_dialect(path: str | Path, config: Any = None) -> Dialect:
    """The dialect of an export, by its extension and its header.

    Every dialect reading the file's extension parses the header its way; the one whose header
    holds all its required columns wins (ties: the file name pattern, then the most recognised
    columns). None or a tie raises :class:`~ksz_reports.core.errors.InputError` listing the dialects
    tried and the header seen.
    """
    probe = None
    try:
        d, _src, _lay, probe = _detect_with(Path(path), dialects_for(config), _config(config))
        return d
    finally:
        if probe is not None:
            probe.close()
