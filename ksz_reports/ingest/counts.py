"""The value column of an export → int32 value codes (:mod:`ksz_reports.ingest.compact`).

A count is a whole number of persons (the dialect's thousands separators and zero tokens). A cell
without a number is, as the dialect declares (``numbers`` in ``config/dialects/``, see
``docs/dialects.md``): *masked at the source* (hidden by its supplier because it is small; a
token ``<n`` or a band ``a-b`` also gives its range), *unknown* (e.g. not covered by the source),
or *absent* (nothing can be there, ``-99998`` not applicable, ``-99996`` empty: read as no
persons, 0, so that it breaks no sum — Provincies in Cijfers' rule, docs/domain.md). Tokens that other producers use but this
dialect does not declare are refused, as are negative, implausible and non-numeric counts, each
with an :class:`~ksz_reports.core.errors.InputError` naming row and column.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksz_reports.core.errors import InputError, quoted
from ksz_reports.ingest.columns import _Cells, _Column, _Mapped
from ksz_reports.ingest.compact import MASKED_CODE, UNKNOWN_CODE, _Context, band_code
from ksz_reports.ingest.dialects import KNOWN_MASKED_TOKENS, Dialect
from ksz_reports.ingest.sources import _Raw

_SEP_NAMES = {
    " ": "space",
    "\u00a0": "no-break space",
    "\u202f": "narrow no-break space",
    ".": "'.'",
    ",": "','",
    "'": "apostrophe",
}

# value status per cell (>= _BAD: an error)
_OK, _MASKED, _DROP, _UNKNOWN, _BAND = 0, 1, 2, 3, 4
_BAD, _NEG, _FOREIGN, _EMPTY, _BIG, _BAD_BAND = 5, 6, 7, 8, 9, 10
_EMPTY_STATUS = {
    "missing": _DROP,
    "zero": _OK,
    "masked": _MASKED,
    "unknown": _UNKNOWN,
    "error": _EMPTY,
}
_BAND_TOKEN = re.compile(r"^(\d{1,3})\s*-\s*(\d{1,3})$")
_BELOW_TOKEN = re.compile(r"^<\s*(\d{1,3})$")
#: Largest count accepted (the compact value is int32; Belgium has < 12 million inhabitants).
_MAX_COUNT = 2**31 - 1


@cache
def _masked_union(tokens: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(tokens))


def _all_masked_tokens(dialects: dict[str, Dialect]) -> tuple[str, ...]:
    tokens = list(KNOWN_MASKED_TOKENS)
    for d in dialects.values():
        n = d.numbers
        tokens.extend(m.strip() for m in (*n.masked, *n.unknown, *n.absent))
    return _masked_union(tuple(tokens))


def _declared(numbers: Any) -> list[str]:
    """Every token a dialect declares for a cell without a number (lower case)."""
    return [m.strip().lower() for m in (*numbers.masked, *numbers.unknown, *numbers.absent)]


def _band_of(token: str) -> tuple[int, int] | None:
    """The range of a band token (``1-3`` → (1, 3); ``<5`` → (0, 4)), or None."""
    m = _BAND_TOKEN.match(token)
    if m:
        return int(m.group(1)), int(m.group(2))
    m = _BELOW_TOKEN.match(token)
    if m and int(m.group(1)) > 0:
        return 0, int(m.group(1)) - 1
    return None


class _Counts(_Column):
    """The value of every cell: a whole number of persons (the dialect's thousands separators
    and zero tokens); masked at source (the dialect's masked tokens, with the range a token
    ``<n`` or a band ``a-b`` gives); unknown; or absent (0: breaks no sum) — tokens of other
    producers are refused; an empty cell as the dialect says."""

    def __init__(self, cells: _Cells, dialect: Dialect, ctx: _Context):
        super().__init__(cells, dialect, ctx)
        d = dialect
        masked = [m.strip().lower() for m in d.numbers.masked]
        self._masked = pa.array(masked, pa.string())
        self._masked_codes = np.array(
            [band_code(*b) if (b := _band_of(m)) else MASKED_CODE for m in masked], np.int32
        )
        self._unknown = pa.array([m.strip().lower() for m in d.numbers.unknown], pa.string())
        self._absent = pa.array([m.strip().lower() for m in d.numbers.absent], pa.string())
        declared = _declared(d.numbers)
        foreign = [t.lower() for t in _all_masked_tokens(ctx.dialects) if t.lower() not in declared]
        self._foreign = pa.array(foreign, pa.string())
        self._zero = pa.array([z.strip().lower() for z in d.numbers.zero_tokens], pa.string())
        if d.numbers.thousands:
            cls = "[" + "".join(re.escape(c) for c in d.numbers.thousands) + "]"
            self._thousands = cls
            self._number = rf"^-?(\d{{1,18}}|\d{{1,3}}({cls}\d{{3}}){{1,5}})$"
        else:
            self._thousands = None
            self._number = r"^-?\d{1,18}$"

    def map(self, raw: _Raw, vcols: list) -> tuple[np.ndarray, np.ndarray | None]:
        """The value of every cell (int32, a negative code for one without a number, see
        :mod:`ksz_reports.ingest.compact`; column after column for a wide export), and which
        cells are dropped (absent tokens, empty where the dialect says ``missing``), or None."""
        n, k = raw.n, len(vcols)
        value_parts, drop_parts = [], []
        for ci, name in vcols:
            vm, sm = self._parse(raw.columns[ci], raw, name)
            bad = sm.table >= _BAD
            if bad.any():
                i = sm.locate(bad)
                if i is not None:
                    raise self._error(
                        int(sm.table[sm.idx[i] if sm.idx is not None else i]),
                        self.cells.token(raw.columns[ci], i),
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
        drop = None
        if any(p is not None for p in drop_parts):
            drop = np.concatenate([p if p is not None else np.zeros(n, bool) for p in drop_parts])
        return value, drop

    def with_ranges(
        self, raw: _Raw, value: np.ndarray, lower: int, upper: int | None
    ) -> np.ndarray:
        """Value codes of a table that gives the range of its masked cells in columns (the
        canonical table): no value and a ``lower`` bound is masked at the source, within
        ``[lower, upper]`` when both are given; no value and no bound is unknown."""

        def ints(i: int | None) -> np.ndarray:
            if i is None:
                return np.full(raw.n, -1, np.int64)
            arr = pc.cast(raw.columns[i], pa.int64())
            return pc.fill_null(arr, -1).to_numpy(zero_copy_only=False)

        lo, hi = ints(lower), ints(upper)
        out = value.copy()
        missing = value < 0
        out[missing & (lo < 0)] = UNKNOWN_CODE
        out[missing & (lo >= 0)] = MASKED_CODE
        band = missing & (lo >= 0) & (hi >= lo) & (hi < 1024)
        if band.any():
            out[band] = band_code(lo[band], hi[band])
        return out

    def _parse(self, arr: pa.Array, raw: _Raw, column: str) -> tuple[_Mapped, _Mapped]:
        """Values (int32, -1 = masked) and statuses, parsed on the dictionary's unique values."""
        if pa.types.is_integer(arr.type):
            return self._ints(arr, raw.n)
        d = self.dialect.numbers
        text = self.cells.text(arr, raw, column)
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
        if d.bands:
            band = pc.match_substring_regex(low, _BAND_TOKEN.pattern).to_numpy(zero_copy_only=False)
            st[band] = _BAND
        st[pc.is_in(low, self._unknown).to_numpy(zero_copy_only=False)] = _UNKNOWN
        absent = pc.is_in(low, self._absent).to_numpy(zero_copy_only=False)
        st[absent] = _OK  # nothing can be there: no persons, and no sum is broken
        num[absent] = 0
        which = pc.fill_null(pc.index_in(low, self._masked), -1).to_numpy(zero_copy_only=False)
        is_masked = which >= 0
        st[is_masked] = _MASKED
        masked_code = np.zeros(len(st), np.int64)
        if is_masked.any():
            masked_code[is_masked] = self._masked_codes[which[is_masked]]
        if (st == _BAND).any():
            for i in np.flatnonzero(st == _BAND):
                lo, hi = _band_of(low[int(i)].as_py())
                if lo > hi:
                    st[i] = _BAD_BAND
                else:
                    masked_code[i] = band_code(lo, hi)
        num[st != _OK] = 0
        num[(st == _MASKED) | (st == _BAND)] = masked_code[(st == _MASKED) | (st == _BAND)]
        num[st == _UNKNOWN] = UNKNOWN_CODE
        idx = self.cells.indices(arr)
        return _Mapped(num.astype(np.int32), idx, raw.n), _Mapped(st, idx, raw.n)

    def _ints(self, arr: pa.Array, n: int) -> tuple[_Mapped, _Mapped]:
        d = self.dialect.numbers
        values = pc.fill_null(arr.cast(pa.int64()), 0).to_numpy().copy()
        st = np.zeros(len(values), np.int8)
        if arr.null_count:
            st[arr.is_null().to_numpy(zero_copy_only=False)] = _EMPTY_STATUS[d.empty]
        neg = values < 0
        if neg.any():

            def numeric(tokens: list[str]) -> list[int]:
                return [int(m) for m in tokens if re.fullmatch(r"-\d+", m.strip())]

            allowed = set(numeric(_declared(d)))
            known = set(numeric(list(_all_masked_tokens(self.ctx.dialects))))
            st[neg] = _NEG
            st[neg & np.isin(values, list(known - allowed))] = _FOREIGN
            st[neg & np.isin(values, numeric(d.masked))] = _MASKED
            st[neg & np.isin(values, numeric(d.unknown))] = _UNKNOWN
            absent = neg & np.isin(values, numeric(d.absent))
            st[absent] = _OK  # nothing can be there: no persons, and no sum is broken
            values[absent] = 0
        st[values > _MAX_COUNT] = _BIG
        values[st != _OK] = 0
        values[st == _MASKED] = MASKED_CODE
        values[st == _UNKNOWN] = UNKNOWN_CODE
        return _Mapped(values.astype(np.int32), None, n), _Mapped(st, None, n)

    def _error(self, status: int, token: str, row: int, column: str) -> InputError:
        d = self.dialect
        n = d.numbers
        allowed = ", ".join(repr(m) for m in (*n.masked, *n.unknown, *n.absent)) or "none"
        if status == _NEG:
            return InputError(
                f"negative count {quoted(token)}",
                file=self.file,
                row=row,
                column=column,
                hint="A number of persons is never negative; a masked cell is written "
                f"as one of the dialect's masked tokens ({allowed})",
                code="negative-count",
            )
        if status == _FOREIGN:
            return InputError(
                f"masked token {quoted(token)} is not allowed by dialect {d.name}",
                file=self.file,
                row=row,
                column=column,
                hint=f"This dialect masks with: {allowed}. Fix "
                f"the file, or add the token to numbers.masked in {d.where}",
                code="masked-token",
            )
        if status == _BAD_BAND:
            return InputError(
                f"not a range: {quoted(token)}",
                file=self.file,
                row=row,
                column=column,
                hint="A band is written low-high with low ≤ high, e.g. 1-3",
                code="not-a-number",
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
                f"implausible count {quoted(token)}",
                file=self.file,
                row=row,
                column=column,
                hint=f"A number of persons is at most {_MAX_COUNT}; check the column",
                code="not-a-number",
            )
        seps = ", ".join(_SEP_NAMES.get(s, repr(s)) for s in d.numbers.thousands)
        fmt = "a whole number of persons" + (f" (thousands separator: {seps})" if seps else "")
        return InputError(
            f"not a count: {quoted(token)}",
            file=self.file,
            row=row,
            column=column,
            hint=f"Write {fmt}, or a masked token ({allowed})",
            code="not-a-number",
        )
