"""Indicators (docs/domain.md#denominators-and-rates-per-1000): counts, rates per 1000 (or shares in %), intervals, significance,
growth and index, for municipalities and the aggregates above them.

The input is the cut table of :mod:`ksz_reports.measures.cutoffs` (one value per cell, kept periods only).
Every step keeps masked-at-source cells masked: a sum that uses one is masked, never read as 0,
and it carries the range the source gave (``lower``/``upper``, see :func:`with_ranges`); a sum
that uses an unknown cell (no value, no range) is unknown.
The output is the *measure table*: one row per (indicator, period, geo, breakdown cell) with
``count``, ``population``, ``rate`` and what derives from it. Nothing here decides what is
published; :mod:`ksz_reports.disclosure` does, on this table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pandas as pd

from ksz_reports.core.ages import parse_age_class
from ksz_reports.core.config import Config, Indicator, load_config
from ksz_reports.core.errors import UsageError
from ksz_reports.core.schema import (
    DIMENSIONS,
    TOTAL,
    ByPeriod,
    decoded,
    is_total,
    per_distinct,
    period_end,
    period_kind,
)
from ksz_reports.geo import aggregate as geo_sums
from ksz_reports.geo.geography import Geography
from ksz_reports.measures import statistics as st

MEASURE_COLUMNS = (
    "indicator",
    "period",
    "geo",
    "level",
    *DIMENSIONS,
    "count",
    "lower",
    "upper",
    "population",
    "population_year",
    "per",
    "rate",
    "ci_low",
    "ci_high",
    "benchmark_rate",
    "significance",
    "growth_pct",
    "avg_monthly_growth_pct",
    "unreliable",
    "flag",
)


def population_year(indicator: Indicator, period: str) -> int:
    """Year of the 1 January population used as denominator.

    A stock on a date uses the 1 January that follows it (a 31/12/2021 stock: 1/1/2022); a month,
    a monthly average or the distinct persons of a year use the 1 January of the period's year.
    """
    if indicator.stat == "stock":
        end = period_end(period)
        return end.year + 1 if (end.month, end.day) == (12, 31) else end.year
    return int(period[:4])


RANGE_COLUMNS = ("value", "lower", "upper")


def with_ranges(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with ``lower`` and ``upper`` on every row: the value itself where there is one,
    the range the source gave for a cell it masked (``[0, ∞)``, upper null, without a band), and
    null for an unknown cell. Summed column by column with "one null makes the sum null", the
    three give the sum, the range of a masked sum, and unknown sums (null lower)."""
    out = rows.copy()
    value = out["value"].astype("Float64")
    if "lower" in out.columns:
        lower = out["lower"].astype("Float64")
        upper = (
            out["upper"].astype("Float64")
            if "upper" in out.columns
            else pd.Series(pd.NA, index=out.index, dtype="Float64")
        )
    else:  # a table without ranges: every missing value is masked at the source, [0, ∞)
        lower = value.fillna(0.0)
        upper = value.copy()
    out["lower"] = value.fillna(lower)
    out["upper"] = value.fillna(upper)
    return out


def yearly_average(frame: pd.DataFrame, years: list[int] | None = None) -> pd.DataFrame:
    """Monthly average per year of a monthly measure: the mean of its 12 months.

    A cell is averaged only when all 12 months are present and unmasked; otherwise its value is
    missing (null) — a masked month makes the average masked (its range is the mean of the
    months' ranges), a missing month makes it incomplete.
    """
    if frame.empty:
        return frame
    df = with_ranges(frame)
    df["year"] = df["period"].astype(str).str[:4]
    if years is not None:
        df = df[df["year"].isin([str(y) for y in years])]
    keys = ["indicator", "year", "geo", *DIMENSIONS]
    grouped = df.groupby(keys, observed=True, sort=True)
    size = grouped.size()
    full = grouped["period"].nunique()
    out = pd.DataFrame(index=size.index)
    for col in RANGE_COLUMNS:
        complete = (grouped[col].count() == size) & (full == 12)
        total = grouped[col].sum(min_count=1).astype(float)
        out[col] = np.where(complete, total / 12.0, np.nan)
    out = out.reset_index().rename(columns={"year": "period"})
    return out[["indicator", "period", "geo", *DIMENSIONS, *RANGE_COLUMNS]]


