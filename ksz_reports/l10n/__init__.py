"""Localisation: translations (gettext catalogs), numbers (one rounding rule, CLDR marks), dates
and periods, and the symbols of hidden values — every text and number a report shows passes
through here, so a table and the chart beside it never disagree.

Modules: :mod:`~ksz_reports.l10n.catalogs` (translations and their extraction),
:mod:`~ksz_reports.l10n.numbers` (``fmt_*`` of numbers, :class:`NumberStyle`),
:mod:`~ksz_reports.l10n.dates` (dates and periods), :mod:`~ksz_reports.l10n.flags` (symbols,
labels and footnotes of hidden values), :mod:`~ksz_reports.l10n.locales` (language → CLDR locale).
"""

from ksz_reports.l10n.catalogs import N_, gettext, ngettext
from ksz_reports.l10n.dates import fmt_date, fmt_geography, fmt_period
from ksz_reports.l10n.flags import (
    FLAG_SYMBOLS,
    UNRELIABLE,
    Footnote,
    flag_footnotes,
    flag_label,
    flag_symbol,
    flag_title,
    is_shown,
    symbol_notes,
)
from ksz_reports.l10n.numbers import (
    DEFAULT_STYLE,
    NumberStyle,
    TableCell,
    axis_formatter,
    fmt_cell,
    fmt_count,
    fmt_growth,
    fmt_index,
    fmt_number,
    fmt_pct,
    fmt_rate,
    fmt_value,
    round_decimal,
    round_half_up,
    table_cell,
    to_decimal,
)

__all__ = [
    "DEFAULT_STYLE",
    "FLAG_SYMBOLS",
    "N_",
    "UNRELIABLE",
    "Footnote",
    "NumberStyle",
    "TableCell",
    "axis_formatter",
    "flag_footnotes",
    "flag_label",
    "flag_symbol",
    "flag_title",
    "fmt_cell",
    "fmt_count",
    "fmt_date",
    "fmt_geography",
    "fmt_growth",
    "fmt_index",
    "fmt_number",
    "fmt_pct",
    "fmt_period",
    "fmt_rate",
    "fmt_value",
    "gettext",
    "is_shown",
    "ngettext",
    "round_decimal",
    "round_half_up",
    "symbol_notes",
    "table_cell",
    "to_decimal",
]
