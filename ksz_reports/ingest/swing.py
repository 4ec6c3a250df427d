"""The Swing layout (Provincies in Cijfers uploads, docs/dialects.md §6): one row per period and
area, ``period, geolevel, geoitem`` in any order, then one column per indicator code.

:func:`swing_source` wraps the CSV or xlsx source of such a file into a source of *long* rows
(period, geo, indicator, the breakdown of the code, value), one batch per indicator code column,
so the rest of the reader (periods, counts and their missing codes, the whole-cell checks,
duplicates) reads it like any long export:

- ``geolevel`` says what ``geoitem`` is (``swing.geolevels`` of the dialect): a municipality of
  one geography (``gemeente2018`` = the 589 of 1983–2018, ``gemeente2024`` = the 581 of
  2019–2024, ``gemeente`` = today's), whose code must be one of that geography — the mergers
  onto the report's geography are summed by :func:`ksz_reports.geo.aggregate.to_current`, before
  any suppression —, or an aggregate (``provincie``, ``gewest`` with codes ``2000`` …, ``land``
  ``1000``). An aggregate row is a loaded value: it is checked against the sum of its
  municipalities when the file gives all of them with a number (a disagreement is one located
  error, never silently preferred) and then dropped (never spread over municipalities).
- ``absent_rows``: a municipality of a region the file covers that has no row for a period is
  a zero (``zero``, files completed with zeros) or not reported (``not_reported``: an unknown
  cell, so every sum that needs it is not available). A region without any row in the file gets
  no rows: it is not available, never 0.
- Unknown locations (``swing.unknown_locations``: ``99991`` somewhere in Flanders, ``99992`` in
  Brussels, ``99993`` and ``99999`` in Belgium) belong to no municipality: each becomes the
  pseudo-unit of its region (:data:`ksz_reports.geo.codes.UNKNOWN_LOCATIONS`; ``99993`` and
  ``99999`` of one row's period are summed into Belgium's), counted in the region's and
  Belgium's totals only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from ksz_reports.core.errors import ConfigError, InputError
from ksz_reports.core.schema import DIMENSIONS, TOTAL
from ksz_reports.core.text import normalize
from ksz_reports.geo import geography
from ksz_reports.geo.codes import UNKNOWN_LOCATION_OF, UNKNOWN_LOCATIONS
from ksz_reports.ingest.dialects import Dialect
from ksz_reports.ingest.header import _Layout
from ksz_reports.ingest.sources import _CsvSource, _Header, _Raw

__all__ = ["swing_source"]

_LEVEL_NAMES = {
    "municipality": "municipality",
    "arrondissement": "arrondissement",
    "province": "province",
    "region": "region",
    "country": "Belgium",
}
_INT = re.compile(r"^\d{1,18}$")


def _code(text: str) -> str:
    """A geoitem as a 5-digit code (``2000`` → ``02000``; ``11001.0`` from a workbook → ``11001``)."""
    t = text.strip()
    if re.fullmatch(r"\d+\.0+", t):
        t = t.split(".")[0]
    return t.zfill(5) if t.isdigit() and len(t) <= 5 else t


class _SwingSource:
    """A Swing file read through its CSV or xlsx source, yielding long rows."""

    def __init__(self, inner: Any, layout: _Layout, dialect: Dialect, config: Any):
        self.inner, self.file, self.dialect, self.config = inner, inner.file, dialect, config
        self.opts = dialect.swing
        self.inner_layout = layout
        names = inner.header.names
        self.columns: list[tuple[int, str, dict[str, str]]] = []  # (index, header, mapping)
        codes = self.opts.code_map()
        for i, name in layout.values:
            mapping = codes.get(normalize(name))
            key = f"swing.codes.{name}"
            if mapping is None:
                mapping = {"indicator": config.indicator_lookup(name)}
                key = None
            self._check_mapping(name, mapping, key)
            self.columns.append((i, name, mapping))
        dims = [d for d in DIMENSIONS if any(d in m for _i, _n, m in self.columns)]
        self.dims = dims
        # the long rows: period, geo, indicator, the dimensions of the codes, value
        roles = {"period": 0, "geo": 1, "indicator": 2}
        for j, d in enumerate(dims):
            roles[d] = 3 + j
        roles["value"] = 3 + len(dims)
        first = self.columns[0][1] if self.columns else "value"
        self.names = [
            names[layout.roles["period"]],
            names[layout.roles["geo"]],
            *([first] * (len(dims) + 2)),
        ]
        self.header = _Header(self.names, inner.header.row, inner.header.titles)
        self.layout = _Layout(roles, [(roles["value"], first)], [], [], None, [], layout.recognised)
        unknown = dialect.numbers.unknown
        if dialect.absent_rows == "not_reported" and not unknown:
            raise ConfigError(
                "`absent_rows: not_reported` needs an unknown token in numbers.unknown "
                "(a municipality without a row is an unknown cell)",
                file=dialect.where,
                key="numbers.unknown",
            )
        self._unknown_token = unknown[0] if unknown else None
        self.rows_read = 0  # data rows of the file (set when read)

    @property
    def sha256(self) -> str | None:
        return getattr(self.inner, "sha256", None)

    def _check_mapping(self, name: str, mapping: dict[str, str], key: str | None) -> None:
        cfg, d = self.config, self.dialect
        ind = mapping.get("indicator")
        if ind not in cfg.indicators:
            raise ConfigError(
                f"unknown indicator {ind!r} for indicator code {name!r}",
                file=d.where if key else None,
                key=f"{key}.indicator" if key else None,
            )
        allowed = cfg.indicators[ind].dimensions
        for dim, value in mapping.items():
            if dim == "indicator":
                continue
            if dim not in allowed:
                raise ConfigError(
                    f"indicator {ind!r} has no breakdown by {dim}",
                    file=d.where,
                    key=f"{key}.{dim}",
                )
            if cfg.codes.lookup(dim, value) is None:
                raise ConfigError(
                    f"unknown {dim} code {value!r}; use a code of config/codes.yaml",
                    file=d.where,
                    key=f"{key}.{dim}",
                )

    # -- reading ------------------------------------------------------------------------------

    def _texts(self, include: list[int]) -> tuple[dict[int, list[str]], np.ndarray]:
        """Every included column of the file as text, and the row number of every row."""
        out: dict[int, list[str]] = {i: [] for i in include}
        lines: list[np.ndarray] = []
        decoder = self.inner.decoder if isinstance(self.inner, _CsvSource) else None
        names = self.inner.header.names
        for raw in self.inner.batches(include):
            lines.append(raw.line_numbers())
            for i in include:
                arr = raw.columns[i]
                values = arr.dictionary
                if decoder is not None:

                    def where(k: int, arr: pa.Array = arr, i: int = i, raw: _Raw = raw) -> tuple:
                        hits = np.flatnonzero(arr.indices.to_numpy(zero_copy_only=False) == k)
                        return (raw.row(int(hits[0])) if len(hits) else None), names[i]

                    values = decoder.array(values, where)
                table = ["" if v is None else str(v) for v in values.to_pylist()]
                idx = arr.indices.to_numpy(zero_copy_only=False)
                out[i].extend(table[k] for k in idx)
        line = np.concatenate(lines) if lines else np.zeros(0, np.int32)
        return out, line.astype(np.int32)

    def _error(self, message: str, row: int, column: int, hint: str, code: str) -> InputError:
        return InputError(
            message,
            file=self.file,
            row=row,
            column=self.inner.header.names[column],
            hint=hint,
            code=code,
        )

    def _number(self, token: str) -> int | None:
        """A count for the agreement check: the number, 0 for an absent or zero token, None for a
        cell without a number (masked, unknown) or not a count (reported by the reader)."""
        t = token.strip().lower()
        n = self.dialect.numbers
        if t in {z.strip().lower() for z in (*n.absent, *n.zero_tokens)}:
            return 0
        if n.thousands:
            t = re.sub("[" + "".join(re.escape(c) for c in n.thousands) + "]", "", t)
        return int(t) if _INT.match(t) else None

    def _plus(self, a: str, b: str) -> str:
        """Two cells of one place summed as tokens (a masked or unknown one breaks the sum)."""
        x, y = self._number(a), self._number(b)
        if x is not None and y is not None:
            return str(x + y)
        masked = {m.strip().lower() for m in self.dialect.numbers.masked}
        for t in (a, b):
            if t.strip().lower() in masked:
                return t
        return a if x is None else b

    def _rows(self) -> tuple[list[tuple], list[int], list[list[str]]]:
        """The long rows' (period, geo, line) and their tokens per code column."""
        lay = self.inner_layout
        ip, il, ig = lay.roles["period"], lay.roles["geolevel"], lay.roles["geo"]
        vcols = [i for i, _n, _m in self.columns]
        texts, lines = self._texts(sorted({ip, il, ig, *vcols}))
        self.rows_read = len(lines)
        levels = {normalize(k): (k, v) for k, v in self.opts.geolevels.items()}
        unknown_loc = {_code(k): v for k, v in self.opts.unknown_locations.items()}
        current = geography()
        located: dict[tuple[str, str], int] = {}  # (period, pseudo-unit) → its first row
        level_codes: dict[str, set[str]] = {}
        keys: list[tuple] = []  # (period, geo code, line, level)
        tokens: list[list[str]] = [texts[i] for i in vcols]
        muni_level: dict[str, tuple[str, Any]] = {}  # period → (geolevel, geography)
        given: dict[str, set[str]] = {}
        regions: set[str] = set()
        aggregates: list[
            tuple[int, str, str, str, str]
        ] = []  # (row index, period, code, level, name)
        for r in range(len(lines)):
            line = int(lines[r])
            period = texts[ip][r].strip()
            level_text = texts[il][r].strip()
            found = levels.get(normalize(level_text))
            if found is None:
                known = ", ".join(self.opts.geolevels)
                raise self._error(
                    f"geolevel {level_text!r} is not read",
                    line,
                    il,
                    f"Give one of {known} (or add it to swing.geolevels of {self.dialect.where})",
                    "unknown-geolevel",
                )
            level_name, spec = found
            code = _code(texts[ig][r])
            if code in unknown_loc:  # in its region's total only: the region's pseudo-unit
                pseudo = UNKNOWN_LOCATION_OF[unknown_loc[code]]
                if (period, pseudo) in located:  # 99993 and 99999 are both Belgium's
                    first = located[(period, pseudo)]
                    for col in tokens:
                        col[first] = self._plus(col[first], col[r])
                    keys.append(None)
                else:
                    located[(period, pseudo)] = r
                    keys.append((period, pseudo, line))
                continue
            if spec.level == "municipality":
                geo = geography(None if spec.geography == "current" else int(spec.geography))
                if not geo.is_municipality(code):
                    raise self._error(
                        f"{texts[ig][r].strip()!r} is not a municipality of geolevel "
                        f"{level_name} ({geo.label}, {len(geo)} municipalities)",
                        line,
                        ig,
                        "Give the NIS code of a municipality of that geography, or the geolevel "
                        "the codes belong to",
                        "unknown-nis",
                    )
                seen = muni_level.setdefault(period, (level_name, geo))
                if seen[0] != level_name:
                    raise self._error(
                        f"period {period}: municipalities of geolevel {level_name} and of "
                        f"{seen[0]} in one file",
                        line,
                        il,
                        "Give one period on one geography (split the file)",
                        "mixed-geolevels",
                    )
                given.setdefault(period, set()).add(code)
                regions.add(geo.parent["region"][code])
            else:
                if code not in level_codes.setdefault(
                    spec.level, set(current.codes_of(spec.level))
                ):
                    raise self._error(
                        f"{texts[ig][r].strip()!r} is not a {_LEVEL_NAMES[spec.level]} code "
                        f"(geolevel {level_name})",
                        line,
                        ig,
                        "Regions are 2000 (Flanders), 3000 (Wallonia), 4000 (Brussels), "
                        "Belgium 1000; provinces e.g. 10000 (Antwerpen)",
                        "unknown-nis",
                    )
                aggregates.append((r, period, code, spec.level, level_name))
            keys.append((period, code, line))
        if any(k is None for k in keys):
            kept = [i for i, k in enumerate(keys) if k is not None]
            keys = [keys[i] for i in kept]
            tokens = [[col[i] for i in kept] for col in tokens]
            lines = lines[kept]
            index_of = {old: new for new, old in enumerate(kept)}
            aggregates = [(index_of[a[0]], *a[1:]) for a in aggregates]
        # municipalities of a covered region without a row: zero or not reported
        fill = "0" if self.dialect.absent_rows == "zero" else self._unknown_token
        header_row = self.inner.header.row or 0
        for period, (_name, geo) in muni_level.items():
            for code in geo.codes:
                if geo.parent["region"][code] in regions and code not in given[period]:
                    keys.append((period, code, header_row))
                    for col in tokens:
                        col.append(fill)
        self._check_aggregates(aggregates, keys, tokens, muni_level, lines)
        return keys, [k[2] for k in keys], tokens

    def _check_aggregates(
        self,
        aggregates: list[tuple[int, str, str, str, str]],
        keys: list[tuple],
        tokens: list[list[str]],
        muni_level: dict[str, tuple[str, Any]],
        lines: np.ndarray,
    ) -> None:
        """Every aggregate row against the sum of its municipalities, where all are given."""
        if not aggregates:
            return
        index: dict[tuple[str, str], int] = {}
        for r, (period, code, _line) in enumerate(keys):
            index.setdefault((period, code), r)
        for r, period, code, level, level_name in aggregates:
            if period not in muni_level:
                continue  # an aggregate alone: nothing to check, nothing invented
            geo = muni_level[period][1]
            members = [m for m in geo.codes if geo.parent[level][m] == code]
            rows = [index.get((period, m)) for m in members]
            if not members or any(x is None for x in rows):
                continue
            # a region (Belgium) is its municipalities and its unknown location(s), when given
            places = {"region": [UNKNOWN_LOCATION_OF.get(code)], "country": UNKNOWN_LOCATIONS}
            located = [index.get((period, p)) for p in places.get(level, [])]
            rows += [x for x in located if x is not None]
            for (_i, name, _m), col in zip(self.columns, tokens, strict=True):
                loaded = self._number(col[r])
                parts = [self._number(col[x]) for x in rows]
                if loaded is None or any(p is None for p in parts):
                    continue
                total = sum(parts)
                if total != loaded:
                    raise InputError(
                        f"{level_name} {code} ({geography().name(code, 'en')}), period {period}: "
                        f"{loaded} in the file but its {len(members)} municipalities"
                        + (" and its unknown location" if len(rows) > len(members) else "")
                        + f" sum to {total}",
                        file=self.file,
                        row=int(lines[r]),
                        column=name,
                        hint="Correct the aggregate row or the municipalities (an aggregate is "
                        "the sum of its municipalities), or remove the aggregate row",
                        code="aggregate-mismatch",
                    )

    def batches(self, include: list[int], plain: Sequence[int] = ()) -> Iterator[_Raw]:
        """One batch of long rows per indicator code column (its header names the value)."""
        keys, lines, tokens = self._rows()
        if not keys:
            return
        line = np.asarray(lines, np.int32)
        period = pa.array([k[0] for k in keys], pa.string()).dictionary_encode()
        geo = pa.array([k[1] for k in keys], pa.string()).dictionary_encode()
        n = len(keys)
        for (_i, name, mapping), col in zip(self.columns, tokens, strict=True):
            for j in range(2, len(self.names)):
                self.names[j] = name  # messages name the code column of this batch
            self.layout.values[0] = (self.layout.roles["value"], name)
            cols = {
                0: period,
                1: geo,
                2: pa.array([mapping["indicator"]] * n, pa.string()).dictionary_encode(),
            }
            for j, d in enumerate(self.dims):
                cols[3 + j] = pa.array([mapping.get(d, TOTAL)] * n, pa.string()).dictionary_encode()
            cols[self.layout.roles["value"]] = pa.array(col, pa.string()).dictionary_encode()
            yield _Raw(cols, n, line[0] if n else 0, line)


def swing_source(src: Any, layout: _Layout, dialect: Dialect, config: Any) -> _SwingSource:
    """The long source of a Swing file (see the module docstring)."""
    return _SwingSource(src, layout, dialect, config)
