"""Cell values → canonical ids, one family per canonical column: indicator, breakdown, geo.

A raw column arrives as a dictionary array (of bytes, for a CSV file): :class:`_Cells` decodes
its *unique values* with the file's encoding and maps each through a token → id function once
(cached per file and column); rows are then mapped with one numpy ``take`` (:class:`_Mapped`). A
10-million-row file costs O(unique values) Python work.

- :class:`_Indicators`: the indicator column, or the dialect's fixed indicator;
- :class:`_Breakdowns`: the dimension columns, packed into one key per cell (and the headers of
  a wide-by-category export);
- :class:`_Geography`: NIS codes and municipality names (:mod:`ksz_reports.geo`);

Counts are read by :mod:`ksz_reports.ingest.counts`, periods and dates by
:mod:`ksz_reports.ingest.periods`. Every problem raises an
:class:`~ksz_reports.core.errors.InputError` naming the row and the column as the user sees them,
and what to do.
"""

from __future__ import annotations

import contextlib
import difflib
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksz_reports.core.errors import ConfigError, InputError, NotFoundError, quoted
from ksz_reports.core.schema import DIMENSIONS
from ksz_reports.core.text import normalize
from ksz_reports.geo import UNKNOWN_LOCATIONS, AmbiguousNameError, geographies, geography
from ksz_reports.ingest.compact import _Context
from ksz_reports.ingest.dialects import Dialect
from ksz_reports.ingest.sources import _Decoder, _Raw

# geo status (negative ids)
_GEO_EMPTY, _GEO_AGG, _GEO_UNKNOWN = -1, -2, -3


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


class _Cells:
    """One file's raw columns as the column families see them: the header, where each canonical
    column is, and the mapping of a dictionary column through its unique values."""

    def __init__(
        self, file: str, names: list[str], roles: dict[str, int], decoder: _Decoder | None
    ):
        self.file = file
        self.names = names  # the header as written
        self.roles = roles  # canonical column → header index
        self.decoder = decoder  # a CSV file's columns are bytes: decoded with this

    def col(self, index: int) -> str:
        """The header text of column ``index`` (for messages)."""
        return self.names[index]

    def where(self, arr: pa.Array, raw: _Raw, column: str) -> Any:
        """(row, column) of the first row holding dictionary item ``i`` (error path)."""

        def where(i: int) -> tuple[int | None, str]:
            hits = np.flatnonzero(self.indices(arr) == i)
            return (raw.row(int(hits[0])) if len(hits) else None), column

        return where

    def text(self, arr: pa.Array, raw: _Raw, column: str) -> pa.Array:
        """The dictionary's values as a text array (decoded with the file's encoding)."""
        values = arr.dictionary
        if self.decoder is not None:
            values = self.decoder.array(values, self.where(arr, raw, column))
        return values

    def strings(self, arr: pa.Array, raw: _Raw, column: str) -> list[str]:
        """The dictionary's values as text (decoded with the file's encoding)."""
        return self.text(arr, raw, column).to_pylist()

    def indices(self, arr: pa.Array) -> np.ndarray:
        return arr.indices.to_numpy(zero_copy_only=False)

    def map(
        self, arr: pa.Array, raw: _Raw, column: str, cache: dict, fn: Any, dtype: Any
    ) -> _Mapped:
        """Map a dictionary array through ``fn(token) -> int`` on its unique values only."""
        tokens = self.strings(arr, raw, column)
        table = np.fromiter(
            (cache[t] if t in cache else cache.setdefault(t, fn(t)) for t in tokens),
            dtype=np.int64,
            count=len(tokens),
        )
        return _Mapped(table.astype(dtype), self.indices(arr), raw.n)

    def token(self, arr: pa.Array, row: int) -> str:
        value = arr[row]
        if isinstance(value, pa.DictionaryScalar):
            value = value.value
        out = value.as_py()
        if isinstance(out, bytes):
            return out.decode(self.decoder.encoding, errors="replace")
        return "" if out is None else str(out)


class _Column:
    """A column family: how one canonical column of one file becomes ids (its caches are the
    file's; ``ctx`` holds the dictionaries shared by the files of the read)."""

    def __init__(self, cells: _Cells, dialect: Dialect, ctx: _Context):
        self.cells, self.file, self.dialect, self.ctx = cells, cells.file, dialect, ctx


