"""Translations (gettext) and the Jinja2 environment of the report templates.

**Message ids are English source text.** Templates and code are written in English
(``{% trans %}Source{% endtrans %}``, ``_("Source")``); each language has a catalog
``templates/locale/<lang>/LC_MESSAGES/messages.po`` (``nl``, ``fr`` and ``en`` — the English one
repeats the msgid, so that all three catalogs are complete and a test can check them alike).

Catalogs are read at run time, without a compile step: :func:`babel.messages.pofile.read_po`
→ an in-memory ``.mo`` → :class:`babel.support.Translations`, once per language and process.
A msgid missing from a catalog falls back to the English text (and ``tests/test_i18n.py`` fails).

To add a text: write it in English in a template (``{% trans %}``, ``_()``) or in Python
(``_()`` from :func:`gettext`, or :func:`N_` for a module-level constant), then run
``python -m ksz_reports.l10n.catalogs`` to add the new msgids to the three catalogs, and translate.

The templates' Jinja2 environment, which installs these translations, is
:mod:`ksz_reports.report.templates`.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.support import Translations

from ksz_reports.core.resources import templates_dir

LANGUAGES = ("nl", "fr", "en")
SOURCE_LANGUAGE = "en"
DOMAIN = "messages"

#: Gettext keywords used in Python code and templates (for extraction).
KEYWORDS: dict[str, Any] = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_n": (1, 2),  # Python code: ``_n = ngettext(lang)``, then ``_n(singular, plural, n)``
    "N_": None,
}
#: A Python module whose messages belong to the catalogs: it marks or translates messages.
_USES_GETTEXT = re.compile(
    r"\bN_\(|\bgettext\(|\bngettext\(|from ksz_reports\.l10n\.catalogs import"
)


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark ``message`` for extraction without translating it (translate at use with ``_()``)."""
    return message


def _check_lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
    return lang


def catalog_path(lang: str) -> Path:
    """The ``.po`` file of ``lang`` in the shipped templates."""
    return templates_dir() / "locale" / _check_lang(lang) / "LC_MESSAGES" / f"{DOMAIN}.po"


def load_catalog(lang: str) -> Catalog:
    """The parsed catalog of ``lang`` (fresh object; see :func:`translations` for the cached one)."""
    with open(catalog_path(lang), "rb") as fh:
        return read_po(fh, locale=lang, domain=DOMAIN)


@cache
def translations(lang: str) -> Translations:
    """The compiled-in-memory translations of ``lang`` (once per process)."""
    buffer = io.BytesIO()
    write_mo(buffer, load_catalog(lang), use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def gettext(lang: str) -> Callable[[str], str]:
    """The ``_`` of ``lang`` for Python code: ``gettext("nl")("Source") == "Bron"``."""
    return translations(_check_lang(lang)).gettext


def ngettext(lang: str) -> Callable[[str, str, int], str]:
    """The plural-aware ``ngettext`` of ``lang``."""
    return translations(_check_lang(lang)).ngettext


# --------------------------------------------------------------------------- extraction


def _template_files() -> Iterator[Path]:
    yield from sorted(templates_dir().rglob("*.j2"))


def _package_root() -> Path:
    return Path(__file__).resolve().parent.parent


def python_sources() -> list[str]:
    """The package modules to extract messages from: every module that marks or translates
    messages (sorted, paths relative to the package, e.g. ``report/write.py``)."""
    root = _package_root()
    return sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*.py")
        if _USES_GETTEXT.search(path.read_text(encoding="utf-8"))
    )


def extract_messages() -> dict[str, list[str]]:
    """Every msgid used in ``templates/**/*.j2`` and in the report modules → where it is used.

    Plural messages give their singular and plural ids.
    """
    found: dict[str, list[str]] = {}

    def add(messages: Iterator, where: str) -> None:
        for lineno, message, _comments, _context in messages:
            for msgid in message if isinstance(message, tuple) else (message,):
                if msgid:
                    found.setdefault(msgid, []).append(f"{where}:{lineno}")

    for path in _template_files():
        with open(path, "rb") as fh:
            add(
                extract(
                    "jinja2.ext:babel_extract",
                    fh,
                    keywords=KEYWORDS,
                    options={"trimmed": "true", "extensions": "jinja2.ext.i18n"},
                ),
                str(path.relative_to(templates_dir())),
            )
    package = _package_root()
    for name in python_sources():
        with open(package / name, "rb") as fh:
            add(extract("python", fh, keywords=KEYWORDS), name)
    return found


def catalog_msgids(catalog: Catalog) -> set[str]:
    """Every msgid of ``catalog``: the singular and the plural id of a plural message."""
    return {
        msgid
        for message in catalog
        if message.id
        for msgid in (message.id if message.pluralizable else (message.id,))
    }


def update_catalogs() -> dict[str, list[str]]:
    """Add every extracted msgid missing from a catalog (English: msgstr = msgid). Returns them."""
    used = extract_messages()
    added: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        catalog = load_catalog(lang)
        known = catalog_msgids(catalog)
        for msgid in used:
            if msgid not in known:
                catalog.add(msgid, msgid if lang == SOURCE_LANGUAGE else "")
                added.setdefault(lang, []).append(msgid)
        if added.get(lang):
            write_catalog(lang, catalog)
    return added


_VOLATILE_HEADER = re.compile(
    r'^"(POT-Creation-Date|PO-Revision-Date|Last-Translator|Language-Team|Report-Msgid-Bugs-To'
    r'|Generated-By):[^"]*"\n',
    re.M,
)


def write_catalog(lang: str, catalog: Catalog) -> None:
    """Write ``catalog`` as the ``.po`` of ``lang``: no locations, no volatile header lines."""
    catalog.fuzzy = False
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, sort_output=False, no_location=True)
    text = _VOLATILE_HEADER.sub("", buffer.getvalue().decode("utf-8"))
    catalog_path(lang).write_text(text, encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover - maintainer tool
    result = update_catalogs()
    for language, ids in result.items():
        print(f"{language}: {len(ids)} new msgid(s) to translate", file=sys.stderr)