def _denominator_keys(
    cells: pd.DataFrame, indicator: Indicator, denominator_age: str
) -> pd.DataFrame:
    """For each cell: the sex and age class of its denominator population."""
    den = parse_age_class(denominator_age)
    sex = cells["sex"].astype(str) if "sex" in cells else pd.Series(TOTAL, index=cells.index)
    ages = (
        cells["age_class"].astype(str)
        if "age_class" in cells
        else pd.Series(TOTAL, index=cells.index)
    )
    age_of = {}
    for a in ages.unique():
        inter = parse_age_class(a).intersect(den)
        age_of[a] = str(inter) if inter is not None else None
    return pd.DataFrame(
        {"pop_sex": sex.values, "pop_age": ages.map(age_of).values}, index=cells.index
    )


def compute(
    table: pd.DataFrame,
    indicator_id: str,
    geography: Geography,
    *,
    periods: list[str] | None = None,
    breakdowns: Iterable[str] | Mapping[str, Iterable[str]] | None = None,
    denominator: str | None = None,
    levels: tuple[str, ...] = ("municipality", "arrondissement", "province", "region", "country"),
    config: Config | None = None,
) -> pd.DataFrame:
    """The measure table of one indicator on ``geography`` (the reference date's municipalities).

    ``periods``: canonical periods to compute; a year of a monthly measure is its monthly average.
    ``breakdowns``: the periods whose breakdowns are computed (default: every period's); the
    others give their totals only — a yearly average is still the mean of its months'
    breakdowns, but the growth of a breakdown compares with earlier periods among ``breakdowns``
    only (a publication asks for the breakdowns it shows and the months around them that their
    growths need). A mapping gives each of those periods the levels its breakdowns are wanted at
    (the municipalities' breakdowns are still summed into them; the other levels get its totals
    only).
    ``denominator``: a denominator id of the indicator (default: its headline denominator).
    """
    config = config if config is not None else load_config()
    ind = config.indicator(indicator_id)
    den = (
        ind.headline
        if denominator is None
        else next((d for d in ind.denominators if d.id == denominator), None)
    )
    if den is None and (denominator is not None or ind.denominators):
        known = ", ".join(d.id for d in ind.denominators)
        raise UsageError(f"indicator {ind.id!r} has no denominator {denominator!r}; known: {known}")
    rows = table[table["indicator"].astype(str) == ind.id]
    rows = rows[
        [c for c in ("indicator", "period", "geo", *DIMENSIONS, *RANGE_COLUMNS) if c in rows]
    ]
    rows = with_ranges(rows)
    if ind.frequency == "month":
        wanted = set(periods) if periods else None
        month_rows = rows if wanted is None else rows[rows["period"].isin(wanted)]
        years = sorted({p for p in (periods or []) if period_kind(p) == "year"})
        if periods is None:
            years = sorted({str(p)[:4] for p in rows["period"].astype(str)})
        avg = yearly_average(rows, [int(y) for y in years]) if years else rows.iloc[0:0]
        rows = pd.concat([month_rows, avg], ignore_index=True)
    elif periods:
        rows = rows[rows["period"].isin(set(periods))]
    total = None  # the rows without a breakdown, where breakdowns are asked for
    if breakdowns is not None:
        total = is_total(rows, tuple(d for d in DIMENSIONS if d in rows))
        keep = total | rows["period"].isin(set(breakdowns)).to_numpy(dtype=bool)
        rows, total = rows[keep], total[keep]
    if rows.empty:
        return pd.DataFrame(columns=list(MEASURE_COLUMNS))

    cells = _aggregate(geography, rows, total, levels, breakdowns)
    cells, kept_dtypes = _as_codes(cells)
    cells["population_year"] = per_distinct(cells["period"], lambda p: population_year(ind, p))
    if den is None:  # an indicator of your own without a denominator: counts only
        return _counts_only(cells, config, kept_dtypes)
    cells["per"] = den.per

    keys = _denominator_keys(cells, ind, den.age_class)
    cells = pd.concat([cells, keys], axis=1)
    pop = geo_sums.population(
        geography,
        years=sorted(cells["population_year"].unique()),
        sexes=sorted(cells["pop_sex"].unique()),
        age_classes=sorted(a for a in cells["pop_age"].dropna().unique()),
        levels=levels,
    )
    cells = cells.merge(
        pop.rename(
            columns={
                "year": "population_year",
                "sex": "pop_sex",
                "age_class": "pop_age",
                "year_used": "population_year_used",
            }
        ),
        on=["population_year", "geo", "pop_sex", "pop_age"],
        how="left",
    )
    count = cells["value"].astype(float).to_numpy()
    population = cells["population"].astype(float).to_numpy()
    cells["count"] = cells["value"]
    cells["rate"] = st.rate(count, population, den.per)
    s = config.settings.statistics
    low, high = st.rate_interval(count, population, den.per, s.ci_level, s.ci_method)
    cells["ci_low"], cells["ci_high"] = low, high

    # Benchmark: the region (or Belgium) of each area, same period and breakdown cell.
    bench_level = "region" if s.benchmark == "region" else "country"
    key = ["period", *DIMENSIONS]
    bench = cells[cells["level"] == bench_level][[*key, "geo", "rate"]].rename(
        columns={"geo": "benchmark_geo", "rate": "benchmark_rate"}
    )
    cells["benchmark_geo"] = geo_sums.benchmark_of(geography, cells["geo"], bench_level)
    cells = cells.merge(bench, on=[*key, "benchmark_geo"], how="left")
    cells["significance"] = st.significance(
        cells["ci_low"], cells["ci_high"], cells["benchmark_rate"]
    )
    cells.loc[cells["level"].isin([bench_level, "country"]), "significance"] = ""

    # Growth against the previous period of the same kind (year on year; month on month).
    cells["growth_pct"] = np.nan
    cells = _add_growth(cells)
    cells = _add_monthly_growth(cells, config.settings.statistics.growth_window_months)

    r = config.settings.reliability
    cells["unreliable"] = (population < r.min_denominator) | (count < r.min_count)
    cells = _flagged(cells)
    cells.loc[cells["population"].isna() & cells["count"].notna(), "flag"] = "no_population"
    return _measure_rows(cells, kept_dtypes)


