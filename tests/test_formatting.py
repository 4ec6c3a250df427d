"""Formatting: one rounding rule on Decimal, CLDR marks per language, symbols for hidden cells."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from fractions import Fraction

import pytest
from babel.numbers import format_decimal

from ksz_reports import l10n as f
from ksz_reports.core.config import load_config

NNBSP = "\u202f"  # narrow no-break space: fr_BE thousands separator
NBSP = "\u00a0"  # no-break space: fr_BE before % and ‰
MINUS = "\u2212"


# --------------------------------------------------------------------------- rounding


@pytest.mark.parametrize(
    ("x", "decimals", "expected"),
    [
        (2.675, 2, "2.68"),  # binary value is 2.67499999…; repr is 2.675
        (0.05, 1, "0.1"),
        (12.35, 1, "12.4"),
        (-1.25, 1, "-1.3"),  # half away from zero
        (0.25, 1, "0.3"),  # Babel (half-even) would give 0.2
        (1.005, 2, "1.01"),
        ("0.125", 2, "0.13"),
        (Decimal("2.5"), 0, "3"),
        (Fraction(1, 8), 2, "0.13"),
        (7, 1, "7.0"),
    ],
)
def test_round_half_up(x, decimals, expected):
    assert f.round_half_up(x, decimals) == Decimal(expected)
    assert str(f.round_half_up(x, decimals)) == expected


def test_number_style_comes_from_the_configuration():
    stats = load_config().settings.statistics
    assert stats.rounding == "ROUND_HALF_UP"
    assert f.NumberStyle.of(load_config()) == f.NumberStyle(1, "ROUND_HALF_UP") == f.DEFAULT_STYLE
    assert f.round_decimal(0.25, 1) == Decimal("0.3")
    assert f.round_decimal(0.25, 1, "ROUND_HALF_EVEN") == Decimal("0.2")
    even = f.NumberStyle(1, "ROUND_HALF_EVEN")
    assert f.fmt_value(0.25, "rate_per_1000", "en", even) == "0.2"
    assert f.fmt_value(0.25, "rate_per_1000", "en") == "0.3"
    assert f.fmt_cell(1.005, "share_pct", None, "nl", style=f.NumberStyle(2)) == "1,01"


def test_rounded_zero_has_no_sign():
    assert str(f.round_decimal(-0.04, 1)) == "0.0"
    assert f.fmt_growth(-0.04, "nl") == "0,0%"
    assert f.fmt_number(-0.04, "en", 1) == "0.0"


@pytest.mark.parametrize("bad", [math.nan, math.inf, True, "abc", None])
def test_to_decimal_rejects_non_numbers(bad):
    with pytest.raises(ValueError):
        f.to_decimal(bad)


def test_numpy_scalars_go_through_repr():
    np = pytest.importorskip("numpy")
    assert f.round_half_up(np.float64(2.675), 2) == Decimal("2.68")
    assert f.fmt_count(np.int64(1234), "nl") == "1.234"


def test_babel_alone_would_round_half_even():
    # The reason we round before Babel: its own rounding is half-even.
    assert format_decimal(0.25, format="0.0", locale="nl_BE") == "0,2"
    assert f.fmt_rate(0.25, "nl") == "0,3"


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("nl", "1.234.567"),
        ("fr", f"1{NNBSP}234{NNBSP}567"),
        ("en", "1,234,567"),
    ],
)
def test_fmt_count(lang, expected):
    assert f.fmt_count(1234567, lang) == expected
    assert f.fmt_count(0, lang) == "0"


def test_fmt_count_small_and_grouping():
    assert f.fmt_count(1234, "nl") == "1.234"
    assert f.fmt_count(1234, "fr") == f"1{NNBSP}234"
    assert f.fmt_count(999, "en") == "999"
    assert f.fmt_count(1234.0, "en") == "1,234"


def test_fmt_count_refuses_fractions():
    with pytest.raises(ValueError, match="integer"):
        f.fmt_count(12.5, "nl")


@pytest.mark.parametrize(
    ("func", "args", "nl", "fr", "en"),
    [
        (f.fmt_rate, (12.35,), "12,4", "12,4", "12.4"),
        (f.fmt_rate, (1234.56,), "1.234,6", f"1{NNBSP}234,6", "1,234.6"),
        (f.fmt_pct, (12.345,), "12,3%", f"12,3{NBSP}%", "12.3%"),
        (f.fmt_pct, (0.05,), "0,1%", f"0,1{NBSP}%", "0.1%"),
        (f.fmt_growth, (2.25,), "+2,3%", f"+2,3{NBSP}%", "+2.3%"),
        (f.fmt_growth, (-1.0,), f"{MINUS}1,0%", f"{MINUS}1,0{NBSP}%", f"{MINUS}1.0%"),
        (f.fmt_growth, (0,), "0,0%", f"0,0{NBSP}%", "0.0%"),
        (f.fmt_index, (104.25,), "104,3", "104,3", "104.3"),
        (f.fmt_number, (-1234.5, 0), f"{MINUS}1.235", f"{MINUS}1{NNBSP}235", f"{MINUS}1,235"),
    ],
)
def test_number_formats(func, args, nl, fr, en):
    assert func(*args[:1], "nl", *args[1:]) == nl
    assert func(*args[:1], "fr", *args[1:]) == fr
    assert func(*args[:1], "en", *args[1:]) == en


def test_permille_and_unitless_variants():
    assert f.fmt_rate(12.35, "nl", permille=True) == "12,4\u2030"
    assert f.fmt_rate(12.35, "fr", permille=True) == f"12,4{NBSP}\u2030"
    assert f.fmt_rate(12.35, "en", f.NumberStyle(2)) == "12.35"
    assert f.fmt_pct(12.3, "nl", unit=False) == "12,3"
    assert f.fmt_growth(2.3, "fr", unit=False) == "+2,3"


def test_unknown_language():
    with pytest.raises(ValueError, match="unknown language"):
        f.fmt_count(1, "de")


# --------------------------------------------------------------------------- dates and periods


def test_fmt_date():
    day = dt.date(2021, 12, 31)
    assert f.fmt_date(day, "nl") == "31 december 2021"
    assert f.fmt_date(day, "fr") == "31 décembre 2021"
    assert f.fmt_date(day, "en") == "December 31, 2021"


@pytest.mark.parametrize(
    ("period", "nl", "fr", "en"),
    [
        ("2021", "2021", "2021", "2021"),
        ("2017-10", "oktober 2017", "octobre 2017", "October 2017"),
        ("2021Q4", "2021 K4", "2021 T4", "2021 Q4"),
        ("2020Q1", "2020 K1", "2020 T1", "2020 Q1"),
    ],
)
def test_fmt_period(period, nl, fr, en):
    assert (f.fmt_period(period, "nl"), f.fmt_period(period, "fr"), f.fmt_period(period, "en")) == (
        nl,
        fr,
        en,
    )


@pytest.mark.parametrize("bad", ["21", "2021Q5", "2021-13", "2021-1", "oktober"])
def test_fmt_period_rejects_non_canonical(bad):
    with pytest.raises(ValueError):
        f.fmt_period(bad, "nl")


# --------------------------------------------------------------------------- cells and symbols


@pytest.mark.parametrize(
    ("flag", "symbol"),
    [
        ("suppressed", "x"),
        ("secondary", "x"),
        ("not_available", ":"),
        ("unstable", "\u2026"),
        ("incomplete", "\u2026"),
    ],
)
@pytest.mark.parametrize("value", [None, 0, 3, 12.5])
def test_hidden_cells_show_a_symbol_never_a_value(flag, symbol, value):
    for kind in ("count", "rate_per_1000", "growth_pct"):
        text = f.fmt_cell(value, kind, flag, "nl")
        assert text == symbol
        assert text not in ("", "0")


def test_shown_cells():
    assert f.fmt_cell(0, "count", None, "nl") == "0"  # zero is published
    assert f.fmt_cell(1234, "population", "", "fr") == f"1{NNBSP}234"
    assert f.fmt_cell(12.35, "rate_per_1000", None, "nl") == "12,4"
    assert f.fmt_cell(12.35, "share_pct", None, "en") == "12.4"
    assert f.fmt_cell(-2.35, "growth_pct", None, "nl") == f"{MINUS}2,4"
    assert f.fmt_cell(2.35, "avg_monthly_growth_pct", None, "nl") == "+2,4"
    assert f.fmt_cell(12.35, "rate_per_1000", "unreliable", "nl") == "(12,4)"
    assert f.fmt_cell(12.345, "ci_low", None, "en", style=f.NumberStyle(2)) == "12.35"


def test_a_cell_is_never_blank():
    with pytest.raises(ValueError, match="never blank"):
        f.fmt_cell(None, "count", None, "nl")
    with pytest.raises(ValueError, match="never blank"):
        f.fmt_cell(math.nan, "rate_per_1000", "", "nl")


def test_unknown_flag_and_kind():
    with pytest.raises(ValueError, match="unknown flag"):
        f.fmt_cell(1, "count", "secret", "nl")
    with pytest.raises(ValueError, match="unknown kind"):
        f.fmt_cell(1, "ratio", None, "nl")


def test_table_cell_carries_flag_and_title():
    cell = f.table_cell(None, "count", "suppressed", "nl")
    assert (cell.text, cell.flag, cell.title) == ("x", "suppressed", "niet gepubliceerd")
    assert f.table_cell(3.25, "rate_per_1000", "unreliable", "fr").title == "peu fiable"
    assert f.table_cell(3, "count", None, "en") == f.TableCell("3")


def test_flag_footnotes_in_fixed_order_and_translated():
    notes = f.flag_footnotes(
        ["unreliable", "secondary", "suppressed", None, "incomplete"], "nl", threshold=5
    )
    assert [n.symbol for n in notes] == ["x", "\u2026", "( )"]
    assert "minder dan 5 personen" in notes[0].text
    fr = f.flag_footnotes(["not_available"], "fr", threshold=10)
    assert fr == [
        f.Footnote(
            ":", "non disponible : masqué par la source, qui ne publie pas les petits nombres"
        )
    ]
    unknown = f.flag_footnotes(["unknown", "not_available"], "nl", threshold=5)
    assert [n.symbol for n in unknown] == [":", "?"]
    assert unknown[1].text == "onbekend: de bron geeft geen cijfer"
    assert f.flag_symbol("unknown") == "?" and not f.is_shown("unknown")
    assert "fewer than 10 persons" in f.flag_footnotes(["secondary"], "en", threshold=10)[0].text


# --------------------------------------------------------------------------- axes


def test_axis_formatter_agrees_with_the_tables():
    fmt = f.axis_formatter("rate_per_1000", "nl")
    fmt.set_locs([0.0, 2.5, 5.0, 7.5])
    assert [fmt(v) for v in (0.0, 2.5, 5.0, 7.5)] == ["0,0", "2,5", "5,0", "7,5"]
    fmt.set_locs([0.0, 500.0, 1000.0])
    assert [fmt(v) for v in (0.0, 1000.0)] == ["0", "1.000"]
    growth = f.axis_formatter("growth_pct", "fr")
    growth.set_locs([-2.0, 0.0, 2.0])
    assert [growth(v) for v in (-2.0, 0.0, 2.0)] == [f"{MINUS}2", "0", "+2"]
    count = f.axis_formatter("count", "fr")
    count.set_locs([0, 5000, 10000])
    assert count(10000) == f.fmt_cell(10000, "count", None, "fr") == f"10{NNBSP}000"
