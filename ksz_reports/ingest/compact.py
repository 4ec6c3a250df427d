"""The compact form of a read: shared dictionaries, compact batches, canonical Arrow, duplicates.

Every file of a read (:func:`~ksz_reports.ingest.reader.read_export`,
:func:`~ksz_reports.ingest.validate.validate`, :func:`~ksz_reports.ingest.dataset.ingest`) becomes
compact integer arrays (:class:`_Compact`): ids into dictionaries shared by all files of the read
(:class:`_Context`), the seven breakdown codes packed in one int32, the value as int32 with a
negative code for a cell without a value (:func:`masked_code`, :func:`band_code`,
:data:`UNKNOWN_CODE`). This module turns them into canonical Arrow batches
(:data:`~ksz_reports.core.schema.CANONICAL_SCHEMA`), orders them (indicator, geo, period, then
breakdown and vintage) and finds duplicate cells: an identical one is dropped, one with another
value raises naming both rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from ksz_reports.core.errors import InputError
from ksz_reports.core.schema import CANONICAL_SCHEMA, DIMENSIONS, TOTAL
from ksz_reports.ingest.dialects import _config, dialects_for

#: Frequency codes of the indicators (``_Context.freq``).
_FREQ = {"year": 0, "quarter": 1, "month": 2}
_FREQ_NAME = {0: "yearly", 1: "quarterly", 2: "monthly"}
_EPOCH = dt.date(1970, 1, 1)


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
        # NIS code token → geo id or negative status, for every file (see columns._Geography)
        self.geo_tokens: dict[str, int] = {}

    def decode_tables(self) -> list[np.ndarray] | None:
        """Per dimension: packed key → code id (int8), when the key space is small."""
        if self._decode is None and self.dkey_size <= 1 << 24:
            keys = np.arange(self.dkey_size, dtype=np.int64)
            self._decode = [
                ((keys // m) % s).astype(np.int8)
                for m, s in zip(self.dim_mult, self.dim_sizes, strict=True)
            ]
        return self._decode


# The int32 value of a cell without one: masked at the source (sensitive), with or without the
# range the source gave, or unknown (not sensitive). Canonically: value null, and lower/upper the
# range (a masked cell) or null (an unknown cell).
MASKED_CODE = -1  # masked at the source, range [0, ∞)
UNKNOWN_CODE = -2  # no value, not masked because small (e.g. not covered by the source)
_BAND_BASE = 16
_BAND_RADIX = 1024  # a band's bounds are below this (bands are for small counts)


def band_code(lower: Any, upper: Any) -> Any:
    """The value code of a cell masked at the source within ``[lower, upper]`` (numbers or
    arrays); ValueError for a range that is not ``0 ≤ lower ≤ upper < 1024``."""
    lo, hi = np.asarray(lower, np.int64), np.asarray(upper, np.int64)
    if not np.all((lo >= 0) & (lo <= hi) & (hi < _BAND_RADIX)):
        raise ValueError(f"a band is 0 ≤ lower ≤ upper < {_BAND_RADIX}")
    code = -(_BAND_BASE + lo * _BAND_RADIX + hi)
    return int(code) if code.ndim == 0 else code


def decode_values(value: np.ndarray) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Canonical ``value``, ``lower``, ``upper`` (int64, nullable) of int32 value codes."""
    v = value.astype(np.int64)
    missing = v < 0
    band = v <= -_BAND_BASE
    k = np.where(band, -v - _BAND_BASE, 0)
    lower = np.where(band, k // _BAND_RADIX, 0)
    upper = np.where(band, k % _BAND_RADIX, 0)
    masked = missing & (v != UNKNOWN_CODE)

    def arr(x: np.ndarray, null: np.ndarray) -> pa.Array:
        return pa.array(x, pa.int64(), mask=null if null.any() else None)

    return arr(v, missing), arr(lower, ~masked), arr(upper, ~band)


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
    value, lower, upper = decode_values(col(c.value))
    dims = _unpack_dims(col(c.dkey), ctx)
    arrays = [
        dict_col("indicator", col(c.ind), ctx.indicators),
        period_values.take(pa.array(col(c.period))),
        dict_col("geo", col(c.geo), ctx.geo.values),
        *[dict_col(dim, a, ctx.dim_values[dim]) for dim, a in zip(DIMENSIONS, dims, strict=True)],
        value,
        lower,
        upper,
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
        v = int(c.value[r])
        if v >= 0:
            return str(v)
        return "unknown" if v == UNKNOWN_CODE else "masked"

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