# ------------------------------------------------------------------------------------------
# indicators


class _Indicators(_Column):
    """The indicator of every row: the dialect's fixed one, or the ``indicator`` column (the
    dialect's own values, then ids, aliases and labels of config/indicators.yaml)."""

    def __init__(self, cells: _Cells, dialect: Dialect, ctx: _Context):
        super().__init__(cells, dialect, ctx)
        self._cache: dict[str, int] = {}
        self.fixed: int | None = None
        if dialect.indicator.fixed is not None:
            if dialect.indicator.fixed not in ctx.config.indicators:
                raise ConfigError(
                    f"unknown indicator {dialect.indicator.fixed!r}",
                    file=dialect.where,
                    key="indicator.fixed",
                )
            self.fixed = ctx.indicators.index(dialect.indicator.fixed)

    def map(self, raw: _Raw) -> _Mapped:
        if self.fixed is not None:
            return _Mapped(np.array([self.fixed], np.int16), None, raw.n)
        idx = self.cells.roles["indicator"]
        arr = raw.columns[idx]
        own = self.dialect.indicator_map()
        ctx = self.ctx

        def fn(token: str) -> int:
            ind = own.get(normalize(token)) or ctx.config.indicator_lookup(token)
            return ctx.indicators.index(ind) if ind in ctx.config.indicators else -1

        m = self.cells.map(arr, raw, self.cells.col(idx), self._cache, fn, np.int16)
        bad = m.table < 0
        if bad.any():
            i = m.locate(bad)
            if i is not None:
                token = self.cells.token(arr, i)
                raise InputError(
                    f"unknown indicator {quoted(token)}",
                    file=self.file,
                    row=raw.row(i),
                    column=self.cells.col(idx),
                    hint=self._hint(token),
                    code="unknown-indicator",
                )
            m.table[bad] = 0
        return m

    def _hint(self, token: str) -> str:
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


# ------------------------------------------------------------------------------------------
# breakdowns


class _Breakdowns(_Column):
    """The breakdown of every cell: the dimension columns (codes and labels of config/codes.yaml,
    the dialect's value maps) and, wide by category, the value column's header; a dimension the
    indicator is not broken down by must be the total."""

    def __init__(self, cells: _Cells, dialect: Dialect, ctx: _Context):
        super().__init__(cells, dialect, ctx)
        self._caches: dict[str, dict[str, int]] = {}

    def keys(self, raw: _Raw, ind: _Mapped, used_ind: np.ndarray) -> np.ndarray:
        """The breakdown of every row, its dimension columns' codes packed in one integer (a
        dimension without a column is the total)."""
        ctx = self.ctx
        n = raw.n
        dkey = None
        for dim, size_after in zip(DIMENSIONS, ctx.dim_mult, strict=True):
            if dim not in self.cells.roles:
                continue
            m = self._column(raw, dim)
            nonzero = m.table != 0
            if nonzero.any() and not ctx.allowed[dim][used_ind].all():
                wrong = nonzero[m.idx] & ~ctx.allowed[dim][ind.rows()]
                if wrong.any():
                    i = int(np.flatnonzero(wrong)[0])
                    code = ctx.dim_values[dim][int(m.table[m.idx[i]])]
                    ind_id = ctx.indicators[int(ind.rows()[i])]
                    raise self._no_breakdown(
                        ind_id, dim, code, raw.row(i), self.cells.col(self.cells.roles[dim])
                    )
            part = (m.table * size_after).astype(ctx.dkey_dtype)[m.idx]
            if dkey is None:
                dkey = part
            else:
                dkey += part
        if dkey is None:
            dkey = np.zeros(n, ctx.dkey_dtype)
        return dkey

    def by_header(
        self, dkey: np.ndarray, raw: _Raw, ind: _Mapped, used_ind: np.ndarray, vcols: list
    ) -> np.ndarray:
        """Wide by category: the rows' keys once per value column, with the column's category
        (its header: a code or label of the wide dimension)."""
        ctx, d = self.ctx, self.dialect
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
        return dkey

    def _column(self, raw: _Raw, dim: str) -> _Mapped:
        idx = self.cells.roles[dim]
        arr = raw.columns[idx]
        own = self.dialect.value_map(dim)
        lookup = self.ctx.config.codes.lookup
        index = self.ctx.dim_index[dim]

        def fn(token: str) -> int:
            code = own.get(normalize(token)) or lookup(dim, token)
            return index.get(code, -1) if code is not None else -1

        m = self.cells.map(
            arr, raw, self.cells.col(idx), self._caches.setdefault(dim, {}), fn, np.int32
        )
        bad = m.table < 0
        if bad.any():
            i = m.locate(bad)
            if i is not None:
                raise self._unknown_code(
                    dim, self.cells.token(arr, i), raw.row(i), self.cells.col(idx)
                )
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
            f"unknown {dim} code {quoted(token)}",
            file=self.file,
            row=row,
            column=column,
            hint=f"Closest known codes: {shown}. Use a code or label of "
            f"config/codes.yaml, or map it in value_maps.{dim} of {self.dialect.where}",
            code="unknown-code",
        )

    def _no_breakdown(self, ind_id: str, dim: str, code: str, row: int, column: str) -> InputError:
        return InputError(
            f"indicator {ind_id!r} has no breakdown by {dim} (value {quoted(code)})",
            file=self.file,
            row=row,
            column=column,
            hint=f"Write 'Totaal' (total) for "
            f"{dim}, or add {dim} to the indicator's dimensions in "
            "config/indicators.yaml",
            code="unknown-code",
        )


