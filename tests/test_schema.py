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
