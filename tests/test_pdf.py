"""PDF/UA output, the strict URL fetcher, reproducible bytes and self-contained HTML.

PDF renders cost about a second each: this module renders four documents.
"""

from __future__ import annotations

import io
import re
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from pypdf import PdfReader

from ksz_reports.charts import chart_bars
from ksz_reports.core.resources import templates_dir
from ksz_reports.l10n import flag_footnotes, table_cell
from ksz_reports.report import pdf
from ksz_reports.report.templates import render_template

EVIL = '<img src="file:///etc/passwd"><script>alert(1)</script>'


def _report(label: str) -> str:
    chart = chart_bars(
        [{"category": "18-24", "value": 12.3}, {"category": "25-34", "flag": "suppressed"}],
        title="Leefloon per leeftijd",
        lang="nl",
        chart_id="bars",
    )
    context = {
        "title": "Gent " + label,
        "subtitle": "Leefloon",
        "key_table": {
            "caption": label,
            "label_header": "Indicator",
            "columns": ["Gent"],
            "rows": [{"label": label, "cells": [table_cell(1234, "count", None, "nl")]}],
        },
        "charts": [chart],
        "image": "svg",
        "source": "POD MI",
        "footnotes": flag_footnotes(["suppressed"], "nl", threshold=5),
    }
    return render_template("example.html.j2", context, "nl")


@pytest.fixture(scope="module")
def report_html() -> str:
    """A report whose labels are markup that must stay text (and must not be fetched)."""
    return _report(EVIL)


@pytest.fixture(scope="module")
def rendered(report_html) -> tuple[bytes, bytes]:
    return pdf.render_pdf(report_html), pdf.render_pdf(report_html)


def _reader(data: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(data))


def test_pdf_is_tagged_accessible_and_has_metadata(rendered):
    reader = _reader(rendered[0])
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root
    assert root["/MarkInfo"]["/Marked"] in (True, "true")
    assert root["/Lang"] == "nl"
    assert root["/ViewerPreferences"]["/DisplayDocTitle"] in (True, "true")
    assert reader.metadata.title == "Gent " + EVIL  # the text, escaped in HTML, not markup
    xmp = root["/Metadata"].get_object().get_data()
    assert b"pdfuaid:part" in xmp or b'pdfuaid:part="1"' in xmp
    assert "/CreationDate" not in reader.metadata  # no clock in the output by default
    page = reader.pages[0]
    assert page.mediabox.width == pytest.approx(595.28, abs=0.1)  # A4 from report.css
    text = page.extract_text()
    assert "Pagina" not in text  # the title page has no running footer
    assert "Kerncijfers" in text and "1.234" in text


def test_pages_after_the_title_page_have_the_translated_footer():
    body = "".join(f"<h2>Deel {i}</h2><p style='break-after: page'>Tekst {i}</p>" for i in range(3))
    html = f'<!DOCTYPE html><html lang="fr"><head><title>T</title></head><body><h1>Liège</h1>{body}</body></html>'
    reader = _reader(pdf.render_pdf(html))
    assert len(reader.pages) == 3
    assert "Page" not in reader.pages[0].extract_text()
    text = reader.pages[1].extract_text()
    assert "Page 2 sur 3" in text and "Liège" in text  # counter and the report title (h1)


def test_pdf_fonts_are_the_shipped_ones_and_embedded(rendered):
    reader = _reader(rendered[0])
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            fonts[str(font["/BaseFont"])] = descriptor
    assert fonts and all(name.split("+")[1].startswith("KSZ-Sans") for name in fonts)
    assert all("/FontFile2" in d for d in fonts.values())


def test_pdf_bytes_are_reproducible(rendered):
    first, second = rendered
    assert first == second


