"""The canonical long table (docs/domain.md#the-canonical-table): one row per cell, whatever the export dialect.

| column | Arrow type | meaning |
|---|---|---|
| indicator | dictionary<string> | indicator id (``config/indicators.yaml``) |
| period | string | ``2023`` (year), ``2023Q4`` (quarter), ``2023-10`` (month) |
| geo | dictionary<string> | 5-digit NIS code of the municipality, leading zeros kept |
| sex … family_category | dictionary<string> | canonical code, or ``total`` |
| value | int64, nullable | persons; **null = no value** (never read as 0) |
| lower | int64, nullable | a cell **masked at the source**: the least value the source allows (0 without a band) |
| upper | int64, nullable | a masked cell's greatest value (``1-3``: 3, ``<5``: 4); null = none given |
| source | dictionary<string> | file the row came from |
| vintage | date32 | extraction date of the export |

A cell without a value is *masked at the source* (hidden by its supplier because it is small:
sensitive) when ``lower`` is given, and *unknown* (e.g. not covered by the source: not sensitive)
when it is null (:func:`is_masked`, :func:`is_unknown`).

The exact reference date of a period is its last day (:func:`period_end`): a stock of 31/12/2022
is period ``2022`` whatever label the producer printed (the label convention is a setting).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

TOTAL = "total"

#: Breakdown dimensions, in canonical order.
DIMENSIONS: tuple[str, ...] = (
    "sex",
    "age_class",
    "household_type",
    "origin",
    "nationality_group",
    "ses_position",
    "family_category",
)

#: Columns that identify a cell (a duplicate key with two values is an input error).
KEY_COLUMNS: tuple[str, ...] = ("indicator", "period", "geo", *DIMENSIONS)

#: All canonical columns, in order.
CANONICAL_COLUMNS: tuple[str, ...] = (*KEY_COLUMNS, "value", "lower", "upper", "source", "vintage")

_dict = pa.dictionary(pa.int32(), pa.string())

CANONICAL_SCHEMA = pa.schema(
    [
        pa.field("indicator", _dict, nullable=False),
        pa.field("period", pa.string(), nullable=False),
        pa.field("geo", _dict, nullable=False),
        *[pa.field(d, _dict, nullable=False) for d in DIMENSIONS],
        pa.field("value", pa.int64(), nullable=True),
        pa.field("lower", pa.int64(), nullable=True),
        pa.field("upper", pa.int64(), nullable=True),
        pa.field("source", _dict, nullable=False),
        pa.field("vintage", pa.date32(), nullable=False),
    ]
)

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def period_kind(period: str) -> str:
    """``year``, ``quarter`` or ``month``; ValueError for anything else."""
    if _YEAR.match(period):
        return "year"
    if _QUARTER.match(period):
        return "quarter"
    if _MONTH.match(period):
        return "month"
    raise ValueError(f"not a canonical period: {period!r} (expected 2023, 2023Q4 or 2023-10)")


def per_distinct(values, fn) -> np.ndarray:
    """``fn`` of every value (as text) in ``values``, called once per distinct value: a
    publication has hundreds of thousands of rows and a few hundred periods or areas."""
    series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    if not isinstance(series.dtype, pd.CategoricalDtype | pd.StringDtype):  # text already
        series = series.astype(object).astype(str)
    codes, uniques = pd.factorize(series, use_na_sentinel=False)  # a missing value: "nan"
    if not len(uniques):
        return np.array([], dtype=object)
    return np.array([fn(str(p)) for p in uniques], dtype=object)[codes]


def period_end(period: str) -> dt.date:
    """The exact reference date of a period: its last day (a stock on that date)."""
    kind = period_kind(period)
    year = int(period[:4])
    if kind == "year":
        return dt.date(year, 12, 31)
    month = int(period[5:]) * 3 if kind == "quarter" else int(period[5:7])
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def period_start(period: str) -> dt.date:
    """The first day of a period."""
    kind = period_kind(period)
    year = int(period[:4])
    if kind == "year":
        return dt.date(year, 1, 1)
    month = (int(period[5:]) - 1) * 3 + 1 if kind == "quarter" else int(period[5:7])
    return dt.date(year, month, 1)


def months_of(year: int) -> list[str]:
    """The 12 canonical month periods of a year."""
    return [f"{year}-{m:02d}" for m in range(1, 13)]


def empty_frame() -> pd.DataFrame:
    """An empty canonical table as a pandas DataFrame (Arrow-backed types)."""
    return CANONICAL_SCHEMA.empty_table().to_pandas()


def is_masked(frame: pd.DataFrame) -> np.ndarray:
    """Rows masked at the source: no value, a range (sensitive)."""
    missing = frame["value"].isna().to_numpy()
    if "lower" not in frame.columns:
        return missing
    return missing & frame["lower"].notna().to_numpy()


def is_unknown(frame: pd.DataFrame) -> np.ndarray:
    """Rows without a value that are not masked at the source (not sensitive)."""
    return frame["value"].isna().to_numpy() & ~is_masked(frame)


def masked_sum(values: pd.Series) -> float | None:
    """Sum counts so that a masked cell (null) makes the sum masked: it is never read as 0.

    Returns ``None`` when any value is masked; an empty series sums to 0.
    """
    if values.isna().any():
        return None
    return int(values.sum())


def groupby_masked_sum(frame: pd.DataFrame, by: list[str], value: str = "value") -> pd.DataFrame:
    """``frame.groupby(by)[value].sum()`` where any masked (null) member makes the group's sum null.

    pandas' own ``sum`` skips nulls, which would read a masked cell as 0; this never does.
    """
    grouped = frame.groupby(by, observed=True, sort=True, dropna=False)[value]
    sums = grouped.sum(min_count=0)
    has_mask = grouped.size() != grouped.count()
    out = sums.astype("Int64")
    out[has_mask.to_numpy(dtype=bool)] = pd.NA
    return out.reset_index()


def as_str(series: pd.Series) -> pd.Series:
    """A column as plain Python strings, fast for categoricals (a take on the categories)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        cats = np.asarray(series.cat.categories.astype(str), dtype=object)
        codes = series.cat.codes.to_numpy()
        out = cats[codes]
        if (codes < 0).any():
            out = out.copy()
            out[codes < 0] = None
        return pd.Series(out, index=series.index, name=series.name)
    return series.astype(str)


