"""Checks of whole cells that no single column can make: is the number possible at all?

- :func:`check_geo_periods`: a municipality code is valid only for the periods when that
  municipality existed (the geographies of :mod:`ksz_reports.geo`: 1983–2018, 2019–2024,
  2025–). A code of a merged municipality after its merger (Deinze 44011 in 2021), or of a new
  one before it (44083 in 2017), would be counted beside its successor or predecessor: an error.
- :func:`check_periods_vintage`: a period after the extraction date (a stock dated after it, a
  flow that starts after it) and an extraction date in the future are errors.
- :func:`check_counts`: a count above the population of its own group (municipality, period
  year, sex, age class; the population reference of :mod:`ksz_reports.geo.denominators`, the
  larger of 1 January of the year and of the next one, with a margin) is an error naming the
  file, row and column. One gather in a cube built once per process: cheap.

Each function takes the cells of one batch before rows are dropped (``keep``: the rows kept)
and raises :class:`~ksz_reports.core.errors.InputError` on the first problem.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
from collections.abc import Callable
from functools import cache

import numpy as np

from ksz_reports.core.errors import InputError, KszError, NotFoundError
from ksz_reports.core.schema import DIMENSIONS, TOTAL
from ksz_reports.geo import (
    AgeClassError,
    geographies,
    population_bands,
    population_table,
    population_years,
)
from ksz_reports.geo.codes import english_date
from ksz_reports.ingest.compact import _Context

__all__ = [
    "SameMunicipality",
    "check_counts",
    "check_geo_periods",
    "check_periods_vintage",
    "period_span",
]

#: A count may exceed the stored population of its group by this factor (the population is
#: that of a nearby 1 January, not of the period's own date) before it is refused.
POPULATION_MARGIN = 1.1

#: where(i) → (row, column) of output cell i, for messages
Where = Callable[[int], tuple[int, str]]


@cache
def period_span(text: str) -> tuple[dt.date, dt.date]:
    """First and last day of a canonical period (``2021``, ``2021Q4``, ``2021-12``)."""
    if "Q" in text:
        y, q = text.split("Q")
        year, first = int(y), (int(q) - 1) * 3 + 1
        last = first + 2
    elif "-" in text:
        y, m = text.split("-")
        year, first = int(y), int(m)
        last = first
    else:
        year, first, last = int(text), 1, 12
    return dt.date(year, first, 1), dt.date(year, last, calendar.monthrange(year, last)[1])


def _first(bad: np.ndarray, keep: np.ndarray | None) -> int | None:
    if keep is not None:
        bad = bad & keep
    hits = np.flatnonzero(bad)
    return int(hits[0]) if len(hits) else None


# ------------------------------------------------------------------------------------------
# codes and periods


@cache
def _geography_of(start: dt.date):  # -> Geography | None
    return next((g for g in geographies() if g.contains(start)), None)


@cache
def _ended(code: str) -> dt.date | None:
    """The last day of municipality ``code`` (None: it still exists)."""
    last = None
    for g in geographies():
        if g.is_municipality(code):
            last = g.valid_to
    return last


@cache
def _chain(code: str) -> tuple[str, ...]:
    """``code`` and the codes it became, one per later geography (its successors)."""
    out = [code]
    for g in geographies():
        if g.next is not None and g.is_municipality(out[-1]):
            new = g.next.successor(out[-1])
            if new != out[-1]:
                out.append(new)
    return tuple(out)


def _relation(old: str, new: str) -> str:
    """``Deinze (44011) is part of Deinze (44083) since 1 January 2019``."""
    for g in geographies():
        if g.is_municipality(new) and not g.is_municipality(old):
            try:
                g.known(old)
            except NotFoundError as exc:
                text = str(exc).rstrip(".")
                return text.split(": ", 1)[1] if ": " in text else text
    return f"{old} became {new}"  # pragma: no cover


def check_geo_periods(
    file: str,
    ctx: _Context,
    geo: np.ndarray,
    period: np.ndarray,
    keep: np.ndarray | None,
    where: Where,
    named: Callable[[int], str | None],
) -> None:
    """No code of a municipality in a period after it ended (merged into another one).

    ``named(i)``: the name the cell was given by (a name column), or None when it had a code.
    A code of a later municipality for an earlier period is accepted (exports recode their
    history onto today's municipalities); given beside its predecessors' codes, that is a
    duplicate (:class:`SameMunicipality`).
    """
    ok = (geo >= 0) & (period >= 0)
    if keep is not None:
        ok &= keep
    if not ok.any():
        return
    never = dt.date.max.toordinal()
    end = np.array([(e.toordinal() if (e := _ended(c)) else never) for c in ctx.geo.values])
    start = np.array([period_span(t)[0].toordinal() for t in ctx.period.values])
    bad = ok.copy()
    bad[ok] = start[period[ok]] > end[geo[ok]]
    if not bad.any():
        return
    i = int(np.flatnonzero(bad)[0])
    code, text = ctx.geo.values[int(geo[i])], ctx.period.values[int(period[i])]
    row, column = where(i)
    name = named(i)
    what = f"municipality {name!r}" if name else f"NIS code {code}"
    chain = _chain(code)
    raise InputError(
        f"{what} is not valid in period {text}: {_relation(code, chain[-1])}",
        file=file,
        row=row,
        column=column,
        hint=f"Give the code of the municipality of that period ({chain[-1]}); a row under an "
        "old code beside one under its successor counts the same persons twice",
        code="code-not-in-period",
    )


@cache
def _covers(code: str, start: dt.date) -> tuple[str, ...] | None:
    """The municipalities of the geography of ``start`` that a code of a later geography stands
    for there (44083 in 2017: 44011, 44049), or None when ``code`` is one of that geography
    (or the period has no geography)."""
    then = _geography_of(start)
    if then is None or then.is_municipality(code):
        return None
    found = {code}
    for g in reversed(geographies()):  # back from the latest geography to the period's
        if g.valid_from <= then.valid_from or g.previous is None:
            continue
        earlier: set[str] = set()
        for c in found:
            if g.is_municipality(c):
                with contextlib.suppress(KszError):
                    earlier.update(g.predecessors(c))
                    continue
            earlier.add(c)
        found = earlier
    out = tuple(sorted(c for c in found if then.is_municipality(c)))
    return out or None


def _void(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two int64 columns as one 16-byte key per row (for np.isin)."""
    both = np.stack([a.astype(np.int64), b.astype(np.int64)], axis=1)
    return np.ascontiguousarray(both).view(np.dtype((np.void, 16))).ravel()


class SameMunicipality:
    """Cells given both for a municipality and, for the same period, under the code of a later
    municipality it became part of (the same persons counted twice), across the batches of one
    file. Vectorised: a cell under a later code (44083 in 2017) is expanded to the municipalities
    of its period it stands for (44011, 44049); those keys must not meet a cell given under one
    of them. Only cells of municipalities touched by a merger are looked at."""

    def __init__(self, file: str, ctx: _Context):
        self.file, self.ctx = file, ctx
        self.codes: dict[str, int] = {}  # code → local id (never interned in ctx.geo)
        self.names: list[str] = []
        #: (keys, rows, codes) of the cells so far: given under a code of their period / a later one
        self.plain = (_void(np.empty(0), np.empty(0)), np.empty(0, np.int64), np.empty(0, np.int64))
        self.later = self.plain
        self._pairs: dict[int, tuple[int, ...] | None] = {}
        self._changed: dict[int, bool] = {}

    def _code(self, code: str) -> int:
        if code not in self.codes:
            self.codes[code] = len(self.names)
            self.names.append(code)
        return self.codes[code]

    def _is_changed(self, g: int) -> bool:
        """Whether geo id ``g`` is a municipality merged or formed by a merger."""
        found = self._changed.get(g)
        if found is None:
            code = self.ctx.geo.values[g]
            found = self._changed[g] = len(_chain(code)) > 1 or bool(_predecessor_codes(code))
        return found

    def _covered(self, pair: int) -> tuple[int, ...] | None:
        if pair not in self._pairs:
            g, p = divmod(pair, 1 << 16)
            ctx = self.ctx
            got = _covers(ctx.geo.values[g], period_span(ctx.period.values[p])[0])
            self._pairs[pair] = None if got is None else tuple(self._code(c) for c in got)
        return self._pairs[pair]

    def check(
        self,
        ind: np.ndarray,
        period: np.ndarray,
        geo: np.ndarray,
        dkey: np.ndarray,
        vintage: np.ndarray,
        keep: np.ndarray | None,
        line: np.ndarray,
    ) -> None:
        ok = geo >= 0
        if keep is not None:
            ok &= keep
        changed = [g for g in np.unique(geo[ok]) if self._is_changed(int(g))]
        if not changed:
            return
        at = np.flatnonzero(ok & np.isin(geo, changed))
        g, p = geo[at].astype(np.int64), period[at].astype(np.int64)
        base = (ind[at].astype(np.int64) << 48) | (p << 32) | (vintage[at].astype(np.int64) << 16)
        local = np.zeros(len(self.ctx.geo), np.int64)
        for gg in changed:
            local[int(gg)] = self._code(self.ctx.geo.values[int(gg)])
        pairs = (g << 16) + p
        later_of = {}
        for pair in np.unique(pairs):
            cov = self._covered(int(pair))
            if cov is not None:
                later_of[int(pair)] = cov
        is_later = np.isin(pairs, list(later_of)) if later_of else np.zeros(len(at), bool)
        plain = np.flatnonzero(~is_later)
        new_plain = (
            _void(base[plain] | local[g[plain]], dkey[at][plain]),
            line[at][plain].astype(np.int64),
            local[g[plain]],
        )
        if is_later.any():  # each later cell once per municipality it stands for
            lj = np.flatnonzero(is_later)
            keys = np.array(sorted(later_of), np.int64)
            flat = np.array([c for k in keys for c in later_of[int(k)]], np.int64)
            lens = np.array([len(later_of[int(k)]) for k in keys], np.int64)
            starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
            which = np.searchsorted(keys, pairs[lj])
            reps = lens[which]
            jj = np.repeat(lj, reps)
            within = np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps)
            codes = flat[np.repeat(starts[which], reps) + within]
            new_later = (
                _void(base[jj] | codes, dkey[at][jj]),
                line[at][jj].astype(np.int64),
                local[g[jj]],
            )
        else:
            new_later = (_void(np.empty(0), np.empty(0)), np.empty(0, np.int64), local[:0])
        plain_all = tuple(
            np.concatenate([a, b]) for a, b in zip(self.plain, new_plain, strict=True)
        )
        self._meet(new_later, plain_all)
        self._meet(self.later, new_plain)
        self.plain = plain_all
        self.later = tuple(
            np.concatenate([a, b]) for a, b in zip(self.later, new_later, strict=True)
        )

    def _meet(self, later: tuple, plain: tuple) -> None:
        if not len(later[0]) or not len(plain[0]):
            return
        hit = np.isin(later[0], plain[0])
        if not hit.any():
            return
        j = int(np.flatnonzero(hit)[0])
        k = int(np.flatnonzero(plain[0] == later[0][j])[0])
        col0 = int(later[0][j : j + 1].view(np.int64)[0])
        ind, p = col0 >> 48, (col0 >> 32) & 0xFFFF
        new_code, old_code = self.names[int(later[2][j])], self.names[int(plain[2][k])]
        new_row, old_row = int(later[1][j]), int(plain[1][k])
        here, there = (new_code, old_code) if new_row > old_row else (old_code, new_code)
        ctx = self.ctx
        raise InputError(
            f"duplicate cell under two codes of one municipality: {here} here and {there} in row "
            f"{min(new_row, old_row)} (indicator {ctx.indicators[ind]}, period "
            f"{ctx.period.values[p]}): {_relation(old_code, new_code)}, so its persons would be "
            "counted twice",
            file=self.file,
            row=max(new_row, old_row),
            hint="Keep the rows of one of the two codes",
            code="duplicate-cell",
        )


