"""The tidy input rows as points (docs/domain.md#flags-and-symbols): a hidden flag wins over any value, a value that is
None/NaN without a flag counts as ``not_available``; how a point is written in the data table and
in running text, the default axis label of a value kind, and the note on what is not drawn."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ksz_reports.l10n import N_, NumberStyle, flag_symbol, fmt_cell, fmt_value, gettext, is_shown


@dataclass(frozen=True)
class _Point:
    """One value of a chart: ``value`` is None when its flag hides it (``raw``: the row's value,
    None as well then)."""

    series: str
    key: str
    value: float | None  # None when not shown
    raw: Any
    flag: str | None

    @property
    def shown(self) -> bool:
        return self.value is not None


def records(data: Any) -> list[Mapping[str, Any]]:
    """Tidy rows from a sequence of mappings or a pandas DataFrame."""
    if hasattr(data, "to_dict") and hasattr(data, "columns"):
        return list(data.to_dict("records"))
    return list(data)


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return value is not None and str(value) in {"<NA>", "nan", ""}


def _flag(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def point(
    row: Mapping[str, Any], series: str, key: str, value_key: str = "value", flag_key: str = "flag"
) -> _Point:
    """Normalise one tidy row: a hidden flag wins over any value; no value, no flag → NA."""
    flag = _flag(row.get(flag_key))
    raw = row.get(value_key)
    if flag is None and _missing(raw):
        flag = "not_available"
    flag_symbol(flag)  # validates the flag
    if not is_shown(flag):
        return _Point(series, key, None, None, flag)
    return _Point(series, key, float(raw), raw, flag)


def _cell(p: _Point | None, kind: str, lang: str, style: NumberStyle | None) -> str:
    """A point as a data table cell (no point: ``not_available``), as in the report's tables."""
    if p is None:
        return fmt_cell(None, kind, "not_available", lang)
    return fmt_cell(p.raw, kind, p.flag, lang, style=style)


def _label(p: _Point, kind: str, lang: str, style: NumberStyle | None) -> str:
    """A shown value in running text (alt text): the bare number, as in the table."""
    return fmt_value(p.raw, kind, lang, style)


def unit_label(kind: str, lang: str) -> str:
    """Default axis label of a value ``kind`` (translated)."""
    _ = gettext(lang)
    labels = {
        "count": N_("persons"),
        "population": N_("inhabitants"),
        "rate_per_1000": N_("per 1000 inhabitants"),
        "ci_low": N_("per 1000 inhabitants"),
        "ci_high": N_("per 1000 inhabitants"),
        "share_pct": N_("share in %"),
        "growth_pct": N_("change in %"),
        "avg_monthly_growth_pct": N_("change in % per month"),
        "index": N_("index"),
    }
    return _(labels[kind])


def _not_shown_note(lang: str, points: Iterable[_Point]) -> str:
    """The sentence the alt text ends with when some of ``points`` are hidden (else empty)."""
    hidden = [p for p in points if not p.shown]
    if not hidden:
        return ""
    _ = gettext(lang)
    return " " + _("Values that are not published are not drawn; their symbol is shown instead.")