def _aggregate(
    geography: Geography,
    rows: pd.DataFrame,
    total: np.ndarray | None,
    levels: tuple[str, ...],
    breakdowns: Iterable[str] | Mapping[str, Iterable[str]] | None,
) -> pd.DataFrame:
    """``rows`` and their sums at ``levels``; with ``breakdowns`` a mapping (period → levels),
    the breakdowns of a period at its levels only — each level is summed from the
    municipalities, so the breakdowns of a month published for the region are never summed
    into arrondissements and provinces to be thrown away. ``total``: the rows without a
    breakdown (given with ``breakdowns``)."""
    if not isinstance(breakdowns, Mapping):
        return geo_sums.aggregate(geography, rows, levels=levels, value_cols=RANGE_COLUMNS)
    periods_at: dict[tuple[str, ...], list[str]] = {}
    for period, wanted in breakdowns.items():
        periods_at.setdefault(tuple(lv for lv in levels if lv in wanted), []).append(period)
    parts = [geo_sums.aggregate(geography, rows[total], levels=levels, value_cols=RANGE_COLUMNS)]
    for at, periods in periods_at.items():
        mine = ~total & rows["period"].isin(periods).to_numpy(dtype=bool)
        if at and mine.any():
            parts.append(
                geo_sums.aggregate(geography, rows[mine], levels=at, value_cols=RANGE_COLUMNS)
            )
    return pd.concat(parts, ignore_index=True)


def _flagged(cells: pd.DataFrame) -> pd.DataFrame:
    """``flag`` of every row without a count (incomplete, masked at the source: not_available,
    or unknown); the source's range kept only on the masked ones."""
    missing = cells["count"].isna().to_numpy()
    masked = missing & cells["lower"].notna().to_numpy()
    cells["flag"] = np.select(
        [cells["incomplete"].to_numpy(dtype=bool), masked, missing],
        ["incomplete", "not_available", "unknown"],
        "",
    )
    cells.loc[~masked, ["lower", "upper"]] = np.nan
    return cells


