"""Number, date and period formatting: one rounding rule, one set of locale marks (SPEC §7).

Every number a report shows — table cells, prose, chart ticks, value labels, map legends — goes
through this module, so a table and the chart beside it can never disagree.

Two steps, always in this order:

1. **Round once**, in Python, on :class:`decimal.Decimal`, with the rule of
   ``config.settings.statistics.rounding`` (``ROUND_HALF_UP`` by default: ties away from zero,
   ``0.25 → 0.3``, ``-1.25 → -1.3``). A float is converted through its shortest ``repr``
   (``2.675 → Decimal('2.675') → 2.68``), never through its binary value (``2.67499999…``).
2. **Format** the already rounded Decimal with Babel (CLDR) for the report language: ``nl`` →
   ``nl_BE`` (``1.234,5``), ``fr`` → ``fr_BE`` (``1 234,5`` with U+202F NARROW NO-BREAK SPACE),
   ``en`` → ``en`` (``1,234.5``). Babel's own rounding (half-even) never acts, because the number
   has exactly the digits the pattern shows.

Negative numbers use U+2212 MINUS SIGN (a true minus, not the hyphen CLDR gives); growth figures
always carry a sign (``+2,3%``, ``−1,0%``, ``0,0%``). Units follow CLDR: ``12,3%`` in Dutch and
English, ``12,3 %`` (U+00A0) in French; per mille the same with ``‰``.

Table cells (:func:`fmt_cell`) show bare numbers — the unit belongs in the row or column header,
like the axis label of a chart — and a *symbol* instead of any value that is not published
(:data:`FLAG_SYMBOLS`): never ``0``, never blank. :func:`flag_footnotes` gives the translated
explanation of each symbol for the report's footnote block.
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from fractions import Fraction
from functools import cache
from typing import TYPE_CHECKING, Literal

from babel import Locale
from babel.dates import format_date
from babel.numbers import NumberPattern, parse_pattern

from ksz_reports.l10n.catalogs import N_, gettext

if TYPE_CHECKING:
    from matplotlib.ticker import FuncFormatter

#: Report language → Babel locale.
LOCALES: dict[str, str] = {"nl": "nl_BE", "fr": "fr_BE", "en": "en"}

MINUS = "\u2212"  # MINUS SIGN
PLUS = "+"
PERMILLE = "\u2030"  # PER MILLE SIGN

Number = int | float | Decimal | Fraction | str
Rounding = Literal["ROUND_HALF_UP", "ROUND_HALF_EVEN"]

#: The shipped ``statistics.decimals`` and ``statistics.rounding`` (callers pass their own).
DEFAULT_DECIMALS = 1
DEFAULT_ROUNDING: Rounding = "ROUND_HALF_UP"

#: The ``kind`` values of ``cells.csv`` (SPEC §8) and how each is formatted.
KINDS = (
    "count",
    "population",
    "rate_per_1000",
    "share_pct",
    "growth_pct",
    "avg_monthly_growth_pct",
    "index",
    "ci_low",
    "ci_high",
)
INTEGER_KINDS = frozenset({"count", "population"})
_SIGNED_KINDS = frozenset({"growth_pct", "avg_monthly_growth_pct"})

#: Flags of a value that is *not shown* (SPEC §8 ``flag``) → the symbol a table shows instead.
FLAG_SYMBOLS: dict[str, str] = {
    "suppressed": "x",
    "secondary": "x",
    "not_available": ":",
    "unstable": "\u2026",  # HORIZONTAL ELLIPSIS
    "incomplete": "\u2026",
}
#: A value that *is* shown but rests on small numbers: written between parentheses.
UNRELIABLE = "unreliable"
HIDDEN_FLAGS = frozenset(FLAG_SYMBOLS)
SHOWN_FLAGS = frozenset({"", UNRELIABLE})

# Footnote text per symbol (English msgids, translated at use). Order = order in the footnote block.
_FOOTNOTES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "x",
        N_(
            "not published to protect privacy: fewer than %(threshold)s persons, "
            "or a figure from which such a number could be derived"
        ),
        ("suppressed", "secondary"),
    ),
    (":", N_("not available"), ("not_available",)),
    (
        "\u2026",
        N_("not published: the figure is not final yet or not complete"),
        ("unstable", "incomplete"),
    ),
    ("( )", N_("unreliable: based on small numbers, interpret with caution"), (UNRELIABLE,)),
)


@dataclass(frozen=True)
class Footnote:
    """One line of the symbol legend: ``symbol`` and its translated ``text``."""

    symbol: str
    text: str


# --------------------------------------------------------------------------- rounding


def to_decimal(x: Number) -> Decimal:
    """``x`` as an exact Decimal: floats via ``repr`` (``0.1 → Decimal('0.1')``), never binary.

    Accepts int, float (also numpy scalars), Decimal, Fraction and numeric strings. NaN, infinity
    and booleans raise :class:`ValueError`.
    """
    if isinstance(x, bool):
        raise ValueError(f"not a number: {x!r}")
    if isinstance(x, Decimal):
        d = x
    elif isinstance(x, int | numbers.Integral):
        d = Decimal(int(x))
    elif isinstance(x, Fraction):
        with localcontext() as ctx:
            ctx.prec = 50
            d = Decimal(x.numerator) / Decimal(x.denominator)
    elif isinstance(x, float | numbers.Real):
        d = Decimal(repr(float(x)))
    elif isinstance(x, str):
        try:
            d = Decimal(x.strip())
        except InvalidOperation:
            raise ValueError(f"not a number: {x!r}") from None
    else:
        raise ValueError(f"not a number: {x!r}")
    if not d.is_finite():
        raise ValueError(f"not a finite number: {x!r}")
    return d


def _quantum(decimals: int) -> Decimal:
    if decimals < 0:
        raise ValueError("decimals must be >= 0")
    return Decimal(1).scaleb(-decimals)


def round_decimal(
    x: Number, decimals: int | None = None, rounding: Rounding | None = None
) -> Decimal:
    """Round ``x`` once to ``decimals`` places with ``rounding`` (defaults: those of the shipped
    settings, 1 and half-up). A rounded zero is unsigned (``-0.04 → 0.0``).
    """
    decimals = DEFAULT_DECIMALS if decimals is None else decimals
    rule = {"ROUND_HALF_UP": ROUND_HALF_UP, "ROUND_HALF_EVEN": ROUND_HALF_EVEN}[
        rounding or DEFAULT_ROUNDING
    ]
    d = to_decimal(x).quantize(_quantum(decimals), rounding=rule)
    return d.copy_abs() if d.is_zero() else d


def round_half_up(x: Number, decimals: int) -> Decimal:
    """Round half away from zero: ``2.675 → 2.68`` (2), ``0.05 → 0.1``, ``-1.25 → -1.3`` (1)."""
    return round_decimal(x, decimals, "ROUND_HALF_UP")


def default_decimals() -> int:
    """The precision of the shipped settings (``statistics.decimals: 1``); a report passes its
    configuration's."""
    return DEFAULT_DECIMALS


