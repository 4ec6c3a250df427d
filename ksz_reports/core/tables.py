"""Writing tidy tables as CSV, JSON or Excel (atomically when written to a file)."""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
from pathlib import Path

import pandas as pd

from ksz_reports.core.atomic import atomic_path, write_text
from ksz_reports.core.errors import UsageError

#: Columns of persons: a whole number is written as one (``38614``, not ``38614.0``); a monthly
#: average keeps its decimals.
COUNT_COLUMNS = ("count", "population")


#: The date every workbook written here carries (ZIP entries, document created/modified), so the
#: same cells give the same bytes.
XLSX_STAMP = dt.datetime(2000, 1, 1)


def write_xlsx_frames(path: str | Path, sheets: dict[str, pd.DataFrame]) -> None:
    """Write ``sheets`` (name → frame, in that order) as an .xlsx workbook at ``path``,
    byte-identical for the same frames: fixed document dates and ZIP entry times (1980-01-01, the
    earliest a ZIP can hold), members in openpyxl's order."""
    import zipfile

    raw = io.BytesIO()
    with pd.ExcelWriter(raw, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
        props = writer.book.properties
        props.created = props.modified = XLSX_STAMP
        props.creator = props.lastModifiedBy = "ksz_reports"
    fixed = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src,
        zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps modified at save
                body = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + XLSX_STAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>",
                    body,
                )
            dst.writestr(entry, body)
    Path(path).write_bytes(fixed.getvalue())


def _whole_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the whole numbers of its count columns as Python ints (NA kept)."""
    columns = [c for c in COUNT_COLUMNS if c in frame and pd.api.types.is_float_dtype(frame[c])]
    if not columns:
        return frame
    frame = frame.copy()
    for c in columns:
        values = frame[c].astype(object)
        whole = frame[c].notna() & (frame[c] % 1 == 0)
        values[whole] = frame[c][whole].astype("int64").astype(object)
        frame[c] = values.where(frame[c].notna(), None)
    return frame


def frame_records(frame: pd.DataFrame) -> list[dict]:
    """JSON-able records: NaN/NA become None, numpy scalars become Python scalars."""
    out = []
    for rec in _whole_counts(frame).astype(object).to_dict("records"):
        clean = {}
        for k, v in rec.items():
            if v is pd.NA or v is None or (isinstance(v, float) and math.isnan(v)):
                clean[k] = None
            elif hasattr(v, "item"):
                clean[k] = v.item()
            else:
                clean[k] = v
        out.append(clean)
    return out


def to_csv_text(frame: pd.DataFrame) -> str:
    buf = io.StringIO()
    _whole_counts(frame).to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def write_table(frame: pd.DataFrame, fmt: str, out: str | Path | None = None) -> str | None:
    """Write ``frame`` as ``csv``, ``json`` or ``xlsx``; return the text when ``out`` is None."""
    if fmt == "csv":
        text = to_csv_text(frame)
    elif fmt == "json":
        text = json.dumps(frame_records(frame), ensure_ascii=False, indent=2) + "\n"
    elif fmt == "xlsx":
        if out is None:
            raise UsageError("--format xlsx needs --out FILE")
        with atomic_path(out, suffix=".xlsx") as tmp:
            write_xlsx_frames(tmp, {"Sheet1": _whole_counts(frame)})
        return None
    else:
        raise UsageError(f"unknown format {fmt!r}; choose csv, json or xlsx")
    if out is None:
        return text
    write_text(out, text)
    return None