# ------------------------------------------------------------------------------------------
# geography (reference list)


@cache
def _geo_tables() -> tuple[dict[str, str], frozenset[str]]:
    """Municipality codes of every modelled geography (→ ``Name (code)``) and aggregate codes."""
    munis: dict[str, str] = {}
    aggregates: set[str] = set()
    for geo in geographies():
        for m in geo.municipalities():
            munis.setdefault(m.nis, m.label)
        for level in ("arrondissement", "province", "region", "country"):
            aggregates.update(geo.codes_of(level))
    return munis, frozenset(aggregates - set(munis))


@cache
def _resolve_name(text: str) -> tuple[str | None, str, list[str]]:
    """``(nis, "", [])`` for a municipality name; ``(None, message, suggestions)`` if unknown."""
    try:  # the names of 2019–2024 first, then those of the other geographies, as written
        return geography(2019).lookup(text, follow=False).nis, "", []
    except AmbiguousNameError as exc:
        return None, "ambiguous", list(exc.suggestions)
    except NotFoundError as exc:
        first = exc
    for geo in geographies():
        with contextlib.suppress(NotFoundError):
            return geo.lookup(text, follow=False).nis, "", []
    return None, "unknown", list(first.suggestions)


class _Geography(_Column):
    """The municipality of every row: its NIS code, or its name (Dutch or French, through the
    reference list) where the code is empty or the only geography column; rows of aggregates
    (arrondissement … Belgium) are dropped or refused, as the dialect says."""

    def __init__(self, cells: _Cells, dialect: Dialect, ctx: _Context):
        super().__init__(cells, dialect, ctx)
        self._caches: dict[str, dict[str, int]] = {}

    def code_id(self, token: str) -> int:
        """Intern id of a NIS code token, or a negative status."""
        found = self.ctx.geo_tokens.get(token)
        if found is not None:
            return found
        raw = token.strip()
        if raw in UNKNOWN_LOCATIONS and self.dialect.layout == "swing":
            return self.ctx.geo.id(raw)  # a region's unknown location (not cached: per dialect)
        if not raw:
            out = _GEO_EMPTY
        elif raw.isdigit() and raw.isascii() and len(raw) <= 5:
            code = raw.zfill(5)
            munis, aggregates = _geo_tables()
            if code in munis:
                out = self.ctx.geo.id(code)
            elif code in aggregates:
                out = _GEO_AGG
            else:
                out = _GEO_UNKNOWN
        elif raw.isdigit():
            out = _GEO_UNKNOWN
        else:
            out = _GEO_UNKNOWN - 1  # a name: resolved by the caller
        self.ctx.geo_tokens[token] = out
        return out

    def _token_id(self, token: str) -> int:
        """Geo id of a NIS code or a municipality name, or a negative status."""
        text = token.strip()
        if not text or text.isdigit():
            return self.code_id(text)
        nis, _why, _suggestions = _resolve_name(text)
        return _GEO_UNKNOWN if nis is None else self.code_id(nis)

    def map(self, raw: _Raw) -> np.ndarray:
        """Geo ids per row (``_GEO_AGG`` for a dropped aggregate)."""
        roles = self.cells.roles
        role = "geo" if "geo" in roles else "geo_name"
        idx = roles[role]
        arr = raw.columns[idx]
        m = self.cells.map(
            arr,
            raw,
            self.cells.col(idx),
            self._caches.setdefault(role, {}),
            self._token_id,
            np.int32,
        )
        unknown = m.table == _GEO_UNKNOWN
        if unknown.any():
            i = m.locate(unknown)
            if i is not None:
                raise self._unknown(
                    self.cells.token(arr, i).strip(), raw.row(i), self.cells.col(idx)
                )
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
                names = self.cells.map(
                    col, raw, self.cells.col(nidx), cache, self._token_id, np.int32
                )
                got = names.table[names.idx[at]]
            else:  # a plain column: encode just the rows without a code
                part = pc.dictionary_encode(col.take(pa.array(at)))
                sub_raw = _Raw({}, len(at), 0, raw.line_numbers()[at])
                names = self.cells.map(
                    part, sub_raw, self.cells.col(nidx), cache, self._token_id, np.int32
                )
                got = names.rows()
            bad = got < 0
            bad &= got != _GEO_AGG
            if bad.any():
                i = int(at[np.flatnonzero(bad)[0]])
                token = self.cells.token(raw.columns[nidx], i).strip()
                if not token:
                    raise InputError(
                        f"empty NIS code and empty {self.cells.col(nidx)!r}",
                        file=self.file,
                        row=raw.row(i),
                        column=self.cells.col(idx),
                        hint="Give the NIS code or the name of the municipality",
                        code="unknown-nis",
                    )
                raise self._unknown(token, raw.row(i), self.cells.col(nidx))
            rows[at] = got
        else:
            i = m.locate(empty)
            what = "empty NIS code" if role == "geo" else "empty municipality name"
            raise InputError(
                what,
                file=self.file,
                row=raw.row(i or 0),
                column=self.cells.col(idx),
                hint="Give the 5-digit NIS code of the municipality",
                code="unknown-nis",
            )
        if self.dialect.geo.aggregates == "error" and (m.table == _GEO_AGG).any():
            agg = rows == _GEO_AGG
            if agg.any():
                i = int(np.flatnonzero(agg)[0])
                raise InputError(
                    f"{quoted(self.cells.token(arr, i).strip())} is not a municipality "
                    "but an aggregate (arrondissement, province, region or Belgium)",
                    file=self.file,
                    row=raw.row(i),
                    column=self.cells.col(idx),
                    hint="Give municipalities only: aggregates are computed from them",
                    code="unknown-nis",
                )
        return rows

    def _unknown(self, token: str, row: int, column: str) -> InputError:
        if token.isdigit():
            munis, _agg = _geo_tables()
            code = token.zfill(5) if len(token) <= 5 else token
            same = [c for c in munis if c[:2] == code[:2]] or list(munis)
            close = difflib.get_close_matches(code, same, n=3, cutoff=0.6)
            did = f"Did you mean: {', '.join(munis[c] for c in close)}? " if close else ""
            return InputError(
                f"unknown NIS code {quoted(token)}",
                file=self.file,
                row=row,
                column=column,
                hint=f"{did}Give the 5-digit NIS code of a municipality",
                code="unknown-nis",
            )
        _nis, why, sugg = _resolve_name(token)
        if why == "ambiguous":
            return InputError(
                f"ambiguous municipality name {quoted(token)}",
                file=self.file,
                row=row,
                column=column,
                hint=f"It may be {', '.join(sugg)}; give the NIS code",
                code="unknown-municipality",
            )
        did = f"Did you mean: {', '.join(sugg)}? " if sugg else ""
        return InputError(
            f"unknown municipality {quoted(token)}",
            file=self.file,
            row=row,
            column=column,
            hint=f"{did}Give the NIS code, or the Dutch or French name",
            code="unknown-municipality",
        )
