"""Geography of a reference date, as tables: municipalities and the levels above them, mergers,
aggregation of counts and of population (SPEC §3, §7).

- Aggregates (arrondissement, province, region, Belgium ``01000``) are computed from municipalities,
  never read. Brussels has no province: its municipalities roll up arrondissement → region.
- Series are shown on the geography of the report's reference date: counts of predecessors (the
  mergers of 1 January 2019 and 1 January 2025, matched on NIS codes) are summed *before*
  anything else; a masked predecessor makes the merged count masked; rates are recomputed on the
  summed counts and populations, never summed.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ksz_reports.core.schema import DIMENSIONS

COUNTRY = "01000"
LEVELS = ("municipality", "arrondissement", "province", "region", "country")


def as_date(at: dt.date | str | int | None) -> dt.date:
    """A reference date from a date, ``YYYY-MM-DD``, or a year (1 January); default 2024-12-31."""
    if at is None:
        return dt.date(2024, 12, 31)
    if isinstance(at, dt.datetime):
        return at.date()
    if isinstance(at, dt.date):
        return at
    if isinstance(at, int) or (isinstance(at, str) and at.isdigit() and len(at) == 4):
        return dt.date(int(at), 1, 1)
    return dt.date.fromisoformat(str(at))


FIRST_GEOGRAPHY = dt.date(2019, 1, 1)


def _reference_geography(at: dt.date):
    """The reference geography of ``at``; before 2019 the 2019–2024 one (the exports' codes)."""
    from ksz_reports.geo import reference

    return reference.geography(max(at, FIRST_GEOGRAPHY))


def _table_at(at: dt.date) -> pd.DataFrame:
    table = _reference_geography(at).frame().copy()
    table["province"] = table["province"].replace("", np.nan)
    return table.drop(columns=["valid_from", "valid_to"])


def successor_map(at: dt.date | str | int | None = None) -> dict[str, str]:
    """Every earlier municipality code that changed → its code on the geography of ``at``."""
    from ksz_reports.geo import reference

    target = _reference_geography(as_date(at))
    out: dict[str, str] = {}
    for earlier in reference.geographies():
        if earlier.valid_from >= target.valid_from:
            continue
        out.update(
            {
                old: new
                for old, new in reference.successor_map(earlier, target).items()
                if old != new
            }
        )
    return out


class Geography:
    """The municipalities valid at a reference date and their hierarchy, as pandas tables."""

    def __init__(self, at: dt.date | str | int | None = None):
        self.at = as_date(at)
        self.table = _table_at(self.at)
        self.successors = successor_map(self.at)
        t = self.table
        self.parent = {  # code -> parent code, per level
            "arrondissement": dict(zip(t["nis"], t["arrondissement"], strict=True)),
            "province": dict(zip(t["nis"], t["province"], strict=True)),
            "region": dict(zip(t["nis"], t["region"], strict=True)),
            "country": dict.fromkeys(t["nis"], COUNTRY),
        }
        names = {}
        for lang in ("nl", "fr"):
            n = dict(zip(t["nis"], t[f"name_{lang}"], strict=True))
            for level in ("arrondissement", "province", "region"):
                sub = t[t[level].notna()]
                n.update(dict(zip(sub[level], sub[f"{level}_{lang}"], strict=True)))
            n[COUNTRY] = {"nl": "België", "fr": "Belgique"}[lang]
            names[lang] = n
        names["en"] = {**names["nl"], COUNTRY: "Belgium"}
        self.names = names

    @property
    def municipalities(self) -> list[str]:
        return list(self.table["nis"])

    def level_of(self, code: str) -> str:
        if code == COUNTRY:
            return "country"
        for level in ("region", "province", "arrondissement"):
            if code in set(self.table[level].dropna()):
                return level
        if code in self.parent["country"]:
            return "municipality"
        raise KeyError(code)

    def name(self, code: str, lang: str = "nl") -> str:
        return self.names.get(lang, self.names["nl"]).get(code, code)

    def parents_of(self, nis: str) -> dict[str, str | None]:
        """The arrondissement, province (None in Brussels), region and country of a municipality."""
        return {
            level: (None if pd.isna(p := self.parent[level][nis]) else p)
            for level in ("arrondissement", "province", "region", "country")
        }

    def members(self, code: str) -> list[str]:
        """The municipalities of an aggregate (or the municipality itself)."""
        if code == COUNTRY:
            return self.municipalities
        for level in ("region", "province", "arrondissement"):
            hit = self.table.loc[self.table[level] == code, "nis"]
            if len(hit):
                return list(hit)
        return [code] if code in self.parent["country"] else []

    def benchmark_of(self, geos: pd.Series, level: str) -> pd.Series:
        """The region (or Belgium) each geo is compared with; aggregates above it map to themselves."""
        region_of = dict(self.parent["region"])
        for col in ("arrondissement", "province"):
            sub = self.table[self.table[col].notna()]
            region_of.update(dict(zip(sub[col], sub["region"], strict=True)))
        for r in self.table["region"].unique():
            region_of[r] = r
        region_of[COUNTRY] = COUNTRY
        if level == "country":
            return pd.Series(COUNTRY, index=geos.index)
        return geos.astype(str).map(region_of)

    # -- tables ---------------------------------------------------------------------------------
    def to_current(
        self, frame: pd.DataFrame, value_cols: tuple[str, ...] = ("value",)
    ) -> pd.DataFrame:
        """Map predecessor codes to this geography and sum them (masked stays masked)."""
        df = frame.copy()
        df["geo"] = df["geo"].astype(str).map(lambda g: self.successors.get(g, g))
        keys = [c for c in df.columns if c not in value_cols]
        return _masked_sum(df, keys, value_cols)

    def aggregate(
        self,
        frame: pd.DataFrame,
        levels: tuple[str, ...] = LEVELS,
        value_cols: tuple[str, ...] = ("value",),
    ) -> pd.DataFrame:
        """Municipal counts on this geography plus their sums at ``levels`` (column ``level``)."""
        base = self.to_current(frame, value_cols)
        unknown = set(base["geo"]) - set(self.parent["country"])
        if unknown:
            base = base[~base["geo"].isin(unknown)]
        out = []
        if "municipality" in levels:
            out.append(base.assign(level="municipality", incomplete=False))
        keys = [c for c in base.columns if c not in value_cols]
        for level in levels:
            if level == "municipality":
                continue
            up = base.copy()
            up["geo"] = up["geo"].map(self.parent[level])
            up = up[up["geo"].notna()]
            summed = _masked_sum(up, keys, value_cols, count=True)
            # An aggregate is the sum over ALL its municipalities, or it is not available: a
            # partial export must not publish a partial sum under the region's name.
            expected = pd.Series(self.parent[level]).value_counts()
            short = summed["_n"].to_numpy() < summed["geo"].map(expected).to_numpy()
            for col in value_cols:
                summed.loc[short, col] = pd.NA
            summed["incomplete"] = short
            out.append(summed.drop(columns="_n").assign(level=level))
        result = pd.concat(out, ignore_index=True)
        result["incomplete"] = result["incomplete"].fillna(False).astype(bool)
        return result

    def population(
        self,
        years: list[int],
        sexes: list[str],
        age_classes: list[str],
        levels: tuple[str, ...] = LEVELS,
    ) -> pd.DataFrame:
        """Population on 1 January of ``years`` for every geo of ``levels``.

        A missing year falls back to the nearest *earlier* available year (``year_used`` says
        which); never a later year, never an invented one.
        """
        from ksz_reports.geo import reference

        available = sorted(reference.population_years())
        frames = []
        for year in years:
            earlier = [y for y in available if y <= year]
            if not earlier:
                continue
            used = earlier[-1]
            pop = _population_year(reference, used, sexes, age_classes)
            pop = pop.rename(columns={"population": "value"})
            pop["year"] = year
            pop["year_used"] = used
            frames.append(pop)
        if not frames:
            return pd.DataFrame(
                columns=["year", "geo", "sex", "age_class", "population", "year_used", "level"]
            )
        pop = pd.concat(frames, ignore_index=True)[
            ["year", "year_used", "geo", "sex", "age_class", "value"]
        ]
        out = self.aggregate(pop, levels=levels)
        return out.rename(columns={"value": "population"}).drop(columns=["level", "incomplete"])


def _population_year(
    reference, year: int, sexes: list[str], age_classes: list[str]
) -> pd.DataFrame:
    """Municipal population of one year for every (sex, age class) that can be built exactly from
    that year's bands; a class that cannot (no bands before 2017) is left out, not guessed."""
    try:
        return reference.population_table(
            years=[year], level="municipality", sexes=tuple(sexes), age_classes=tuple(age_classes)
        )
    except reference.AgeClassError:
        frames = []
        for a in age_classes:
            try:
                frames.append(
                    reference.population_table(
                        years=[year], level="municipality", sexes=tuple(sexes), age_classes=(a,)
                    )
                )
            except reference.AgeClassError:
                continue
        return (
            pd.concat(frames, ignore_index=True)
            if frames
            else pd.DataFrame(columns=["year", "geo", "sex", "age_class", "population"])
        )


def _masked_sum(
    df: pd.DataFrame, keys: list[str], value_cols: tuple[str, ...], count: bool = False
) -> pd.DataFrame:
    """Group sums where one missing member makes the sum missing (never read as 0)."""
    g = df.groupby(keys, observed=True, sort=False, dropna=False)
    out = g[list(value_cols)].sum(min_count=1)
    size = g.size()
    if count:
        out["_n"] = size
    for col in value_cols:
        masked = g[col].count() != size
        out[col] = (
            out[col].astype("Float64") if df[col].dtype.kind == "f" else out[col].astype("Int64")
        )
        out.loc[masked.to_numpy(), col] = pd.NA
    out = out.reset_index()
    for d in DIMENSIONS:
        if d in out and str(df[d].dtype) == "category":
            out[d] = out[d].astype(str)
    return out
