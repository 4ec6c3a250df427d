"""Writing one report: HTML, PDF, cells.csv and tables.xlsx of a :class:`~ksz_reports.report.model.ReportModel`.

Every number shown is read from the report's cells (:meth:`ReportModel.cells`), formatted once by
:mod:`ksz_reports.l10n` (Decimal, one rounding rule, Babel) and handed to the templates as text; the
charts and maps are drawn from the same cells and never plot a value that is not published.
The folder ``OUT/NNNNN/`` is replaced as a whole (:func:`ksz_reports.core.atomic.atomic_dir`): a
failed or killed render leaves the previous report intact, never a mix of old and new files.
"""

from __future__ import annotations

import time
from collections import namedtuple
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ksz_reports import __version__, charts, l10n
from ksz_reports.core.atomic import atomic_dir
from ksz_reports.core.cells import CELLS_COLUMNS, write_cells_csv
from ksz_reports.core.config import Config
from ksz_reports.core.schema import DIMENSIONS, TOTAL, period_end
from ksz_reports.core.tables import write_xlsx_frames
from ksz_reports.core.vocabulary import check_formats
from ksz_reports.l10n import NumberStyle, gettext
from ksz_reports.report.methodology import MethodologyText
from ksz_reports.report.model import ReportModel
from ksz_reports.report.pdf import html_to_self_contained, render_pdf
from ksz_reports.report.templates import environment, render_template

SIGNIFICANCE = {"higher": "\u25b2", "lower": "\u25bc"}


Cell = namedtuple("Cell", CELLS_COLUMNS)
Cell.__doc__ = (
    "One published cell, a row of cells.csv: its value is NaN and its flag set when hidden."
)


@dataclass
class Cells:
    """A report's published cells, indexed once: a cell by its key (:meth:`get`) and the cells of
    one table (:meth:`rows`) are dictionary look-ups, not a selection on the frame each time."""

    frame: pd.DataFrame

    def __post_init__(self) -> None:
        self._index: dict[tuple, tuple[float | None, str]] = {}
        self._tables: dict[str, list[Cell]] = {}
        columns = [
            self.frame[c].tolist() for c in CELLS_COLUMNS
        ]  # lists iterate fast, Series don't
        for cell in map(Cell._make, zip(*columns, strict=True)):
            dims = tuple(str(getattr(cell, d)) for d in DIMENSIONS)
            key = (cell.table, cell.indicator, str(cell.period), str(cell.geo), dims, cell.kind)
            self._index[key] = (
                None if pd.isna(cell.value) else float(cell.value),
                str(cell.flag) if cell.flag else "",
            )
            self._tables.setdefault(cell.table, []).append(cell)

    def get(
        self, table: str, indicator: str, period: str, geo: str, kind: str, **dims: str
    ) -> tuple[float | None, str]:
        key = tuple(dims.get(d, TOTAL) for d in DIMENSIONS)
        return self._index.get((table, indicator, period, geo, key, kind), (None, "not_available"))

    def rows(self, table: str, kind: str | None = None) -> list[Cell]:
        """The cells of ``table`` (of ``kind`` only, when given), in the frame's order."""
        rows = self._tables.get(table, [])
        return rows if kind is None else [r for r in rows if r.kind == kind]


def _rate_kind(per: int) -> str:
    return "share_pct" if per == 100 else "rate_per_1000"


def _kind_of(ind) -> str:
    """The kind an indicator is shown as: its headline rate, or its count (no denominator)."""
    return "count" if ind.headline is None else _rate_kind(ind.headline.per)


