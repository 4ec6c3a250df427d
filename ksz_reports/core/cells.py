"""The ``cells.csv`` contract (``docs/architecture.md#the-cellscsv-contract``): every number a report shows, one row per
cell, written by the reports and read by the audit.

Columns ``table, indicator, period, geo, sex, age_class, household_type, origin,
nationality_group, ses_position, family_category, kind, value, flag``: the key of the count the
number belongs to, its ``kind`` (:data:`~ksz_reports.core.vocabulary.KINDS`), the ``value``
(integers for counts, full precision otherwise; empty when not shown) and the ``flag`` saying why
a value is not shown (:data:`~ksz_reports.core.vocabulary.FLAGS`). UTF-8, ``,``, ``\\n``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ksz_reports.core.errors import InputError
from ksz_reports.core.schema import KEY_COLUMNS
from ksz_reports.core.vocabulary import FLAGS, INTEGER_KINDS, KINDS

#: The key of a cell: the report table and the key of its count.
CELL_KEY_COLUMNS: tuple[str, ...] = ("table", *KEY_COLUMNS)
#: Columns of ``cells.csv``, in order.
CELLS_COLUMNS: tuple[str, ...] = (*CELL_KEY_COLUMNS, "kind", "value", "flag")
#: Kinds computed from the count of the same key (a leak when that count is hidden).
DERIVED_KINDS: frozenset[str] = frozenset(KINDS) - INTEGER_KINDS

__all__ = [
    "CELLS_COLUMNS",
    "CELL_KEY_COLUMNS",
    "DERIVED_KINDS",
    "FLAGS",
    "KINDS",
    "format_cell_value",
    "read_cells_csv",
    "write_cells_csv",
]


def format_cell_value(value: float, kind: str) -> str:
    """The text of a value in cells.csv: integers for counts, full precision otherwise."""
    if pd.isna(value):
        return ""
    if kind in INTEGER_KINDS and float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def write_cells_csv(cells: pd.DataFrame) -> bytes:
    """cells.csv bytes (UTF-8, ``,``, ``\\n``) of a frame with :data:`CELLS_COLUMNS`."""
    frame = cells[list(CELLS_COLUMNS)].copy()
    frame["value"] = [
        format_cell_value(v, k) for v, k in zip(frame["value"], frame["kind"], strict=True)
    ]
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


_LINE = re.compile(r"line (\d+)")


def read_cells_csv(path: str | Path) -> pd.DataFrame:
    """Read one ``cells.csv`` as strings, with ``_file`` and ``_row`` (1-based, header = row 1).

    Raises :class:`InputError` naming file, row and column when the file is malformed.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8-sig"
        )
    except pd.errors.EmptyDataError as exc:
        raise InputError("the file is empty", file=path, hint="expected a cells.csv") from exc
    except pd.errors.ParserError as exc:
        m = _LINE.search(str(exc))
        raise InputError(
            f"not a valid CSV: {str(exc).strip()}",
            file=path,
            row=int(m.group(1)) if m else None,
            code="malformed-csv",
        ) from exc
    except UnicodeDecodeError as exc:
        raise InputError("not UTF-8 text", file=path, code="malformed-csv") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in CELLS_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(
            f"missing column {missing[0]!r}",
            file=path,
            row=1,
            column=missing[0],
            hint=f"cells.csv needs the columns {', '.join(CELLS_COLUMNS)}",
            code="missing-column",
        )
    frame["_file"] = str(path)
    frame["_row"] = np.arange(2, len(frame) + 2)
    return frame