def _related(a: str, b: str) -> bool:
    return a in _chain(b) or b in _chain(a)


@cache
def _predecessor_codes(code: str) -> tuple[str, ...]:
    out = []
    for g in geographies():
        if g.previous is not None and g.is_municipality(code):
            with contextlib.suppress(KszError):
                out += [c for c in g.predecessors(code) if c != code]
    return tuple(out)


def check_periods_vintage(
    file: str,
    ctx: _Context,
    ind: np.ndarray,
    period: np.ndarray,
    vintage: np.ndarray,
    keep: np.ndarray | None,
    where: Where,
    vintage_column: str | None,
) -> None:
    """No period after its extraction date; no extraction date after today."""
    ok = period >= 0
    if keep is not None:
        ok &= keep
    if not ok.any():
        return
    today = dt.date.today()
    days = np.array([d.toordinal() for d in ctx.vintage.values])
    future = ok.copy()
    future[ok] = days[vintage[ok]] > today.toordinal()
    if future.any():
        i = int(np.flatnonzero(future)[0])
        day = ctx.vintage.values[int(vintage[i])]
        raise InputError(
            f"the extraction date {day.isoformat()} is in the future",
            file=file,
            row=where(i)[0] if vintage_column else None,
            column=vintage_column,
            hint="Correct the extraction date (a typo in the file name?), or pass "
            "--vintage YYYY-MM-DD",
            code="bad-vintage",
        )
    stock = np.array([ctx.config.indicators[i].stat == "stock" for i in ctx.indicators], bool)
    spans = [period_span(t) for t in ctx.period.values]
    first = np.array([f.toordinal() for f, _ in spans])
    last = np.array([e.toordinal() for _, e in spans])
    late = ok.copy()
    p_ok = period[ok]
    late[ok] = np.where(stock[ind[ok]], last[p_ok], first[p_ok]) > days[vintage[ok]]
    if late.any():
        i = int(np.flatnonzero(late)[0])
        is_stock = bool(stock[int(ind[i])])
        text = ctx.period.values[int(period[i])]
        day = ctx.vintage.values[int(vintage[i])]
        first_day, last_day = period_span(text)
        row, column = where(i)
        what = (
            f"the reference date {english_date(last_day)}"
            if is_stock
            else f"its start ({english_date(first_day)})"
        )
        raise InputError(
            f"period {text} is after the extraction date {day.isoformat()} of the file "
            f"({what} is later)",
            file=file,
            row=row,
            column=column,
            hint="Correct the period or the extraction date (file name, title or --vintage)",
            code="period-after-vintage",
        )


