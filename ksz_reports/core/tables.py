"""Writing tidy tables as CSV, JSON or Excel (atomically when written to a file)."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pandas as pd

from ksz_reports.core.atomic import atomic_path, write_text
from ksz_reports.core.errors import UsageError

#: Columns of persons: a whole number is written as one (``38614``, not ``38614.0``); a monthly
#: average keeps its decimals.
COUNT_COLUMNS = ("count", "population")


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
            _whole_counts(frame).to_excel(tmp, index=False, engine="openpyxl")
        return None
    else:
        raise UsageError(f"unknown format {fmt!r}; choose csv, json or xlsx")
    if out is None:
        return text
    write_text(out, text)
    return None
