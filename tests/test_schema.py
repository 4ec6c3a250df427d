"""The column helpers of ``core.schema`` that the measures and the disclosure run on every row:
one call per distinct value, one conversion per category — the same result as row by row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ksz_reports.core.schema import decoded, per_distinct


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["2021", "2021-01", None, "2021"], dtype="str"),
        pd.Series(["2021", "2021-01", np.nan, "2021"]).astype("category"),
        pd.Series(["2021", "2021-01", None, "2021"], dtype=object),
        ["2021", "2021-01", None, "2021"],
    ],
)
def test_per_distinct_calls_once_per_value_and_a_missing_value_is_text_too(values):
    calls = []

    def kind(p: str) -> str:
        calls.append(p)
        return "month" if len(p) == 7 else f"other {p}"

    out = per_distinct(values, kind)
    assert list(out[[0, 1, 3]]) == ["other 2021", "month", "other 2021"]
    assert out[2] in ("other nan", "other None")  # its own text, not another value's result
    assert sorted(calls) == sorted(set(calls)) and len(calls) == 3


def test_per_distinct_of_numbers_and_of_nothing():
    assert list(per_distinct(pd.Series([1, 2, 1]), lambda p: p * 2)) == ["11", "22", "11"]
    assert per_distinct([], str).size == 0


@pytest.mark.parametrize("dtype", [str, object, "category"])
def test_decoded_is_astype_by_category(dtype):
    text = pd.Series(["b", "a", None, "b"], dtype=object, name="geo", index=[5, 6, 7, 8])
    column = text.astype("category")
    want = column.astype(dtype)
    got = decoded(column, dtype)
    pd.testing.assert_series_equal(got, want)
    pd.testing.assert_series_equal(decoded(text, str), text.astype(str))  # not categorical


def test_by_period_finds_a_key_at_another_period_in_one_frame_or_two():
    from ksz_reports.core.schema import ByPeriod

    cells = pd.DataFrame(
        {
            "geo": ["a", "a", "b", "b", "a"],
            "sex": ["F", "F", "F", "M", "M"],
            "period": ["2021-01", "2021-02", "2021-02", "2021-01", "2021-02"],
        }
    )
    before = {"2021-02": "2021-01", "2021-01": "2020-12"}.get
    by = ByPeriod(cells.astype("category"), ["geo", "sex"])  # one frame, its codes
    assert by.positions().tolist() == [0, 1, 2, 3, 4]
    assert by.positions(before).tolist() == [-1, 0, -1, -1, -1]
    rows = pd.DataFrame(
        {"geo": ["b", "a", "c"], "sex": ["M", "M", "F"], "period": ["2021-02", "2021-02", "x"]}
    )
    two = ByPeriod(cells, ["geo", "sex"], rows)  # rows of another frame, matched as text
    assert two.positions().tolist() == [-1, 4, -1]
    assert two.positions(before).tolist() == [3, -1, -1]
    assert two.positions_at(pd.Series(["2021-01", "2021-02", "2021-02"])).tolist() == [3, 4, -1]


def test_row_codes_number_combinations_in_order_a_missing_value_its_own():
    from ksz_reports.core.schema import row_codes

    geo = pd.Series(["b", "a", "b", None, "a", None], dtype="str")
    sex = pd.Series(["F", "F", "F", "M", "M", "M"]).astype("category")
    assert row_codes([geo, sex]).tolist() == [0, 1, 0, 2, 3, 2]
    assert row_codes([], length=3).tolist() == [0, 0, 0]  # no column: one group
