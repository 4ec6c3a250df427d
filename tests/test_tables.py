"""Tidy tables as CSV, JSON and Excel: a count of persons is written as a whole number."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from openpyxl import load_workbook

from ksz_reports.core.tables import write_table

FRAME = pd.DataFrame(
    {
        "period": ["2017-10", "2017", "2017-11"],
        "count": [140678.0, 140185.25, np.nan],
        "population": [11322088, 11322088, 11322088],
        "rate": [12.425, 12.381, np.nan],
    }
)


def test_a_whole_count_is_written_without_decimals_and_an_average_keeps_them(tmp_path):
    assert write_table(FRAME, "csv").splitlines() == [
        "period,count,population,rate",
        "2017-10,140678,11322088,12.425",
        "2017,140185.25,11322088,12.381",
        "2017-11,,11322088,",
    ]
    records = json.loads(write_table(FRAME, "json"))
    assert [r["count"] for r in records] == [140678, 140185.25, None]
    assert isinstance(records[0]["count"], int)
    write_table(FRAME, "xlsx", tmp_path / "t.xlsx")
    sheet = load_workbook(tmp_path / "t.xlsx").active
    assert [c.value for c in sheet["B"]] == ["count", 140678, 140185.25, None]
    assert FRAME["count"].dtype == float  # the caller's frame is left alone