def _as_codes(cells: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """``cells`` with its key columns as categoricals — the merges and groupings of the
    measures then work on integer codes, not on hundreds of thousands of strings — and the
    dtypes to give them back (:func:`_measure_rows`)."""
    keys = [c for c in ("period", "geo", "level", *DIMENSIONS) if c in cells]
    dtypes = {c: cells[c].dtype for c in keys}
    return cells.astype(dict.fromkeys(keys, "category")), dtypes


def _measure_rows(cells: pd.DataFrame, dtypes: dict) -> pd.DataFrame:
    """The measure table's columns, in its order, its key columns with the ``dtypes`` they had
    before :func:`_as_codes`."""
    out = cells[list(MEASURE_COLUMNS) + ["population_year_used"]]
    out = out.sort_values(["period", "level", "geo", *DIMENSIONS], kind="stable")
    out = out.reset_index(drop=True)
    for c, dtype in dtypes.items():
        if c in out:
            out[c] = decoded(out[c], dtype)
    return out


def _counts_only(cells: pd.DataFrame, config: Config, dtypes: dict) -> pd.DataFrame:
    """The measure rows of an indicator without a denominator: counts, growth, no rate."""
    cells["per"] = np.nan
    cells["population"] = np.nan
    cells["population_year_used"] = np.nan
    cells["count"] = cells["value"]
    for col in ("rate", "ci_low", "ci_high", "benchmark_rate"):
        cells[col] = np.nan
    cells["significance"] = ""
    cells["growth_pct"] = np.nan
    cells = _add_growth(cells)
    cells = _add_monthly_growth(cells, config.settings.statistics.growth_window_months)
    count = cells["count"].astype(float).to_numpy()
    cells["unreliable"] = count < config.settings.reliability.min_count
    return _measure_rows(_flagged(cells), dtypes)


def previous_period(period: str) -> str:
    """The period before ``period`` of the same kind: ``2021`` → ``2020``, ``2021Q1`` → ``2020Q4``,
    ``2021-01`` → ``2020-12``."""
    kind = period_kind(period)
    year = int(period[:4])
    if kind == "year":
        return str(year - 1)
    if kind == "quarter":
        q = int(period[5])
        return f"{year - 1}Q4" if q == 1 else f"{year}Q{q - 1}"
    m = int(period[5:7])
    return f"{year - 1}-12" if m == 1 else f"{year}-{m - 1:02d}"


def window_start(month: str, months: int) -> str:
    """The month ``months`` before ``month`` (``2022-10``, 12 → ``2021-10``): the first month of
    the window of an average monthly growth."""
    index = int(month[:4]) * 12 + int(month[5:7]) - 1 - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _add_monthly_growth(cells: pd.DataFrame, months: int) -> pd.DataFrame:
    """``avg_monthly_growth_pct`` of every month row: the average monthly growth over the
    ``months`` months that end with it (docs/domain.md#growth), from the count of the month
    ``months`` earlier; NaN without it, and for the other periods."""
    cells = cells.copy()
    cells["avg_monthly_growth_pct"] = np.nan
    is_month = per_distinct(cells["period"], period_kind) == "month"
    if not is_month.any():
        return cells
    first = _count_at(cells, lambda p: window_start(p, months) if period_kind(p) == "month" else "")
    count = cells["count"].to_numpy(dtype=np.float64, na_value=np.nan)
    cells.loc[is_month, "avg_monthly_growth_pct"] = st.avg_monthly_growth_pct(
        count[is_month], first[is_month], months
    )
    return cells


def _add_growth(cells: pd.DataFrame) -> pd.DataFrame:
    cells = cells.copy()
    previous = _count_at(cells, previous_period)
    cells["growth_pct"] = st.growth_pct(cells["count"].astype(float), previous)
    return cells


def _count_at(cells: pd.DataFrame, shift: Callable[[str], str]) -> np.ndarray:
    """Per row: the count of the row with the same indicator, area and breakdown at period
    ``shift(period)`` (the one before; the first month of a window), NaN where there is none
    (:class:`~ksz_reports.core.schema.ByPeriod`: no merge on ten key columns)."""
    at = ByPeriod(cells, ("indicator", "geo", *DIMENSIONS)).positions(shift)
    count = cells["count"].to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where(at >= 0, count[at], np.nan)
