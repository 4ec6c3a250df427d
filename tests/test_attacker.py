"""Unit tests of the independent attacker (tests/attacker.py) on tiny hand-written cells.csv folders."""

import csv

import pandas as pd
import pytest
from attacker import DATA_DIR, KEY_COLUMNS, attack

COLUMNS = ["table", *KEY_COLUMNS, "kind", "value", "flag"]


def write_report(folder, rows, name="00001"):
    """rows: dicts with the non-default columns; value None = hidden (flag defaults to suppressed)."""
    path = folder / name / "cells.csv"
    path.parent.mkdir(parents=True)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        for row in rows:
            full = {c: "total" for c in KEY_COLUMNS} | {"table": "t", "indicator": "x"}
            full |= {"period": "2021", "geo": "71017", "kind": "count"} | row
            if full.get("value") is None:
                full["value"], full["flag"] = "", row.get("flag", "suppressed")
            writer.writerow(full)
    return folder


def cell(report, **key):
    f = report.frame
    match = f[(f[list(key)] == pd.Series(key)).all(axis=1)]
    assert len(match) == 1, match
    return match.iloc[0]


def test_breakdown_with_one_hidden_category_is_recovered(tmp_path):
    write_report(
        tmp_path,
        [
            {"table": "key_figures", "value": 15},
            {"table": "x_by_sex", "sex": "F", "value": 12},
            {"table": "x_by_sex", "sex": "M", "value": None},
            {"kind": "rate_per_1000", "sex": "M", "value": None},  # not a count: ignored
        ],
    )
    report = attack(tmp_path)
    assert len(report.frame) == 1
    m = cell(report, sex="M")
    assert m.recovered and m.lo == pytest.approx(3) and m.hi == pytest.approx(3)
    assert report.summary().loc["suppressed", "recovered"] == 1


@pytest.mark.parametrize(("small", "large", "narrow"), [(3, 50, False), (3, 1, True)])
def test_two_hidden_categories_are_not_recovered(tmp_path, small, large, narrow):
    write_report(
        tmp_path,
        [
            {"value": 40 + small + large},
            {"age_class": "0-17", "value": 40},
            {"age_class": "18-64", "value": None},
            {"age_class": "65+", "value": None, "flag": "secondary"},
        ],
    )
    report = attack(tmp_path)
    for age in ("18-64", "65+"):
        c = cell(report, age_class=age)
        assert (c.lo, c.hi) == pytest.approx((0, small + large))
        assert not c.recovered and bool(c.narrow) == narrow
    assert report.summary().loc["all", "recovered"] == 0


def test_incomplete_category_set_gives_no_relation(tmp_path):
    # another municipality shows a third category: in 71017 the set is incomplete
    write_report(
        tmp_path,
        [
            {"value": 15},
            {"sex": "F", "value": 12},
            {"sex": "M", "value": None},
            {"geo": "71002", "sex": "X", "value": 7},
        ],
    )
    m = cell(attack(tmp_path), sex="M")
    assert m.lo == 0 and m.hi == float("inf")


def municipalities_of(arrondissement):
    munis = pd.read_csv(DATA_DIR / "municipalities.csv", dtype=str, keep_default_na=False)
    return sorted(munis.loc[munis["arrondissement_nis"] == arrondissement, "nis"])


def test_hidden_municipality_recovered_from_its_arrondissement(tmp_path):
    members = municipalities_of("58000")
    rows = [{"geo": "58000", "value": 100}]
    rows += [{"geo": m, "value": 10 * (i + 1)} for i, m in enumerate(members[1:])]
    rows += [{"geo": members[0], "value": None, "table": "second_report"}]
    write_report(tmp_path, rows[:-1], name="00001")
    write_report(tmp_path, rows[-1:], name="00002")  # variables are merged across reports
    report = attack(tmp_path)
    hidden = cell(report, geo=members[0])
    expected = 100 - sum(10 * (i + 1) for i in range(len(members) - 1))
    assert hidden.recovered and hidden.lo == pytest.approx(expected)
    assert report.relations == {"geography": 1}


def test_2025_geography_is_chosen_from_merged_codes(tmp_path):
    # Hasselt 71072 absorbed Kortessem (73040, arrondissement 73000) and Tessenderlo-Ham is new
    mergers = pd.read_csv(DATA_DIR / "mergers_2025.csv", dtype=str)
    old = set(mergers["old_nis"])
    new = set(mergers.loc[mergers["new_arrondissement_nis"] == "71000", "new_nis"])
    members = sorted({m for m in municipalities_of("71000") if m not in old} | new)
    assert {"71071", "71072"} <= set(members) and "71057" not in members
    rows = [{"geo": "71000", "value": 1000}, {"geo": "71072", "value": None}]
    rows += [{"geo": m, "value": 10} for m in members if m != "71072"]
    write_report(tmp_path, rows)
    hasselt = cell(attack(tmp_path), geo="71072")
    assert hasselt.recovered and hasselt.lo == pytest.approx(1000 - 10 * (len(members) - 1))


def test_hidden_month_recovered_from_yearly_average(tmp_path):
    months = [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 4]  # mean 11.8333...
    rows = [{"period": "2021", "value": repr(sum(months) / 12)}]
    rows += [{"period": f"2021-{i:02d}", "value": v} for i, v in enumerate(months[:-1], start=1)]
    rows += [{"period": "2021-12", "value": None, "flag": "not_available"}]
    report = attack(write_report(tmp_path, rows))
    december = cell(report, period="2021-12")
    assert december.recovered and december.lo == pytest.approx(4)
    assert report.relations == {"time": 1}


def test_published_elsewhere_conflicts_and_broken_relations_are_reported(tmp_path):
    write_report(
        tmp_path,
        [
            {"value": 10},
            {"sex": "F", "value": 4},
            {"sex": "M", "value": 5},  # 4 + 5 != 10
            {"geo": "71002", "value": 3},
        ],
        name="00001",
    )
    write_report(
        tmp_path,
        [{"geo": "71002", "value": None}, {"geo": "71004", "value": 1}],
        name="00002",
    )
    write_report(tmp_path, [{"geo": "71004", "value": 2}], name="00003")
    report = attack(tmp_path)
    shown = cell(report, geo="71002")
    assert shown.published_elsewhere and shown.recovered and shown.lo == 3
    assert len(report.conflicts) == 1 and "71004" in report.conflicts[0]
    assert len(report.inconsistent) == 1 and "breakdown:sex" in report.inconsistent[0]
    assert "recovered" in report.text()
