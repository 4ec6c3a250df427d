"""End to end: sample → dataset → publication → report (HTML, PDF, cells.csv) → audit.

To stay fast the dataset is the sample cut to province Limburg (70000, 42 municipalities of the
2019–2024 geography, on which these reports are made: ``--geography 2019``): aggregates above the
province are then incomplete and shown as such, which the report must handle too. One PDF render costs about 10–20 s, so the renders are shared by the tests of this module.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader

from ksz_reports import l10n as formatting
from ksz_reports.core.config import load_config
from ksz_reports.disclosure.publication import prepare_publication
from ksz_reports.report.builder import ReportBuilder

pytestmark = pytest.mark.slow

NIS = "71022"  # Hasselt
PROVINCE = "70000"


@pytest.fixture(scope="module")
def rendered(limburg_data: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    cmd = [
        sys.executable,
        "-m",
        "ksz_reports.cli",
        "report",
        "Hasselt",
        "--data",
        str(limburg_data),
        "--out",
        str(out),
        "--format",
        "html,pdf,xlsx",
        "--geography",
        "2019",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        str(out / NIS / f) for f in ("cells.csv", "report.html", "report.pdf", "tables.xlsx")
    ]
    return out


def _cells(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / NIS / "cells.csv", dtype=str, keep_default_na=False)


def test_cells_csv_has_the_contract_columns(rendered):
    cells = _cells(rendered)
    assert list(cells.columns) == [
        "table",
        "indicator",
        "period",
        "geo",
        "sex",
        "age_class",
        "household_type",
        "origin",
        "nationality_group",
        "ses_position",
        "family_category",
        "kind",
        "value",
        "flag",
    ]
    assert set(cells["kind"]) <= {
        "count",
        "population",
        "rate_per_1000",
        "share_pct",
        "growth_pct",
        "avg_monthly_growth_pct",
        "index",
        "ci_low",
        "ci_high",
        "income_eur",  # context values of the scatter (Statbel income, SPEC §11)
        "correlation",
    }
    hidden = cells[cells["value"] == ""]
    assert (hidden["flag"] != "").all()  # a blank value always says why
    assert {"suppressed", "secondary"} & set(cells["flag"])  # small cells exist in Limburg


def test_pdf_text_has_the_municipality_rates_and_the_suppression_symbol(rendered):
    pdf = PdfReader(rendered / NIS / "report.pdf")
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert "Hasselt" in text
    assert re.search(r"\b\d{1,3},\d\b", text)  # rates with a decimal comma
    cells = _cells(rendered)
    rate = cells[
        (cells["table"] == "key_figures")
        & (cells["indicator"] == "ll")
        & (cells["geo"] == NIS)
        & (cells["kind"] == "rate_per_1000")
    ]["value"].iloc[0]
    assert formatting.fmt_rate(float(rate), "nl") in text
    notes = formatting.flag_footnotes(["suppressed"], "nl", threshold=5)
    assert notes[0].text.split()[0] in text  # the footnote explaining the symbol
    assert " x " in text or "\nx\n" in text or "x\n" in text


def test_pdf_is_tagged_with_our_font_embedded(rendered):
    pdf = PdfReader(rendered / NIS / "report.pdf")
    assert "/StructTreeRoot" in pdf.trailer["/Root"]
    assert pdf.trailer["/Root"].get("/Lang") == "nl"
    fonts = {}
    for page in pdf.pages:
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            fonts[str(font["/BaseFont"])] = descriptor
    # the shipped DejaVu subset (named KSZ-Sans), embedded as TrueType in every font
    assert fonts and all(name.split("+")[1].startswith("KSZ-Sans") for name in fonts)
    assert all("/FontFile2" in d for d in fonts.values())


#: Headings and captions of the report's HTML: a line of the PDF equal to one of them is a heading.
_HEADINGS = re.compile(
    r'<(h2|h3|caption)\b[^>]*>(.*?)</\1>|<span class="chart-title">(.*?)</span>', re.DOTALL
)


def stranded_headings(pdf_path: Path, html: str) -> list[str]:
    """Pages that end with a heading (h2, h3, a table or figure caption) whose content is on the
    next page: the heading is the last line of the page, or only one line of its block follows it
    (the Gent PDF had "Verklaring van de tekens" and an "x" at the foot of a page, the legend on the
    next). The running footer (title, page counter) is not content."""
    headings = set()
    for m in _HEADINGS.finditer(html):
        text = re.sub(r"<[^>]+>", "", m.group(2) or m.group(3) or "")
        text = " ".join(unescape(text).split())
        if text:
            headings.add(text)
    pages = PdfReader(pdf_path).pages
    stranded = []
    for number, page in enumerate(pages[:-1], start=1):
        lines = [" ".join(line.split()) for line in page.extract_text().splitlines()]
        lines = [line for line in lines if line and line != "•"]
        if lines and re.search(r"\b\d+\D+\d+$", lines[-1]) and number > 1:
            lines = lines[:-1]  # the running footer: "<title> Pagina N van M"
        last = max((i for i, line in enumerate(lines) if line in headings), default=None)
        if last is not None and len(lines) - last <= 2:
            stranded.append(f"page {number} ends with {' / '.join(lines[last:])!r}")
    return stranded


def test_no_page_ends_with_a_heading_whose_content_is_on_the_next_page(rendered):
    html = (rendered / NIS / "report.html").read_text(encoding="utf-8")
    assert stranded_headings(rendered / NIS / "report.pdf", html) == []


def test_html_is_self_contained(rendered):
    html = (rendered / NIS / "report.html").read_text(encoding="utf-8")
    assert "Hasselt" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|file:|//)""", html)
    assert "@import" not in html


