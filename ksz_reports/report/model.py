"""One report per municipality: what it shows (the model and its published cells) and how it is
written (HTML, PDF, cells.csv, tables.xlsx).

The numbers come from the **publication** (:mod:`ksz_reports.disclosure.publication`): the disclosed
measures of every indicator for the whole geography, decided once. :func:`prepare_publication`
computes it and stores it beside the reports (``OUT/.publication/``); a :class:`ReportBuilder`
loads it once and cuts one report after another from it. Every number a report shows is a row
of its ``cells.csv`` (docs/architecture.md#the-cellscsv-contract): the tables, charts and maps are built from those cells only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from ksz_reports import __version__
from ksz_reports.core.cells import CELL_KEY_COLUMNS, CELLS_COLUMNS
from ksz_reports.core.config import Config, Indicator
from ksz_reports.core.errors import NotFoundError
from ksz_reports.core.fingerprints import templates_hash
from ksz_reports.core.schema import DIMENSIONS, TOTAL, period_kind
from ksz_reports.core.vocabulary import KINDS
from ksz_reports.disclosure.publication import Publication
from ksz_reports.geo import COUNTRY, Geography
from ksz_reports.geo.income import MERGED, income_on, income_year_for, pearson_r

KEY_COLUMNS = list(CELL_KEY_COLUMNS)
# the measure columns a row may show (its ``show``)
SHOWN_MEASURES = (
    "count",
    "population",
    "rate",
    "growth_pct",
    "avg_monthly_growth_pct",
    "ci_low",
    "ci_high",
)


# --------------------------------------------------------------------------------------------
# The model of one report
# --------------------------------------------------------------------------------------------


@dataclass
class Topic:
    """One indicator's section: its tables as cell frames, keyed by table id."""

    indicator: Indicator
    period: str
    tables: dict[str, pd.DataFrame]
    #: a monthly measure's latest published month (its key figures, chart and sentence)
    month: str | None = None


@dataclass
class ReportModel:
    """Everything one report shows, as published cells (no formatting yet)."""

    nis: str
    name: str
    geography: Geography
    key_figures: pd.DataFrame
    topics: list[Topic]
    maps: dict[str, pd.DataFrame]
    scatter: pd.DataFrame | None
    meta: dict
    #: cells of context values (income, docs/domain.md#income), already in the shape of cells.csv
    context: pd.DataFrame | None = None
    #: how the scatter was made: ``x`` (``income`` or the second indicator's id), ``income_year``,
    #: ``note`` of the municipality's income (``""``, ``absent``, ``merged``)
    scatter_info: dict | None = None

    def cells(self) -> pd.DataFrame:
        """Every number the report shows, one row per cell (docs/architecture.md#the-cellscsv-contract)."""
        frames = [self.key_figures]
        for t in self.topics:
            frames += list(t.tables.values())
        frames += list(self.maps.values())
        if self.scatter is not None:
            frames.append(self.scatter)
        cells = to_cells(pd.concat(frames, ignore_index=True))
        if self.context is not None and not self.context.empty:
            cells = pd.concat([cells, self.context[list(CELLS_COLUMNS)]], ignore_index=True)
        return cells


def to_cells(rows: pd.DataFrame) -> pd.DataFrame:
    """Measure rows (with a ``table`` and a ``show`` list of kinds) → one row per shown number.

    The cells of each measure are gathered as positions in ``rows`` (with kind, value and flag),
    and the keys of all of them are taken from ``rows`` at once.
    """
    row_flags = rows["flag"].fillna("").astype(str).to_numpy()
    parts = []
    for measure in SHOWN_MEASURES:
        at = np.flatnonzero([measure in show for show in rows["show"]])
        if len(at):
            parts.append(_measure_cells(rows, measure, at, row_flags))
    positions, kinds, values, flags = (np.concatenate(p) for p in zip(*parts, strict=True))
    cells = rows[KEY_COLUMNS].take(positions).reset_index(drop=True)
    cells["kind"], cells["value"], cells["flag"] = kinds, values, flags
    cells["_k"] = cells["kind"].map({k: i for i, k in enumerate(KINDS)})
    cells = cells.drop_duplicates([*KEY_COLUMNS, "kind"])
    return (
        cells.sort_values([*KEY_COLUMNS, "_k"], kind="stable")
        .drop(columns="_k")[list(CELLS_COLUMNS)]
        .reset_index(drop=True)
    )