def decoded(series: pd.Series, dtype: Any = str) -> pd.Series:
    """A categorical column in ``dtype`` (default: text, as ``astype(str)`` gives it): its
    categories converted once and taken by code, not every row converted (a measure table
    has hundreds of thousands of rows and a few hundred areas); any other column
    ``astype(dtype)``."""
    if not isinstance(series.dtype, pd.CategoricalDtype):
        return series.astype(dtype)
    values = pd.Series(series.cat.categories).astype(dtype).array
    codes = series.cat.codes.to_numpy()
    taken = values.take(codes, allow_fill=True)
    return pd.Series(taken, index=series.index, name=series.name, dtype=values.dtype)


def row_codes(columns: Sequence[pd.Series], length: int | None = None) -> np.ndarray:
    """Per row, one integer for its combination of the values of ``columns`` (all of one
    length; ``length`` rows when there is no column: one group): 0, 1, … in the order the
    combinations first appear, a missing value a value of its own — each column factorized
    (categorical codes as they are), combined, kept dense."""
    n = len(columns[0]) if columns else int(length or 0)
    key = np.zeros(n, dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(column, use_na_sentinel=False)
        key = pd.factorize(key * max(len(uniques), 1) + codes)[0]  # dense: no overflow
    return key.astype(np.int64)


class ByPeriod:
    """For every row of ``rows`` (default: ``cells`` itself), the row of ``cells`` with the same
    key — the ``columns``, all but ``period`` — at its own period or another one (the one
    before, the base of an index, the first month of a window): one integer per key, a binary
    search per lookup, no merge on the key columns. The values of two frames are matched as
    text; one frame's columns are coded as they are (categorical codes)."""

    def __init__(
        self,
        cells: pd.DataFrame,
        columns: Sequence[str],
        rows: pd.DataFrame | None = None,
    ):
        n = len(cells)
        if rows is None:
            key = row_codes([cells[c] for c in columns])
        else:
            key = row_codes(
                [pd.concat([cells[c].astype(str), rows[c].astype(str)]) for c in columns]
            )
        cell_periods = cells["period"]
        if rows is None:
            self._row_period, distinct = pd.factorize(cell_periods)
            self._distinct = pd.Index([str(p) for p in distinct])
            self._periods = self._distinct
            cell_period = self._row_period
        else:
            cell_periods, row_periods = cell_periods.astype(str), rows["period"].astype(str)
            self._row_period, self._distinct = pd.factorize(row_periods)
            self._periods = pd.Index(pd.unique(pd.concat([cell_periods, row_periods])))
            cell_period = self._periods.get_indexer(cell_periods)
        size = max(len(self._periods), 1)
        self._row_key = (key if rows is None else key[n:]) * size
        cell_key = key[:n] * size + cell_period
        self._order = np.argsort(cell_key, kind="stable")
        self._sorted = cell_key[self._order]

    def positions(self, shift: Callable[[str], str] | None = None) -> np.ndarray:
        """Per row: the position in ``cells`` of its key at ``shift(period)`` (its own period
        when None; ``shift`` is called once per period), -1 where there is none."""
        own = self._periods.get_indexer(self._distinct)
        if shift is not None:
            own = self._periods.get_indexer(pd.Index([shift(p) for p in self._distinct]))
        return self._found(own[self._row_period])

    def positions_at(self, periods: pd.Series) -> np.ndarray:
        """Per row: the position in ``cells`` of its key at the period ``periods`` gives for it
        (-1 where none)."""
        return self._found(self._periods.get_indexer(pd.Index(periods.astype(str), dtype=object)))

    def _found(self, period: np.ndarray) -> np.ndarray:
        want = self._row_key + period
        ranked = self._sorted
        at = np.minimum(np.searchsorted(ranked, want), max(len(ranked) - 1, 0))
        hit = (period >= 0) & (ranked[at] == want) if len(ranked) else period < -1
        return np.where(hit, self._order[at], -1)


def is_total(
    frame: pd.DataFrame, dims: tuple[str, ...] = DIMENSIONS, *, except_: str | None = None
) -> np.ndarray:
    """Boolean mask of the rows where every dimension of ``dims`` is ``total`` (vectorised);
    with ``except_``, the rows broken down by that one dimension (it is *not* ``total``)."""
    mask = np.ones(len(frame), dtype=bool)
    for d in dims:
        total = (frame[d] == TOTAL).to_numpy(dtype=bool, na_value=False)
        mask &= ~total if d == except_ else total
    return mask
