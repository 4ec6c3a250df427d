"""Dates and periods written for a report language (CLDR, with Babel)."""

from __future__ import annotations

import datetime as _dt
import re

from babel.dates import format_date

from ksz_reports.geo import Geography
from ksz_reports.l10n.catalogs import gettext
from ksz_reports.l10n.locales import babel_locale as _locale

_PERIOD = re.compile(r"^(?P<year>\d{4})(?:Q(?P<quarter>[1-4])|-(?P<month>0[1-9]|1[0-2]))?$")


def fmt_date(date: _dt.date, lang: str) -> str:
    """A reference date in full: ``31 december 2021``, ``31 décembre 2021``, ``December 31, 2021``."""
    return format_date(date, format="long", locale=_locale(lang))


def fmt_period(period: str, lang: str, short: bool = False) -> str:
    """A canonical period (docs/domain.md#periods-and-cutoffs) as a label.

    ``2021`` → ``2021``; ``2017-10`` → ``oktober 2017`` / ``octobre 2017`` / ``October 2017``
    (``short``: CLDR's abbreviated month, ``okt 2017`` / ``oct. 2017`` / ``Oct 2017``, for the
    axis of a monthly chart); ``2021Q4`` → ``2021 K4`` / ``2021 T4`` / ``2021 Q4``.
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
            _dt.date(year, int(m["month"]), 1),
            format="MMM y" if short else "MMMM y",
            locale=_locale(lang),
        )
    return str(year)


def fmt_geography(geography: Geography, lang: str) -> str:
    """Which municipalities a publication uses: ``de 565 gemeenten van 1 januari 2025``,
    ``les 565 communes du 1 janvier 2025``, ``the 565 municipalities of January 1, 2025``."""
    _ = gettext(lang)
    return _("the %(count)s municipalities of %(date)s") % {
        "count": len(geography),
        "date": fmt_date(geography.valid_from, lang),
    }
