"""Indicators on real population: the published national and regional leefloon rates, mergers."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ksz_reports import geo as geodata
from ksz_reports.core.config import load_config
from ksz_reports.core.schema import DIMENSIONS
from ksz_reports.geo.aggregate import aggregate
from ksz_reports.measures.indicators import compute, population_year, yearly_average


def _spread(total: int, weights: pd.Series) -> pd.Series:
    """Integer counts summing exactly to ``total``, proportional to ``weights``."""
    raw = weights / weights.sum() * total
    out = np.floor(raw).astype(int)
    out.iloc[np.argsort(-(raw - out).to_numpy())[: total - out.sum()]] += 1
    return out


def _table(indicator, period, counts: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "indicator": indicator,
            "period": period,
            "geo": counts.index,
            **dict.fromkeys(DIMENSIONS, "total"),
            "value": counts.to_numpy(),
            "source": "test",
            "vintage": dt.date(2023, 6, 1),
        }
    )


def _pop(year: int) -> pd.Series:
    p = geodata.population_table(years=[year], sexes=("total",))
    return p.set_index("geo")["population"]


def test_national_leefloon_october_2017_is_12_4_per_1000():
    counts = _spread(140_678, _pop(2017))
    m = compute(
        _table("ll", "2017-10", counts),
        "ll",
        geodata.geography(2019),
        periods=["2017-10"],
        levels=("municipality", "country"),
    )
    be = m[m["level"] == "country"].iloc[0]
    assert be["count"] == 140_678
    assert be["population"] == 11_322_088  # 1 January 2017
    assert round(be["rate"], 1) == 12.4


@pytest.mark.parametrize(
    "region,avg,expected",
    [("04000", 41_800, 34.3), ("02000", 38_400, 5.8), ("03000", 73_100, 20.1)],
)
def test_regional_2020_monthly_averages(region, avg, expected):
    geo = geodata.geography(2019)
    members = geo.members(region)
    pop = _pop(2020).loc[members]
    rows = [_table("ll", f"2020-{m:02d}", _spread(avg, pop)) for m in range(1, 13)]
    m = compute(pd.concat(rows), "ll", geo, periods=["2020"], levels=("region",))
    r = m[(m["geo"] == region) & (m["period"] == "2020")].iloc[0]
    assert r["count"] == pytest.approx(avg)
    assert abs(r["rate"] - expected) <= 0.1


def test_yearly_average_needs_all_months_and_propagates_masks():
    rows = pd.concat(
        [_table("ll", f"2020-{m:02d}", pd.Series({"11001": 12, "11002": 24})) for m in range(1, 13)]
    )
    rows.loc[(rows["geo"] == "11002") & (rows["period"] == "2020-05"), "value"] = None
    avg = yearly_average(rows.astype({"value": "Int64"})).set_index("geo")["value"]
    assert avg["11001"] == 12
    assert np.isnan(avg["11002"])  # a masked month: the average is masked, not 22
    eleven = rows[rows["period"] != "2020-12"]
    assert np.isnan(
        yearly_average(eleven.astype({"value": "Int64"})).set_index("geo")["value"]["11001"]
    )


def test_breakdowns_of_the_periods_asked_for_only_and_the_average_still_of_every_month():
    geo = geodata.geography(2019)
    pairs = {"11001": (12, 30), "11002": (24, 6)}  # men, women per month
    rows = []
    for m in range(1, 13):
        period = f"2020-{m:02d}"
        for sex, k in (("M", 0), ("F", 1)):
            counts = pd.Series({g: v[k] + m for g, v in pairs.items()})
            rows.append(_table("ll", period, counts).assign(sex=sex))
        total = pd.Series({g: sum(v) + 2 * m for g, v in pairs.items()})
        rows.append(_table("ll", period, total))
    table = pd.concat(rows, ignore_index=True)
    periods = ["2020", *(f"2020-{m:02d}" for m in range(1, 13))]
    every = compute(table, "ll", geo, periods=periods, levels=("municipality",))
    asked = ["2020", "2020-11", "2020-12"]
    some = compute(table, "ll", geo, periods=periods, breakdowns=asked, levels=("municipality",))
    broken = some["sex"] != "total"
    assert set(some.loc[broken, "period"]) == set(asked)
    assert (some.loc[~broken, "period"].value_counts() == 2).all()  # every period's totals
    key = ["period", "geo", *DIMENSIONS]
    mine = every.merge(some[key], on=key).sort_values(key).reset_index(drop=True)
    some = some.sort_values(key).reset_index(drop=True)
    first = ((some["period"] == "2020-11") & (some["sex"] != "total")).to_numpy()
    # a breakdown's growth compares with the periods whose breakdowns are computed too
    assert (
        some.loc[first, "growth_pct"].isna().all() and mine.loc[first, "growth_pct"].notna().all()
    )
    pd.testing.assert_frame_equal(mine[~first], some[~first])
    pd.testing.assert_frame_equal(
        mine[first].drop(columns="growth_pct"), some[first].drop(columns="growth_pct")
    )
    men = some[(some["period"] == "2020") & (some["sex"] == "M")].set_index("geo")["count"]
    assert men["11001"] == 12 + 6.5  # the mean of the 12 months' breakdowns, not of 2020-12


def test_population_year_rule():
    cfg = load_config()
    assert population_year(cfg.indicators["pension"], "2021") == 2022  # stock on 31/12 → 1/1 after
    assert population_year(cfg.indicators["ll"], "2017-10") == 2017
    assert population_year(cfg.indicators["ll"], "2020") == 2020  # monthly average: same year


def test_merged_tessenderlo_ham_history_is_the_sum_of_its_predecessors():
    g25 = geodata.geography(2025)
    preds = sorted(k for k, v in g25.successors.items() if v == "71071")
    assert preds == ["71057", "71069"]  # Ham, Tessenderlo
    periods = ["2017", "2018", "2019", "2020", "2021"]
    rows = pd.concat(
        [
            _table("pension", p, pd.Series({"71057": 2000 + i, "71069": 3000 + 2 * i}))
            for i, p in enumerate(periods)
        ]
    )
    out = aggregate(g25, rows, levels=("municipality",)).set_index("period")
    for i, p in enumerate(periods):
        assert out.loc[p, "geo"] == "71071"
        assert out.loc[p, "value"] == (2000 + i) + (3000 + 2 * i)


def test_masked_predecessor_makes_the_merged_history_not_available():
    g25 = geodata.geography(2025)
    rows = _table("pension", "2020", pd.Series({"71057": 2000, "71069": None}, dtype="Int64"))
    out = aggregate(g25, rows, levels=("municipality",))
    assert out["value"].isna().all()


def test_zwijndrecht_moves_to_oost_vlaanderen_in_2025():
    g24, g25 = geodata.geography(2019), geodata.geography(2025)
    assert g24.parents_of("11056")["province"] == "10000"
    new = g25.successors["11056"]
    assert g25.parents_of(new)["province"] == "40000"
    # Every 2019-2024 municipality of Oost-Vlaanderen plus Zwijndrecht, one person each.
    old_members = g24.members("40000") + ["11056"]
    rows = _table("pension", "2021", pd.Series(1, index=old_members))
    prov = aggregate(g25, rows, levels=("province",)).set_index("geo")["value"]
    assert prov["40000"] == len(old_members)
    assert "10000" not in prov.index


def test_an_aggregate_of_a_partial_export_is_not_published():
    g = geodata.geography(2019)
    members = g.members("71000")  # arrondissement Hasselt
    rows = _table("pension", "2021", pd.Series(10, index=members[:-1]))
    out = aggregate(g, rows, levels=("arrondissement",)).set_index("geo")
    assert out.loc["71000", "incomplete"]
    assert pd.isna(out.loc["71000", "value"])


def test_breakdowns_at_the_levels_asked_for_only():
    """``breakdowns`` as a mapping: each period's breakdowns at its levels (each level summed
    from the municipalities); the other levels keep that period's totals."""
    geo = geodata.geography(2019)
    members = geo.members("58000")  # an arrondissement of 4 municipalities: its sums complete
    rows = []
    for m in range(1, 13):
        period = f"2020-{m:02d}"
        for sex, k in (("M", 1), ("F", 2)):
            rows.append(_table("ll", period, pd.Series({g: 10 * k + m for g in members})))
            rows[-1] = rows[-1].assign(sex=sex)
        rows.append(_table("ll", period, pd.Series({g: 30 + 2 * m for g in members})))
    table = pd.concat(rows, ignore_index=True)
    periods = ["2020", "2020-11", "2020-12"]
    levels = ("municipality", "arrondissement")
    every = compute(table, "ll", geo, periods=periods, levels=levels)
    asked = {"2020": levels, "2020-11": ("arrondissement",), "2020-12": ("arrondissement",)}
    some = compute(table, "ll", geo, periods=periods, breakdowns=asked, levels=levels)
    broken = (some["sex"] != "total").to_numpy()
    by_level = some[broken].groupby("period")["level"].agg(set).to_dict()
    assert by_level == {p: set(lv) for p, lv in asked.items()}
    assert not some.loc[~broken].duplicated(["period", "geo"]).any()
    assert len(some[~broken]) == len(every[every["sex"] == "total"])  # every level's totals
    key = ["period", "geo", *DIMENSIONS]
    mine = every.merge(some[key], on=key).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, some.sort_values(key).reset_index(drop=True))
    women = some[(some["period"] == "2020-12") & (some["sex"] == "F")]
    assert women["geo"].tolist() == ["58000"] and women["count"].iloc[0] == 4 * (20 + 12)


