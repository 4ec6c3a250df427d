"""The Jinja2 environment of the report templates (``templates/``).

The environment autoescapes everything, has the ``jinja2.ext.i18n`` extension installed with
new-style gettext (``_("… %(name)s", name=x)`` escapes its arguments) and the catalogs of
:mod:`ksz_reports.l10n.catalogs`, trims whitespace in ``{% trans %}`` blocks, and *refuses to
print a number*: templates receive strings preformatted by :mod:`ksz_reports.l10n` (one rounding
rule, locale marks), never compute or format one.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError

from ksz_reports.core.resources import templates_dir
from ksz_reports.core.vocabulary import check_lang
from ksz_reports.l10n.catalogs import translations
from ksz_reports.l10n.flags import symbol_notes


def _finalize(value: Any) -> Any:
    """Jinja ``finalize``: refuse to print a number (templates get preformatted strings)."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        raise TemplateError(
            f"template printed the number {value!r}: format it with ksz_reports.l10n.numbers first"
        )
    return "" if value is None else value


@cache
def environment(lang: str) -> Environment:
    """The Jinja2 environment of ``lang`` (cached): templates folder, autoescape, i18n, strict.

    Globals: ``lang`` and ``symbol_notes(flags)`` (:func:`symbol_notes` in the environment's
    language).
    """
    env = Environment(
        loader=FileSystemLoader(str(templates_dir())),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(translations(check_lang(lang)), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        lang=lang,
        symbol_notes=lambda flags: symbol_notes(flags, lang),
    )
    return env


def render_template(name: str, context: Mapping[str, Any], lang: str) -> str:
    """Render the template ``name`` (relative to ``templates/``) in ``lang``."""
    return environment(lang).get_template(name).render(**context)
