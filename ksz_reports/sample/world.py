"""The municipal world every sample component draws from, and the random helpers they share.

The time frame (vintages, stock years, months), the population bands, sexes and regions; the
reference data (``data/municipalities.csv`` and ``data/population.csv``); the municipal effects
(a deprivation factor shared by the indicators, an urban effect growing with the municipality's
size and an idiosyncratic term per effect); multinomial splits, thinning and masking at source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from ksz_reports.core.resources import data_path
from ksz_reports.sample.calibration import KSZ_MODELS

#: Extraction dates (vintages) of the sample files.
KSZ_VINTAGE = dt.date(2023, 3, 1)
PODMI_VINTAGES = (dt.date(2023, 1, 15), dt.date(2023, 4, 15))
BAROMETER_VINTAGE = dt.date(2023, 3, 15)

#: KSZ stocks on 31/12 of these years (population of 1/1 of the next year, which ends in 2022).
KSZ_YEARS: tuple[int, ...] = (2017, 2018, 2019, 2020, 2021)
#: POD MI months of these years (population of 1/1 of the same year).
PODMI_YEARS: tuple[int, ...] = (2017, 2018, 2019, 2020, 2021, 2022)
POP_YEARS: tuple[int, ...] = (2017, 2018, 2019, 2020, 2021, 2022)

#: Population bands of data/population.csv and the canonical age class each one belongs to.
BANDS: tuple[str, ...] = tuple(
    ["0-17", "18-24", "25-34", "35-44", "45-54", "55-59", "60-64", "65-79", "80+"]
)
BAND_CLASS: tuple[str, ...] = tuple(
    ["0-17", "18-24", "25-34", "35-44", "45-54", "55-64", "55-64", "65-79", "80+"]
)
#: The canonical age classes (config/codes.yaml).
AGE_CLASSES: tuple[str, ...] = tuple(dict.fromkeys(BAND_CLASS))
SEXES: tuple[str, ...] = ("M", "F")
#: Region order used in every array: Flanders, Wallonia, Brussels.
REGIONS: tuple[str, ...] = ("02000", "03000", "04000")
REGION_NAMES: tuple[str, ...] = ("Flanders", "Wallonia", "Brussels")


# --------------------------------------------------------------------------------------------
# Reference data and the municipal world
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _World:
    """Municipalities, population and the municipal effects every component shares."""

    nis: np.ndarray  # (581,) str
    name_nl: np.ndarray
    name_fr: np.ndarray
    region: np.ndarray  # (581,) int: index into REGIONS
    pop: np.ndarray  # (len(POP_YEARS), 581, 2, 9) int64: 1 January, sex, band
    deprivation: np.ndarray  # (581,) N(0, 1)
    urban: np.ndarray  # (581,) standardised log population
    noise: np.ndarray  # (n_effects, 581) N(0, 1), one row per municipal effect

    def population(self, year: int) -> np.ndarray:
        """Population on 1 January of ``year``: (581, 2, 9)."""
        return self.pop[POP_YEARS.index(year)]


_EFFECTS = (*KSZ_MODELS, "ses_work", "ses_jobs", "ll", "ell", "rmi", "gpmi", "spi", "origin")


@cache
def _reference() -> tuple[pd.DataFrame, np.ndarray]:
    """municipalities.csv (sorted by NIS) and the population array (years, 581, 2, 9)."""
    muni = pd.read_csv(data_path("municipalities.csv"), dtype=str, keep_default_na=False)
    muni = muni.sort_values("nis", kind="stable").reset_index(drop=True)
    pop = pd.read_csv(data_path("population.csv"), dtype={"nis": str})
    pop = pop[pop["year"].isin(POP_YEARS) & pop["sex"].isin(SEXES) & pop["age_group"].isin(BANDS)]
    y = pd.Categorical(pop["year"], categories=list(POP_YEARS)).codes
    m = pd.Categorical(pop["nis"], categories=list(muni["nis"])).codes
    s = pd.Categorical(pop["sex"], categories=list(SEXES)).codes
    b = pd.Categorical(pop["age_group"], categories=list(BANDS)).codes
    if min(y.min(), m.min(), s.min(), b.min()) < 0:
        raise ValueError("population.csv does not match municipalities.csv")
    arr = np.zeros((len(POP_YEARS), len(muni), 2, len(BANDS)), dtype=np.int64)
    arr[y, m, s, b] = pop["population"].to_numpy(dtype=np.int64)
    if (arr.sum(axis=(1, 2, 3)) == 0).any():
        raise ValueError("population.csv lacks a year of 2017-2022")
    return muni, arr


def _world(rng: np.random.Generator) -> _World:
    muni, pop = _reference()
    region = pd.Categorical(muni["region_nis"], categories=list(REGIONS)).codes.astype(np.int64)
    logpop = np.log(pop[POP_YEARS.index(2020)].sum(axis=(1, 2)))
    urban = (logpop - logpop.mean()) / logpop.std()
    return _World(
        nis=muni["nis"].to_numpy(dtype=object),
        name_nl=muni["name_nl"].to_numpy(dtype=object),
        name_fr=muni["name_fr"].to_numpy(dtype=object),
        region=region,
        pop=pop,
        deprivation=rng.standard_normal(len(muni)),
        urban=urban,
        noise=rng.standard_normal((len(_EFFECTS), len(muni))),
    )


def _effect(
    world: _World, name: str, sigma: float, load: float = 0.0, urban: float = 0.0
) -> np.ndarray:
    """Municipal multiplicative effect: exp(load·deprivation + urban·size + sigma·noise), mean ≈ 1."""
    noise = world.noise[_EFFECTS.index(name)]
    effect = np.exp(load * world.deprivation + urban * world.urban + sigma * noise)
    return effect / effect.mean()


# --------------------------------------------------------------------------------------------
# Random helpers
# --------------------------------------------------------------------------------------------


def _normalise(p: np.ndarray) -> np.ndarray:
    """Probabilities along the last axis (rows of zeros stay zeros, last category absorbs)."""
    p = np.asarray(p, dtype=np.float64)
    total = p.sum(axis=-1, keepdims=True)
    out = np.divide(p, total, out=np.zeros_like(p), where=total > 0)
    return out


def _multinomial(rng: np.random.Generator, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Split counts ``n`` over the last axis of ``p`` (broadcast): the cells add up to ``n``."""
    p = _normalise(p)
    empty = p.sum(axis=-1) == 0
    if empty.any():  # a row without any possible category: put everything in the last one
        p = p.copy()
        p[empty, -1] = 1.0
    return rng.multinomial(np.asarray(n, dtype=np.int64), p)


def _thin(rng: np.random.Generator, cells: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Draw ``keep`` (≤ sum) of the persons in ``cells`` (last axis) without replacement."""
    out = np.zeros_like(cells)
    left_pop = cells.sum(axis=-1)
    left = keep.copy()
    for j in range(cells.shape[-1] - 1):
        good = cells[..., j]
        x = rng.hypergeometric(good, left_pop - good, left)
        out[..., j] = x
        left = left - x
        left_pop = left_pop - good
    out[..., -1] = left
    return out


def _mask(
    rng: np.random.Generator, values: np.ndarray, maskable: Sequence[bool] | np.ndarray, p: float
) -> np.ndarray:
    """Mask (``-1``) cells of 1–4 persons with probability ``p``, only where ``maskable``."""
    u = rng.random(values.shape)
    small = (values >= 1) & (values <= 4) & np.asarray(maskable, dtype=bool)
    return np.where(small & (u < p), -1, values)
