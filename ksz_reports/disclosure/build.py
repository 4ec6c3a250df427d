"""The decision: the measures of a whole publication, after disclosure control.

Suppression is decided **once for the whole publication** — every municipality, every aggregate,
every indicator, breakdown and period that any report shows — so that reports agree with each
other and nothing suppressed in one report can be recomputed from another (``docs/domain.md#secondary-suppression``).
A single ad-hoc report is cut from the same publication as the batch, so it shows the same
numbers. No relation joins two indicators: each indicator's measures are one linked table,
protected on their own (:func:`disclose_indicator`) — in a publication by whichever process is
free while the next indicator's measures are computed (:func:`build_publication`).

:func:`disclose_indicator` is the only gate between :mod:`ksz_reports.measures.indicators` and
any output (API, CLI, reports): counts are protected by :func:`ksz_reports.disclosure.protection.protect`, and
every derived value (rate, interval, significance, growth) of a count that is not published is
blanked with the count's flag.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ksz_reports import disclosure
from ksz_reports.core.config import Config, PublicationSettings
from ksz_reports.core.schema import (
    DIMENSIONS,
    KEY_COLUMNS,
    TOTAL,
    is_total,
    per_distinct,
    period_kind,
)
from ksz_reports.disclosure.context import sum_context
from ksz_reports.disclosure.derived import CountStatus
from ksz_reports.disclosure.helpers import Jobs
from ksz_reports.disclosure.parts import helpers_for
from ksz_reports.geo.codes import COUNTRY, UNKNOWN_LOCATIONS
from ksz_reports.geo.geography import Geography
from ksz_reports.measures.indicators import compute, previous_period, window_start

DERIVED = ("rate", "ci_low", "ci_high", "significance", "growth_pct", "avg_monthly_growth_pct")


def geo_hierarchy(geography: Geography) -> dict[str, list[str]]:
    """Parent → children of ``geography``: arrondissement → municipalities, province →
    arrondissements, region → provinces (Brussels: its arrondissement), Belgium → regions."""
    parent = geography.parent
    frame = pd.DataFrame(
        {
            "nis": list(geography.codes),
            "arrondissement_nis": [parent["arrondissement"][c] for c in geography.codes],
            "province_nis": [parent["province"][c] or "" for c in geography.codes],
            "region_nis": [parent["region"][c] for c in geography.codes],
        }
    )
    return disclosure.default_geo_hierarchy(frame)


def direct_groups(geography: Geography) -> tuple:
    """Region → its municipalities and Belgium → all municipalities, directly: breakdowns are
    published for municipalities and regions only, and an attacker can add municipalities up to
    their region without the levels in between. Where those levels are published too (every
    total), the direct sum is that of the hierarchy's relations and is left out
    (:class:`~ksz_reports.disclosure.linked.GroupRelations` ``implied_by``)."""
    direct: dict[str, list[str]] = {}
    for nis, region in sorted(geography.parent["region"].items()):
        direct.setdefault(region, []).append(nis)
    direct[COUNTRY] = list(geography.codes)
    hierarchy = geo_hierarchy(geography)
    return (disclosure.GroupRelations("geo", direct, kind="geo_direct", implied_by=hierarchy),)


def year_average_relations(indicators, years) -> disclosure.GroupRelations:
    """``12 × yearly average = Σ its 12 months`` for the monthly ``indicators`` in ``years``
    (docs/domain.md#secondary-suppression): one relation per year, cell and indicator whose
    average and 12 months are all present — in the publication and in the audit alike."""
    return disclosure.GroupRelations(
        "period",
        {str(y): [f"{y}-{k:02d}" for k in range(1, 13)] for y in years},
        total_coef=12.0,
        tol=1e-6,
        indicators=frozenset(indicators),
        kind="year_average",
    )


def locality(geos: pd.Series, geography: Geography) -> np.ndarray:
    """Per cell (one row each): its municipality's arrondissement and province as integers, ``-1``
    for an aggregate — the cells near one another, finest first, for the protection's first
    neighbourhoods (:func:`ksz_reports.disclosure.protect`)."""
    names = geos.astype(str)
    columns = []
    for level in ("arrondissement", "province"):
        parent = geography.parent[level]
        index = {a: k for k, a in enumerate(sorted({a for a in parent.values() if a}))}
        of = {nis: index[a] for nis, a in parent.items() if a}
        columns.append(per_distinct(names, lambda g, of=of: of.get(g, -1)).astype(np.int64))
    return np.column_stack(columns)


def geo_relations(geography: Geography) -> tuple[dict[str, list[str]], tuple]:
    """The relations of ``geography`` every indicator's linked table holds: its hierarchy
    (:func:`geo_hierarchy`) and the direct sums (:func:`direct_groups`)."""
    return geo_hierarchy(geography), direct_groups(geography)


def merged_figures(figures: list[dict]) -> dict:
    """The figures of the disclosure of several indicators as those of one run: counts, LP
    solves and seconds (of work) add up, ``rounds`` is the most any indicator needed, ``ok``
    holds when it holds for every one."""
    figures = [f for f in figures if f]
    if not figures:
        return {}
    out = dict(figures[0])
    for f in figures[1:]:
        for key, value in f.items():
            if key in ("threshold", "min_width"):
                continue
            if key == "rounds":
                out[key] = max(out[key], value)
            elif key == "ok":
                out[key] = out[key] and value
            else:
                out[key] = out[key] + value
    out["seconds"] = round(out["seconds"], 3)
    return out


def _joined(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Disclosed frames one after the other, with their figures merged."""
    out = pd.concat(frames, ignore_index=True)
    out.attrs["disclosure"] = merged_figures([f.attrs.get("disclosure", {}) for f in frames])
    return out


def disclose_indicator(
    measures: pd.DataFrame,
    geography: Geography,
    config: Config,
    extra_groups: tuple,
    relations: tuple[dict[str, list[str]], tuple],
) -> pd.DataFrame:
    """The measures of one indicator with every value that may not be published blanked and
    flagged, protected in this process as one linked table (no relation joins two indicators; a
    publication shares its indicators out among processes: :func:`build_publication`).

    ``flag``: ``suppressed`` (primary), ``secondary``, ``not_available`` (masked at source:
    protected like a primary count), ``unknown``, or empty. ``extra_groups``: relations beyond
    the geography's and the breakdowns' (a yearly average = the mean of its months);
    ``relations``: :func:`geo_relations` of ``geography``. The returned frame carries
    ``attrs["disclosure"]`` with the figures of its protection."""
    t0 = time.perf_counter()
    m = measures.copy()
    for c in KEY_COLUMNS:
        m[c] = m[c].astype(str)
    # context cells (plan's context_months): in the relations, unknown to a reader, not published
    context = (
        m.pop("_context").fillna(False).to_numpy(dtype=bool).copy() if "_context" in m else None
    )
    cells = m[list(KEY_COLUMNS)].copy()
    cells["value"] = m["count"].astype("Float64")
    if context is not None:  # their true values keep the relations complete (LinkedTable)
        cells["withheld"] = context
    # Sensitive without a value: a municipality's count masked at the source (the range it gave).
    # An aggregate masked because one of its municipalities is, is no small count itself: its
    # masked parts are protected one by one. Every other missing count (unknown, incomplete) has
    # no range and is not sensitive.
    masked = (
        (m["flag"].astype(str) == disclosure.NOT_AVAILABLE) & (m["level"] == "municipality")
    ).to_numpy()
    if context is not None:
        masked = masked & ~context
    # The range of a masked yearly average was computed from its 12 months' true values and the
    # source's band: not what a reader knows, so it is no a-priori knowledge ([0, ∞)); the
    # relations give an attacker what the published months and the bands imply.
    monthly = [i for i, ind in config.indicators.items() if ind.frequency == "month"]
    average = (m["indicator"].isin(monthly) & (m["period"].str.len() == 4)).to_numpy()
    ranged = masked & ~average
    for col in ("lower", "upper"):
        bound = m[col] if col in m else pd.Series(np.nan, index=m.index)
        cells[col] = bound.astype("Float64").where(ranged, pd.NA)
    cells.loc[masked & cells["lower"].isna().to_numpy(), "lower"] = 0.0
    context_groups: tuple = ()
    if context is not None:  # a reader learns of the context months only through their sums
        cells, context_groups = sum_context(cells, context)
        m = m[~context].reset_index(drop=True)
    located = sorted(set(cells["geo"].unique()) & set(UNKNOWN_LOCATIONS))
    hierarchy, groups = relations
    if located:  # a region = its parts + its unknown location: that relation, for every cell
        cells = _with_unknown_locations(cells, located)
        hierarchy, groups = _located_hierarchy(hierarchy, groups, located)
    table = disclosure.build_linked_table(
        cells, hierarchy, groups=(*groups, *extra_groups, *context_groups)
    )
    settings = config.settings.disclosure
    protection = disclosure.protect(
        table,
        threshold=settings.threshold,
        secondary=settings.secondary,
        locality=locality(table.cells["geo"], geography),
    )
    status_at = CountStatus(table.cells, protection.status.array, m)
    m["status"] = status_at(None)

    # Derived values depend on their own count and, for growth, on the previous period's count.
    own = status_at.blank()  # blank_derived of the rows, on the index already built
    prev_status = status_at(previous_period)
    flag = np.where(m["status"] == disclosure.PUBLISHED, "", m["status"])
    m["flag"] = np.where(m["flag"].astype(str) != "", m["flag"], flag)
    hide = own.notna().to_numpy()
    m.loc[hide, "count"] = np.nan
    for col in ("rate", "ci_low", "ci_high"):
        m.loc[hide, col] = np.nan
    m.loc[hide, "significance"] = ""
    # "unreliable" is derived from the count too (count < min_count): blank it with the count.
    m["unreliable"] = m["unreliable"].astype(object)
    m.loc[hide, "unreliable"] = None
    m.loc[hide | (prev_status != disclosure.PUBLISHED), "growth_pct"] = np.nan
    # The average monthly growth of a month depends on its count and the count that opens the
    # window (docs/domain.md#growth): both must be published.
    if "avg_monthly_growth_pct" in m:
        window = config.settings.statistics.growth_window_months
        first = status_at(lambda p: window_start(p, window) if period_kind(p) == "month" else "")
        gone = hide | (first != disclosure.PUBLISHED)
        m.loc[gone, "avg_monthly_growth_pct"] = np.nan
    m = m.drop(columns=["status"])
    m.attrs["disclosure"] = {**protection.to_dict(), "seconds": round(time.perf_counter() - t0, 3)}
    if located:  # the pseudo-units were protected with the rest; they are never shown
        attrs = m.attrs
        m = m[~m["geo"].isin(located)].reset_index(drop=True)
        m.attrs = attrs
    return m


def _with_unknown_locations(cells: pd.DataFrame, located: list[str]) -> pd.DataFrame:
    """``cells`` with a 0 for every unknown location (pseudo-unit) where its region's (or
    Belgium's) cell exists but it has none: a region's relation then holds for every indicator
    and breakdown (one without unknown locations has none of them: 0 is the truth)."""
    others = [c for c in KEY_COLUMNS if c != "geo"]
    frames = [cells]
    for code in located:
        parent = UNKNOWN_LOCATIONS[code]
        need = cells.loc[cells["geo"] == parent, others].drop_duplicates()
        have = cells.loc[cells["geo"] == code, others].drop_duplicates()
        missing = need.merge(have, how="left", indicator=True)
        missing = missing[missing["_merge"] == "left_only"].drop(columns="_merge")
        if len(missing):
            frames.append(missing.assign(geo=code, value=0.0, lower=pd.NA, upper=pd.NA))
    out = pd.concat(frames, ignore_index=True)
    for col in ("value", "lower", "upper"):
        out[col] = out[col].astype("Float64")
    return out


def _located_hierarchy(
    hierarchy: dict[str, list[str]], groups: tuple, located: list[str]
) -> tuple[dict[str, list[str]], tuple]:
    """The geography's relations with each unknown location as one more part of its region
    (Flanders, Brussels) or of Belgium, next to the provinces and to the municipalities."""
    tree = {p: list(c) for p, c in hierarchy.items()}
    direct = {p: list(c) for p, c in groups[0].groups.items()}
    for code in located:
        parent = UNKNOWN_LOCATIONS[code]
        tree.setdefault(parent, []).append(code)
        direct.setdefault(parent, []).append(code)
        if parent != COUNTRY:
            direct.setdefault(COUNTRY, []).append(code)
    direct_sums = disclosure.GroupRelations("geo", direct, kind="geo_direct", implied_by=tree)
    return tree, (direct_sums, *groups[1:])


def plan(periods_kept: dict[str, list[str]], config: Config) -> dict[str, dict[str, list[str]]]:
    """Which periods of each indicator a publication holds.

    ``periods_kept``: indicator → kept periods (from the cutoff report). Returns indicator →
    ``{"totals": [...], "breakdowns": [...], "months": [...], "month_breakdowns": [...]}``:
    totals of every kept year (a monthly measure's: the monthly average) and, with
    ``publication.months``, of every kept month; one-way breakdowns of the latest
    ``breakdown_periods`` years and of the latest ``month_breakdowns`` months. When that window
    begins inside a year whose breakdowns are published (at a level of both
    ``breakdown_levels`` and ``month_breakdown_levels``), the year's other months are
    ``"context_months"``: not published, but in the disclosure's linked table as unknown cells, so
    that ``12 × average = Σ months`` holds there with the months a reader does not know as free
    unknowns — without them a published average would bound the sum of the published months
    (docs/domain.md#secondary-suppression).
    """
    out = {}
    pub = config.settings.publication
    both_levels = bool(set(pub.breakdown_levels) & set(pub.month_breakdown_levels))
    for indicator, periods in periods_kept.items():
        if indicator not in config.indicators:
            continue
        years = sorted(p for p in periods if period_kind(p) == "year")
        months = sorted(p for p in periods if period_kind(p) == "month") if pub.months else []
        breakdowns = years[-pub.breakdown_periods :]
        month_bd = months[-pub.month_breakdowns :] if pub.month_breakdowns else []
        touched = {m[:4] for m in month_bd} & set(breakdowns) if both_levels else set()
        context = [m for m in months if m[:4] in touched and m not in month_bd]
        out[indicator] = {
            "totals": years,
            "breakdowns": breakdowns,
            "months": months,
            "month_breakdowns": month_bd,
            "context_months": context,
        }
    return out


def _breakdowns_needed(
    p: dict[str, list[str]], window: int, pub: PublicationSettings
) -> dict[str, tuple[str, ...]]:
    """The periods of one indicator's plan (:func:`plan`) whose breakdowns the measures compute,
    each with the levels it needs them at: those published, the context months, and the periods
    the growths of the published ones compare with (the period before; for a month, the first
    month of its average monthly growth's ``window``) — every other period's breakdowns, and a
    month's breakdowns at a level that publishes none, would be computed for nothing."""
    years, months = pub.breakdown_levels, pub.month_breakdown_levels
    needed: dict[str, set[str]] = {}
    for periods, levels in (
        (p["breakdowns"], years),
        ([previous_period(q) for q in p["breakdowns"]], years),
        (p["month_breakdowns"], months),
        ([previous_period(q) for q in p["month_breakdowns"]], months),
        ([window_start(q, window) for q in p["month_breakdowns"]], months),
        (p["context_months"], [lv for lv in years if lv in months]),
    ):
        for q in periods:
            needed.setdefault(q, set()).update(levels)
    return {q: tuple(sorted(levels)) for q, levels in sorted(needed.items())}


def _year_of(periods: pd.Series) -> pd.Series:
    """The year (text) of each period, computed once per distinct period."""
    return pd.Series(per_distinct(periods, lambda p: p[:4]), index=periods.index)


def one_way(frame: pd.DataFrame) -> pd.Series:
    """Rows with at most one dimension broken down (the others ``total``)."""
    broken = np.zeros(len(frame), dtype=np.int64)
    for d in DIMENSIONS:
        broken += (frame[d] != TOTAL).to_numpy(dtype=bool)
    return pd.Series(broken <= 1, index=frame.index)


def build_publication(
    table: pd.DataFrame, periods_kept: dict[str, list[str]], geography: Geography, config: Config
) -> pd.DataFrame:
    """The disclosed measures of every indicator for the whole geography.

    Each indicator's measures are disclosed as soon as they are computed
    (:func:`disclose_indicator`: no relation joins two indicators), by whichever of this process and its helper processes is
    free (``disclosure.processes``, for an input of at least
    :data:`~ksz_reports.disclosure.parts.PARALLEL_MIN_CELLS` one-way rows;
    :class:`~ksz_reports.disclosure.helpers.Jobs`): the helpers disclose while this process
    computes the next indicator, and this process joins them when every indicator is computed.
    The indicators with months — the heaviest disclosures — are computed first; the rows come
    back in the plan's order, as in one process. The frame's
    ``attrs``: ``disclosure``, the figures (:func:`merged_figures`), and ``stage_seconds``, the
    seconds until every measure was computed (``measures``) and those after it until every
    indicator was disclosed (``disclosure``)."""
    t0 = time.perf_counter()
    planned = plan(periods_kept, config)
    rows = table[one_way(table)]
    totals = rows[is_total(rows)]
    processes = config.settings.disclosure.processes
    helpers = helpers_for(len(rows), processes, warm=HELPER_MODULES)
    relations = geo_relations(geography)
    with Jobs(helpers) as jobs:
        submitted = []
        for indicator in sorted(planned, key=lambda i: not planned[i]["months"]):
            p = planned[indicator]
            m = _publication_measures(rows, totals, indicator, p, geography, config)
            if m is None:
                continue
            groups = (year_average_relations([indicator], p["totals"]),) if p["months"] else ()
            jobs.submit(disclose_indicator, m, geography, config, groups, relations)
            submitted.append(indicator)
        t1 = time.perf_counter()
        disclosed = dict(zip(submitted, jobs.results(), strict=True))
    if not disclosed:
        return pd.DataFrame()
    out = _joined([disclosed[i] for i in planned if i in disclosed])
    out.attrs["stage_seconds"] = {
        "measures": round(t1 - t0, 2),
        "disclosure": round(time.perf_counter() - t1, 2),
    }
    return out


#: what a helper of :func:`build_publication` imports while the first measures are computed
HELPER_MODULES = ("ksz_reports.disclosure.build", "ksz_reports.disclosure.complements")


def _publication_measures(
    rows: pd.DataFrame,
    totals: pd.DataFrame,
    indicator: str,
    p: dict[str, list[str]],
    geography: Geography,
    config: Config,
) -> pd.DataFrame | None:
    """The measures of ``indicator`` that its plan ``p`` publishes, with the context months
    (``_context``); None when there are none. ``rows``: the one-way rows of the input,
    ``totals`` those of them that are totals."""
    pub = config.settings.publication
    wanted = p["totals"] + p["months"]
    if not wanted:
        return None
    mine = rows[(rows["indicator"] == indicator).to_numpy(dtype=bool)]
    breakdown_years = {b[:4] for b in p["breakdowns"] + p["month_breakdowns"]}
    breakdown_src = mine[_year_of(mine["period"]).isin(breakdown_years)]
    src = pd.concat(
        [totals[(totals["indicator"] == indicator).to_numpy(dtype=bool)], breakdown_src]
    )
    src = src.drop_duplicates(list(KEY_COLUMNS))
    m = compute(
        src,
        indicator,
        geography,
        periods=wanted,
        breakdowns=_breakdowns_needed(p, config.settings.statistics.growth_window_months, pub),
        config=config,
    )
    if m.empty:
        return None
    total = is_total(m)
    year_level = m["level"].isin(pub.breakdown_levels)
    month_level = m["level"].isin(pub.month_breakdown_levels)
    keep = total | (
        (m["period"].isin(p["breakdowns"]) & year_level)
        | (m["period"].isin(p["month_breakdowns"]) & month_level)
    )
    context = ~total & m["period"].isin(p["context_months"]) & year_level & month_level
    return m[keep | context].assign(_context=context[keep | context].to_numpy())
