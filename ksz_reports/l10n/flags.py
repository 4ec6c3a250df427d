"""Flags of a value that is not shown (``cells.csv``'s ``flag``, see ``docs/domain.md#flags-and-symbols``):
the symbol a table or chart shows instead of the value, its short translated label and the
footnote that explains it. A hidden value is never shown as 0 and never left blank.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ksz_reports.l10n.catalogs import N_, gettext

#: Flags of a value that is *not shown* (``flag``, docs/domain.md#flags-and-symbols) → the
#: symbol a table shows instead.
FLAG_SYMBOLS: dict[str, str] = {
    "suppressed": "x",
    "secondary": "x",
    "not_available": ":",
    "unknown": "?",
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
    (
        ":",
        N_("not available: masked at the source, which does not publish small numbers"),
        ("not_available",),
    ),
    ("?", N_("unknown: the source gives no figure"), ("unknown",)),
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


_FLAG_TITLES = {
    "x": N_("not published"),
    ":": N_("not available"),
    "?": N_("unknown"),
    "\u2026": N_("not final or not complete"),
    "( )": N_("unreliable"),
}


def flag_title(flag: str | None, lang: str) -> str:
    """The short translated label of the symbol of ``flag`` (``unreliable`` included)."""
    return gettext(lang)(_FLAG_TITLES[flag_symbol(flag) or "( )"])


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


def symbol_notes(flags: Any, lang: str) -> list[tuple[str, str]]:
    """The symbols that ``flags`` put in a table or chart, with their short translated label:
    ``[("x", "niet gepubliceerd"), (":", "niet beschikbaar")]`` — in a fixed order (x, :, …, ( )),
    one entry per symbol. The footnote line under a table or a figure."""
    labels: dict[str, str] = {}
    for flag in {f for f in flags if f}:
        labels[flag_symbol(flag) or "( )"] = flag_label(flag, lang)
    order = [*dict.fromkeys(FLAG_SYMBOLS.values()), "( )"]
    return [(symbol, labels[symbol]) for symbol in order if symbol in labels]