def test_source_date_epoch(report_html, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1640995200")  # 2022-01-01T00:00:00Z
    data = pdf.render_pdf(report_html)
    info = _reader(data).metadata
    assert info["/CreationDate"].startswith("D:20220101000000")
    assert info["/ModDate"] == info["/CreationDate"]


def test_svg_chart_is_a_figure_with_alt_text(rendered):
    raw = rendered[0]
    reader = _reader(raw)
    tree = reader.trailer["/Root"]["/StructTreeRoot"].get_object()
    alts = []

    def walk(node):
        node = node.get_object()
        if isinstance(node, dict) or hasattr(node, "keys"):
            if node.get("/S") == "/Figure":
                alts.append(str(node.get("/Alt", "")))
            kids = node.get("/K", [])
            for kid in kids if isinstance(kids, list) else [kids]:
                if hasattr(kid, "get_object"):
                    walk(kid)

    walk(tree)
    assert any(alt.startswith("Leefloon per leeftijd. Staafdiagram") for alt in alts)


# --------------------------------------------------------------------------- the strict fetcher


class _Counter(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server API
        type(self).requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { color: red }")

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    server = HTTPServer(("127.0.0.1", 0), _Counter)
    _Counter.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_escaped_markup_in_labels_is_text_in_html_and_pdf(report_html, rendered):
    assert "<img" not in report_html and "<script" not in report_html
    assert EVIL.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;") in report_html
    text = _reader(rendered[0]).pages[0].extract_text()
    assert '<img src="file:///etc/passwd">' in text  # shown as text, never fetched


def test_nothing_outside_the_package_is_fetched(http_server, caplog, tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG not really")
    html = f"""<!DOCTYPE html><html lang="en"><head><title>T</title>
    <link rel="stylesheet" href="{http_server}/evil.css"></head><body>
    <img src="file:///etc/passwd" alt="a"><img src="{secret.as_uri()}" alt="b">
    <img src="{http_server}/pixel.png" alt="c">
    <img src="fonts/../../../../../../etc/passwd" alt="d">
    <p style="background: url({http_server}/bg.png)">text</p></body></html>"""
    fetcher = pdf.strict_url_fetcher()
    with caplog.at_level("WARNING", logger="ksz_reports.report.pdf"):
        data = pdf.render_pdf(html, fetcher=fetcher)
    assert data.startswith(b"%PDF")
    assert _Counter.requests == []  # the server never saw a request
    blocked = "\n".join(fetcher.blocked)
    for url in ("file:///etc/passwd", secret.as_uri(), "/evil.css", "/pixel.png", "/bg.png"):
        assert url in blocked
    assert any("blocked a resource" in r.message for r in caplog.records)


def test_fetcher_serves_data_and_package_files_only():
    fetcher = pdf.strict_url_fetcher()
    css = fetcher.fetch((templates_dir() / "report.css").as_uri())
    assert css.read().startswith(b"/* ksz_reports")
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"
    escape = (templates_dir() / "fonts" / ".." / ".." / "setup.cfg").as_uri()
    for url in ("file:///etc/passwd", "https://example.org/x.css", escape, "ftp://h/x"):
        with pytest.raises(pdf.BlockedURLError):
            fetcher.fetch(url)
    assert len(fetcher.blocked) == 4


# --------------------------------------------------------------------------- self-contained HTML


def test_self_contained_html_has_no_external_url(http_server):
    html = (
        _report("Kerncijfers")
        .replace(
            "</head>",
            f'<link rel="stylesheet" href="{http_server}/x.css"><link rel="stylesheet" href="report.css">'
            '<script src="/app.js"></script></head>',
        )
        .replace("<main>", '<main><img src="file:///etc/passwd" alt="x">')
    )
    out = pdf.html_to_self_contained(html)
    for bad in ("http", "file:", 'src="/', "url(fonts/", "<link"):
        assert bad not in out, bad
    assert out.count("data:font/woff2;base64,") == 4  # 2 faces × (head style + inlined link)
    assert re.search(r"<head>\s*<meta charset=\"utf-8\">\s*<style>\n/\* ksz_reports", out)
    assert "<script" not in out
    assert '<svg id="bars-svg"' in out  # charts stay inline
    assert pdf.html_to_self_contained(html) == out  # deterministic


def test_charts_are_handed_to_weasyprint_as_svg_images():
    import base64

    svg = (
        '<svg id="c-svg" class="chart-svg" role="img" width="504pt" height="180pt" '
        'viewBox="0 0 504 180"><title id="c-title">A "quoted" &amp; alt</title><g/></svg>'
    )
    out = pdf.charts_as_images(f"<figure>{svg}</figure>")
    match = re.fullmatch(
        r'<figure><img class="chart-svg" src="data:image/svg\+xml;base64,([^"]+)" '
        r'alt="A &quot;quoted&quot; &amp; alt" width="672" height="240"></figure>',
        out,
    )
    assert match
    standalone = base64.b64decode(match[1]).decode()
    assert standalone.startswith('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink=')
    assert standalone.endswith("<g/></svg>")


def test_chart_is_drawn_with_selectable_text_not_replaced_by_its_alt_text(rendered):
    """A chart whose SVG WeasyPrint cannot read is silently replaced by its alt text: the page
    then shows the alt text and no axis labels."""
    text = _reader(rendered[0]).pages[0].extract_text()
    assert "18-24" in text and "per 1000 inwoners" in text  # the chart's own (real) text
    assert "Staafdiagram" not in text  # the alt text stays in the structure tree only
