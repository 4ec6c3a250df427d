"""Rates, Poisson intervals, growth: exact values and properties."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as s

from ksz_reports.measures import statistics as st


def test_rate_per_1000_national_leefloon_october_2017():
    # POD MI press release: 140,678 persons, 11,322,088 inhabitants on 1/1/2017 -> 12.4 per 1000
    assert round(float(st.rate(140_678, 11_322_088)), 1) == 12.4


def test_rate_is_nan_without_population():
    assert np.isnan(st.rate(5, 0)) and np.isnan(st.rate(np.nan, 100))


def test_exact_poisson_interval_known_values():
    low, high = st.poisson_interval(np.array([0, 1, 10]))
    # Garwood 95 % limits (e.g. Ulm 1990 tables)
    np.testing.assert_allclose(low, [0.0, 0.0253, 4.7954], atol=1e-4)
    np.testing.assert_allclose(high, [3.6889, 5.5716, 18.3904], atol=1e-4)


def test_byar_close_to_exact_for_moderate_counts():
    k = np.array([20, 50, 200])
    el, eh = st.poisson_interval(k, method="exact")
    bl, bh = st.poisson_interval(k, method="byar")
    np.testing.assert_allclose(bl, el, rtol=0.01)
    np.testing.assert_allclose(bh, eh, rtol=0.01)


@given(s.integers(0, 100_000), s.integers(1, 2_000_000))
def test_interval_contains_the_rate(count, population):
    r = st.rate(count, population)
    low, high = st.rate_interval(np.array([count]), np.array([population]))
    assert low[0] <= r <= high[0]
    assert low[0] >= 0


def test_significance_against_benchmark():
    out = st.significance(np.array([10, 1, 1]), np.array([12, 3, 9]), np.array([5, 5, 5]))
    assert list(out) == ["higher", "lower", ""]


def test_growth_and_average_monthly_growth():
    assert float(st.growth_pct(110, 100)) == 10.0
    assert np.isnan(st.growth_pct(5, 0))
    # ((121 / 100) ^ (1 / 2) - 1) * 100 = 10
    assert abs(float(st.avg_monthly_growth_pct(121, 100, 2)) - 10.0) < 1e-12
    assert float(st.index(150, 100)) == 150.0
