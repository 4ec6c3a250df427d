"""Counts on a geography: predecessors summed onto it, municipalities summed into the units above
them, and the population of every area (``docs/domain.md#geography``, ``docs/domain.md#denominators-and-rates-per-1000``).

- Aggregates (arrondissement, province, region, Belgium ``01000``) are computed from
  municipalities, never read. Brussels has no province: its municipalities roll up
  arrondissement → region.
- Counts of predecessors (the mergers of 1 January 2019 and 1 January 2025, matched on NIS
  codes) are summed *before* anything else; a masked predecessor makes the merged count masked.
- An aggregate is the sum over *all* its municipalities, or it is not available (``incomplete``):
  a partial export never publishes a partial sum under the region's name.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ksz_reports.core.schema import DIMENSIONS, decoded, row_codes
from ksz_reports.core.vocabulary import LEVELS
from ksz_reports.geo import denominators as pop
from ksz_reports.geo.codes import COUNTRY, UNKNOWN_LOCATIONS
from ksz_reports.geo.geography import Geography

#: The column :func:`aggregate` gives every row while it sums: one integer per distinct
#: combination of the key columns other than ``geo`` (:func:`_group_ids`), so that each level's
#: groups are those of two integer columns, not of every key column again.
_OTHERS = "_others"


def to_current(
    geography: Geography, frame: pd.DataFrame, value_cols: tuple[str, ...] = ("value",)
) -> pd.DataFrame:
    """Map predecessor codes to ``geography`` and sum them (masked stays masked).

    A merged municipality is the sum of *all* its predecessors of one earlier geography: when a
    cell gives only some of them, the merged cell is not available and ``_incomplete`` is set on
    its row (the column is added when any row is incomplete)."""
    df = frame.copy()
    successors = geography.successors
    original = df["geo"].astype(str)
    df["geo"] = _recoded(original, lambda g: successors.get(g, g))
    keys = [c for c in df.columns if c not in value_cols]
    group, first = _group_ids(df, _compact(keys))
    out = _masked_sum(df, keys, value_cols, groups=(group, first))
    merged = {
        t for t, groups in geography.predecessor_sets.items() if len(min(groups, key=len)) > 1
    }
    touched = df["geo"].isin(merged).to_numpy()
    if not touched.any():
        return out
    short = ~_complete(
        geography.predecessor_sets,
        df["geo"].to_numpy()[touched],
        original.to_numpy()[touched],
        group[touched],
        len(first),
    )
    for col in value_cols:
        out.loc[short, col] = pd.NA
    out["_incomplete"] = short
    return out


def _complete(
    predecessor_sets: dict[str, set[frozenset[str]]],
    merged: np.ndarray,
    codes: np.ndarray,
    group: np.ndarray,
    n_groups: int,
) -> np.ndarray:
    """Per group of :func:`to_current`: whether the codes its rows were given under (``codes``;
    ``merged``: the merged municipality each row is summed into, ``group`` its group) are one
    of the sets that form that municipality — one bit per code, or'ed per group (other groups:
    complete)."""
    complete = np.ones(n_groups, dtype=bool)
    for target in pd.unique(merged):
        rows = merged == target
        sets = predecessor_sets[target]
        universe = sorted(set().union(*sets) | set(pd.unique(codes[rows])))
        bit = {c: k for k, c in enumerate(universe)}
        words = (len(universe) + 61) // 62  # 62 codes per int64
        pos = pd.Series(codes[rows]).map(bit).to_numpy()
        mask = np.zeros((n_groups, words), dtype=np.int64)
        np.bitwise_or.at(mask, (group[rows], pos // 62), np.left_shift(1, pos % 62))
        wanted = np.zeros((len(sets), words), dtype=np.int64)
        for k, members in enumerate(sets):
            at = np.array([bit[c] for c in members])
            np.bitwise_or.at(wanted[k], at // 62, np.left_shift(1, at % 62))
        mine = np.unique(group[rows])
        complete[mine] = (mask[mine][:, None, :] == wanted[None, :, :]).all(axis=2).any(axis=1)
    return complete


def aggregate(
    geography: Geography,
    frame: pd.DataFrame,
    levels: tuple[str, ...] = LEVELS,
    value_cols: tuple[str, ...] = ("value",),
) -> pd.DataFrame:
    """Municipal counts on ``geography`` plus their sums at ``levels`` (column ``level``).

    A unit none of whose municipalities is in ``frame`` (a region absent from the data) has no
    row: not available, never 0. An unknown location (:data:`~ksz_reports.geo.codes.
    UNKNOWN_LOCATIONS`) is a row of its own at the municipality level (0 for every cell of its
    region it has none for) and is added to its region's and Belgium's sums only."""
    others = [c for c in frame.columns if c not in value_cols and c != "geo"]
    frame = frame.assign(**{_OTHERS: _group_ids(frame, others)[0]})
    base = to_current(geography, frame, value_cols)
    parent = geography.parent
    pseudo = base["geo"].astype(str).isin(list(UNKNOWN_LOCATIONS)).to_numpy()
    located = base[pseudo].drop(columns="_incomplete", errors="ignore")
    base = base[~pseudo]
    unknown = set(base["geo"].unique()) - set(parent["country"])
    if unknown:
        base = base[~base["geo"].isin(unknown)]
    short = base.pop("_incomplete").to_numpy(dtype=bool) if "_incomplete" in base else None
    keys = [c for c in base.columns if c not in value_cols]
    if len(located):
        located = _unknown_locations(located, base, parent, keys, value_cols)
    out = []
    if "municipality" in levels:
        out.append(base.assign(level="municipality", incomplete=False if short is None else short))
        if len(located):  # the pseudo-units: leaves of the linked table, never shown
            out.append(located.assign(level="municipality", incomplete=False))
    if short is not None:  # a merged municipality without all its predecessors: not a part
        base = base[~short]
    for level in levels:
        if level == "municipality":
            continue
        up = base.copy()
        up["geo"] = _recoded(up["geo"], parent[level].get)
        up = up[up["geo"].notna()]
        summed = _masked_sum(up, keys, value_cols, count=True)
        expected = pd.Series(parent[level]).value_counts()
        short = summed["_n"].to_numpy() < summed["geo"].map(expected).to_numpy()
        if len(located) and level in ("region", "country"):
            summed = _plus_unknown(summed, located, level, keys, value_cols)
        for col in value_cols:
            summed.loc[short, col] = pd.NA
        summed["incomplete"] = short
        out.append(summed.drop(columns="_n").assign(level=level))
    result = pd.concat(out, ignore_index=True).drop(columns=_OTHERS)
    result["incomplete"] = result["incomplete"].fillna(False).astype(bool)
    return result


def _recoded(codes: pd.Series, new: Callable[[str], str | None]) -> pd.Series:
    """``codes`` with each code replaced by ``new(code)`` (None: missing), looked up once per
    distinct code and put back by position (no per-row lookup of strings)."""
    position, distinct = pd.factorize(codes, use_na_sentinel=True)
    dtype = "str" if isinstance(codes.dtype, pd.CategoricalDtype) else codes.dtype
    mapped = pd.array([new(str(c)) for c in distinct], dtype=dtype)
    return pd.Series(mapped.take(position, allow_fill=True), index=codes.index, name=codes.name)


def _compact(keys: list[str]) -> list[str]:
    """Columns equal exactly where ``keys`` are: ``geo`` and the code of the others
    (:data:`_OTHERS`) when :func:`aggregate` gave the rows one, else ``keys``."""
    return [_OTHERS, "geo"] if _OTHERS in keys else keys


def _unknown_locations(
    located: pd.DataFrame,
    base: pd.DataFrame,
    parent: dict[str, dict[str, str | None]],
    keys: list[str],
    value_cols: tuple[str, ...],
) -> pd.DataFrame:
    """The pseudo-units' rows, one per cell of their region (0 where the data have none): a
    region's total is the sum of its municipalities and of its unknown location, and the linked
    table holds that relation only when every part of it is there."""
    others = [k for k in keys if k != "geo"]
    region = base["geo"].map(parent["region"])
    frames = [located]
    for code in sorted(set(located["geo"].astype(str))):
        where = UNKNOWN_LOCATIONS[code]
        cells = base[others] if where == COUNTRY else base.loc[(region == where).to_numpy(), others]
        cells = cells.drop_duplicates()
        have = located.loc[(located["geo"].astype(str) == code).to_numpy(), others]
        missing = cells.merge(have.drop_duplicates(), how="left", indicator=True)
        missing = missing[missing["_merge"] == "left_only"].drop(columns="_merge")
        if len(missing):
            frames.append(missing.assign(geo=code, **dict.fromkeys(value_cols, 0)))
    out = pd.concat(frames, ignore_index=True)
    for col in value_cols:
        out[col] = out[col].astype(located[col].dtype)
    return out[[*keys, *value_cols]]


def _plus_unknown(
    summed: pd.DataFrame,
    located: pd.DataFrame,
    level: str,
    keys: list[str],
    value_cols: tuple[str, ...],
) -> pd.DataFrame:
    """Region (or Belgium) sums plus their unknown locations (a masked one masks the sum)."""
    up = located.copy()
    if level == "region":
        up["geo"] = up["geo"].astype(str).map(UNKNOWN_LOCATIONS)
        up = up[up["geo"] != COUNTRY]
    else:
        up["geo"] = COUNTRY
    if up.empty:
        return summed
    add = _masked_sum(up, keys, value_cols).assign(_located=True)
    m = summed.merge(add, on=keys, how="left", suffixes=("", "_u"))
    hit = m["_located"].fillna(False).astype(bool).to_numpy()
    for col in value_cols:
        total = m[col].astype("Float64") + m[f"{col}_u"].astype("Float64")
        m[col] = m[col].astype("Float64").where(~hit, total).astype(summed[col].dtype)
    return m.drop(columns=[*(f"{c}_u" for c in value_cols), "_located"])


def benchmark_of(geography: Geography, geos: pd.Series, level: str) -> pd.Series:
    """The region (or Belgium, ``level="country"``) each area is compared with; a region and
    Belgium map to themselves."""
    if level == "country":
        return pd.Series(COUNTRY, index=geos.index)
    return geos.astype(str).map(geography.region_of)


def population(
    geography: Geography,
    years: list[int],
    sexes: list[str],
    age_classes: list[str],
    levels: tuple[str, ...] = LEVELS,
) -> pd.DataFrame:
    """Population on 1 January of ``years`` for every area of ``levels`` of ``geography``.

    A missing year falls back to the nearest *earlier* available year (``year_used`` says
    which); never a later year, never an invented one.
    """
    available = sorted(pop.population_years())
    frames = []
    for year in years:
        earlier = [y for y in available if y <= year]
        if not earlier:
            continue
        used = earlier[-1]
        table = _population_year(used, sexes, age_classes)
        table = table.rename(columns={"population": "value"})
        table["year"] = year
        table["year_used"] = used
        frames.append(table)
    if not frames:
        return pd.DataFrame(
            columns=["year", "geo", "sex", "age_class", "population", "year_used", "level"]
        )
    table = pd.concat(frames, ignore_index=True)[
        ["year", "year_used", "geo", "sex", "age_class", "value"]
    ]
    out = aggregate(geography, table, levels=levels)
    return out.rename(columns={"value": "population"}).drop(columns=["level", "incomplete"])


def _population_year(year: int, sexes: list[str], age_classes: list[str]) -> pd.DataFrame:
    """Municipal population of one year for every (sex, age class) that can be built exactly from
    that year's bands; a class that cannot (no bands before 2017) is left out, not guessed."""
    try:
        return pop.population_table(
            years=[year], level="municipality", sexes=tuple(sexes), age_classes=tuple(age_classes)
        )
    except pop.AgeClassError:
        frames = []
        for a in age_classes:
            try:
                frames.append(
                    pop.population_table(
                        years=[year], level="municipality", sexes=tuple(sexes), age_classes=(a,)
                    )
                )
            except pop.AgeClassError:
                continue
        return (
            pd.concat(frames, ignore_index=True)
            if frames
            else pd.DataFrame(columns=["year", "geo", "sex", "age_class", "population"])
        )


