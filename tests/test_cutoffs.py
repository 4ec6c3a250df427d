"""Stability and completeness cutoffs on small canonical tables."""

import datetime as dt

import pandas as pd

from ksz_reports.core.config import load_config
from ksz_reports.core.schema import DIMENSIONS
from ksz_reports.measures.cutoffs import apply_cutoffs


def _rows(indicator, periods, geos, vintage, value=10):
    recs = []
    for p in periods:
        for g in geos:
            recs.append(
                {
                    "indicator": indicator,
                    "period": p,
                    "geo": g,
                    **dict.fromkeys(DIMENSIONS, "total"),
                    "value": value(p, g) if callable(value) else value,
                    "source": "x.csv",
                    "vintage": vintage,
                }
            )
    return recs


GEOS = ["11001", "11002", "11004", "11005"]


def test_lag_cuts_recent_periods():
    cfg = load_config()  # ll: lag 4 months
    months = [f"2022-{m:02d}" for m in range(1, 13)]
    df = pd.DataFrame(_rows("ll", months, GEOS, dt.date(2023, 1, 15)))
    kept, report = apply_cutoffs(df, cfg)
    assert report.status("ll", "2022-08") == "kept"  # 31/08 + 4 months = 31/12 <= 15/01
    assert report.status("ll", "2022-09") == "unstable_lag"  # 30/09 + 4 months = 30/01 > 15/01
    assert report.status("ll", "2022") == "incomplete_months"
    assert set(kept["period"]) == {f"2022-{m:02d}" for m in range(1, 9)}
    assert any("2022-12: unstable_lag" in line for line in report.lines())


def test_latest_vintage_wins_and_revision_cut():
    cfg = load_config()  # ll: max_revision 2 %
    old = _rows("ll", ["2022-06", "2022-07"], GEOS, dt.date(2022, 12, 1), value=100)
    new = _rows("ll", ["2022-06"], GEOS, dt.date(2023, 1, 15), value=101)  # +1 %: stable
    new += _rows("ll", ["2022-07"], GEOS, dt.date(2023, 1, 15), value=110)  # +10 %: unstable
    kept, report = apply_cutoffs(pd.DataFrame(old + new), cfg)
    assert report.status("ll", "2022-06") == "kept"
    assert report.status("ll", "2022-07") == "unstable_revision"
    assert set(kept["value"]) == {101}
    assert len(kept) == len(GEOS)


def test_incomplete_coverage_is_cut():
    cfg = load_config()
    rows = _rows("pension", ["2020"], GEOS, dt.date(2023, 6, 30))
    rows += _rows("pension", ["2021"], GEOS[:3], dt.date(2023, 6, 30))
    kept, report = apply_cutoffs(pd.DataFrame(rows), cfg)
    assert report.status("pension", "2020") == "kept"
    assert report.status("pension", "2021") == "incomplete"
    assert "3 of 4 municipalities" in report.cut["detail"].iloc[0]


def test_masked_cells_count_as_present_for_coverage():
    cfg = load_config()
    rows = _rows(
        "pension",
        ["2020"],
        GEOS,
        dt.date(2023, 6, 30),
        value=lambda p, g: None if g == "11001" else 7,
    )
    kept, report = apply_cutoffs(pd.DataFrame(rows), cfg)
    assert report.status("pension", "2020") == "kept"
    assert kept["value"].isna().sum() == 1