# ------------------------------------------------------------------------------------------
# counts


#: sex codes of the cube (its axis 2)
_SEXES = (TOTAL, "M", "F")


@cache
def _cube(age_classes: tuple[str, ...]) -> tuple[dict[str, np.ndarray], list[int], tuple[str, ...]]:
    """code → population bound ``[year, sex, age]`` (int64; the age axis: total then the age
    classes of the population reference; a year without bands has its sex total in every age),
    the years, the age classes. Each year holds the larger of its own 1 January and the next."""
    years = population_years()
    banded = [y for y in years if population_bands(y)]
    ages: tuple[str, ...] = (TOTAL,)
    frames = []
    if banded:
        try:
            frames.append(population_table(banded, sexes=_SEXES, age_classes=(TOTAL, *age_classes)))
            ages = (TOTAL, *age_classes)
        except AgeClassError:  # classes not summed from the bands: bound by the sex total
            frames.append(population_table(banded, sexes=_SEXES))
    plain = [y for y in years if y not in banded]
    if plain:
        frames.append(population_table(plain, sexes=_SEXES))
    import pandas as pd

    df = pd.concat(frames, ignore_index=True)
    codes = sorted(df["geo"].unique())
    ci = {c: i for i, c in enumerate(codes)}
    yi = {y: i for i, y in enumerate(years)}
    si = {s: i for i, s in enumerate(_SEXES)}
    ai = {a: i for i, a in enumerate(ages)}
    cube = np.full((len(codes), len(years), len(_SEXES), len(ages)), -1, np.int64)
    cube[
        df["geo"].map(ci).to_numpy(),
        df["year"].map(yi).to_numpy(),
        df["sex"].map(si).to_numpy(),
        df["age_class"].map(ai).to_numpy(),
    ] = df["population"].to_numpy()
    unknown = cube < 0  # no bands that year: the sex total bounds every age class
    cube = np.where(unknown, cube[..., :1], cube)
    following = np.concatenate([cube[:, 1:], cube[:, -1:]], axis=1)
    cube = np.maximum(cube, following)
    return {c: cube[i] for i, c in enumerate(codes)}, years, ages