def _measure_cells(
    rows: pd.DataFrame, measure: str, at: np.ndarray, row_flags: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The cells of column ``measure`` in the rows at positions ``at``: those positions, the
    cells' kind, value (NaN when flagged) and flag (``not_available`` when the value is missing)."""
    if measure == "rate":
        kind = np.where(rows["per"].to_numpy()[at] == 100, "share_pct", "rate_per_1000")
    else:
        kind = np.full(len(at), measure)
    value = rows[measure].to_numpy()[at]
    # a population keeps none of the row's flags: it is only not_available when missing
    flag = np.full(len(at), "") if measure == "population" else row_flags[at]
    flag = np.where(pd.isna(value) & (flag == ""), "not_available", flag)
    return at, kind, np.where(flag != "", np.nan, value), flag


@dataclass(frozen=True)
class _IndicatorRows:
    """An indicator's rows of the publication, as the reports select from them."""

    period: str  # the reference period: the latest year-kind one (monthly: a complete year)
    years: pd.DataFrame  # all-dimensions totals of the year-kind periods (evolution)
    current: pd.DataFrame  # all-dimensions totals of the reference period, every area
    municipalities: pd.DataFrame  # the same, municipalities only (maps, scatter)
    breakdowns: dict[str, pd.DataFrame]  # per dimension: its rows of the reference period
    months: pd.DataFrame  # all-dimensions totals of the months (a monthly measure), oldest first


def _at(rows: pd.DataFrame, geos) -> pd.DataFrame:
    """The rows of ``rows`` whose geo is one of ``geos``."""
    return rows[rows["geo"].isin(geos)]


def _as_table(rows: pd.DataFrame, table: str, show) -> pd.DataFrame:
    """A copy of ``rows`` as the rows of report table ``table``: ``show`` is the kinds each row
    shows (:func:`to_cells`), a tuple, or a function of the row's geo giving it."""
    out = rows.copy()
    out["table"] = table
    out["show"] = [show(g) for g in out["geo"]] if callable(show) else [show] * len(out)
    return out


class ModelBuilder:
    """Cuts report models from a prepared publication; loads it once (one per batch worker)."""

    def __init__(
        self,
        publication: str | Path | Publication,
        config: Config,
        municipalities: Sequence[str] | None = None,
    ):
        """``municipalities``: the only ones reports will be cut for (an ad-hoc report), so only
        the rows they can show are read (:meth:`_scope_filters`) instead of the whole
        publication; the cells are the same."""
        info = (
            publication if isinstance(publication, Publication) else Publication.load(publication)
        )
        if info is None:
            raise NotFoundError(f"no publication in {publication} (prepare it first)")
        self.info = info
        self.config = config
        self.geography = info.geography
        self.scope = None if municipalities is None else tuple(municipalities)
        self.pub = info.frame(filters=self._scope_filters())
        self._maps: dict[tuple[str, str], dict[str, pd.DataFrame]] = {}

    def _scope_filters(self) -> list | None:
        """The Parquet row filter of :attr:`scope` (None: every row)."""
        if self.scope is None:
            return None
        geos: set[str] = set()
        monthly: set[str] = set()
        for nis in self.scope:
            if not self.geography.is_municipality(nis):
                raise NotFoundError(
                    f"no municipality {nis} on the geography {self.geography.label}"
                )
            geos.update(g for g, _ in self._compare_geos(nis))
            parents = self.geography.parents_of(nis).values()
            monthly.update([nis, COUNTRY, *(code for code in parents if code is not None)])
        totals = [(d, "==", TOTAL) for d in DIMENSIONS]
        kept: dict[str, set[str]] = {}
        for r in self.info.meta.get("cutoff_table") or []:
            if r.get("status") == "kept" and period_kind(str(r["period"])) != "month":
                kept.setdefault(str(r.get("indicator")), set()).add(str(r["period"]))
        if not kept:  # a publication without its cutoff table: every row of the geos
            return [totals, [("geo", "in", sorted(geos))]]
        # every area's totals of each indicator's reference year (maps, scatter, comparisons);
        # every row of the geos compared in the years (evolution, breakdowns); the months
        # (totals only): the municipality and the levels above it (monthly chart, the latest
        # month's key figures)
        years = [("period", "in", sorted(set().union(*kept.values())))]
        years_of = [[p for p in periods if period_kind(p) == "year"] for periods in kept.values()]
        latest = [("period", "in", sorted({max(y) for y in years_of if y}))]
        return [
            [*totals, *latest],
            [("geo", "in", sorted(geos)), *years],
            [*totals, ("geo", "in", sorted(monthly))],
        ]

    @cached_property
    def _broken_down(self) -> np.ndarray:
        """Per row of the publication: ``-1`` an all-dimensions total, ``i ≥ 0`` broken down by
        ``DIMENSIONS[i]`` alone (the others total), ``-2`` by several (computed once)."""
        other = np.column_stack(
            [~(self.pub[d] == TOTAL).to_numpy(dtype=bool, na_value=False) for d in DIMENSIONS]
        )
        n = other.sum(axis=1)
        return np.where(n == 0, -1, np.where(n == 1, other.argmax(axis=1), -2))

    @cached_property
    def _totals(self) -> pd.DataFrame:
        return self.pub[self._broken_down == -1]

    def _breakdowns(self, positions: np.ndarray) -> dict[str, pd.DataFrame]:
        """The rows at ``positions`` broken down by one dimension (the others total), per
        dimension that has any."""
        codes = self._broken_down[positions]
        return {
            dim: self.pub.take(positions[codes == i])
            for i, dim in enumerate(DIMENSIONS)
            if (codes == i).any()
        }

    @cached_property
    def _indicator_rows(self) -> dict[str, _IndicatorRows]:
        """The publication cut once per indicator (a report then selects among a few thousand
        rows instead of the whole publication, 16 times)."""
        totals = dict(tuple(self._totals.groupby("indicator", sort=False, observed=True)))
        positions = self.pub.groupby(["indicator", "period"], sort=False, observed=True).indices
        out = {}
        for ind_id, mine in totals.items():
            kinds = {p: period_kind(p) for p in mine["period"].unique()}
            kind = mine["period"].map(kinds)
            years = mine[(kind == "year").to_numpy()]
            months = mine[(kind == "month").to_numpy()].sort_values("period", kind="stable")
            if years.empty:
                continue
            period = max(years["period"].unique())
            current = mine[mine["period"] == period]
            out[ind_id] = _IndicatorRows(
                period=period,
                years=years,
                current=current,
                municipalities=current[current["level"] == "municipality"],
                breakdowns=self._breakdowns(np.asarray(positions[(ind_id, period)])),
                months=months,
            )
        return out

    def _compare_geos(self, nis: str) -> list[tuple[str, str]]:
        rows = [(nis, "municipality")]
        rows += [(n, "neighbour") for n in self.geography.neighbours(nis)]
        for level, code in self.geography.parents_of(nis).items():
            if code is not None:
                rows.append((code, level))
        return rows

    def model(self, nis: str) -> ReportModel:
        """The report of municipality ``nis`` as published cells."""
        if not self.geography.is_municipality(nis):
            raise NotFoundError(f"no municipality {nis} on the geography {self.geography.label}")
        if self.scope is not None and nis not in self.scope:
            raise ValueError(f"municipality {nis} is outside this builder's scope {self.scope}")
        parents = self.geography.parents_of(nis)
        levels = [nis] + [
            parents[k]
            for k in ("arrondissement", "province", "region", "country")
            if parents[k] is not None
        ]
        compare = [g for g, _ in self._compare_geos(nis)]

        def mine_first(mine: tuple[str, ...], others: tuple[str, ...]):
            return lambda geo: mine if geo == nis else others

        key_rows, topics, maps = [], [], {}
        for ind in self.config.indicators.values():
            rows = self._indicator_rows.get(ind.id)
            if rows is None:
                continue
            # ses_position: the total of all statuses is the population itself, so only the
            # statuses (its breakdowns) are shown
            totals_shown = ind.id != "ses_position"
            # the kind an area is compared on: its rate, or its count (no denominator)
            rate = ("rate",) if ind.headline is not None else ("count",)
            if totals_shown:
                key_rows.append(
                    _as_table(
                        _at(rows.current, levels),
                        "key_figures",
                        mine_first(tuple(dict.fromkeys(("count", *rate, "growth_pct"))), rate),
                    )
                )
            evolution_geos = [nis, parents["region"], COUNTRY] if totals_shown else []
            tables = {
                "evolution": _as_table(_at(rows.years, evolution_geos), f"{ind.id}_evolution", rate)
            }
            for dim in ind.dimensions:
                if dim not in rows.breakdowns:
                    continue
                sel = _at(rows.breakdowns[dim], [nis, parents["region"]])
                if not sel.empty:
                    tables[f"by_{dim}"] = _as_table(
                        sel,
                        f"{ind.id}_by_{dim}",
                        mine_first(tuple(dict.fromkeys(("count", *rate))), rate),
                    )
            tables["comparison"] = _as_table(
                _at(rows.current, compare if totals_shown else []),
                f"{ind.id}_comparison",
                ("rate", "ci_low", "ci_high") if ind.headline is not None else rate,
            )
            month = None
            monthly = ind.frequency == "month" and ind.headline is not None
            if monthly and not rows.months.empty and totals_shown:
                # the latest published month (key figures: count, rate, average monthly growth)
                # and the monthly chart of the last `report.month_chart_months` months
                shown = sorted(rows.months["period"].unique())
                month = shown[-1]
                latest = rows.months[rows.months["period"] == month]
                key_rows.append(
                    _as_table(
                        _at(latest, levels),
                        "key_figures",
                        mine_first(("count", "rate", "avg_monthly_growth_pct"), ("rate",)),
                    )
                )
                window = set(shown[-self.config.settings.report.month_chart_months :])
                last = rows.months[rows.months["period"].isin(window)]
                tables["months"] = _as_table(
                    _at(last, evolution_geos), f"{ind.id}_months", ("rate",)
                )
            topics.append(Topic(ind, rows.period, tables, month))
            if ind.id in self.map_indicators:
                maps.update(self._map_rows(ind.id, parents["province"] or parents["region"]))
        return ReportModel(
            nis=nis,
            name=self.geography.name(nis),
            geography=self.geography,
            key_figures=pd.concat(key_rows, ignore_index=True) if key_rows else pd.DataFrame(),
            topics=topics,
            maps=maps,
            scatter=self._scatter,
            meta=self.info.meta,
            context=self._income_cells,
            scatter_info=self._scatter_info(nis),
        )

    def _map_rows(self, ind_id: str, province: str) -> dict[str, pd.DataFrame]:
        """The rows of an indicator's maps: the province's municipalities, and (for the first
        map indicator) all municipalities of Belgium; the same for every municipality of a
        province (kept)."""
        key = (ind_id, province)
        if key not in self._maps:
            self._maps[key] = self._map_rows_of(ind_id, province)
        return self._maps[key]

    def _map_rows_of(self, ind_id: str, province: str) -> dict[str, pd.DataFrame]:
        munis = self._indicator_rows[ind_id].municipalities
        members = self.geography.members(province)
        out = {
            f"{ind_id}_province": _as_table(
                _at(munis, members), f"{ind_id}_map_province", ("rate",)
            )
        }
        if ind_id == self.map_indicators[0]:
            out[f"{ind_id}_belgium"] = _as_table(munis, f"{ind_id}_map_belgium", ("rate",))
        return out

    @property
    def map_indicators(self) -> tuple[str, ...]:
        return ("ll", "increased_reimbursement")

    @cached_property
    def _income_year(self) -> int | None:
        """The income year of the scatter: the latest ≤ the leefloon year (None: no income, the
        scatter falls back to the second indicator)."""
        rows = self._indicator_rows.get("ll")
        if rows is None:
            return None
        return income_year_for(int(str(rows.period)[:4]))

    @cached_property
    def _income(self) -> pd.DataFrame | None:
        """The income of every municipality of the geography in :attr:`_income_year`."""
        year = self._income_year
        return None if year is None else income_on(self.geography, year)

    @cached_property
    def _income_cells(self) -> pd.DataFrame | None:
        """The scatter's context cells: every municipality's median income (``income_eur``;
        missing → flag ``unknown``, never 0, never suppressed) and Pearson's r of income and the
        published leefloon rate (``correlation``, geo Belgium). The same in every report."""
        inc = self._income
        rows = self._indicator_rows.get("ll")
        if inc is None or rows is None:
            return None
        munis = rows.municipalities
        inc = inc[inc["nis"].isin(set(munis["geo"]))]
        period = str(self._income_year)
        values = inc["median"].to_numpy(dtype=float)
        cells = pd.DataFrame(
            {
                "table": "scatter",
                "indicator": "income",
                "period": period,
                "geo": inc["nis"].to_numpy(),
                **dict.fromkeys(DIMENSIONS, "total"),
                "kind": "income_eur",
                "value": values,
                "flag": np.where(np.isnan(values), "unknown", ""),
            }
        )
        rate = munis.drop_duplicates("geo").set_index("geo")
        shown = rate["flag"].fillna("").astype(str) == ""
        y = rate["rate"].where(shown).reindex(inc["nis"]).to_numpy(dtype=float)
        r = pearson_r(values, y)
        corr = cells.iloc[:1].copy()
        corr["geo"], corr["kind"] = COUNTRY, "correlation"
        corr["value"], corr["flag"] = r, "" if not np.isnan(r) else "unknown"
        return pd.concat([cells, corr], ignore_index=True)

    def _scatter_info(self, nis: str) -> dict:
        if self._income_cells is None:
            return {"x": "increased_reimbursement", "income_year": None, "note": ""}
        mine = self._income.set_index("nis")
        note = str(mine.at[nis, "note"]) if nis in mine.index else "absent"
        return {"x": "income", "income_year": self._income_year, "note": note, "merged": MERGED}

    @cached_property
    def _scatter(self) -> pd.DataFrame | None:
        """Every municipality's rates of the scatter plot (the same in every report): the
        leefloon rate (with income as x, :attr:`_income_cells`), or, without income, the rates
        of the second indicator and the leefloon."""
        if self._income_cells is not None:
            rows = self._indicator_rows["ll"]
            return _as_table(rows.municipalities, "scatter", ("rate",))
        parts = []
        for ind_id in ("increased_reimbursement", "ll"):
            rows = self._indicator_rows.get(ind_id)
            if rows is None:
                return None
            parts.append(_as_table(rows.municipalities, "scatter", ("rate",)))
        return pd.concat(parts, ignore_index=True)

    def cells(self, nis: str) -> pd.DataFrame:
        return self.model(nis).cells()

    def report_hash(self, nis: str, formats=("html", "pdf"), lang: str = "nl") -> str:
        """Hash of everything the report depends on: the publication it is cut from (its cells
        are a function of the publication and ``nis``; the Belgium map and the scatter show every
        municipality, so any change of the publication changes every report), the metadata it
        prints, the config, the templates, the formats, the language and the version. Cheap: no
        report is built to compute it."""
        h = hashlib.sha256()
        h.update(f"{self.info.hash}:{nis}".encode())
        h.update(
            json.dumps(
                {
                    "cutoffs": self.info.cutoffs,
                    "geography": self.geography.id,
                    "sources": self.info.meta.get("sources", []),
                    "config": self.config.hash,
                    "formats": sorted(formats),
                    "lang": lang,
                    "version": __version__,
                },
                sort_keys=True,
                default=str,
            ).encode()
        )
        h.update(templates_hash().encode())
        if self._income_cells is not None:  # an income import changes every report
            h.update(pd.util.hash_pandas_object(self._income_cells, index=False).values.tobytes())
        return h.hexdigest()
