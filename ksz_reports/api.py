"""The Python API for statisticians: tidy DataFrames with the numbers the reports show.

>>> import ksz_reports
>>> ks = ksz_reports.open("data")                                   # a dataset from `ingest`
>>> ks.indicator("ll", period="2020", level="region")               # monthly average 2020
>>> ks.indicator("pension", period="2021", breakdown="sex")         # every municipality, M and F
>>> ks.compare("44021", indicator="ll", with_=["neighbours", "province", "region"])

Every number leaves through :func:`ksz_reports.disclosure.protect` first (small counts and what could
recompute them are blanked, with a ``flag`` saying why), after the stability and completeness
cutoffs of :mod:`ksz_reports.measures.cutoffs`.
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from pathlib import Path

import pandas as pd

from ksz_reports.core.config import Config, default_config
from ksz_reports.core.errors import NotFoundError, UsageError
from ksz_reports.core.schema import DIMENSIONS, is_total, period_kind
from ksz_reports.geo.tables import COUNTRY, Geography
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
        from ksz_reports.ingest.dataset import open_dataset

        self.path = Path(path)
        self.config = config or default_config()
        self.dataset = open_dataset(self.path)
        self._publications: dict = {}

    @cached_property
    def _cut(self) -> tuple[pd.DataFrame, CutoffReport]:
        return apply_cutoffs(self.dataset.frame(), self.config)

    @property
    def table(self) -> pd.DataFrame:
        """The canonical cells kept by the cutoffs (one value per cell). Not disclosure-checked:
        for inspection only, never for publication."""
        return self._cut[0]

    @property
    def cutoffs(self) -> CutoffReport:
        """Per indicator and period: kept, or cut and why."""
        return self._cut[1]

    def periods(self, indicator: str) -> list[str]:
        """The kept periods of an indicator (months and, for monthly measures, complete years)."""
        rows = self.cutoffs.kept
        return sorted(rows.loc[rows["indicator"] == indicator, "period"].astype(str))

    def published_periods(self, indicator: str) -> list[str]:
        """The kept periods the publication holds: years (a monthly measure's complete years as
        monthly averages) and, when ``settings.publication.months`` is on, the months."""
        months = self.config.settings.publication.months
        return [p for p in self.periods(indicator) if months or period_kind(p) != "month"]

    def latest_period(self, indicator: str, kind: str | None = None) -> str:
        """The latest published period of ``indicator`` (of ``kind`` if given)."""
        periods = [
            p for p in self.published_periods(indicator) if kind is None or period_kind(p) == kind
        ]
        if not periods:
            raise NotFoundError(
                f"no kept period for indicator {indicator!r} (see the cutoff report)"
            )
        return periods[-1]

    def publication(self, at=None) -> pd.DataFrame:
        """The disclosed measures of every indicator, on the geography of ``at`` (default: the
        reference date of the latest kept period). Computed once per geography and cached: the
        same publication (one suppression decision) serves every call, report and batch."""
        from ksz_reports.disclosure.publication import build_publication

        geography = self.geography(at)
        key = geography.at
        if key not in self._publications:
            cached = self._cache_path(geography)
            if cached.exists():
                pub = pd.read_parquet(cached)
                pub.attrs["disclosure"] = json.loads(cached.with_suffix(".json").read_text())
            else:
                kept = self.cutoffs.kept
                periods = {i: sorted(g["period"].astype(str)) for i, g in kept.groupby("indicator")}
                pub = build_publication(self.table, periods, geography, self.config)
                self._store(cached, pub)
            self._publications[key] = pub
        return self._publications[key]

    def _cache_path(self, geography: Geography) -> Path:
        """Where the publication of this dataset, configuration, population and version is cached
        (inside the dataset folder, which ``ingest`` replaces as a whole)."""
        from ksz_reports import __version__
        from ksz_reports.geo import reference
        from ksz_reports.report.model import dataset_hash

        blob = json.dumps(
            [
                dataset_hash(self.path),
                self.config.hash,
                __version__,
                str(geography.at),
                reference.population_sources(),
            ],
            sort_keys=True,
            default=str,
        )
        digest = hashlib.sha256(blob.encode()).hexdigest()[:20]
        return self.path / ".cache" / f"publication-{digest}.parquet"

    @staticmethod
    def _store(path: Path, pub: pd.DataFrame) -> None:
        from ksz_reports.core.atomic import atomic_path, write_text

        try:
            write_text(
                path.with_suffix(".json"), json.dumps(pub.attrs.get("disclosure", {}), default=str)
            )
            with atomic_path(path) as tmp:  # last: its presence means the cache is complete
                pub.to_parquet(tmp, index=False)
        except OSError:  # a read-only dataset folder: no cache, same numbers
            pass

    def geography(self, at=None) -> Geography:
        """The geography of ``at``; default the reference date of the latest kept period."""
        if at is None:
            kept = self.cutoffs.kept
            at = _reference_date(list(kept["period"].astype(str))) if len(kept) else None
        return Geography(at)

    def measures(self, indicator: str, periods: list[str], *, at=None) -> pd.DataFrame:
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
        pub = self.publication(at)
        return pub[(pub["indicator"] == indicator) & pub["period"].isin(periods)]

    def indicator(
        self,
        indicator: str,
        period: str | None = None,
        level: str = "municipality",
        breakdown: str | None = None,
        *,
        at=None,
        lang: str = "nl",
    ) -> pd.DataFrame:
        """Tidy table of one indicator for every area of ``level``.

        Columns: indicator, period, geo, name, level, [breakdown], count, population, rate, per,
        ci_low, ci_high, significance, growth_pct, unreliable, flag. ``flag`` is empty for a
        published row, else why a value is blank (``suppressed``, ``secondary``, ``not_available``).
        """
        if level not in ("municipality", "arrondissement", "province", "region", "country"):
            raise UsageError(f"unknown level {level!r}")
        if breakdown is not None and breakdown not in DIMENSIONS:
            raise UsageError(f"unknown breakdown {breakdown!r}; known: {', '.join(DIMENSIONS)}")
        period = period or self.latest_period(indicator)
        m = self.measures(indicator, [period], at=at)
        m = m[m["level"] == level]
        m = _select_breakdown(m, breakdown)
        if m.empty and breakdown is not None:
            raise NotFoundError(
                f"no {breakdown} breakdown of {indicator!r} is published for {period}; "
                "breakdowns are published for the latest periods only "
                "(settings.yaml publication.breakdown_periods)"
            )
        geography = self.geography(at)
        m = m.assign(name=m["geo"].map(lambda g: geography.name(g, lang)))
        cols = TIDY_COLUMNS[:5] + ([breakdown] if breakdown else []) + TIDY_COLUMNS[5:]
        return m[cols].reset_index(drop=True)

    def compare(
        self,
        geo: str,
        indicator: str,
        with_: list[str] | tuple[str, ...] = COMPARE_WITH,
        period: str | None = None,
        *,
        at=None,
        lang: str = "nl",
    ) -> pd.DataFrame:
        """One municipality next to its neighbours and the levels above it (same disclosed numbers)."""
        from ksz_reports.geo import reference

        period = period or self.latest_period(indicator)
        geography = self.geography(at)
        nis = reference.lookup(geo, at=geography.at).nis
        unknown = [w for w in with_ if w not in COMPARE_WITH]
        if unknown:
            raise UsageError(
                f"unknown comparison {unknown[0]!r}; choose from {', '.join(COMPARE_WITH)}"
            )
        m = self.measures(indicator, [period], at=at)
        m = _select_breakdown(m, None).set_index("geo")
        parents = geography.parents_of(nis)
        rows = [(nis, "municipality")]
        for w in with_:
            if w == "neighbours":
                rows += [(n, "neighbour") for n in reference.neighbours(nis, at=geography.at)]
            elif w in parents and parents[w] is not None:
                rows.append((parents[w], w))
        out = m.loc[[g for g, _ in rows]].reset_index()
        out["role"] = [r for _, r in rows]
        out["name"] = out["geo"].map(lambda g: geography.name(g, lang))
        return out[["role", *TIDY_COLUMNS]]


def _select_breakdown(m: pd.DataFrame, breakdown: str | None) -> pd.DataFrame:
    return m[is_total(m, except_=breakdown)]


def _reference_date(periods: list[str]):
    from ksz_reports.core.schema import period_end

    return max(period_end(p) for p in periods)


def open(path: str | Path, config: Config | None = None) -> KszData:  # noqa: A001 - public name
    """Open a dataset folder written by ``ksz-reports ingest`` (or :func:`ksz_reports.ingest`)."""
    return KszData(path, config)


__all__ = ["KszData", "open", "COUNTRY"]