@cache
def _code_bound(code: str, age_classes: tuple[str, ...]) -> np.ndarray | None:
    """The cube of one code: its own, the sum of its predecessors' (a code of a later
    geography), or its successor's (an old code: a loose bound); None when not known."""
    by_code, _years, _ages = _cube(age_classes)
    if code in by_code:
        return by_code[code]
    for g in geographies():
        if g.is_municipality(code) and g.previous is not None:
            with contextlib.suppress(KszError):
                parts = [_code_bound(c, age_classes) for c in g.predecessors(code) if c != code]
                if parts and all(p is not None for p in parts):
                    return np.sum(parts, axis=0)
    chain = _chain(code)
    if len(chain) > 1:
        return _code_bound(chain[-1], age_classes)
    return None


def _dim_map(ctx: _Context, dim: str, axis: tuple[str, ...]) -> np.ndarray:
    """dimension code id → index on the cube axis (0, the total, for a code not on it)."""
    index = {c: i for i, c in enumerate(axis)}
    return np.array([index.get(c, 0) for c in ctx.dim_values[dim]], np.intp)


def check_counts(
    file: str,
    ctx: _Context,
    geo: np.ndarray,
    period: np.ndarray,
    dkey: np.ndarray,
    value: np.ndarray,
    keep: np.ndarray | None,
    where: Where,
) -> None:
    """No count above the population of its group (municipality, period year, sex, age class)."""
    ok = (geo >= 0) & (period >= 0) & (value > 0)
    if keep is not None:
        ok &= keep
    if not ok.any():
        return
    classes = tuple(ctx.dim_values["age_class"][1:])
    _by_code, years, ages = _cube(classes)
    huge = np.iinfo(np.int64).max
    blank = np.full((len(years), len(_SEXES), len(ages)), huge, np.int64)
    table = np.stack(
        [b if (b := _code_bound(c, classes)) is not None else blank for c in ctx.geo.values]
    )
    year_of = np.array([int(p[:4]) for p in ctx.period.values], np.int64)
    year_idx = np.clip(np.searchsorted(years, year_of), 0, len(years) - 1)
    sex_j, age_j = DIMENSIONS.index("sex"), DIMENSIONS.index("age_class")
    sex = _dim_map(ctx, "sex", _SEXES)[dkey // ctx.dim_mult[sex_j] % ctx.dim_sizes[sex_j]]
    age = _dim_map(ctx, "age_class", ages)[dkey // ctx.dim_mult[age_j] % ctx.dim_sizes[age_j]]
    g = np.where(ok, geo, 0)
    pop = table[g, year_idx[np.where(ok, period, 0)], sex, age]
    known = pop != huge  # an unknown location has no population: not bounded
    limit = np.full(len(pop), huge, np.int64)
    limit[known] = (pop[known] * POPULATION_MARGIN).astype(np.int64) + 10
    over = ok & (value > limit)
    if not over.any():
        return
    i = int(np.flatnonzero(over)[0])
    code = ctx.geo.values[int(geo[i])]
    group = ""
    if sex[i]:
        group += f", sex {_SEXES[sex[i]]}"
    if age[i]:
        group += f", age class {ages[age[i]]}"
    row, column = where(i)
    raise InputError(
        f"count {int(value[i])} is more than the population of its group ({_label(code)}"
        f"{group}: about {int(pop[i])} inhabitants around {int(year_of[int(period[i])])})",
        file=file,
        row=row,
        column=column,
        hint="Check the number (a unit or scaling error?) and the municipality code",
        code="implausible-count",
    )


def _label(code: str) -> str:
    for geo in reversed(geographies()):
        if geo.is_municipality(code):
            return geo.municipality(code).label
    return code  # pragma: no cover
