"""Rendering benchmark: a simple report (3 charts, 1 table: one A4 page, plus the symbols) as
HTML and PDF.

``run(repeat=5)`` measures, in this process:

- ``cold_*``: the very first report (imports of matplotlib and WeasyPrint, font registration,
  catalog loading, stylesheet parsing, font subsetting) — run this module in a fresh interpreter
  (``python -m bench.render_bench``) for a true cold start;
- then the median of ``repeat`` warm runs of each step: the 3 charts as SVG only and as SVG + PNG,
  the template render, the self-contained HTML, the PDF with the charts as inline SVG, as PNG, and
  the same PDF untagged (``pdf_variant=None``) to show what PDF/UA tagging costs.

Times are wall-clock milliseconds (``*_ms``) and CPU milliseconds of this process (``*_cpu_ms``,
steadier on a shared machine); sizes in bytes.

    python -m bench.render_bench [--repeat N]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import_start = (time.perf_counter(), time.process_time())

from pypdf import PdfReader  # noqa: E402

from ksz_reports import charts  # noqa: E402
from ksz_reports.l10n import flag_footnotes, fmt_date, table_cell  # noqa: E402
from ksz_reports.report import pdf  # noqa: E402
from ksz_reports.report.templates import render_template  # noqa: E402

LANG = "nl"


def _charts(png: bool) -> list[charts.Chart]:
    series = [
        {"series": name, "period": str(year), "value": base + 0.7 * i, "flag": None}
        for name, base in (("Gent", 30.0), ("Vlaams Gewest", 20.0), ("België", 25.0))
        for i, year in enumerate(range(2015, 2022))
    ]
    series[3]["flag"] = "suppressed"
    bars = [
        {"category": c, "value": v, "flag": f}
        for c, v, f in (
            ("18-24", 12.3, None),
            ("25-34", 3.0, "suppressed"),
            ("35-44", 8.25, None),
            ("45-64", 4.05, "unreliable"),
        )
    ]
    comparison = [
        {"label": "Gent", "value": 30.0, "level": "municipality"},
        {"label": "Merelbeke", "value": 12.0, "level": "neighbour"},
        {"label": "Melle", "value": None, "flag": "secondary", "level": "neighbour"},
        {"label": "Destelbergen", "value": 9.4, "level": "neighbour"},
        {"label": "Vlaams Gewest", "value": 15.55, "level": "region"},
    ]
    return [
        charts.chart_series(series, title="Leefloon per 1.000 inwoners", lang=LANG, png=png),
        charts.chart_bars(bars, title="Leefloon naar leeftijd, 2021", lang=LANG, png=png),
        charts.chart_comparison(
            comparison, title="Gent en de buurgemeenten, 2021", lang=LANG, highlight="Gent", png=png
        ),
    ]


def _html(chart_list: list[charts.Chart], image: str) -> str:
    import datetime as dt

    context = {
        "title": "Gent",
        "subtitle": "Leefloon en maatschappelijke integratie",
        "reference": "Toestand op " + fmt_date(dt.date(2021, 12, 31), LANG),
        "key_table": {
            "caption": "Kerncijfers 2021",
            "label_header": "Indicator",
            "columns": ["Gent", "Vlaams Gewest", "België"],
            "rows": [
                {
                    "label": "Personen met een leefloon",
                    "cells": [
                        table_cell(v, "count", f, LANG)
                        for v, f in ((7654, None), (38412, None), (None, "suppressed"))
                    ],
                },
                {
                    "label": "per 1.000 inwoners",
                    "cells": [
                        table_cell(v, "rate_per_1000", None, LANG) for v in (29.05, 5.8, 13.2)
                    ],
                },
            ],
        },
        "charts": chart_list,
        "image": image,
        "source": "POD MI, Statbel",
        "footnotes": flag_footnotes(["suppressed", "unreliable"], LANG, threshold=5),
    }
    return render_template("example.html.j2", context, LANG)


def _time(func: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = func()
    return result, (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def _median(func: Callable[[], Any], repeat: int) -> tuple[Any, float, float]:
    runs = [_time(func) for _ in range(repeat)]
    return (
        runs[-1][0],
        statistics.median(r[1] for r in runs),
        statistics.median(r[2] for r in runs),
    )


def run(repeat: int = 5) -> dict[str, Any]:
    """Measure the steps of a one-page report; see the module docstring for the keys."""
    out: dict[str, Any] = {
        "import_ms": round((time.perf_counter() - import_start[0]) * 1000),
        "import_cpu_ms": round((time.process_time() - import_start[1]) * 1000),
    }

    def whole_report() -> tuple[str, bytes]:
        html = _html(_charts(png=False), "svg")
        return pdf.html_to_self_contained(html), pdf.render_pdf(html)

    _, wall, cpu = _time(whole_report)
    out["cold_report_ms"], out["cold_report_cpu_ms"] = round(wall), round(cpu)

    steps: dict[str, Callable[[], Any]] = {}
    svg_charts = _charts(png=False)
    png_charts = _charts(png=True)
    html_svg = _html(svg_charts, "svg")
    html_png = _html(png_charts, "png")
    steps["charts_svg"] = lambda: _charts(png=False)
    steps["charts_svg_png"] = lambda: _charts(png=True)
    steps["template"] = lambda: _html(svg_charts, "svg")
    steps["self_contained_html"] = lambda: pdf.html_to_self_contained(html_svg)
    steps["pdf_svg_tagged"] = lambda: pdf.render_pdf(html_svg)
    steps["pdf_png_tagged"] = lambda: pdf.render_pdf(html_png)
    steps["pdf_svg_untagged"] = lambda: pdf.render_pdf(html_svg, pdf_variant=None)
    steps["pdf_png_untagged"] = lambda: pdf.render_pdf(html_png, pdf_variant=None)
    results: dict[str, Any] = {}
    for name, step in steps.items():
        results[name], wall, cpu = _median(step, repeat)
        out[f"{name}_ms"], out[f"{name}_cpu_ms"] = round(wall), round(cpu)

    out["warm_report_svg_cpu_ms"] = (
        out["charts_svg_cpu_ms"]
        + out["template_cpu_ms"]
        + out["self_contained_html_cpu_ms"]
        + out["pdf_svg_tagged_cpu_ms"]
    )
    out["first_report_overhead_cpu_ms"] = out["cold_report_cpu_ms"] - out["warm_report_svg_cpu_ms"]
    out["tagging_cost_svg_cpu_ms"] = out["pdf_svg_tagged_cpu_ms"] - out["pdf_svg_untagged_cpu_ms"]
    out["tagging_cost_png_cpu_ms"] = out["pdf_png_tagged_cpu_ms"] - out["pdf_png_untagged_cpu_ms"]
    out["size_html_self_contained"] = len(results["self_contained_html"].encode("utf-8"))
    out["size_html_svg_charts"] = sum(len(c.svg.encode("utf-8")) for c in svg_charts)
    out["size_png_charts"] = sum(len(c.png or b"") for c in png_charts)
    out["size_pdf_svg"] = len(results["pdf_svg_tagged"])
    out["size_pdf_png"] = len(results["pdf_png_tagged"])
    out["pages_pdf_svg"] = len(PdfReader(io.BytesIO(results["pdf_svg_tagged"])).pages)
    out["repeat"] = repeat
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(run(args.repeat), indent=2))


if __name__ == "__main__":
    main()
