"""Catalogs, the Jinja2 environment and the template components (snapshot, escaping)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from jinja2 import TemplateError

from ksz_reports.charts import Chart, DataTable
from ksz_reports.l10n import catalogs as i18n
from ksz_reports.l10n import flag_footnotes, table_cell
from ksz_reports.report import pdf, templates

SNAPSHOTS = Path(__file__).parent / "snapshots"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
#: The chart modules that translate texts (axis labels, alt texts, table headers, area names).
CHART_SOURCES = (
    "charts/points.py",
    "charts/series.py",
    "charts/bars.py",
    "charts/scatter.py",
    "charts/maps.py",
)


# --------------------------------------------------------------------------- catalogs


@pytest.fixture(scope="module")
def used() -> dict[str, list[str]]:
    return i18n.extract_messages()


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_msgid_used_is_in_every_catalog(used, lang):
    catalog = i18n.load_catalog(lang)
    known = i18n.catalog_msgids(catalog)
    missing = {msgid: where for msgid, where in used.items() if msgid not in known}
    assert not missing, f"msgids missing from {lang}: {missing}"
    untranslated = [
        m.id for m in catalog if m.id and not all(m.string if m.pluralizable else (m.string,))
    ]
    assert not untranslated, f"empty translations in {lang}: {untranslated}"


def test_extraction_covers_templates_and_code(used):
    where = {loc.split(":")[0] for locs in used.values() for loc in locs}
    assert "base.html.j2" in where
    assert "components/chart.html.j2" in where
    assert {*CHART_SOURCES, "l10n/flags.py", "report/pdf.py", "report/write.py"} <= where
    assert "report.html.j2" in where
    assert "Page %(page)s of %(pages)s" in used
    # the report's own texts (render.py): title page, tables, chart titles, methodology
    for msgid in (
        "Local social report",
        "Situation on %(date)s",
        "Key figures of %(name)s compared with the levels above it",
        "%(indicator)s: evolution",
        "%(indicator)s: %(name)s and its neighbours, %(period)s",
    ):
        assert any(loc.startswith("report/write.py:") for loc in used[msgid]), msgid
    # the methodology has its own module
    assert any(
        loc.startswith("report/methodology.py:") for loc in used["Protection of small numbers"]
    )


def test_every_module_using_gettext_is_extracted():
    sources = i18n.python_sources()
    assert "report/write.py" in sources and set(CHART_SOURCES) <= set(sources)
    assert "report/model.py" not in sources  # no translated text there


def test_report_texts_are_translated():
    nl, fr = i18n.gettext("nl"), i18n.gettext("fr")
    assert nl("Local social report") == "Lokaal sociaal rapport"
    assert nl("Situation on %(date)s") % {"date": "31 december 2021"} == (
        "Toestand op 31 december 2021"
    )
    assert nl("per 1000 inhabitants") == "per 1000 inwoners"  # one msgid: charts and text agree
    assert fr("Local social report") == "Rapport social local"
    assert fr("%(indicator)s: evolution") == "%(indicator)s\u00a0: évolution"


def _ids(message) -> tuple[str, ...]:
    """The msgid of a catalog message; both ids of a plural one."""
    return tuple(message.id) if message.pluralizable else (message.id,)


def test_catalogs_have_no_stale_msgids(used):
    for lang in i18n.LANGUAGES:
        stale = [m.id for m in i18n.load_catalog(lang) if m.id and not set(_ids(m)) <= set(used)]
        assert not stale, f"{lang} has msgids no code uses: {stale}"


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_translations_keep_placeholders(lang):
    for message in i18n.load_catalog(lang):
        if message.id:
            wanted = {tuple(sorted(PLACEHOLDER.findall(i))) for i in _ids(message)}
            assert len(wanted) == 1, message.id  # singular and plural alike
            strings = message.string if message.pluralizable else (message.string,)
            for string in strings:
                assert {tuple(sorted(PLACEHOLDER.findall(string)))} == wanted, message.id
    if lang == i18n.SOURCE_LANGUAGE:
        assert all(m.string == m.id for m in i18n.load_catalog(lang) if m.id)


def test_gettext_and_fallback():
    assert i18n.gettext("nl")("Key figures") == "Kerncijfers"
    assert i18n.gettext("fr")("Key figures") == "Chiffres clés"
    assert i18n.gettext("en")("Key figures") == "Key figures"
    assert i18n.gettext("nl")("a text nobody translated") == "a text nobody translated"
    assert i18n.translations("nl") is i18n.translations("nl")  # cached, no compile step
    with pytest.raises(ValueError, match="unknown language"):
        i18n.gettext("de")


def test_page_counter_css():
    assert pdf.page_counter_css("nl") == '"Pagina " counter(page) " van " counter(pages)'
    assert pdf.page_counter_css("fr") == '"Page " counter(page) " sur " counter(pages)'
    assert pdf.css_string('a"</style>') == '"a\\22 \\3c /style\\3e "'


# --------------------------------------------------------------------------- environment


def test_environment_is_cached_autoescaped_and_translated():
    env = templates.environment("nl")
    assert env is templates.environment("nl")
    assert env.autoescape is True
    out = env.from_string("{% trans %}Methodology{% endtrans %} {{ x }} {{ lang }}").render(x="<b>")
    assert out == "Methodologie &lt;b&gt; nl"


def test_templates_refuse_numbers():
    env = templates.environment("en")
    for value in (3, 2.5):
        with pytest.raises(TemplateError, match="format it with ksz_reports.l10n.numbers"):
            env.from_string("{{ v }}").render(v=value)
    assert env.from_string("{{ v }}").render(v="3") == "3"


def test_missing_context_fails_loudly():
    with pytest.raises(TemplateError):
        templates.environment("nl").from_string("{{ title }}").render()


# --------------------------------------------------------------------------- components

KEY_TABLE = {
    "caption": "Kerncijfers 2021",
    "label_header": "Indicator",
    "columns": ["Gent", "Vlaams Gewest"],
    "rows": [
        {
            "label": "Personen met een leefloon",
            "cells": [
                table_cell(4321, "count", None, "nl"),
                table_cell(None, "count", "suppressed", "nl"),
            ],
            "highlight": True,
        },
        {
            "label": "per 1.000 inwoners",
            "cells": [table_cell(12.35, "rate_per_1000", "unreliable", "nl"), "7,3"],
        },
        {
            "label": "Groei",
            "cells": ["+2,3", table_cell(None, "growth_pct", "not_available", "nl")],
        },
    ],
    "note": "Bron: POD MI",
}


def _render_macro(template: str, macro: str, lang: str, *args) -> str:
    module = templates.environment(lang).get_template(template).module
    return str(getattr(module, macro)(*args))


def test_key_figures_snapshot():
    html = _render_macro("components/key_figures.html.j2", "key_figures", "nl", KEY_TABLE)
    snapshot = SNAPSHOTS / "key_figures_nl.html"
    if os.environ.get("KSZ_UPDATE_SNAPSHOTS"):
        snapshot.write_text(html, encoding="utf-8")
    assert html == snapshot.read_text(encoding="utf-8")


def test_labels_are_escaped():
    evil = '<img src="file:///etc/passwd"><script>alert(1)</script>'
    table = {**KEY_TABLE, "caption": evil, "rows": [{"label": evil, "cells": [evil]}]}
    html = _render_macro("components/key_figures.html.j2", "key_figures", "nl", table)
    assert "<img" not in html and "<script" not in html
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;&lt;script&gt;" in html


def _chart() -> Chart:
    return Chart(
        id="c1",
        title="Leefloon <per> 1.000",
        alt="Alt & text",
        svg='<svg id="c1-svg" role="img"><title id="c1-title">Alt &amp; text</title></svg>\n',
        table=DataTable("Leefloon", ("Periode", "Gent"), (("2020", "12,3"), ("2021", "x"))),
        width_pt=504.0,
        height_pt=200.0,
        png=b"\x89PNG",
    )


def test_chart_figure_component():
    html = _render_macro("components/chart.html.j2", "chart_figure", "fr", _chart(), "POD IS")
    assert '<figure class="chart" id="c1">' in html
    assert "<figcaption>" in html and "Leefloon &lt;per&gt; 1.000" in html
    assert "Source\u00a0: POD IS" in html
    assert '<svg id="c1-svg" role="img">' in html  # inline, trusted chart markup
    assert '<details class="chart-data">' in html and "Tableau des données" in html
    assert '<th scope="row">2021</th>' in html and '<td class="num">x</td>' in html
    png = _render_macro("components/chart.html.j2", "chart_figure", "en", _chart(), "", "png")
    assert '<img src="data:image/png;base64,iVBORw==" alt="Alt &amp; text"' in png
    assert 'width="672" height="267"' in png


def test_base_template_renders_a_whole_report():
    context = {
        "title": "Gent <script>",
        "subtitle": "Leefloon",
        "reference": "Toestand op 31 december 2021",
        "key_table": KEY_TABLE,
        "charts": [_chart()],
        "image": "svg",
        "source": "POD MI",
        "footnotes": flag_footnotes(["suppressed", "unreliable"], "nl", threshold=5),
        "methodology_sections": [{"title": "Definities", "paragraphs": ["Een leefloon is …"]}],
        "colophon": ["Bron: POD MI"],
    }
    html = templates.render_template("example.html.j2", context, "nl")
    assert html.startswith('<!DOCTYPE html>\n<html lang="nl">')
    assert "<title>Gent &lt;script&gt;</title>" in html
    assert "@page" not in html and "string-set" not in html  # paged media: the PDF's only
    assert '<h2 id="footnotes-title">Verklaring van de tekens</h2>' in html
    assert "<dt>x</dt>" in html and "<dt>( )</dt>" in html
    print_css = (i18n.templates_dir() / "print.css").read_text(encoding="utf-8")
    assert "@page :first" in print_css  # the title page has no footer, in the PDF
    assert "Methodologie" in html and "Kerncijfers" in html
    assert "<script>" not in html


def test_key_figures_groups_and_symbol_line():
    """A row without cells heads a group (<tbody>, kept on one page); the symbols the table uses
    are explained under it, in a fixed order, once each."""
    table = {
        "caption": "Leefloon naar kenmerk, 2021",
        "label_header": "",
        "columns": ["Aantal", "Graad Gent"],
        "rows": [
            {"label": "Geslacht", "cells": [], "highlight": True},
            {"label": "Man", "cells": [table_cell(12, "count", None, "nl"), "3,1"]},
            {"label": "Leeftijdsklasse", "cells": [], "highlight": True},
            {
                "label": "18-24 jaar",
                "cells": [
                    table_cell(None, "count", "secondary", "nl"),
                    table_cell(None, "rate_per_1000", "suppressed", "nl"),
                ],
            },
        ],
    }
    html = _render_macro("components/key_figures.html.j2", "key_figures", "nl", table)
    assert html.count('<tbody class="group">') == 2 and "<tbody>" not in html
    assert '<th scope="rowgroup" colspan="3">Geslacht</th>' in html
    assert html.count("<b>x</b>") == 1 and "<b>:</b>" not in html
    assert '<p class="table-note"><span class="symbol-note"><b>x</b>' in html
