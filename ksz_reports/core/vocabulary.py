"""The product's vocabulary, in one place: report languages, geographic levels, output formats,
the kinds and flags of a published cell (``cells.csv``, see ``docs/architecture.md#the-cellscsv-contract``).

Every layer uses these names; a value coming from a user (CLI option, API argument) is checked
once, at the door, by the ``check_*`` functions, which raise a typed
:class:`~ksz_reports.core.errors.UsageError` naming the allowed values.
"""

from __future__ import annotations

from collections.abc import Iterable

from ksz_reports.core.errors import UsageError

#: Report languages (the first is the default).
LANGUAGES: tuple[str, ...] = ("nl", "fr", "en")
#: Geographic levels, from the municipality up to Belgium.
LEVELS: tuple[str, ...] = ("municipality", "arrondissement", "province", "region", "country")
#: Report formats (``cells.csv`` is always written).
FORMATS: tuple[str, ...] = ("html", "pdf", "xlsx")
#: Formats of a ``compare`` table.
TABLE_FORMATS: tuple[str, ...] = ("csv", "xlsx", "json")

#: The ``kind`` of a published number, in the order ``cells.csv`` lists them.
KINDS: tuple[str, ...] = (
    "count",
    "population",
    "rate_per_1000",
    "share_pct",
    "growth_pct",
    "avg_monthly_growth_pct",
    "index",
    "ci_low",
    "ci_high",
    "income_eur",
    "correlation",
)
#: Context kinds (Statbel income, docs/domain.md#income): not counts of persons, never suppressed or summed.
CONTEXT_KINDS = frozenset({"income_eur", "correlation"})
#: Decimals a context kind is shown with (the other kinds: the configured rounding).
KIND_DECIMALS = {"income_eur": 0, "correlation": 2}
#: Kinds written as whole numbers.
INTEGER_KINDS = frozenset({"count", "population"})

# Flags: why a value is not shown ("" = shown).
SUPPRESSED = "suppressed"  # primary: 1 ≤ n < threshold
SECONDARY = "secondary"  # hidden so that no suppressed count can be recomputed
NOT_AVAILABLE = "not_available"  # masked at the source because it is small: sensitive
UNKNOWN = "unknown"  # no value for another reason (not covered by the source): not sensitive
UNSTABLE = "unstable"  # not final yet
INCOMPLETE = "incomplete"  # not every municipality (or month) has data
#: Every flag of a hidden value, in the order of ``cells.csv``'s documentation.
FLAGS: tuple[str, ...] = (
    "",
    SUPPRESSED,
    SECONDARY,
    UNSTABLE,
    INCOMPLETE,
    NOT_AVAILABLE,
    UNKNOWN,
)
#: Flags of counts hidden by disclosure control or by the source.
HIDDEN_COUNT_FLAGS = frozenset({SUPPRESSED, SECONDARY, NOT_AVAILABLE, UNKNOWN})


def _check(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise UsageError(f"Unknown {what} {value!r}: use one of {', '.join(allowed)}.")
    return value


def check_lang(lang: str) -> str:
    """``lang`` if it is a report language (:data:`LANGUAGES`)."""
    return _check(lang, LANGUAGES, "language")


def check_level(level: str) -> str:
    """``level`` if it is a geographic level (:data:`LEVELS`)."""
    return _check(level, LEVELS, "level")


def check_formats(formats: str | Iterable[str]) -> tuple[str, ...]:
    """Report formats from ``"html,pdf"`` or an iterable, each one of :data:`FORMATS`."""
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    chosen = tuple(dict.fromkeys(f.strip() for f in items if f and f.strip()))
    if not chosen:
        raise UsageError(
            f"No format given: use one or more of {', '.join(FORMATS)}, comma-separated."
        )
    for f in chosen:
        _check(f, FORMATS, "format")
    return chosen


def check_table_format(fmt: str) -> str:
    """``fmt`` if it is a ``compare`` table format (:data:`TABLE_FORMATS`)."""
    return _check(fmt, TABLE_FORMATS, "table format")