# --------------------------------------------------------------------------- numbers


def _locale(lang: str) -> str:
    try:
        return LOCALES[lang]
    except KeyError:
        raise ValueError(f"unknown language {lang!r}; known: {', '.join(LOCALES)}") from None


@cache
def _unit_suffix(lang: str, unit: str) -> str:
    """The locale's percent suffix (``%`` or ``\\u00a0%``), with ``unit`` for the percent sign."""
    suffix = Locale.parse(_locale(lang)).percent_formats[None].suffix[0]
    return suffix.replace("%", unit)


@cache
def _decimal_format(lang: str, decimals: int) -> tuple[NumberPattern, Locale]:
    """The pattern ``#,##0.0…`` and the locale, parsed once (``format_decimal`` parses both on
    every call: a tenth of a report's chart time)."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return parse_pattern(pattern), Locale.parse(_locale(lang))


def _format_rounded(d: Decimal, lang: str, decimals: int, signed: bool) -> str:
    pattern, locale = _decimal_format(lang, decimals)
    text = pattern.apply(abs(d), locale)
    if d < 0:
        return MINUS + text
    if signed and d > 0:
        return PLUS + text
    return text


def fmt_number(
    x: Number,
    lang: str,
    decimals: int | None = None,
    *,
    signed: bool = False,
    rounding: Rounding | None = None,
) -> str:
    """``x`` rounded once and written with the marks of ``lang``: ``1.234,5`` / ``1 234,5``.

    ``signed`` writes ``+`` before a positive number (zero stays unsigned).
    """
    decimals = default_decimals() if decimals is None else decimals
    d = round_decimal(x, decimals, rounding)
    return _format_rounded(d, lang, decimals, signed)


def fmt_count(n: Number, lang: str) -> str:
    """A count of persons: an integer with grouping, ``1.234`` / ``1 234`` / ``1,234``.

    A count with a fractional part is a bug upstream and raises :class:`ValueError`.
    """
    d = to_decimal(n)
    if d != d.to_integral_value():
        raise ValueError(f"a count must be an integer, got {n!r}")
    return _format_rounded(d.quantize(Decimal(1)), lang, 0, False)


def fmt_rate(x: Number, lang: str, decimals: int | None = None, *, permille: bool = False) -> str:
    """A rate per 1000: ``12,4``; with ``permille=True`` ``12,4‰`` (``12,4 ‰`` in French)."""
    text = fmt_number(x, lang, decimals)
    return text + _unit_suffix(lang, PERMILLE) if permille else text


def fmt_pct(x: Number, lang: str, decimals: int | None = None, *, unit: bool = True) -> str:
    """A share in percent (``x`` in percent, not a fraction): ``12,3%`` / ``12,3 %`` / ``12.3%``."""
    text = fmt_number(x, lang, decimals)
    return text + _unit_suffix(lang, "%") if unit else text


def fmt_growth(x: Number, lang: str, decimals: int | None = None, *, unit: bool = True) -> str:
    """A growth in percent, always signed: ``+2,3%``, ``−1,0%`` (U+2212), ``0,0%``."""
    text = fmt_number(x, lang, decimals, signed=True)
    return text + _unit_suffix(lang, "%") if unit else text


def fmt_index(x: Number, lang: str, decimals: int | None = None) -> str:
    """An index (base period = 100): ``104,3``."""
    return fmt_number(x, lang, decimals)


# --------------------------------------------------------------------------- dates and periods

_PERIOD = re.compile(r"^(?P<year>\d{4})(?:Q(?P<quarter>[1-4])|-(?P<month>0[1-9]|1[0-2]))?$")


def fmt_date(date: _dt.date, lang: str) -> str:
    """A reference date in full: ``31 december 2021``, ``31 décembre 2021``, ``December 31, 2021``."""
    return format_date(date, format="long", locale=_locale(lang))


def fmt_period(period: str, lang: str) -> str:
    """A canonical period (SPEC §3) as a label.

    ``2021`` → ``2021``; ``2017-10`` → ``oktober 2017`` / ``octobre 2017`` / ``October 2017``;
    ``2021Q4`` → ``2021 K4`` / ``2021 T4`` / ``2021 Q4``.
    """
    m = _PERIOD.match(str(period).strip())
    if not m:
        raise ValueError(f"not a canonical period (2021, 2021Q4, 2021-10): {period!r}")
    year = int(m["year"])
    if m["quarter"]:
        date = _dt.date(year, 3 * int(m["quarter"]), 1)
        return format_date(date, format="y QQQ", locale=_locale(lang))
    if m["month"]:
        return format_date(
            _dt.date(year, int(m["month"]), 1), format="MMMM y", locale=_locale(lang)
        )
    return str(year)


# --------------------------------------------------------------------------- table cells


def flag_symbol(flag: str | None) -> str | None:
    """The symbol shown instead of a value with ``flag``; None when the value is shown."""
    if not flag or flag == UNRELIABLE:
        return None
    try:
        return FLAG_SYMBOLS[flag]
    except KeyError:
        known = ", ".join([*FLAG_SYMBOLS, UNRELIABLE])
        raise ValueError(f"unknown flag {flag!r}; known: {known}") from None


def is_shown(flag: str | None) -> bool:
    """Whether a value with ``flag`` may be shown (and plotted): no flag, or ``unreliable``."""
    return flag_symbol(flag) is None


def fmt_value(value: Number, kind: str, lang: str, decimals: int | None = None) -> str:
    """A published value of ``kind`` (SPEC §8) as a bare number, the way tables and axes show it."""
    if kind in INTEGER_KINDS:
        return fmt_count(value, lang)
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; known: {', '.join(KINDS)}")
    return fmt_number(value, lang, decimals, signed=kind in _SIGNED_KINDS)


def fmt_cell(
    value: Number | None,
    kind: str,
    flag: str | None,
    lang: str,
    *,
    decimals: int | None = None,
) -> str:
    """The text a table cell shows.

    A value with a hiding flag (``suppressed``, ``secondary`` → ``x``; ``not_available`` → ``:``;
    ``unstable``, ``incomplete`` → ``…``) shows the symbol, whatever ``value`` holds. A shown value
    is a bare number (``1.234``, ``12,4``, ``+2,3``), between parentheses when ``unreliable``.
    A value of None without a flag is an error: a cell is never blank.
    """
    symbol = flag_symbol(flag)
    if symbol is not None:
        return symbol
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise ValueError(f"a {kind} cell without value needs a flag (never blank)")
    text = fmt_value(value, kind, lang, decimals)
    return f"({text})" if flag == UNRELIABLE else text


@dataclass(frozen=True)
class TableCell:
    """A table cell for the templates: ``text`` (:func:`fmt_cell`), the ``flag`` and a short
    translated ``title`` for a symbol or an unreliable value (an ``<abbr title>`` in HTML)."""

    text: str
    flag: str | None = None
    title: str = ""


_FLAG_TITLES = {
    "x": N_("not published"),
    ":": N_("not available"),
    "\u2026": N_("not final or not complete"),
    "( )": N_("unreliable"),
}


def table_cell(
    value: Number | None,
    kind: str,
    flag: str | None,
    lang: str,
    *,
    decimals: int | None = None,
) -> TableCell:
    """:func:`fmt_cell` with the flag and its short explanation, for ``key_figures`` tables."""
    text = fmt_cell(value, kind, flag, lang, decimals=decimals)
    if not flag:
        return TableCell(text)
    symbol = flag_symbol(flag) or "( )"
    return TableCell(text, flag, gettext(lang)(_FLAG_TITLES[symbol]))


def flag_label(flag: str, lang: str) -> str:
    """Short translated label of a flag's symbol: ``niet gepubliceerd``, ``niet beschikbaar``…"""
    return gettext(lang)(_FLAG_TITLES[flag_symbol(flag) or "( )"])


