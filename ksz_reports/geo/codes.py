"""Codes and names of areas: NIS codes, the Belgian units above the municipalities, and the
folding of names for look-ups (accent-, case- and punctuation-insensitive)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence

COUNTRY = "01000"
#: Region codes: Flemish, Walloon and Brussels-Capital Region.
FLANDERS, WALLONIA, BRUSSELS = "02000", "03000", "04000"
REGIONS: tuple[str, ...] = (FLANDERS, WALLONIA, BRUSSELS)

#: Unknown locations (docs/domain.md#geography): persons known to live in a region (or in
#: Belgium) but in no known municipality. Each is one pseudo-unit of the canonical table, a
#: child of its region (``99999``: of Belgium only): counted in the region's and Belgium's
#: totals, in no municipality, arrondissement or province, and never shown on its own. The
#: codes are those of Provincies in Cijfers (``99991`` somewhere in Flanders, ``99992``
#: somewhere in Brussels, ``99999`` unknown or outside Flanders and Brussels).
UNKNOWN_LOCATIONS: dict[str, str] = {"99991": FLANDERS, "99992": BRUSSELS, "99999": COUNTRY}
#: The pseudo-unit of each region (and of Belgium).
UNKNOWN_LOCATION_OF: dict[str, str] = {v: k for k, v in UNKNOWN_LOCATIONS.items()}


def is_unknown_location(code: object) -> bool:
    """Is ``code`` the pseudo-unit of an unknown location (``99991``, ``99992``, ``99999``)?"""
    return str(code) in UNKNOWN_LOCATIONS


#: English names of the units that have one (the others keep their official-language name).
EN_NAMES = {
    COUNTRY: "Belgium",
    FLANDERS: "Flemish Region",
    WALLONIA: "Walloon Region",
    BRUSSELS: "Brussels-Capital Region",
}
#: The German-speaking municipalities: the German name (our name_nl) is the official one.
GERMAN_SPEAKING = frozenset(
    {"63001", "63012", "63013", "63023", "63040", "63048", "63061", "63067", "63087"}
)


def normalise_code(text: str | int) -> str | None:
    """A NIS code as 5 characters (``' 44021 '`` → ``44021``, ``'2000'`` → ``02000``), or None."""
    raw = str(text).strip()
    if not raw.isdigit() or not raw.isascii():
        return None
    if len(raw) == 4:
        raw = "0" + raw
    return raw if len(raw) == 5 else None


def fold(text: str) -> str:
    """Accent-, case-, punctuation-insensitive form with single spaces: ``Liège`` → ``liege``."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return re.sub(r"[^0-9a-z]+", " ", plain).strip()


def compact(text: str) -> str:
    """:func:`fold` without spaces: ``Sint Niklaas``, ``sint-niklaas`` → ``sintniklaas``."""
    return fold(text).replace(" ", "")


def spans(years: Sequence[int]) -> str:
    """``2009–2022, 2024`` for a sorted list of years."""
    parts: list[tuple[int, int]] = []
    for year in years:
        if parts and year == parts[-1][1] + 1:
            parts[-1] = (parts[-1][0], year)
        else:
            parts.append((year, year))
    return ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in parts)


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def english_date(day: dt.date) -> str:
    """``1 January 2025`` (English, locale-independent: the language of messages)."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
