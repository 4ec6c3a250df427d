"""The report's texts about itself: its sources with their extraction dates, what the cutoffs left
out, the year-label convention and the methodology sections (definitions, stability, protection,
mergers, sources), in the report's language. A mixin of
:class:`~ksz_reports.report.write.ReportRenderer`, which provides ``lang`` and ``config``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ksz_reports import l10n
from ksz_reports.core.config import Config
from ksz_reports.core.schema import period_kind
from ksz_reports.l10n import gettext
from ksz_reports.report.model import ReportModel


class MethodologyText:
    """Texts of the title page and the methodology, from the model's metadata and the config."""

    lang: str
    config: Config

    def _sources(self, model: ReportModel) -> list[str]:
        _ = gettext(self.lang)
        out = []
        for src in model.meta.get("sources", []):
            name = Path(str(src.get("name") or src.get("path", ""))).name
            vintages = src.get("vintage") or []
            vintages = [vintages] if isinstance(vintages, str) else vintages
            dates = ", ".join(
                l10n.fmt_date(dt.date.fromisoformat(str(v)[:10]), self.lang) for v in vintages
            )
            out.append(_("%(file)s, extracted %(date)s") % {"file": name, "date": dates or "?"})
        return out

    def _cut_summary(self, model: ReportModel) -> list[str]:
        """What the cutoffs left out, one translated line per indicator, e.g. "Leefloon (LL):
        2022 (incomplete: …); November 2022 (still being revised); December 2022 (not final yet)"."""
        _ = gettext(self.lang)

        indicators = self.config.indicators
        reasons = {
            "incomplete_months": _("incomplete: not all its months are final"),
            "incomplete": _("incomplete: not every municipality has data"),
            "unstable_lag": _("not final yet"),
            "unstable_revision": _("still being revised"),
        }
        cut: dict[str, list[dict]] = {}
        for r in model.meta.get("cutoff_table", []):
            if r.get("status") != "kept":
                cut.setdefault(str(r["indicator"]), []).append(r)
        lines = []
        for ind_id, rows in cut.items():
            label = indicators[ind_id].label(self.lang) if ind_id in indicators else ind_id
            parts = [
                f"{l10n.fmt_period(str(r['period']), self.lang)} "
                f"({reasons.get(str(r['status']), str(r['status']))})"
                for r in sorted(rows, key=lambda r: str(r["period"]))
            ]
            lines.append(f"{label}: " + "; ".join(parts))
        return sorted(lines, key=str.casefold)

    def _cut_years(self, model: ReportModel) -> list[str]:
        """For the title page: each year left out, with the indicators concerned, e.g.
        "2022: Leefloon (LL), Recht op maatschappelijke hulp (RMH)"."""

        indicators = self.config.indicators
        years: dict[str, list[str]] = {}
        for r in model.meta.get("cutoff_table", []):
            period = str(r["period"])
            if r.get("status") != "kept" and period_kind(period) == "year":
                ind_id = str(r["indicator"])
                label = indicators[ind_id].label(self.lang) if ind_id in indicators else ind_id
                years.setdefault(period, []).append(label)
        return [
            f"{l10n.fmt_period(year, self.lang)}: "
            + ", ".join(sorted(set(labels), key=str.casefold))
            for year, labels in sorted(years.items())
        ]

    def _year_label(self) -> str:

        _ = gettext(self.lang)
        if self.config.settings.report.year_label == "reference_year":
            return _(
                "Years are labelled by their reference date: a stock on 31 December 2021 is "
                "shown as 2021 (other producers label it 2022, after 1 January)."
            )
        return _("A stock on 31 December is labelled with the following year (1 January).")

    def _methodology(self, model: ReportModel) -> list[dict]:
        _ = gettext(self.lang)

        cfg = self.config
        threshold = cfg.settings.disclosure.threshold
        cut = self._cut_summary(model)
        return [
            {
                "title": _("Definitions and denominators"),
                "paragraphs": [
                    _(
                        "A rate is 1000 times the number of persons divided by the population of the "
                        "same municipality, period, sex and age group on 1 January (for a stock on 31 "
                        "December: the 1 January that follows; for a monthly figure or a monthly "
                        "average: the 1 January of that year). Shares are in %."
                    ),
                    _(
                        "A yearly figure of the POD MI barometer is the monthly average of the 12 months; "
                        "the number of distinct persons in the year is a separate indicator."
                    ),
                    _(
                        "The monthly charts show the last %(chart)s final months. The average monthly "
                        "growth of a month is ((number in that month / number %(months)s months "
                        "earlier) ^ (1 / %(months)s) - 1) x 100: the constant monthly change in %% that "
                        "leads from the first number to the last; it is not shown when either number "
                        "is hidden or the first is 0."
                    )
                    % {
                        "chart": cfg.settings.report.month_chart_months,
                        "months": cfg.settings.statistics.growth_window_months,
                    },
                    self._year_label(),
                ],
            },
            {
                "title": _("Stability and completeness"),
                "paragraphs": [
                    _(
                        "A period is shown only when it is final (its end plus the indicator's reporting "
                        "lag lies before the extraction date, and it moved less than the revision limit "
                        "between the last two extractions) and complete (every municipality has data; "
                        "a yearly average needs all 12 months)."
                    ),
                    *([] if cut else [_("No period was cut.")]),
                ],
                "entries": cut,
            },
            {
                "title": _("Protection of small numbers"),
                "paragraphs": [
                    _(
                        "Numbers of 1 to %(t)s persons are not published (shown as x), and neither are "
                        "the rates, shares and changes derived from them. Zero is published."
                    )
                    % {"t": threshold - 1},
                    _(
                        "So that no hidden number can be recomputed from the totals of a table, from the "
                        "other municipalities of the arrondissement, province or region, or from another "
                        "report, further numbers are hidden as well (secondary suppression). The choice is "
                        "made once for all municipalities, with the least loss of information, and "
                        "verified by linear programming: for every hidden number the range an attacker "
                        "can derive from all published numbers is at least %(t)s wide."
                    )
                    % {"t": threshold},
                    _(
                        "A number the source itself does not publish because it is small (masked at "
                        "the source, shown as :) is protected in the same way: it cannot be recomputed "
                        "from the totals or the other categories either. A number the source does not "
                        "give for another reason (unknown, shown as ?) or a period that is not final or "
                        "not complete (shown as …) is not a small number and needs no protection."
                    ),
                    _("Published totals are the true totals; a hidden number is never shown as 0."),
                ],
            },
            {
                "title": _("Municipal mergers"),
                "paragraphs": [
                    _("Geography: %(geography)s.")
                    % {"geography": l10n.fmt_geography(model.geography, self.lang)},
                    _(
                        "Series are shown on the municipalities of this geography. Numbers of earlier "
                        "periods are summed over the former municipalities before protection; rates are "
                        "recomputed, never summed."
                    ),
                ],
            },
            {
                "title": _("Sources"),
                "paragraphs": [
                    _(
                        "KSZ/BCSS Datawarehouse Arbeidsmarkt en Sociale Bescherming (local figures of "
                        "Statistiek Vlaanderen and VVSG); POD Maatschappelijke Integratie, barometer "
                        "maatschappelijke integratie."
                    ),
                    _(
                        "Population: Statbel (Algemene Directie Statistiek), population on 1 January, "
                        "updated 16/06/2022; REFNIS 2019. Municipal borders: bmesuere/belgium-topojson (CC0)."
                    ),
                    *(
                        [
                            _(
                                "Income: Statbel (Algemene Directie Statistiek), TF_SOC_ADI_MUNTY, "
                                "median net taxable income per consumption unit, %(year)s; a "
                                "context figure, never added up over municipalities nor protected."
                            )
                            % {"year": str(model.scatter_info["income_year"])}
                        ]
                        if (model.scatter_info or {}).get("x") == "income"
                        else []
                    ),
                ],
                "entries": self._sources(model),
            },
        ]

    # -- files ------------------------------------------------------------------------------
