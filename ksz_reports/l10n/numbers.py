"""Numbers: one rounding rule, one set of locale marks (``docs/domain.md#denominators-and-rates-per-1000``).

Every number a report shows — table cells, prose, chart ticks, value labels, map legends — goes
through this module, so a table and the chart beside it can never disagree.

Two steps, always in this order:

1. **Round once**, in Python, on :class:`decimal.Decimal`, to the :class:`NumberStyle` of the
   report (``statistics.decimals`` and ``statistics.rounding`` of its configuration, passed down:
   never read from a global), ``ROUND_HALF_UP`` by default: ties away from zero,
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
(:mod:`ksz_reports.l10n.flags`): never ``0``, never blank.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from fractions import Fraction
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from babel import Locale
from babel.numbers import NumberPattern, parse_pattern

from ksz_reports.core.vocabulary import INTEGER_KINDS, KIND_DECIMALS, KINDS
from ksz_reports.l10n.flags import UNRELIABLE, flag_symbol, flag_title
from ksz_reports.l10n.locales import babel_locale as _locale

if TYPE_CHECKING:
    from matplotlib.ticker import FuncFormatter

MINUS = "\u2212"  # MINUS SIGN
PLUS = "+"
PERMILLE = "\u2030"  # PER MILLE SIGN

Number = int | float | Decimal | Fraction | str
Rounding = Literal["ROUND_HALF_UP", "ROUND_HALF_EVEN"]

_RULES = {"ROUND_HALF_UP": ROUND_HALF_UP, "ROUND_HALF_EVEN": ROUND_HALF_EVEN}


@dataclass(frozen=True)
class NumberStyle:
    """How a report writes its non-integer numbers: ``decimals`` places, rounded once with
    ``rounding``. :meth:`of` takes them from a configuration (``statistics``); the defaults are
    those of the shipped settings."""

    decimals: int = 1
    rounding: Rounding = "ROUND_HALF_UP"

    @classmethod
    def of(cls, config: Any) -> NumberStyle:
        """The style of ``config.settings.statistics``."""
        stats = config.settings.statistics
        return cls(stats.decimals, stats.rounding)


#: The style of the shipped settings (for callers without a configuration, such as tests).
DEFAULT_STYLE = NumberStyle()

_SIGNED_KINDS = frozenset({"growth_pct", "avg_monthly_growth_pct"})

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


def round_decimal(x: Number, decimals: int, rounding: Rounding = "ROUND_HALF_UP") -> Decimal:
    """Round ``x`` once to ``decimals`` places with ``rounding``. A rounded zero is unsigned
    (``-0.04 → 0.0``)."""
    d = to_decimal(x).quantize(_quantum(decimals), rounding=_RULES[rounding])
    return d.copy_abs() if d.is_zero() else d


def round_half_up(x: Number, decimals: int) -> Decimal:
    """Round half away from zero: ``2.675 → 2.68`` (2), ``0.05 → 0.1``, ``-1.25 → -1.3`` (1)."""
    return round_decimal(x, decimals, "ROUND_HALF_UP")


# --------------------------------------------------------------------------- numbers


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
    decimals: int,
    *,
    signed: bool = False,
    rounding: Rounding = "ROUND_HALF_UP",
) -> str:
    """``x`` rounded once to ``decimals`` places and written with the marks of ``lang``:
    ``1.234,5`` / ``1 234,5``. ``signed`` writes ``+`` before a positive number (zero stays
    unsigned)."""
    d = round_decimal(x, decimals, rounding)
    return _format_rounded(d, lang, decimals, signed)


def _styled(x: Number, lang: str, style: NumberStyle | None, signed: bool = False) -> str:
    style = style or DEFAULT_STYLE
    return fmt_number(x, lang, style.decimals, signed=signed, rounding=style.rounding)


def fmt_count(n: Number, lang: str) -> str:
    """A count of persons: an integer with grouping, ``1.234`` / ``1 234`` / ``1,234``.

    A count with a fractional part is a bug upstream and raises :class:`ValueError`.
    """
    d = to_decimal(n)
    if d != d.to_integral_value():
        raise ValueError(f"a count must be an integer, got {n!r}")
    return _format_rounded(d.quantize(Decimal(1)), lang, 0, False)


def fmt_rate(
    x: Number, lang: str, style: NumberStyle | None = None, *, permille: bool = False
) -> str:
    """A rate per 1000: ``12,4``; with ``permille=True`` ``12,4‰`` (``12,4 ‰`` in French)."""
    text = _styled(x, lang, style)
    return text + _unit_suffix(lang, PERMILLE) if permille else text


def fmt_pct(x: Number, lang: str, style: NumberStyle | None = None, *, unit: bool = True) -> str:
    """A share in percent (``x`` in percent, not a fraction): ``12,3%`` / ``12,3 %`` / ``12.3%``."""
    text = _styled(x, lang, style)
    return text + _unit_suffix(lang, "%") if unit else text


def fmt_growth(x: Number, lang: str, style: NumberStyle | None = None, *, unit: bool = True) -> str:
    """A growth in percent, always signed: ``+2,3%``, ``−1,0%`` (U+2212), ``0,0%``."""
    text = _styled(x, lang, style, signed=True)
    return text + _unit_suffix(lang, "%") if unit else text


def fmt_index(x: Number, lang: str, style: NumberStyle | None = None) -> str:
    """An index (base period = 100): ``104,3``."""
    return _styled(x, lang, style)


# --------------------------------------------------------------------------- table cells


def fmt_value(value: Number, kind: str, lang: str, style: NumberStyle | None = None) -> str:
    """A published value of ``kind`` (``cells.csv``) as a bare number, the way tables and axes
    show it."""
    if kind in INTEGER_KINDS:
        return fmt_count(value, lang)
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; known: {', '.join(KINDS)}")
    if kind in KIND_DECIMALS:
        style = style or DEFAULT_STYLE
        return fmt_number(value, lang, KIND_DECIMALS[kind], rounding=style.rounding)
    return _styled(value, lang, style, signed=kind in _SIGNED_KINDS)


def fmt_cell(
    value: Number | None,
    kind: str,
    flag: str | None,
    lang: str,
    *,
    style: NumberStyle | None = None,
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
    text = fmt_value(value, kind, lang, style)
    return f"({text})" if flag == UNRELIABLE else text


@dataclass(frozen=True)
class TableCell:
    """A table cell for the templates: ``text`` (:func:`fmt_cell`), the ``flag`` and a short
    translated ``title`` for a symbol or an unreliable value (an ``<abbr title>`` in HTML)."""

    text: str
    flag: str | None = None
    title: str = ""


def table_cell(
    value: Number | None,
    kind: str,
    flag: str | None,
    lang: str,
    *,
    style: NumberStyle | None = None,
) -> TableCell:
    """:func:`fmt_cell` with the flag and its short explanation, for ``key_figures`` tables."""
    text = fmt_cell(value, kind, flag, lang, style=style)
    if not flag:
        return TableCell(text)
    return TableCell(text, flag, flag_title(flag, lang))


# --------------------------------------------------------------------------- chart axes


def axis_formatter(kind: str, lang: str, style: NumberStyle | None = None) -> FuncFormatter:
    """A matplotlib tick formatter that writes ticks exactly like :func:`fmt_value`.

    Ticks get as few decimals as the tick positions need (``0``, ``5``, ``10`` — or ``2,5``,
    ``5,0``) but never more than the style's decimals (the published precision), and never a
    value the table would round differently.
    """
    from matplotlib.ticker import FuncFormatter

    style = style or DEFAULT_STYLE
    max_decimals = 0 if kind in INTEGER_KINDS else KIND_DECIMALS.get(kind, style.decimals)

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
        return fmt_number(
            x, lang, formatter.places, signed=kind in _SIGNED_KINDS, rounding=style.rounding
        )

    formatter = _AxisFormatter(_tick)
    return formatter
