"""Pure statistics on arrays: rates, Poisson intervals, significance, growth, index.

Everything here is vectorised (numpy/scipy) and knows nothing of files, geography or disclosure;
:mod:`ksz_reports.measures.indicators` applies it to the canonical table.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

# gammaincinv / ndtri are the gamma and normal quantiles, without importing scipy.stats (about
# 1 s of start-up for every command that reads a publication)
from scipy import special


def rate(count: np.ndarray, population: np.ndarray, per: float = 1000.0) -> np.ndarray:
    """``per × count / population``; NaN where the population is 0 or missing or the count masked."""
    count = np.asarray(count, dtype=float)
    population = np.asarray(population, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = per * count / population
    return np.where(population > 0, out, np.nan)


def poisson_interval(
    count: np.ndarray, level: float = 0.95, method: Literal["exact", "byar"] = "exact"
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided interval for the mean of a Poisson count.

    ``exact``: Garwood's interval from the chi-square (gamma) distribution — lower bound 0 for a
    count of 0. ``byar``: Byar's approximation (Breslow & Day 1987), good from a count of about 5.
    """
    counts = np.asarray(count, dtype=float)
    # once per distinct count: a publication has hundreds of thousands of small counts
    k, at = np.unique(counts, return_inverse=True)
    alpha = 1.0 - level
    if method == "exact":
        low = np.where(k > 0, special.gammaincinv(np.maximum(k, 1e-300), alpha / 2), 0.0)
        high = special.gammaincinv(k + 1, 1 - alpha / 2)
    elif method == "byar":
        z = special.ndtri(1 - alpha / 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            kk = np.maximum(k, 1e-300)
            low = kk * (1 - 1 / (9 * kk) - z / (3 * np.sqrt(kk))) ** 3
            k1 = k + 1
            high = k1 * (1 - 1 / (9 * k1) + z / (3 * np.sqrt(k1))) ** 3
        low = np.where(k > 0, low, 0.0)
    else:  # pragma: no cover - config validation prevents it
        raise ValueError(f"unknown interval method {method!r}")
    nan = np.isnan(k)
    low, high = np.where(nan, np.nan, low), np.where(nan, np.nan, high)
    return low[at].reshape(counts.shape), high[at].reshape(counts.shape)


def rate_interval(
    count: np.ndarray,
    population: np.ndarray,
    per: float = 1000.0,
    level: float = 0.95,
    method: Literal["exact", "byar"] = "exact",
) -> tuple[np.ndarray, np.ndarray]:
    """Interval of a rate from the Poisson interval of its count (population taken as exact)."""
    low, high = poisson_interval(count, level, method)
    return rate(low, population, per), rate(high, population, per)


def significance(ci_low: np.ndarray, ci_high: np.ndarray, benchmark_rate: np.ndarray) -> np.ndarray:
    """``higher`` / ``lower`` when the benchmark rate lies outside the interval, else ``""``."""
    low = np.asarray(ci_low, dtype=float)
    high = np.asarray(ci_high, dtype=float)
    bench = np.asarray(benchmark_rate, dtype=float)
    out = np.full(low.shape, "", dtype=object)
    out[low > bench] = "higher"
    out[high < bench] = "lower"
    return out


def growth_pct(current: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Change in % against the previous value; NaN when the previous value is 0 or missing."""
    cur = np.asarray(current, dtype=float)
    prev = np.asarray(previous, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (cur - prev) / prev * 100.0
    return np.where(prev > 0, out, np.nan)


def avg_monthly_growth_pct(last: np.ndarray, first: np.ndarray, months: int) -> np.ndarray:
    """Average monthly growth over a window: ``((last / first) ^ (1 / months) − 1) × 100``."""
    if months < 1:
        raise ValueError("months must be >= 1")
    last = np.asarray(last, dtype=float)
    first = np.asarray(first, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (np.power(last / first, 1.0 / months) - 1.0) * 100.0
    return np.where((first > 0) & (last >= 0), out, np.nan)


def index(values: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Index with the base period = 100."""
    v = np.asarray(values, dtype=float)
    b = np.asarray(base, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 100.0 * v / b
    return np.where(b > 0, out, np.nan)
