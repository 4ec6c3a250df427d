"""Report language → CLDR locale (Babel)."""

from __future__ import annotations

#: Report language → Babel locale: Belgian Dutch and French, and English.
LOCALES: dict[str, str] = {"nl": "nl_BE", "fr": "fr_BE", "en": "en"}


def babel_locale(lang: str) -> str:
    """The Babel locale of a report language; ValueError for another language."""
    try:
        return LOCALES[lang]
    except KeyError:
        raise ValueError(f"unknown language {lang!r}; known: {', '.join(LOCALES)}") from None