def test_every_number_in_the_html_tables_is_a_published_cell(rendered):
    html = (rendered / NIS / "report.html").read_text(encoding="utf-8")
    cells = _cells(rendered)
    shown = set()
    for value, kind in zip(cells["value"], cells["kind"], strict=True):
        if value == "":
            continue
        v = float(value)
        if kind in ("count", "population"):
            shown.add(formatting.fmt_count(int(formatting.round_half_up(v, 0)), "nl"))
        else:
            shown.add(formatting.fmt_value(v, kind, "nl"))
    numbers = re.findall(
        r'<td class="num[^"]*">(?:<abbr[^>]*>)?\(?([−+\-]?[\d.]+(?:,\d+)?)\)?<', html
    )
    assert numbers, "no numbers found in the tables"
    missing = sorted({n for n in numbers if n not in shown})
    assert missing == []


def test_tables_xlsx_has_the_same_cells(rendered):
    sheets = pd.read_excel(rendered / NIS / "tables.xlsx", sheet_name=None, dtype=str)
    assert sum(len(s) for s in sheets.values()) == len(_cells(rendered))


def test_audit_of_the_output_is_clean(rendered):
    result = subprocess.run(
        [sys.executable, "-m", "ksz_reports.cli", "audit", str(rendered), "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["ok"] is True


def test_rendering_twice_gives_identical_bytes(rendered, limburg_data, tmp_path):
    info = prepare_publication(limburg_data, rendered, geography="2019")  # reused
    builder = ReportBuilder(info, load_config())
    builder.render(NIS, tmp_path, formats=("html", "pdf"))
    for name in ("report.html", "report.pdf", "cells.csv"):
        assert (tmp_path / NIS / name).read_bytes() == (rendered / NIS / name).read_bytes(), name


def test_a_hostile_label_is_escaped_and_nothing_is_fetched(rendered, tmp_path, monkeypatch):
    builder = ReportBuilder(rendered / ".publication", load_config())
    hostile = '<img src="file:///etc/passwd"><script>alert(1)</script>'
    name = builder.geography.name
    monkeypatch.setattr(
        builder.geography,
        "name",
        lambda code, lang="nl": hostile if code == NIS else name(code, lang),
    )
    builder.render(NIS, tmp_path, formats=("html",))
    html = (tmp_path / NIS / "report.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in html and '<img src="file:///etc/passwd">' not in html
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html or "&lt;img" in html
    from ksz_reports.report.pdf import render_pdf, strict_url_fetcher

    fetcher = strict_url_fetcher()
    render_pdf(
        f"<html><body><p>{hostile}</p><img src='file:///etc/passwd'></body></html>", fetcher=fetcher
    )
    assert any("passwd" in str(b) for b in fetcher.blocked)


def test_api_defaults_to_the_latest_published_period(limburg_data, rendered, tmp_path):
    import ksz_reports
    from ksz_reports.core.config import load_config
    from ksz_reports.core.errors import NotFoundError

    ks = ksz_reports.open(limburg_data)
    assert ks.latest_period("ll") == "2021"  # the latest complete year, not a month
    frame = ks.indicator("ll", level="municipality", geography="2019")
    assert len(frame) == 42 and set(frame["period"]) == {"2021"}
    # months are published (issue 13) unless the settings say otherwise
    month = ks.indicator("ll", period="2021-05", geography="2019")
    assert len(month) == 42 and set(month["period"]) == {"2021-05"}
    off = tmp_path / "no-months"
    off.mkdir()
    (off / "settings.yaml").write_text("publication:\n  months: false\n", encoding="utf-8")
    with pytest.raises(NotFoundError, match="months are not published"):
        ksz_reports.open(limburg_data, config=load_config(off)).indicator(
            "ll", period="2021-05", geography="2019"
        )
    # the API and the report show the same disclosed numbers
    cells = _cells(rendered)
    kf = cells[
        (cells["table"] == "key_figures")
        & (cells["period"] == "2021")
        & (cells["indicator"] == "ll")
        & (cells["geo"] == NIS)
        & (cells["kind"] == "rate_per_1000")
    ]
    row = frame[frame["geo"] == NIS].iloc[0]
    assert float(kf["value"].iloc[0]) == pytest.approx(row["rate"])