def test_masked_sums_keep_order_masks_and_exact_sums_of_averages():
    """The group sums of the aggregation: groups in the order they first appear (missing keys a
    group of their own), a missing member masks its sum, and yearly averages (twelfths) summed
    over an area are the compensated sum — 20, where a plain running sum gives
    20.000000000000004 (and other twelfths 19.999999999999996: a count of 20 'unreliable')."""
    from ksz_reports.geo.aggregate import _masked_sum

    twelfths = [k / 12 for k in (38, 25, 22, 48, 13, 20, 11, 18, 5, 17, 5, 18)]
    assert np.bincount(np.zeros(12, dtype=int), weights=twelfths)[0] != 20.0
    frame = pd.DataFrame(
        {
            "geo": pd.array(["b"] * 12 + ["a", None, "a", None], dtype="str"),
            "sex": pd.Categorical(["m"] * 12 + ["f", "f", "f", "f"]),
            "value": pd.array([*twelfths, 1.0, 2.0, None, 4.0], dtype="Float64"),
        }
    )
    out = _masked_sum(frame, ["geo", "sex"], ("value",), count=True)
    assert out["geo"].tolist()[:2] == ["b", "a"] and pd.isna(out["geo"].iloc[2])
    assert out["value"].iloc[0] == 20.0  # 240 twelfths
    assert pd.isna(out["value"].iloc[1])  # a's second member is missing
    assert out["value"].iloc[2] == 6.0 and out["_n"].tolist() == [12, 2, 2]
    assert out["sex"].dtype != "category"  # dimensions come back as strings
    # whole counts (the months): summed exactly without the compensated sum, the same sums
    counts = frame.assign(value=pd.array([*range(12), 1.0, 2.0, None, 4.0], dtype="Float64"))
    out = _masked_sum(counts, ["geo", "sex"], ("value",), count=True)
    assert out["value"].iloc[0] == 66.0 and pd.isna(out["value"].iloc[1])
    assert out["value"].iloc[2] == 6.0 and str(out["value"].dtype) == "Float64"