def _masked_sum(
    df: pd.DataFrame,
    keys: list[str],
    value_cols: tuple[str, ...],
    count: bool = False,
    groups: tuple[np.ndarray, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Group sums where one missing member makes the sum missing (never read as 0): one row per
    distinct ``keys`` (missing values a key of their own), in the order of first appearance,
    ``_n`` the group's size with ``count``. Grouped on one integer code per row
    (:func:`_group_ids`) of ``keys``, or of fewer columns equal where they are
    (:func:`_compact`); ``groups``: those codes, already computed. The keys are taken once,
    from each group's first row."""
    group, first = groups if groups is not None else _group_ids(df, _compact(keys))
    out = df[keys].iloc[first].reset_index(drop=True)
    size = np.bincount(group, minlength=len(first))
    for col in value_cols:
        v = df[col].to_numpy(dtype=np.float64, na_value=np.nan)
        present = ~np.isnan(v)
        complete = np.bincount(group, weights=present, minlength=len(first)) == size
        whole = np.where(present, v, 0.0)
        if np.array_equal(whole, np.round(whole)) and np.abs(whole).sum() < 2**52:
            total = np.bincount(group, weights=whole, minlength=len(first))  # exact: integers
        else:  # pandas' grouped sum (compensated, in row order): a yearly average summed over
            # an arrondissement is 20, not 19.999999999999996
            total = pd.Series(v).groupby(group).sum(min_count=1).to_numpy()
        dtype = "Float64" if df[col].dtype.kind == "f" else "Int64"
        out[col] = pd.array(np.where(complete, total, np.nan), dtype="Float64").astype(dtype)
    if count:
        out["_n"] = size
    for d in DIMENSIONS:
        if d in out and str(df[d].dtype) == "category":
            out[d] = decoded(out[d])
    return out


def _group_ids(df: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the number of its group of equal ``keys`` (numbered in the order the groups
    first appear: :func:`~ksz_reports.core.schema.row_codes`), and the first row of each
    group."""
    group = row_codes([df[col] for col in keys], len(df))
    return group, np.unique(group, return_index=True)[1]