class ReportRenderer(MethodologyText):
    """Turns a report model into files. One per process; charts and fonts are set up once."""

    def __init__(self, lang: str, config: Config):
        self.lang = lang
        self.config = config
        self.style = NumberStyle.of(config)
        self._ = gettext(lang)

    def _cell(self, value: float | None, kind: str, flag: str) -> l10n.TableCell:
        """A table cell in the report's language and precision."""
        if kind == "count" and value is not None and not float(value).is_integer():
            # a monthly average of persons: shown as a whole number, rounded half-up once
            value = int(l10n.round_half_up(value, 0))
        return l10n.table_cell(value, kind, flag or None, self.lang, style=self.style)

    def warm_up(self, geography=None) -> None:
        """Initialise once what every report needs: WeasyPrint with its fonts and CSS, the
        inlined stylesheets, the compiled template, matplotlib with the chart fonts and (given
        the ``geography`` of the reports) the map of Belgium. The first report of a process then
        costs about what the others cost."""
        if geography is not None:
            charts.prepare(geo=geography)
        render_pdf("<html><body><p>.</p></body></html>")
        html_to_self_contained("<html><head></head><body></body></html>")
        environment(self.lang).get_template("report.html.j2")
        charts.chart_bars([{"category": "a", "value": 1.0}], title="warm-up", lang=self.lang)

    # -- context ----------------------------------------------------------------------------
    def context(self, model: ReportModel, cells: pd.DataFrame) -> dict:
        _ = self._
        lang = self.lang
        geo = model.geography
        c = Cells(cells)
        nis = model.nis
        name = geo.name(nis, lang)
        parents = geo.parents_of(nis)
        level_codes = [
            parents[k]
            for k in ("arrondissement", "province", "region", "country")
            if parents[k] is not None
        ]
        flags = set(cells["flag"].astype(str))

        key_rows = []
        for topic in model.topics:
            ind = topic.indicator
            if ind.id == "ses_position":
                continue
            kind = _kind_of(ind)
            count, cflag = c.get("key_figures", ind.id, topic.period, nis, "count")
            rate, rflag = c.get("key_figures", ind.id, topic.period, nis, kind)
            growth, gflag = c.get("key_figures", ind.id, topic.period, nis, "growth_pct")
            cells_row = [
                self._cell(count, "count", cflag),
                self._cell(rate, kind, rflag),
                self._cell(growth, "growth_pct", gflag),
                self._significance(model, c, ind.id, topic.period, kind),
            ]
            for code in level_codes:
                v, f = c.get("key_figures", ind.id, topic.period, code, kind)
                cells_row.append(self._cell(v, kind, f))
            unit = "" if ind.headline is None else ", %" if ind.headline.per == 100 else ", \u2030"
            key_rows.append(
                {
                    "label": ind.label(lang),
                    "note": f"{l10n.fmt_period(topic.period, lang)}{unit}",
                    "cells": cells_row,
                }
            )
            if topic.month is not None:
                key_rows.append(self._month_key_row(model, c, topic, kind, unit, level_codes))
        key_table = {
            "caption": _("Key figures of %(name)s compared with the levels above it")
            % {"name": name},
            "label_header": _("Indicator"),
            "columns": [
                _("Number"),
                _("Rate"),
                _("Change in %"),
                _("vs. region"),
                *[geo.name(code, lang) for code in level_codes],
            ],
            "column_groups": [
                {"label": name, "span": "4"},
                {"label": _("Rate"), "span": str(len(level_codes))},
            ],
            "rows": key_rows,
            "note": _(
                "Rate per 1000 inhabitants (\u2030) or share in % of the population of the "
                "indicator's denominator. Change: of the number, against the previous year. "
                "\u25b2/\u25bc: significantly higher/lower than the region, =: not significantly "
                "different (95 % interval)."
            )
            + (
                " "
                + _(
                    "A monthly measure has a second row, its latest month; its change is the "
                    "average monthly growth over the last %(months)s months."
                )
                % {"months": self.config.settings.statistics.growth_window_months}
                if any(t.month for t in model.topics)
                else ""
            ),
        }

        topics = []
        for topic in model.topics:
            topics.append(self._topic(model, topic, c, name))
        map_charts = self._maps(model, c)
        scatter, scatter_text, scatter_source = self._scatter(model, c)
        reference = (
            period_end(max(t.period for t in model.topics))
            if model.topics
            else model.geography.valid_from
        )
        ctx = {
            "title": name,
            "kicker": _("Local social report"),
            "subtitle": " \u00b7 ".join(geo.name(code, lang) for code in level_codes[:-1]),
            "reference": _("Situation on %(date)s") % {"date": l10n.fmt_date(reference, lang)},
            "description": _("Social-policy indicators of %(name)s") % {"name": name},
            "created": "",
            "key_table": key_table,
            "topics": topics,
            "maps": map_charts,
            "scatter": scatter,
            "scatter_text": scatter_text,
            "scatter_source": scatter_source,
            "sources": self._sources(model),
            "cut_lines": model.meta.get("cutoffs", []),
            "cut_summary": self._cut_years(model),
            "year_label": self._year_label(),
            "methodology_sections": self._methodology(model),
            "footnotes": l10n.flag_footnotes(
                flags, lang, threshold=self.config.settings.disclosure.threshold
            ),
            "colophon": [
                _(
                    "Sources: KSZ Datawarehouse Arbeidsmarkt en Sociale Bescherming; POD "
                    "Maatschappelijke Integratie, barometer maatschappelijke integratie."
                ),
                _(
                    "Population: Statbel (Algemene Directie Statistiek), population on 1 January. "
                    "Municipal borders: bmesuere/belgium-topojson (CC0)."
                ),
                _(
                    "Produced with ksz_reports %(version)s. Every number in this report is listed in "
                    "cells.csv next to it."
                )
                % {"version": __version__},
            ],
        }
        return ctx

    def _month_key_row(
        self, model: ReportModel, c: Cells, topic, kind: str, unit: str, level_codes: list[str]
    ) -> dict:
        """The key-figures row of a monthly measure's latest month: its count, rate and average
        monthly growth, the comparison with the region, the rates of the levels above."""
        _ = self._
        ind, month, nis = topic.indicator, topic.month, model.nis
        count, cflag = c.get("key_figures", ind.id, month, nis, "count")
        rate, rflag = c.get("key_figures", ind.id, month, nis, kind)
        growth, gflag = c.get("key_figures", ind.id, month, nis, "avg_monthly_growth_pct")
        cells_row = [
            self._cell(count, "count", cflag),
            self._cell(rate, kind, rflag),
            self._cell(growth, "avg_monthly_growth_pct", gflag),
            self._significance(model, c, ind.id, month, kind),
        ]
        for code in level_codes:
            v, f = c.get("key_figures", ind.id, month, code, kind)
            cells_row.append(self._cell(v, kind, f))
        return {
            "label": ind.label(self.lang),
            "note": f"{l10n.fmt_period(month, self.lang)}{unit}, {_('change in % per month')}",
            "cells": cells_row,
        }

    def _month_text(self, model: ReportModel, topic, c: Cells, kind: str) -> str:
        """The sentence on a monthly measure's latest month: its count and rate and the average
        monthly growth over the window (the key figures' cells, formatted)."""
        _ = self._
        ind, month, nis = topic.indicator, topic.month, model.nis
        count, cflag = c.get("key_figures", ind.id, month, nis, "count")
        rate, rflag = c.get("key_figures", ind.id, month, nis, kind)
        growth, gflag = c.get("key_figures", ind.id, month, nis, "avg_monthly_growth_pct")
        values = {
            "month": l10n.fmt_period(month, self.lang),
            "count": self._cell(count, "count", cflag).text,
            "rate": self._cell(rate, kind, rflag).text,
            "unit": "%" if kind == "share_pct" else "\u2030",
            "growth": self._cell(growth, "avg_monthly_growth_pct", gflag).text,
            "months": self.config.settings.statistics.growth_window_months,
        }
        if not l10n.is_shown(cflag or None):
            first = _("%(month)s: the number is not published (%(count)s).") % values
        else:
            first = _("%(month)s: %(count)s persons (%(rate)s %(unit)s).") % values
        if not l10n.is_shown(gflag or None) or growth is None:
            second = (
                _("The average monthly growth over the last %(months)s months is not shown.")
                % values
            )
        else:
            second = (
                _("Average monthly growth over the last %(months)s months: %(growth)s %%.") % values
            )
        return f"{first} {second}"

    def _significance(
        self, model: ReportModel, c: Cells, indicator: str, period: str, kind: str
    ) -> l10n.TableCell:
        """▲/▼ (significantly higher/lower than the region), = (not significantly different), or
        the symbol of the rate that hides the comparison (x, :, …): never a blank cell."""
        _ = self._
        region = model.geography.parents_of(model.nis)["region"]
        for code in (model.nis, region):
            _value, flag = c.get("key_figures", indicator, period, code, kind)
            if not l10n.is_shown(flag or None):
                return l10n.table_cell(None, kind, flag, self.lang, style=self.style)
        kf = model.key_figures
        row = kf[
            (kf["indicator"] == indicator) & (kf["period"] == period) & (kf["geo"] == model.nis)
        ]
        sig = "" if row.empty else str(row["significance"].iloc[0])
        titles = {
            "higher": _("significantly higher than the region"),
            "lower": _("significantly lower than the region"),
        }
        if sig in SIGNIFICANCE:
            return l10n.TableCell(SIGNIFICANCE[sig], title=titles[sig])
        return l10n.TableCell("=", title=_("not significantly different from the region"))

    def _series_chart(self, model: ReportModel, rows, kind: str, title: str, chart_id: str, name):
        """A line chart of ``rows`` (cells of one table): the municipality, its region and
        Belgium over the periods of the rows."""
        geo = model.geography
        region = geo.parents_of(model.nis)["region"]
        data = [
            {
                "series": geo.name(g, self.lang),
                "period": r.period,
                "value": r.value,
                "flag": r.flag or None,
            }
            for g in (model.nis, region, "01000")
            for r in rows
            if r.geo == g
        ]
        return charts.chart_series(
            data,
            title=title,
            lang=self.lang,
            style=self.style,
            kind=kind,
            highlight=name,
            chart_id=chart_id,
        )

    def _topic(self, model: ReportModel, topic, c: Cells, name: str) -> dict:
        _ = self._
        lang = self.lang
        ind = topic.indicator
        geo = model.geography
        nis = model.nis
        kind = _kind_of(ind)
        parents = geo.parents_of(nis)
        charts_out = []
        evo = c.rows(f"{ind.id}_evolution", kind)
        if len({r.period for r in evo}) > 1:
            title = _("%(indicator)s: evolution") % {"indicator": ind.label(lang)}
            charts_out.append(self._series_chart(model, evo, kind, title, f"evo-{ind.id}", name))
        month_text = ""
        monthly = c.rows(f"{ind.id}_months", kind)
        if topic.month is not None and len({r.period for r in monthly}) > 1:
            periods = sorted({r.period for r in monthly})
            title = _("%(indicator)s per month, %(first)s to %(last)s") % {
                "indicator": ind.label(lang),
                "first": l10n.fmt_period(periods[0], lang),
                "last": l10n.fmt_period(periods[-1], lang),
            }
            charts_out.append(
                self._series_chart(model, monthly, kind, title, f"months-{ind.id}", name)
            )
        if topic.month is not None:
            month_text = self._month_text(model, topic, c, kind)
        cmp = c.rows(f"{ind.id}_comparison", kind)
        if cmp:
            order = [(nis, "municipality")]
            neighbours = {r.geo for r in cmp} - {nis} - set(parents.values())
            order += [
                (n, "neighbour")
                for n in sorted(neighbours, key=lambda g: (geo.name(g, lang).casefold(), g))
            ]
            order += [
                (parents[k], k)
                for k in ("arrondissement", "province", "region", "country")
                if parents[k] is not None
            ]
            data = []
            for g, level in order:
                v, f = c.get(f"{ind.id}_comparison", ind.id, topic.period, g, kind)
                data.append(
                    {"label": geo.name(g, lang), "value": v, "flag": f or None, "level": level}
                )
            charts_out.append(
                charts.chart_comparison(
                    data,
                    title=_("%(indicator)s: %(name)s and its neighbours, %(period)s")
                    % {
                        "indicator": ind.label(lang),
                        "name": name,
                        "period": l10n.fmt_period(topic.period, lang),
                    },
                    lang=lang,
                    style=self.style,
                    kind=kind,
                    highlight=name,
                    chart_id=f"cmp-{ind.id}",
                )
            )
        # Breakdown table: every category of every dimension, municipality and region.
        rows = []

        codes = self.config.codes
        for dim in ind.dimensions:
            if ind.id == "ses_position" and dim != "ses_position":
                continue  # all statuses together are the population: 100 % in every group
            table_id = f"{ind.id}_by_{dim}"
            sub = c.rows(table_id)
            if not sub:
                continue
            present = {str(getattr(r, dim)) for r in sub}
            ordered = [code for code in codes.codes_of(dim) if code in present]
            rows.append(
                {"label": codes.dimensions[dim].labels.get(lang), "cells": [], "highlight": True}
            )
            year = int(topic.period[:4])
            for code in ordered:
                count, cf = c.get(table_id, ind.id, topic.period, nis, "count", **{dim: code})
                rate, rf = c.get(table_id, ind.id, topic.period, nis, kind, **{dim: code})
                rrate, rrf = c.get(
                    table_id, ind.id, topic.period, parents["region"], kind, **{dim: code}
                )
                shown = [self._cell(count, "count", cf)]
                if kind != "count":  # counts only: the municipality's and the region's
                    shown.append(self._cell(rate, kind, rf))
                shown.append(self._cell(rrate, kind, rrf))
                rows.append({"label": codes.label(dim, code, lang, year), "cells": shown})
            if dim in ("family_category", "ses_position"):
                data = []
                for code in ordered:
                    for g in (nis, parents["region"]):
                        v, f = c.get(table_id, ind.id, topic.period, g, kind, **{dim: code})
                        data.append(
                            {
                                "category": codes.label(dim, code, lang, year),
                                "value": v,
                                "flag": f or None,
                                "series": geo.name(g, lang),
                            }
                        )
                title = (
                    ind.label(lang)
                    if dim == ind.id
                    else _("%(indicator)s by %(dimension)s")
                    % {
                        "indicator": ind.label(lang),
                        "dimension": codes.dimensions[dim].labels.get(lang).lower(),
                    }
                )
                charts_out.append(
                    charts.chart_bars(
                        data,
                        title=title,
                        lang=lang,
                        style=self.style,
                        kind=kind,
                        highlight=name,
                        chart_id=f"bars-{ind.id}-{dim}",
                    )
                )
        breakdown = None
        if rows:
            breakdown = {
                "caption": _("%(indicator)s by breakdown, %(period)s")
                % {
                    "indicator": ind.label(lang),
                    "period": l10n.fmt_period(topic.period, lang),
                },
                "label_header": "",
                "columns": [
                    _("Number"),
                    _("Rate") + f" {name}",
                    _("Rate") + f" {geo.name(parents['region'], lang)}",
                ]
                if kind != "count"
                else [_("Number"), _("Number") + f" {geo.name(parents['region'], lang)}"],
                "rows": rows,
            }
        den = ind.headline
        if den is None:
            den_text = _("number of persons (no denominator)")
        else:
            den_text = (
                _("per 1000 inhabitants") if den.per == 1000 else _("in % of the inhabitants")
            )
        if den is not None and den.age_class != TOTAL:
            den_text += " " + _("aged %(ages)s") % {"ages": den.age_class}
        return {
            "id": ind.id,
            "title": ind.label(lang),
            "period": l10n.fmt_period(topic.period, lang),
            "denominator": den_text,
            "month_text": month_text,
            "charts": charts_out,
            "breakdown": breakdown,
            # an indicator of the user's --config folder: the generic section says so
            "generic": ind.source == "user",
            "note": _(
                "An indicator of your own, defined in the configuration folder: its counts come "
                "from your files, not from KSZ or POD MI."
            )
            if ind.source == "user"
            else "",
        }

    def _maps(self, model: ReportModel, c: Cells) -> list:
        _ = self._
        lang = self.lang
        geo = model.geography
        out = []
        parents = geo.parents_of(model.nis)

        indicators = self.config.indicators
        for key, frame in model.maps.items():
            ind_id, area = key.rsplit("_", 1)
            ind = indicators[ind_id]
            kind = _kind_of(ind)
            data = [
                {"geo": r.geo, "value": r.value, "flag": r.flag or None}
                for r in c.rows(f"{ind_id}_map_{area}", kind)
            ]
            if not data:
                continue
            code = (parents["province"] or parents["region"]) if area == "province" else None
            period = l10n.fmt_period(frame["period"].iloc[0], lang) if len(frame) else ""
            where = geo.name(code, lang) if code else geo.name("01000", lang)
            out.append(
                charts.map_choropleth(
                    data,
                    title=_("%(indicator)s, %(area)s, %(period)s")
                    % {"indicator": ind.label(lang), "area": where, "period": period},
                    lang=lang,
                    style=self.style,
                    kind=kind,
                    highlight=model.nis,
                    area=code,
                    geography=geo,
                    chart_id=f"map-{ind_id}-{area}",
                )
            )
        return out

    def _scatter(self, model: ReportModel, c: Cells):
        """The scatter plot of all municipalities and the sentences under it (``(chart, text,
        source)``): the leefloon rate against the median income (Statbel, docs/domain.md#income), or against
        the second indicator when there is no income for the leefloon year or before."""
        _ = self._
        lang = self.lang
        rows = c.rows("scatter")
        if not rows:
            return None, [], ""
        info = model.scatter_info or {"x": "increased_reimbursement"}
        ind = self.config.indicators
        y_id = "ll"
        yk = _kind_of(ind[y_id])
        if info["x"] == "income":
            x_id, xk = "income", "income_eur"
        else:
            x_id = "increased_reimbursement"
            xk = _kind_of(ind[x_id])

        def by_geo(ind_id: str, kind: str) -> dict:
            return {
                r.geo: (r.value, r.flag) for r in rows if r.indicator == ind_id and r.kind == kind
            }

        xs, ys = by_geo(x_id, xk), by_geo(y_id, yk)
        geo = model.geography
        data = []
        for g in sorted(set(xs) & set(ys)):
            data.append(
                {
                    "label": geo.name(g, lang),
                    "x": xs[g][0],
                    "y": ys[g][0],
                    "flag_x": xs[g][1] or None,
                    "flag_y": ys[g][1] or None,
                }
            )
        y_label = f"{ind[y_id].label(lang)} ({charts.unit_label(yk, lang)})"
        text: list[str] = []
        source = ""
        if x_id == "income":
            year = str(info["income_year"])
            title = _("%(y)s against the median income of %(year)s, all municipalities") % {
                "y": ind[y_id].label(lang),
                "year": year,
            }
            x_label = _("Median net taxable income per consumption unit, %(year)s (euro)") % {
                "year": year
            }
            source = "Statbel (Algemene Directie Statistiek), TF_SOC_ADI_MUNTY"
            r, _flag = c.get("scatter", "income", year, "01000", "correlation")
            if r is not None:
                text.append(
                    _(
                        "Across all municipalities, the correlation between the median income "
                        "and the leefloon rate is r = %(r)s (Pearson)."
                    )
                    % {"r": l10n.fmt_value(r, "correlation", lang, self.style)}
                )
            name = geo.name(model.nis, lang)
            if info.get("note") == "merged":
                text.append(
                    _(
                        "%(name)s was formed by a merger on %(date)s: Statbel's income of "
                        "%(year)s is that of the former municipalities, and medians cannot be "
                        "added up, so %(name)s has no point in this chart."
                    )
                    % {
                        "name": name,
                        "date": l10n.fmt_date(geo.valid_from, lang),
                        "year": year,
                    }
                )
            elif info.get("note"):
                text.append(
                    _(
                        "Statbel publishes no median income of %(year)s for %(name)s, so it has "
                        "no point in this chart."
                    )
                    % {"name": name, "year": year}
                )
        else:
            title = _("%(y)s against %(x)s, all municipalities") % {
                "y": ind[y_id].label(lang),
                "x": ind[x_id].label(lang),
            }
            x_label = f"{ind[x_id].label(lang)} ({charts.unit_label(xk, lang)})"
        chart = charts.chart_scatter(
            data,
            title=title,
            lang=lang,
            style=self.style,
            highlight=geo.name(model.nis, lang),
            x_kind=xk,
            y_kind=yk,
            x_label=x_label,
            y_label=y_label,
            chart_id="scatter",
        )
        return chart, text, source

    def render(
        self, model: ReportModel, out: Path, formats=("html", "pdf"), timings: dict | None = None
    ) -> list[Path]:
        """Write ``out/NNNNN/`` (replaced as a whole): the requested formats and cells.csv."""
        timings = {} if timings is None else timings
        formats = check_formats(formats)
        t = time.perf_counter()
        cells = model.cells()
        timings["data"] = time.perf_counter() - t
        t = time.perf_counter()
        ctx = self.context(model, cells)
        timings["charts"] = time.perf_counter() - t
        t = time.perf_counter()
        html = render_template("report.html.j2", ctx, self.lang)
        page = html_to_self_contained(html)
        timings["html"] = time.perf_counter() - t
        pdf = None
        if "pdf" in formats:
            t = time.perf_counter()
            pdf = render_pdf(html)
            timings["pdf"] = time.perf_counter() - t
        folder = Path(out) / model.nis
        written = []
        with atomic_dir(folder) as tmp:
            (tmp / "cells.csv").write_bytes(write_cells_csv(cells))
            written.append("cells.csv")
            if "html" in formats:
                (tmp / "report.html").write_text(page, encoding="utf-8")
                written.append("report.html")
            if pdf is not None:
                (tmp / "report.pdf").write_bytes(pdf)
                written.append("report.pdf")
            if "xlsx" in formats:
                write_xlsx(tmp / "tables.xlsx", cells)
                written.append("tables.xlsx")
        return [folder / name for name in written]


def write_xlsx(path: Path, cells: pd.DataFrame) -> None:
    """tables.xlsx: one sheet per report table, the same disclosed cells as cells.csv."""
    write_xlsx_frames(
        path,
        {
            str(table)[:31]: frame.drop(columns=["table"])
            for table, frame in cells.groupby("table", sort=True)
        },
    )