def flag_footnotes(flags: Iterable[str | None], lang: str, *, threshold: int) -> list[Footnote]:
    """The translated explanation of every symbol that ``flags`` use, in a fixed order
    (``threshold``: ``disclosure.threshold`` of the report's configuration)."""
    used = {f for f in flags if f}
    _ = gettext(lang)
    out = []
    for symbol, msgid, members in _FOOTNOTES:
        if used.intersection(members):
            out.append(Footnote(symbol, _(msgid) % {"threshold": threshold}))
    return out


# --------------------------------------------------------------------------- chart axes


def axis_formatter(kind: str, lang: str, decimals: int | None = None) -> FuncFormatter:
    """A matplotlib tick formatter that writes ticks exactly like :func:`fmt_value`.

    Ticks get as few decimals as the tick positions need (``0``, ``5``, ``10`` — or ``2,5``,
    ``5,0``) but never more than ``decimals`` (the published precision), and never a value the
    table would round differently.
    """
    from matplotlib.ticker import FuncFormatter

    max_decimals = (
        0 if kind in INTEGER_KINDS else (default_decimals() if decimals is None else decimals)
    )

    class _AxisFormatter(FuncFormatter):
        places = max_decimals

        def set_locs(self, locs) -> None:  # noqa: ANN001 - matplotlib signature
            super().set_locs(locs)
            places = 0
            while places < max_decimals and any(
                Decimal(repr(float(v))).quantize(_quantum(places), ROUND_HALF_UP)
                != Decimal(repr(float(v))).quantize(_quantum(max_decimals), ROUND_HALF_UP)
                for v in locs
            ):
                places += 1
            self.places = places

    def _tick(x: float, _pos: int | None = None) -> str:
        if kind in INTEGER_KINDS:
            return fmt_number(x, lang, 0)
        return fmt_number(x, lang, formatter.places, signed=kind in _SIGNED_KINDS)

    formatter = _AxisFormatter(_tick)
    return formatter
