"""The Python API for statisticians: tidy DataFrames with the numbers the reports show.

>>> import ksz_reports
>>> ks = ksz_reports.open("data")                                   # a dataset from `ingest`
>>> ks.indicator("ll", period="2020", level="region")               # monthly average 2020
>>> ks.indicator("pension", period="2021", breakdown="sex")         # every municipality, M and F
>>> ks.indicator("ll", period="2017-10", level="country")            # one month
>>> ks.indicator("ll", period="2017-01:2017-12", level="region")     # a range: a tidy series
>>> ks.compare("44021", indicator="ll", with_=["neighbours", "province", "region"])

Every number is read from the dataset's one publication
(:class:`ksz_reports.disclosure.publication.Publication`): after the stability and completeness
cutoffs, with small counts and what could recompute them blanked (a ``flag`` says why). The
publication is made once per dataset, configuration, population and geography and cached in
``DATA/.cache``; the same one serves every call, report and batch.

Geography: today's (the 565 municipalities of 2025) unless ``geography=`` (or the setting
``publication.geography``) says otherwise, e.g. ``geography="2019"`` for the 581 of 2019–2024.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from ksz_reports.core.config import Config, load_config
from ksz_reports.core.errors import NotFoundError, UsageError
from ksz_reports.core.schema import DIMENSIONS, is_total, period_kind
from ksz_reports.core.vocabulary import check_lang, check_level
from ksz_reports.disclosure.publication import (
    Publication,
    find_publication,
    prepare_publication,
    publication_geography,
)
from ksz_reports.geo import COUNTRY, Geography
from ksz_reports.ingest.dataset import open_dataset
from ksz_reports.measures.cutoffs import CutoffReport, apply_cutoffs

TIDY_COLUMNS = [
    "indicator",
    "period",
    "geo",
    "name",
    "level",
    "count",
    "population",
    "rate",
    "per",
    "ci_low",
    "ci_high",
    "significance",
    "growth_pct",
    "unreliable",
    "flag",
]
COMPARE_WITH = ("municipality", "neighbours", "arrondissement", "province", "region", "country")


class KszData:
    """A canonical dataset opened for analysis (see :func:`open`)."""

    def __init__(self, path: str | Path, config: Config | None = None):
        self.path = Path(path)
        self.config = config if config is not None else load_config()
        self.dataset = open_dataset(self.path)
        self._publications: dict[str, Publication] = {}

    # -- the publication ----------------------------------------------------------------------

    def geography(self, geography: Any = None) -> Geography:
        """The geography of ``geography`` (a year such as ``"2019"``, a date, a Geography), by
        default the configured one (today's)."""
        return publication_geography(self.config, geography)

    def income(self, year: int | None = None, geography: Any = None) -> pd.DataFrame:
        """Statbel's median income per municipality (a context variable, docs/domain.md#income) on the
        geography of the reports (default today's: merged municipalities have none): the latest
        income year ≤ ``year`` (default every year). See :func:`ksz_reports.geo.income.income`."""
        from ksz_reports.geo.income import income

        return income(year, at=self.geography(geography))

    def published(self, geography: Any = None) -> Publication:
        """The publication on ``geography`` (made once, then read from the dataset's cache)."""
        geo = self.geography(geography)
        if geo.id not in self._publications:
            self._publications[geo.id] = prepare_publication(self.path, None, self.config, geo)
        return self._publications[geo.id]

    def publication(self, geography: Any = None) -> pd.DataFrame:
        """The disclosed measures of every indicator (one suppression decision for every call,
        report and batch); ``attrs["disclosure"]`` holds the disclosure figures."""
        pub = self.published(geography)
        frame = pub.frame()
        frame.attrs["disclosure"] = pub.disclosure
        return frame

    @cached_property
    def _cut(self) -> tuple[pd.DataFrame, CutoffReport]:
        return apply_cutoffs(self.dataset.frame(), self.config)

    @property
    def table(self) -> pd.DataFrame:
        """The canonical cells kept by the cutoffs (one value per cell). Not disclosure-checked:
        for inspection only, never for publication."""
        return self._cut[0]

    @cached_property
    def cutoffs(self) -> CutoffReport:
        """Per indicator and period: kept, or cut and why (stored with the publication; computed
        from the dataset when no publication is made yet)."""
        geo = self.geography()
        pub = self._publications.get(geo.id) or find_publication(self.path, self.config, geo)
        return pub.cutoff_report() if pub is not None else self._cut[1]

    def periods(self, indicator: str) -> list[str]:
        """The kept periods of an indicator (months and, for monthly measures, complete years)."""
        rows = self.cutoffs.kept
        return sorted(rows.loc[rows["indicator"] == indicator, "period"].astype(str))

    def published_periods(self, indicator: str) -> list[str]:
        """The kept periods the publication holds: years (a monthly measure's complete years as
        monthly averages) and, when ``settings.publication.months`` is on, the months."""
        months = self.config.settings.publication.months
        return [p for p in self.periods(indicator) if months or period_kind(p) != "month"]

    def select_periods(self, indicator: str, period: str | None = None) -> list[str]:
        """The published periods ``period`` names: one period (``2021``, ``2021Q4``,
        ``2017-10``), a range ``first:last`` of one kind (``2017-01:2017-12``: every published
        month in between, oldest first), or None: the latest published period."""
        if period is None:
            return [self.latest_period(indicator)]
        period = str(period).strip()
        if ":" not in period:
            _period_kind(period)
            return [period]
        first, last = (p.strip() for p in period.split(":", 1))
        kind = _period_kind(first)
        if _period_kind(last) != kind or last < first:
            raise UsageError(
                f"period range {period!r}: give two periods of one kind, the first not after the "
                "last (e.g. 2017-01:2017-12)"
            )
        self.config.indicator(indicator)
        published = self.published_periods(indicator)
        wanted = [p for p in published if period_kind(p) == kind and first <= p <= last]
        if not wanted:
            of_kind = [p for p in published if period_kind(p) == kind]
            raise NotFoundError(
                f"no published period of {indicator!r} in {first}:{last}",
                [f"{of_kind[0]}:{of_kind[-1]}"] if of_kind else [],
            )
        return wanted

    def unpublished_in(self, indicator: str, period: str) -> dict[str, str]:
        """For a range ``first:last``: the periods of its kind in between that the publication
        does not hold (cut by the stability or completeness rules), with why (for a note)."""
        if ":" not in str(period):
            return {}
        first, last = (p.strip() for p in str(period).split(":", 1))
        kind = _period_kind(first)
        published = set(self.published_periods(indicator))
        rows = self.cutoffs.rows
        rows = rows[rows["indicator"] == indicator]
        details = rows["detail"] if "detail" in rows else pd.Series("", index=rows.index)
        out = {}
        for p, status, detail in zip(
            rows["period"].astype(str),
            rows["status"].astype(str),
            details.fillna("").astype(str),
            strict=True,
        ):
            if period_kind(p) == kind and first <= p <= last and p not in published:
                out[p] = f"{status}: {detail}" if detail else status
        return dict(sorted(out.items()))

    def latest_period(self, indicator: str, kind: str | None = None) -> str:
        """The latest published period of ``indicator`` of ``kind`` (``year``, ``quarter``,
        ``month``); without ``kind`` its latest year (a monthly measure's latest complete year,
        as the reports' key figures), or its latest period when it has no year."""
        published = self.published_periods(indicator)
        if kind is None and any(period_kind(p) == "year" for p in published):
            kind = "year"
        periods = [p for p in published if kind is None or period_kind(p) == kind]
        if not periods:
            raise NotFoundError(
                f"no kept period for indicator {indicator!r} (see the cutoff report)"
            )
        return periods[-1]

    def measures(
        self, indicator: str, periods: list[str], *, geography: Any = None
    ) -> pd.DataFrame:
        """The disclosed measure table of ``indicator``: every geo level and breakdown cell of
        ``periods`` that the publication holds."""
        self.config.indicator(indicator)
        kept = set(self.published_periods(indicator))
        missing = [p for p in periods if p not in kept]
        if missing:
            status = {p: self.cutoffs.status(indicator, p) for p in missing}
            status = {
                p: "months are not published (settings.yaml publication.months)"
                if s == "kept"
                else s
                for p, s in status.items()
            }
            why = ", ".join(f"{p} ({s or 'no data'})" for p, s in status.items())
            raise NotFoundError(
                f"period not published for {indicator!r}: {why}", [p for p in sorted(kept)[-3:]]
            )
        # only the row groups of this indicator and these periods, not the whole publication
        pub = self.published(geography).frame(
            filters=[("indicator", "==", indicator), ("period", "in", list(periods))]
        )
        return pub[(pub["indicator"] == indicator) & pub["period"].isin(periods)]

    # -- tidy tables ----------------------------------------------------------------------------

    def indicator(
        self,
        indicator: str,
        period: str | None = None,
        level: str = "municipality",
        breakdown: str | None = None,
        *,
        geography: Any = None,
        lang: str = "nl",
    ) -> pd.DataFrame:
        """Tidy table of one indicator for every area of ``level``.

        Columns: indicator, period, geo, name, level, [breakdown], count, population, rate, per,
        ci_low, ci_high, significance, growth_pct, unreliable, flag. ``flag`` is empty for a
        published row, else why a value is blank (``suppressed``, ``secondary``, ``not_available``).
        """
        check_level(level)
        check_lang(lang)
        if breakdown is not None and breakdown not in DIMENSIONS:
            raise UsageError(f"unknown breakdown {breakdown!r}; known: {', '.join(DIMENSIONS)}")
        periods = self.select_periods(indicator, period)
        m = self.measures(indicator, periods, geography=geography)
        m = m[m["level"] == level]
        m = _select_breakdown(m, breakdown)
        if m.empty and breakdown is not None:
            raise NotFoundError(self._no_breakdown(indicator, period, periods, breakdown, level))
        geo = self.geography(geography)
        m = m.assign(name=m["geo"].map(lambda g: geo.name(g, lang)))
        if len(periods) > 1:  # a series: period by period, areas in the publication's order
            m = m.sort_values("period", kind="stable")
        cols = TIDY_COLUMNS[:5] + ([breakdown] if breakdown else []) + TIDY_COLUMNS[5:]
        return m[cols].reset_index(drop=True)

    def _no_breakdown(
        self, indicator: str, period: str | None, periods: list[str], breakdown: str, level: str
    ) -> str:
        """Why ``indicator`` has no ``breakdown`` at ``level`` for ``periods``: the level or the
        periods, and the setting that decides."""
        pub = self.config.settings.publication
        months = any(period_kind(p) == "month" for p in periods)
        levels = pub.month_breakdown_levels if months else pub.breakdown_levels
        if level not in levels and (pub.month_breakdowns or not months):
            setting = "month_breakdown_levels" if months else "breakdown_levels"
            return (
                f"no {breakdown} breakdown of {indicator!r} is published at {level} level; "
                f"{'monthly' if months else 'yearly'} breakdowns are published for "
                f"{', '.join(levels)} (settings.yaml publication.{setting})"
            )
        setting = "month_breakdowns" if months else "breakdown_periods"
        return (
            f"no {breakdown} breakdown of {indicator!r} is published for {period}; "
            f"breakdowns are published for the latest {'months' if months else 'periods'} "
            f"only (settings.yaml publication.{setting})"
        )

    def compare(
        self,
        geo: str,
        indicator: str,
        with_: list[str] | tuple[str, ...] = COMPARE_WITH,
        period: str | None = None,
        *,
        geography: Any = None,
        lang: str = "nl",
    ) -> pd.DataFrame:
        """One municipality next to its neighbours and the levels above it (same disclosed numbers)."""
        check_lang(lang)
        unknown = [w for w in with_ if w not in COMPARE_WITH]
        if unknown:
            raise UsageError(
                f"unknown comparison {unknown[0]!r}; choose from {', '.join(COMPARE_WITH)}"
            )
        period = period or self.latest_period(indicator)
        g = self.geography(geography)
        nis = g.lookup(geo).nis
        m = self.measures(indicator, [period], geography=g)
        m = _select_breakdown(m, None).set_index("geo")
        parents = g.parents_of(nis)
        rows = [(nis, "municipality")]
        for w in with_:
            if w == "neighbours":
                rows += [(n, "neighbour") for n in g.neighbours(nis)]
            elif w in parents and parents[w] is not None:
                rows.append((parents[w], w))
        out = m.loc[[code for code, _ in rows]].reset_index()
        out["role"] = [r for _, r in rows]
        out["name"] = out["geo"].map(lambda code: g.name(code, lang))
        return out[["role", *TIDY_COLUMNS]]


def _period_kind(period: str) -> str:
    try:
        return period_kind(period)
    except ValueError as exc:
        raise UsageError(f"{exc}; a range is first:last, e.g. 2017-01:2017-12") from None


def _select_breakdown(m: pd.DataFrame, breakdown: str | None) -> pd.DataFrame:
    return m[is_total(m, except_=breakdown)]


def open(path: str | Path, config: Config | None = None) -> KszData:  # noqa: A001 - public name
    """Open a dataset folder written by ``ksz-reports ingest`` (or :func:`ksz_reports.ingest`)."""
    return KszData(path, config)


__all__ = ["KszData", "open", "COUNTRY"]
