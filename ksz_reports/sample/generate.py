"""Realistic sample exports for all 581 municipalities, in the shipped dialects (docs/dialects.md).

``generate_sample(out)`` writes, deterministically for a seed:

- ``ksz_dwh_long_2023-03-01.csv``: KSZ DWH stocks on 31/12/2017 … 31/12/2021 of every KSZ indicator
  except ``ses_position``, broken down one dimension at a time plus sex × age class (``rows=N``
  adds crossed tables until about N rows);
- ``ksz_dwh_wide_2023-03-01.csv``: ``ses_position``, 20 statuses × sex × age class (18–64), one
  column per year;
- ``podmi_monthly_2023-01-15.csv`` (all months 2017-01 … 2022-12, the last ones incomplete and
  under-counted) and ``podmi_monthly_2023-04-15.csv`` (2022, complete and revised);
- ``podmi_barometer_2023-03-15.xlsx``: distinct persons with a leefloon per year and category.

The model, in short. Every count is drawn from the real population (``data/population.csv``,
1 January of the year that follows a 31 December stock, or of the year of a month) and age- and
sex-specific rates, calibrated per region and year to published Belgian levels (module constants
below), with a lognormal municipal effect (a deprivation factor shared by the indicators, an urban
effect growing with the municipality's size and an idiosyncratic term). Counts per sex × age band
are binomial draws from the population; finer cells split them with multinomials (household
position | age, origin | municipality, nationality | origin), so every table of an export is a
marginal of one joint table and adds up exactly. POD MI months follow the national seasonal path
through the yearly averages, with a municipal AR(1) deviation; the equivalent measures are built
from leefloon (RMI = LL + employment, GPMI ⊂ RMI, SPI ⊂ LL, RMH = ELL + other financial aid).

Randomness comes from one :class:`numpy.random.SeedSequence` of the seed, spawned into one
``Generator(PCG64)`` stream per component, so that ``only`` and ``rows`` never change the content of
the other files. Files are assembled as bytes with vectorised Arrow kernels (dictionary take +
element-wise join), already in the dialect's encoding, and written atomically.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ksz_reports.core.atomic import atomic_path
from ksz_reports.core.config import Config, default_config
from ksz_reports.core.errors import UsageError
from ksz_reports.core.resources import data_path
from ksz_reports.core.schema import TOTAL

#: The dialects ``generate_sample`` writes, in writing order.
DIALECTS: tuple[str, ...] = tuple(
    ["ksz_dwh_long", "ksz_dwh_wide", "podmi_monthly", "podmi_barometer_xlsx"]
)

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

#: Breakdown dimensions of the KSZ exports, in canonical order.
KSZ_DIMS: tuple[str, ...] = ("sex", "age_class", "household_type", "origin", "nationality_group")
#: Tables of the default ``ksz_dwh_long`` export: one dimension at a time, plus sex × age class.
DEFAULT_TABLES: tuple[tuple[str, ...], ...] = (
    (),
    ("sex",),
    ("age_class",),
    ("sex", "age_class"),
    ("household_type",),
    ("origin",),
    ("nationality_group",),
)

HOUSEHOLDS: tuple[str, ...] = tuple(
    ["SING", "MAR0", "MAR+", "CMAR", "UNM0", "UNM+", "CUNM", "H1PA", "C1PA", "NFRP", "OTHR", "COLL"]
)
ORIGINS: tuple[str, ...] = ("BE", "EU", "NON_EU")
NATIONALITIES: tuple[str, ...] = ("BE", "EU", "NON_EU")

# --------------------------------------------------------------------------------------------
# Calibration (published Belgian levels; see SPEC §2 and the brief of the sample).
# --------------------------------------------------------------------------------------------

#: Leefloon, national monthly average per year (POD MI): 2017, 2019, 2020 published, others ≈.
LL_MONTHLY_AVERAGE: dict[int, float] = dict(
    zip(range(2017, 2023), (140_149, 143_700, 146_753, 153_270, 154_500, 152_300), strict=True)
)
#: Leefloon 2020 by region (Flanders, Wallonia, Brussels); the regional shares of every year.
LL_REGIONS_2020: tuple[float, float, float] = (38_400, 73_100, 41_800)
#: Seasonal profile of the leefloon (January … December), normalised to mean 1.
LL_SEASON = np.array([0.992, 0.995, 1.0, 1.0, 0.998, 0.992, 0.985, 0.988, 1.0, 1.012, 1.02, 1.018])
#: Municipal AR(1) deviation of the monthly level (log scale).
AR_PHI, AR_SIGMA = 0.85, 0.025
#: Other POD MI measures relative to the leefloon.
RMI_EXTRA = 0.08  # RMI = LL + employment (art. 60) ≈ 1.08 × LL
GPMI_OF_RMI = 0.35 / 1.08  # GPMI ≈ 0.35 × LL
SPI_OF_LL = 0.03
ELL_OF_LL = (0.09, 0.10, 0.35)  # by region: ELL ≈ 0.17 × LL, mostly Brussels and Wallonia
RMH_EXTRA = 0.05  # RMH = ELL + other financial aid ≈ 0.22 × LL
#: Distinct persons in a year ≈ this × the monthly average.
DISTINCT_FACTOR = 1.45
#: Share of reimbursement requests still missing in the first POD MI vintage (2022-10 … 2022-12).
LATE_SHARE: dict[str, float] = {"2022-10": 0.012, "2022-11": 0.03, "2022-12": 0.05}
#: Share of municipalities without any row yet for these months in the first vintage.
MISSING_SHARE: dict[str, float] = {"2022-11": 0.05, "2022-12": 0.15}
#: Rows of each POD MI vintage whose NIS is empty (OCMW name only).
NAME_ONLY_ROWS = 20

#: Masked at source: probability that a non-total cell with 1–4 persons is masked.
MASK_P: dict[str, float] = {"ksz_dwh_long": 0.0025, "ksz_dwh_wide": 0.002, "podmi_monthly": 0.01}
#: Swing codes put in a few cells of the barometer workbook.
SWING_CODES: tuple[int, ...] = (-99997, -99997, -99997, -99997, -99999, -99999)


@dataclass(frozen=True)
class _KszModel:
    """How one KSZ indicator is drawn.

    ``rates`` are per population band (BANDS) for men and women: absolute when ``target`` is None,
    else relative and rescaled per region and year so that the count hits the target.
    ``target`` is ``("national", bands, {year: share or count})`` (region factors kept) or
    ``("regional", bands, (fl, wal, bxl), {year: multiplier})`` (share of the bands' population).
    """

    rates_m: tuple[float, ...]
    rates_f: tuple[float, ...]
    target: tuple | None
    region: tuple[float, float, float] = (1.0, 1.0, 1.0)
    sigma: float = 0.15  # idiosyncratic municipal log-noise
    load: float = 0.0  # loading on the shared deprivation factor
    urban: float = 0.0  # log-rate per standard deviation of log(population)
    cap: float = 0.9
    households: dict[str, float] = field(default_factory=dict)  # tilt of P(household | age)
    exclude_households: tuple[str, ...] = ()
    origin_odds: tuple[float, float] = (1.0, 1.0)  # EU, non-EU odds vs the municipality


_ALL = tuple(range(9))
_ADULT = (1, 2, 3, 4, 5, 6)  # 18-64
_YOUNG = (0, 1, 2, 3, 4, 5)  # 0-59

KSZ_MODELS: dict[str, _KszModel] = {
    # ≈ 21 % of the population: nearly everyone 65+, early and survivors' pensions below.
    "pension": _KszModel(
        rates_m=(0, 0, 0, 0, 0.004, 0.03, 0.30, 0.985, 0.99),
        rates_f=(0, 0, 0, 0, 0.010, 0.05, 0.34, 0.975, 0.995),
        target=(
            "national",
            _ALL,
            {2017: 0.206, 2018: 0.208, 2019: 0.210, 2020: 0.212, 2021: 0.214},
        ),
        sigma=0.01,
        cap=0.998,
        origin_odds=(0.8, 0.35),
    ),
    # ≈ 2.5 % of 18-64.
    "work_incapacity_primary": _KszModel(
        rates_m=(0, 0.6, 0.9, 1.0, 1.15, 1.3, 1.1, 0, 0),
        rates_f=(0, 0.75, 1.12, 1.25, 1.44, 1.6, 1.3, 0, 0),
        target=(
            "national",
            _ADULT,
            {2017: 0.023, 2018: 0.024, 2019: 0.025, 2020: 0.026, 2021: 0.027},
        ),
        region=(1.0, 1.1, 0.85),
        sigma=0.12,
        load=0.05,
        households={"SING": 1.3},
    ),
    # ≈ 6–7 % of 18-64, 470k in 2021 and rising.
    "work_incapacity_invalidity": _KszModel(
        rates_m=(0, 0.3, 2.0, 4.5, 8.5, 14.0, 15.0, 0, 0),
        rates_f=(0, 0.35, 2.3, 5.2, 9.8, 16.1, 17.2, 0, 0),
        target=(
            "national",
            None,
            {2017: 405_000, 2018: 421_000, 2019: 437_000, 2020: 452_000, 2021: 470_000},
        ),
        region=(0.9, 1.3, 0.95),
        sigma=0.12,
        load=0.1,
        households={"SING": 1.4, "H1PA": 1.3},
        origin_odds=(1.0, 0.9),
    ),
    # ≈ 1.4 % of the population: Brussels 3.5 %, Wallonia 2.15 %, Flanders 0.62 % (2020).
    "social_assistance": _KszModel(
        rates_m=(0, 3.0, 2.2, 1.9, 1.5, 1.2, 1.0, 0.3, 0.12),
        rates_f=(0, 3.3, 2.42, 2.09, 1.65, 1.32, 1.1, 0.33, 0.13),
        target=("regional", _ALL, (0.0062, 0.0215, 0.035), None),  # year path from the leefloon
        sigma=0.2,
        load=0.2,
        urban=0.25,
        cap=0.5,
        households={"SING": 2.2, "H1PA": 2.2, "MAR0": 0.4, "MAR+": 0.4, "UNM0": 0.7, "COLL": 1.5},
        origin_odds=(1.0, 3.5),
    ),
    # IVT/IT, 18-64: ≈ 1.8 % of the population.
    "disability_allowance": _KszModel(
        rates_m=(0, 1.0, 1.3, 1.9, 2.9, 4.0, 4.6, 0, 0),
        rates_f=(0, 0.95, 1.24, 1.8, 2.76, 3.8, 4.4, 0, 0),
        target=(
            "national",
            _ALL,
            {2017: 0.0172, 2018: 0.0175, 2019: 0.0178, 2020: 0.0181, 2021: 0.0184},
        ),
        region=(0.9, 1.25, 0.95),
        sigma=0.15,
        load=0.1,
        households={"NFRP": 2.0, "CMAR": 2.0, "C1PA": 2.0, "CUNM": 2.0, "COLL": 3.0, "SING": 1.3},
        origin_odds=(0.7, 0.7),
    ),
    # ≈ 18 %: Flanders 13.5 %, Wallonia 19.5 %, Brussels 30 %.
    "increased_reimbursement": _KszModel(
        rates_m=(1.0, 1.05, 0.8, 0.75, 0.75, 0.85, 0.95, 1.3, 2.1),
        rates_f=(1.1, 1.18, 0.9, 0.84, 0.84, 0.95, 1.06, 1.46, 2.35),
        target=(
            "regional",
            _ALL,
            (0.142, 0.202, 0.302),
            {2017: 0.97, 2018: 0.98, 2019: 0.99, 2020: 1.0, 2021: 1.01},
        ),
        sigma=0.1,
        load=0.12,
        urban=0.1,
        cap=0.9,
        households={"SING": 1.5, "H1PA": 1.5, "C1PA": 1.5, "COLL": 3.0},
        origin_odds=(1.1, 1.8),
    ),
    # ≈ 12 % of 0-59: Flanders 7 %, Wallonia 17 %, Brussels 24 %; private households only.
    "work_intensity": _KszModel(
        rates_m=(1.1, 1.3, 0.9, 0.85, 0.9, 1.3, 0, 0, 0),
        rates_f=(1.15, 1.37, 0.95, 0.9, 0.95, 1.37, 0, 0, 0),
        target=(
            "regional",
            _YOUNG,
            (0.07, 0.17, 0.24),
            {2017: 1.03, 2018: 1.01, 2019: 1.0, 2020: 1.0, 2021: 0.99},
        ),
        sigma=0.15,
        load=0.2,
        urban=0.2,
        cap=0.8,
        households={"SING": 2.5, "H1PA": 2.5, "C1PA": 2.5, "MAR+": 0.5, "CMAR": 0.5, "UNM+": 0.7},
        exclude_households=("COLL",),
        origin_odds=(1.2, 2.5),
    ),
}
#: ``work_intensity_children`` is the 0-17 slice of ``work_intensity`` (same joint table).
KSZ_INDICATORS: tuple[str, ...] = (*KSZ_MODELS, "work_intensity_children")

#: P(household position | age class) of the general population (LIPRO positions, rough Belgian
#: shares); rows AGE_CLASSES, columns HOUSEHOLDS.
_HOUSEHOLD_BY_AGE = np.array(
    [
        # SING MAR0  MAR+  CMAR  UNM0  UNM+  CUNM  H1PA  C1PA  NFRP  OTHR  COLL
        [0.00, 0.00, 0.00, 0.58, 0.00, 0.00, 0.17, 0.00, 0.20, 0.03, 0.01, 0.01],  # 0-17
        [0.12, 0.02, 0.02, 0.38, 0.10, 0.03, 0.07, 0.01, 0.17, 0.04, 0.02, 0.02],  # 18-24
        [0.22, 0.08, 0.20, 0.06, 0.16, 0.12, 0.01, 0.05, 0.04, 0.03, 0.02, 0.01],  # 25-34
        [0.16, 0.05, 0.42, 0.02, 0.05, 0.15, 0.00, 0.09, 0.02, 0.02, 0.01, 0.01],  # 35-44
        [0.18, 0.12, 0.38, 0.01, 0.06, 0.08, 0.00, 0.10, 0.02, 0.02, 0.02, 0.01],  # 45-54
        [0.22, 0.40, 0.14, 0.00, 0.09, 0.02, 0.00, 0.06, 0.00, 0.03, 0.02, 0.02],  # 55-64
        [0.28, 0.55, 0.04, 0.00, 0.05, 0.00, 0.00, 0.02, 0.00, 0.02, 0.01, 0.03],  # 65-79
        [0.50, 0.28, 0.01, 0.00, 0.01, 0.00, 0.00, 0.01, 0.00, 0.05, 0.01, 0.13],  # 80+
    ]
)
#: Origin of the population by region (BE, EU, non-EU), before municipal variation.
_ORIGIN_BY_REGION = np.array([[0.77, 0.08, 0.15], [0.70, 0.17, 0.13], [0.26, 0.26, 0.48]])
#: P(nationality | origin): rows origin BE, EU, non-EU; columns nationality BE, EU, non-EU.
_NATIONALITY_BY_ORIGIN = np.array([[1.0, 0.0, 0.0], [0.45, 0.55, 0.0], [0.62, 0.03, 0.35]])

# socio-economic position (wide export): status shares per band 18-24 … 60-64 (BANDS[1:7]).
SES_CODES: tuple[str, ...] = tuple(f"{i:02d}" for i in range(1, 21))
SES_WORKING = slice(0, 6)
SES_JOBSEEKER = slice(6, 9)
#: Working and job-seeker shares by band (before region/year calibration).
_SES_WORK = np.array([0.38, 0.78, 0.81, 0.78, 0.66, 0.33])
_SES_JOBS = np.array([0.08, 0.08, 0.07, 0.06, 0.06, 0.04])
#: Composition of the working (01-06) and job seekers (07-09) by band.
_SES_WORK_MIX = np.array([0.82, 0.10, 0.008, 0.04, 0.028, 0.004])
_SES_JOBS_MIX = np.array(
    [
        [0.35, 0.03, 0.62],
        [0.62, 0.05, 0.33],
        [0.82, 0.08, 0.10],
        [0.87, 0.08, 0.05],
        [0.90, 0.07, 0.03],
        [0.92, 0.06, 0.02],
    ]
)
#: Inactive statuses 10-19 by band (absolute shares); 20 "andere" takes the rest.
_SES_INACTIVE = np.array(
    # 10     11     12     13     14  15     16     17     18     19
    [
        [0.000, 0.002, 0.025, 0.000, 0, 0.000, 0.000, 0.400, 0.008, 0.012],
        [0.004, 0.003, 0.020, 0.001, 0, 0.000, 0.000, 0.003, 0.030, 0.015],
        [0.005, 0.003, 0.017, 0.001, 0, 0.000, 0.000, 0.000, 0.055, 0.018],
        [0.004, 0.004, 0.015, 0.002, 0, 0.000, 0.000, 0.000, 0.090, 0.022],
        [0.010, 0.020, 0.012, 0.030, 0, 0.020, 0.004, 0.000, 0.150, 0.028],
        [0.006, 0.020, 0.010, 0.330, 0, 0.050, 0.010, 0.000, 0.140, 0.030],
    ]
)
#: Working / job-seeker share of 18-64 by region (Flanders, Wallonia, Brussels) in 2019.
SES_TARGET_WORK = (0.72, 0.60, 0.54)
SES_TARGET_JOBS = (0.045, 0.095, 0.13)
SES_YEAR_WORK = {2017: -0.01, 2018: -0.005, 2019: 0.0, 2020: -0.004, 2021: 0.004}
SES_YEAR_JOBS = {2017: 1.10, 2018: 1.04, 2019: 1.0, 2020: 1.08, 2021: 1.02}

#: POD MI leefloon breakdowns (by region where it differs).
LL_FAMILY = np.array([[0.38, 0.40, 0.22], [0.42, 0.36, 0.22], [0.36, 0.42, 0.22]])
LL_NATIONALITY = np.array([[0.50, 0.08, 0.42], [0.70, 0.07, 0.23], [0.35, 0.10, 0.55]])
LL_AGE_CLASSES: tuple[str, ...] = ("18-24", "25-34", "35-44", "45-54", "55-64", "65-79", "80+")
LL_AGE = np.array([0.27, 0.27, 0.19, 0.14, 0.10, 0.025, 0.005])
PODMI_FEMALE = {"RMI": 0.53, "LL": 0.53, "GPMI": 0.52, "RMH": 0.48, "ELL": 0.47, "SPI": 0.50}
PODMI_MEASURES: tuple[str, ...] = ("RMI", "LL", "GPMI", "RMH", "ELL", "SPI")
FAMILIES: tuple[str, ...] = ("COH", "SGL", "FAM")


# --------------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleFile:
    """One written file: ``rows`` data rows (header excluded), ``cells`` canonical rows."""

    name: str
    dialect: str
    rows: int
    cells: int
    bytes: int
    seconds: float


@dataclass
class SampleSummary:
    """What :func:`generate_sample` wrote, with a few headline totals; ``str()`` prints it."""

    out: Path
    seed: int
    files: list[SampleFile] = field(default_factory=list)
    headline: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def total_cells(self) -> int:
        """Canonical rows of all files (a wide row counts once per year column)."""
        return sum(f.cells for f in self.files)

    def file(self, dialect_or_name: str) -> list[SampleFile]:
        """The files of a dialect (or the one file of that name)."""
        return [f for f in self.files if dialect_or_name in (f.dialect, f.name)]

    def __str__(self) -> str:
        width = max([len(f.name) for f in self.files] + [10])
        lines = [f"sample exports (seed {self.seed}) in {self.out}:"]
        for f in self.files:
            lines.append(
                f"  {f.name:<{width}}  {f.rows:>11,} rows  {f.cells:>11,} cells  "
                f"{f.bytes / 1e6:>8.1f} MB  {f.seconds:>5.1f} s"
            )
        lines.append(
            f"  {'total':<{width}}  {self.total_rows:>11,} rows  {self.total_cells:>11,} cells  "
            f"{sum(f.bytes for f in self.files) / 1e6:>8.1f} MB  {self.seconds:>5.1f} s"
        )
        if self.headline:
            lines.append("headline totals:")
            key_width = max(len(k) for k in self.headline)
            for key, value in self.headline.items():
                digits = 3 if abs(value) < 10 else 1 if abs(value) < 100 else 0
                text = f"{value:,.{digits}f}"
                lines.append(f"  {key:<{key_width}}  {text:>12}")
        return "\n".join(lines)


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


# --------------------------------------------------------------------------------------------
# Rendering: vectorised CSV assembly in the dialect's encoding
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Csv:
    """How a dialect writes a CSV file."""

    sep: str
    eol: str
    encoding: str
    quote_all: bool
    bom: bool = False

    def field(self, text: str) -> bytes:
        """One field, quoted when the dialect says so or when it has to be."""
        if self.quote_all or self.sep in text or '"' in text or "\n" in text or "\r" in text:
            text = '"' + text.replace('"', '""') + '"'
        return text.encode(self.encoding)

    def fields(self, texts: Sequence[str]) -> bytes:
        """Several fields joined by the separator (one pre-rendered part of a row)."""
        return self.sep.encode(self.encoding).join(self.field(t) for t in texts)

    def header(self, names: Sequence[str]) -> bytes:
        start = "\ufeff".encode() if self.bom else b""
        return start + self.fields(names) + self.eol.encode(self.encoding)


LONG_CSV = _Csv(sep=";", eol="\r\n", encoding="cp1252", quote_all=False)
WIDE_CSV = _Csv(sep=",", eol="\n", encoding="utf-8", quote_all=True, bom=True)
PODMI_CSV = _Csv(sep=";", eol="\n", encoding="utf-8", quote_all=False)


def _column(dictionary: Sequence[bytes], idx: np.ndarray) -> pa.Array:
    """A binary column: ``dictionary[idx]`` (pre-rendered fields)."""
    return pc.take(pa.array(list(dictionary), pa.binary()), pa.array(np.asarray(idx, np.int32)))


def _value_column(
    values: np.ndarray, fmt: Callable[[int], str], masked: str, csv: _Csv
) -> pa.Array:
    """Counts rendered with ``fmt``; ``-1`` is a masked-at-source cell rendered as ``masked``."""
    uniq, inv = np.unique(values, return_inverse=True)
    texts = [csv.field(masked if v < 0 else fmt(int(v))) for v in uniq]
    return _column(texts, inv.reshape(-1))


def _write_rows(fh: BinaryIO, parts: Sequence[pa.Array | bytes], csv: _Csv) -> None:
    """Join the parts of each row with the separator, end it, and write the bytes."""
    binary = pa.binary()
    items = [pa.scalar(p, binary) if isinstance(p, bytes) else p for p in parts]
    sep = pa.scalar(csv.sep.encode(csv.encoding), binary)
    rows = pc.binary_join_element_wise(*items, sep)
    rows = pc.binary_join_element_wise(
        rows, pa.scalar(csv.eol.encode(csv.encoding), binary), pa.scalar(b"", binary)
    )
    if isinstance(rows, pa.ChunkedArray):
        rows = rows.combine_chunks()
    if len(rows) == 0:
        return
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)[
        rows.offset : rows.offset + len(rows) + 1
    ]
    fh.write(memoryview(rows.buffers()[2])[int(offsets[0]) : int(offsets[-1])])


def _thousands(sep: str) -> Callable[[int], str]:
    return lambda v: f"{v:,}".replace(",", sep)


# --------------------------------------------------------------------------------------------
# KSZ DWH: joint tables per indicator and year
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _View:
    """Counts of one indicator and year over some dimensions: axis 0 the municipalities."""

    dims: tuple[str, ...]
    counts: np.ndarray


@dataclass(frozen=True)
class _Joint:
    """Consistent views (marginals of one joint table) of one indicator and year.

    The full municipality × sex × age × household × origin × nationality table is only drawn when a
    table crosses the household position with origin or nationality; otherwise two branches
    (sex × age × household and sex × age × origin × nationality) share the sex × age counts.
    """

    codes: dict[str, tuple[str, ...]]
    views: tuple[_View, ...]

    def table(self, dims: tuple[str, ...]) -> tuple[np.ndarray, list[tuple[str, ...]]]:
        """Marginal table over ``dims``: values (581, cells) and each cell's codes (KSZ_DIMS order)."""
        view = min((v for v in self.views if set(dims) <= set(v.dims)), key=lambda v: v.counts.size)
        drop = tuple(1 + i for i, d in enumerate(view.dims) if d not in dims)
        values = view.counts.sum(axis=drop) if drop else view.counts
        kept = [d for d in view.dims if d in dims]
        cells = []
        for combo in itertools.product(*(self.codes[d] for d in kept)):
            chosen = dict(zip(kept, combo, strict=True))
            cells.append(tuple(chosen.get(d, TOTAL) for d in KSZ_DIMS))
        return values.reshape(values.shape[0], -1), cells

    @property
    def total(self) -> int:
        return int(self.views[0].counts.sum())


def _ksz_age_classes(model: _KszModel) -> tuple[list[int], list[str], np.ndarray]:
    """Bands with a non-zero rate, their age classes and the band → class matrix."""
    bands = [b for b in range(9) if max(model.rates_m[b], model.rates_f[b]) > 0]
    classes = list(dict.fromkeys(BAND_CLASS[b] for b in bands))
    matrix = np.zeros((len(bands), len(classes)), dtype=np.int64)
    for i, b in enumerate(bands):
        matrix[i, classes.index(BAND_CLASS[b])] = 1
    return bands, classes, matrix


def _household_probs(model: _KszModel, classes: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """P(household | age class) of the indicator and the household codes it can have."""
    p = _HOUSEHOLD_BY_AGE[[AGE_CLASSES.index(c) for c in classes]]
    tilt = np.array(
        [0.0 if h in model.exclude_households else model.households.get(h, 1.0) for h in HOUSEHOLDS]
    )
    p = _normalise(p * tilt)
    keep = [i for i in range(len(HOUSEHOLDS)) if p[:, i].max() > 0]
    return p[:, keep], [HOUSEHOLDS[i] for i in keep]


def _origin_probs(world: _World, odds: tuple[float, float] = (1.0, 1.0)) -> np.ndarray:
    """P(origin | municipality): regional shares, more foreign origin in larger towns, noise."""
    base = _ORIGIN_BY_REGION[world.region]
    shift = np.exp(0.35 * world.urban + 0.3 * world.noise[_EFFECTS.index("origin")])
    p = base * np.stack([np.ones_like(shift), shift * odds[0], shift * odds[1]], axis=1)
    return _normalise(p)


def _ksz_probabilities(
    world: _World, rng: np.random.Generator, ind: str, model: _KszModel, year: int, bands: list[int]
) -> np.ndarray:
    """P(person of municipality × sex × band is counted) on 31/12/year, calibrated: (581, 2, nb)."""
    pop = world.population(year + 1)[:, :, bands].astype(np.float64)
    rel = np.array([[model.rates_m[b] for b in bands], [model.rates_f[b] for b in bands]])
    muni = _effect(world, ind, model.sigma, model.load, model.urban)
    muni = muni * np.exp(min(0.03, model.sigma) * rng.standard_normal(len(muni)))  # yearly wobble
    if model.target is None:
        return np.clip(rel[None] * muni[:, None, None], 0, model.cap)
    kind = model.target[0]
    region_factor = np.asarray(model.region)[world.region] if kind == "national" else 1.0
    weight = rel[None] * (muni * region_factor)[:, None, None]
    expected = pop * weight
    scale = np.ones(len(world.nis))
    if kind == "national":
        _, den_bands, values = model.target
        value = values[year]
        if den_bands is not None:  # a share of the population of these bands
            value = value * world.population(year + 1)[:, :, list(den_bands)].sum()
        scale[:] = value / expected.sum()
    else:
        _, den_bands, shares, year_path = model.target
        mult = _sa_year_factor(year) if year_path is None else year_path[year]
        den = world.population(year + 1)[:, :, list(den_bands)].sum(axis=(1, 2))
        for r in range(len(REGIONS)):
            inr = world.region == r
            scale[inr] = shares[r] * mult * den[inr].sum() / expected[inr].sum()
    return np.clip(weight * scale[:, None, None], 0, model.cap)


def _sa_year_factor(year: int) -> float:
    """Social assistance on 31/12 follows the leefloon's yearly level (relative to 2020)."""
    return LL_MONTHLY_AVERAGE[year] / LL_MONTHLY_AVERAGE[2020]


def _ksz_joint(world: _World, rng: np.random.Generator, ind: str, year: int, full: bool) -> _Joint:
    """Draw the counts of one indicator on 31/12/year (``full``: the whole crossed table)."""
    model = KSZ_MODELS[ind]
    bands, classes, matrix = _ksz_age_classes(model)
    p = _ksz_probabilities(world, rng, ind, model, year, bands)
    by_band = rng.binomial(world.population(year + 1)[:, :, bands], p)
    by_class = by_band @ matrix  # (581, 2, K)
    hh_p, households = _household_probs(model, classes)
    by_hh = _multinomial(rng, by_class, hh_p)  # (581, 2, K, H)
    origin_p = _origin_probs(world, model.origin_odds)
    on_p = (origin_p[:, :, None] * _NATIONALITY_BY_ORIGIN[None]).reshape(len(world.nis), 9)
    codes = {
        "sex": SEXES,
        "age_class": tuple(classes),
        "household_type": tuple(households),
        "origin": ORIGINS,
        "nationality_group": NATIONALITIES,
    }
    if full:
        counts = _multinomial(rng, by_hh, on_p[:, None, None, None, :])
        counts = counts.reshape(*by_hh.shape, 3, 3)
        return _Joint(codes, (_View(KSZ_DIMS, counts),))
    by_on = _multinomial(rng, by_class, on_p[:, None, None, :]).reshape(*by_class.shape, 3, 3)
    return _Joint(
        codes,
        (
            _View(("sex", "age_class", "household_type"), by_hh),
            _View(("sex", "age_class", "origin", "nationality_group"), by_on),
        ),
    )


def _needs_full(tables: Sequence[tuple[str, ...]]) -> bool:
    """Does a table cross the household position with origin or nationality?"""
    return any("household_type" in t and ({"origin", "nationality_group"} & set(t)) for t in tables)


def _children_joint(work_intensity: _Joint) -> _Joint:
    """``work_intensity_children``: the 0-17 slice of ``work_intensity`` (no age dimension)."""
    k = work_intensity.codes["age_class"].index("0-17")
    # the household positions children can have (the others are structural zeros at 0-17)
    possible = tuple(_children_households())
    idx = [work_intensity.codes["household_type"].index(h) for h in possible]
    views = []
    for view in work_intensity.views:
        counts = view.counts[:, :, k]  # sex, age_class are the first two dimensions of every view
        dims = tuple(d for d in view.dims if d != "age_class")
        if "household_type" in dims:
            counts = np.take(counts, idx, axis=1 + dims.index("household_type"))
        views.append(_View(dims, counts))
    codes = {**work_intensity.codes, "household_type": possible}
    del codes["age_class"]
    return _Joint(codes, tuple(views))


def _children_households() -> list[str]:
    """Household positions of ``work_intensity_children`` (children in private households)."""
    _, classes, _ = _ksz_age_classes(KSZ_MODELS["work_intensity"])
    _, households = _household_probs(KSZ_MODELS["work_intensity"], classes)
    children = _HOUSEHOLD_BY_AGE[AGE_CLASSES.index("0-17")]
    return [h for h in households if children[HOUSEHOLDS.index(h)] > 0]


def _ksz_shapes() -> dict[str, dict[str, int]]:
    """Number of codes per dimension of every KSZ indicator (for planning the tables)."""
    out = {}
    for ind in KSZ_INDICATORS:
        if ind == "work_intensity_children":
            hh = len(_children_households())
            out[ind] = {"sex": 2, "household_type": hh, "origin": 3, "nationality_group": 3}
            continue
        model = KSZ_MODELS[ind]
        _, classes, _ = _ksz_age_classes(model)
        _, households = _household_probs(model, classes)
        out[ind] = {
            "sex": 2,
            "age_class": len(classes),
            "household_type": len(households),
            "origin": 3,
            "nationality_group": 3,
        }
    return out


def plan_ksz_tables(
    rows: int | None, n_municipalities: int = 581
) -> dict[str, list[tuple[str, ...]]]:
    """Tables (dimension subsets) of every KSZ indicator in ``ksz_dwh_long``.

    ``rows=None``: the default tables (one dimension at a time, plus sex × age class). ``rows=N``:
    the total of every indicator, then tables in order of crossing depth (the default ones first),
    each one for each indicator where it still fits under N, so the file ends just below N rows.
    """
    shapes = _ksz_shapes()
    per_table = len(KSZ_YEARS) * n_municipalities
    if rows is None:
        return {
            ind: [t for t in DEFAULT_TABLES if all(d in shapes[ind] for d in t)]
            for ind in KSZ_INDICATORS
        }
    order: list[tuple[str, ...]] = list(DEFAULT_TABLES)
    for depth in range(2, len(KSZ_DIMS) + 1):
        order += [c for c in itertools.combinations(KSZ_DIMS, depth) if c not in order]
    plan: dict[str, list[tuple[str, ...]]] = {ind: [()] for ind in KSZ_INDICATORS}
    used = per_table * len(KSZ_INDICATORS)
    for table in order[1:]:
        for ind in KSZ_INDICATORS:
            if not all(d in shapes[ind] for d in table):
                continue
            size = per_table * int(np.prod([shapes[ind][d] for d in table]))
            if used + size <= rows:
                plan[ind].append(table)
                used += size
    for ind in plan:  # write tables in the canonical order of the crossing list
        plan[ind].sort(key=order.index)
    return plan


def _write_ksz_long(
    path: Path,
    world: _World,
    rng: np.random.Generator,
    mask_rng: np.random.Generator,
    cfg: Config,
    rows: int | None,
) -> tuple[int, dict[str, float]]:
    """``ksz_dwh_long``: one chunk per indicator and year, muni-major; returns rows and totals."""
    codes = cfg.codes
    plan = plan_ksz_tables(rows, len(world.nis))
    csv = LONG_CSV
    header = [
        "Indicator",
        "Referentiedatum",
        "NIS-code",
        "Gemeente",
        "Geslacht",
        "Leeftijdsklasse",
        "Positie in het huishouden",
        "Herkomst",
        "Nationaliteit",
        "Aantal",
    ]
    muni_fields = [csv.fields([n, name]) for n, name in zip(world.nis, world.name_nl, strict=True)]
    n_muni = len(world.nis)
    fmt = _thousands(".")
    written = 0
    totals: dict[str, float] = {}
    wi_joints: dict[int, _Joint] = {}
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(csv.header(header))
        for ind in KSZ_INDICATORS:
            label = cfg.indicators[ind].labels.nl
            for year in KSZ_YEARS:
                if ind == "work_intensity_children":
                    joint = _children_joint(wi_joints.pop(year))
                else:
                    full = _needs_full(plan[ind])
                    if ind == "work_intensity":
                        full = full or _needs_full(plan["work_intensity_children"])
                    joint = _ksz_joint(world, rng, ind, year, full)
                    if ind == "work_intensity":
                        wi_joints[year] = joint
                if year == KSZ_YEARS[-1]:
                    totals[f"KSZ {ind} 31/12/{year}"] = float(joint.total)
                tables = [joint.table(t) for t in plan[ind]]
                values = np.concatenate([v for v, _ in tables], axis=1)
                cells = [c for _, cs in tables for c in cs]
                values = _mask(
                    mask_rng, values, [c != (TOTAL,) * 5 for c in cells], MASK_P["ksz_dwh_long"]
                )
                cell_fields = [
                    csv.fields(
                        [codes.label(d, c, "nl") for d, c in zip(KSZ_DIMS, cell, strict=True)]
                    )
                    for cell in cells
                ]
                n_cells = len(cells)
                prefix = csv.fields([label, f"31/12/{year}"])
                _write_rows(
                    fh,
                    [
                        prefix,
                        _column(muni_fields, np.repeat(np.arange(n_muni), n_cells)),
                        _column(cell_fields, np.tile(np.arange(n_cells), n_muni)),
                        _value_column(values.reshape(-1), fmt, "x", csv),
                    ],
                    csv,
                )
                written += values.size
    return written, totals


def _mask(
    rng: np.random.Generator, values: np.ndarray, maskable: Sequence[bool] | np.ndarray, p: float
) -> np.ndarray:
    """Mask (``-1``) cells of 1–4 persons with probability ``p``, only where ``maskable``."""
    u = rng.random(values.shape)
    small = (values >= 1) & (values <= 4) & np.asarray(maskable, dtype=bool)
    return np.where(small & (u < p), -1, values)


# --------------------------------------------------------------------------------------------
# KSZ DWH wide: socio-economic position
# --------------------------------------------------------------------------------------------


def _ses_probabilities(world: _World, year: int) -> np.ndarray:
    """P(status | municipality, sex, band 18-24 … 60-64) on 31/12/year: (581, 2, 6, 20)."""
    n = len(world.nis)
    inactive = np.broadcast_to(_SES_INACTIVE, (n, 2, 6, 10)).copy()
    # RMI/RMH, incapacity and disability follow the municipality's own levels
    inactive[..., 2] *= (
        _effect(world, "social_assistance", 0.2, 0.2, 0.25)[:, None, None]
        * np.array([0.5, 1.3, 2.0])[world.region][:, None, None]
    )
    inactive[..., 8] *= (
        _effect(world, "work_incapacity_invalidity", 0.12, 0.1)[:, None, None]
        * np.array([0.9, 1.3, 0.95])[world.region][:, None, None]
    )
    inactive[..., 9] *= _effect(world, "disability_allowance", 0.15, 0.1)[:, None, None]
    inactive[:, 1, :, 8] *= 1.2  # women: more incapacity
    inactive[:, 0, :, 5] *= 1.4  # men: more unemployment with company supplement
    inactive[:, 1, :, 5] *= 0.6
    pop = world.population(year + 1)[:, :, 1:7].astype(np.float64)
    work = np.broadcast_to(_SES_WORK, (n, 2, 6)) * np.array([1.05, 0.95])[None, :, None]
    work = work * _effect(world, "ses_work", 0.04, -0.04, -0.03)[:, None, None]
    jobs = (
        np.broadcast_to(_SES_JOBS, (n, 2, 6))
        * _effect(world, "ses_jobs", 0.15, 0.15, 0.15)[:, None, None]
    )
    targets = [
        (SES_TARGET_WORK[r] + SES_YEAR_WORK[year], SES_TARGET_JOBS[r] * SES_YEAR_JOBS[year])
        for r in range(len(REGIONS))
    ]
    for _ in range(4):  # calibrate the regional shares (the caps make one step inexact)
        p = _ses_assemble(work, jobs, inactive)
        for r, (target_w, target_j) in enumerate(targets):
            inr = world.region == r
            den = pop[inr].sum()
            share_w = (p[inr][..., SES_WORKING].sum(-1) * pop[inr]).sum() / den
            share_j = (p[inr][..., SES_JOBSEEKER].sum(-1) * pop[inr]).sum() / den
            work[inr] *= target_w / share_w
            jobs[inr] *= target_j / share_j
    return _ses_assemble(work, jobs, inactive)


def _ses_assemble(work: np.ndarray, jobs: np.ndarray, inactive: np.ndarray) -> np.ndarray:
    """Status distribution from the working / job-seeker shares and the inactive statuses."""
    p = np.zeros((*work.shape, 20))
    p[..., SES_WORKING] = np.minimum(work, 0.9)[..., None] * _SES_WORK_MIX
    p[..., SES_JOBSEEKER] = jobs[..., None] * _SES_JOBS_MIX[None, None]
    p[..., 9:19] = inactive
    p[..., 13] = 0.0  # 14 bruggepensioneerd: until 2011
    rest = 1.0 - p[..., :19].sum(axis=-1)
    over = rest < 0.02  # keep a minimum of "andere" and stay a distribution
    p[over, :19] *= (0.98 / (1.0 - rest[over]))[:, None]
    p[..., 19] = 1.0 - p[..., :19].sum(axis=-1)
    return p


def _ses_counts(world: _World, rng: np.random.Generator) -> np.ndarray:
    """Counts (years, 581, 2, 5 age classes, 20 statuses) of the population 18-64."""
    out = []
    for year in KSZ_YEARS:
        pop = world.population(year + 1)[:, :, 1:7]
        by_band = _multinomial(rng, pop, _ses_probabilities(world, year))
        by_class = by_band[:, :, :5].copy()
        by_class[:, :, 4] += by_band[:, :, 5]  # 55-59 + 60-64 = 55-64
        out.append(by_class)
    return np.stack(out)


SES_AGE_CLASSES: tuple[str, ...] = ("18-24", "25-34", "35-44", "45-54", "55-64")


def _write_ksz_wide(
    path: Path, world: _World, rng: np.random.Generator, mask_rng: np.random.Generator, cfg: Config
) -> tuple[int, dict[str, float]]:
    """``ksz_dwh_wide``: ses_position, (total, M, F) × (total, age classes) × (total, statuses)."""
    counts = _ses_counts(world, rng)  # (Y, 581, 2, 5, 20)
    sexed = np.concatenate(
        [counts.sum(axis=2, keepdims=True), counts], axis=2
    )  # (Y, 581, 3, 5, 20)
    aged = np.concatenate([sexed.sum(axis=3, keepdims=True), sexed], axis=3)  # (Y, 581, 3, 6, 20)
    full = np.concatenate([aged.sum(axis=4, keepdims=True), aged], axis=4)  # (Y, 581, 3, 6, 21)
    statuses = (TOTAL, *SES_CODES)
    keep = [i for i, s in enumerate(statuses) if s != "14"]  # 14 only until 2011: absent
    full = full[..., keep]
    statuses = tuple(statuses[i] for i in keep)
    combos = list(itertools.product((TOTAL, *SEXES), (TOTAL, *SES_AGE_CLASSES), statuses))
    values = full.reshape(len(KSZ_YEARS), len(world.nis), len(combos))  # (Y, 581, R)
    values = np.moveaxis(values, 0, -1)  # (581, R, Y)
    maskable = np.array([s != TOTAL for _, _, s in combos])[None, :, None]
    values = _mask(
        mask_rng, values, np.broadcast_to(maskable, values.shape), MASK_P["ksz_dwh_wide"]
    )
    csv = WIDE_CSV
    header = [
        *["Code INS", "Commune", "Indicateur", "Sexe", "Classe d'âge", "Position socio-économique"],
        *map(str, KSZ_YEARS),
    ]
    muni_fields = [
        csv.fields([n.lstrip("0"), name]) for n, name in zip(world.nis, world.name_fr, strict=True)
    ]
    combo_fields = [csv.fields(c) for c in combos]
    n_muni, n_combo = values.shape[:2]
    # French number format: space as thousands separator, "-" for zero; about 2 % of the numbers
    # carry a no-break space instead (as exports from a French Excel do).
    nbsp = rng.random(values.shape) < 0.02
    plain, fancy = _thousands(" "), _thousands("\u00a0")
    columns = []
    for y in range(len(KSZ_YEARS)):
        v = values[:, :, y].reshape(-1)
        special = nbsp[:, :, y].reshape(-1) & (v >= 1000)
        col_plain = _value_column(
            np.where(special, 0, v), lambda x: "-" if x == 0 else plain(x), "c", csv
        )
        col_fancy = _value_column(np.where(special, v, 0), fancy, "c", csv)
        columns.append(pc.if_else(pa.array(special), col_fancy, col_plain))
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(csv.header(header))
        _write_rows(
            fh,
            [
                _column(muni_fields, np.repeat(np.arange(n_muni), n_combo)),
                csv.field(cfg.indicators["ses_position"].labels.fr),
                _column(combo_fields, np.tile(np.arange(n_combo), n_muni)),
                *columns,
            ],
            csv,
        )
    pop1864 = counts[-1].sum()
    work = counts[-1][..., SES_WORKING].sum()
    jobs = counts[-1][..., SES_JOBSEEKER].sum()
    totals = {
        f"KSZ ses_position working % 18-64 31/12/{KSZ_YEARS[-1]}": 100 * work / pop1864,
        f"KSZ ses_position job seekers % 18-64 31/12/{KSZ_YEARS[-1]}": 100 * jobs / pop1864,
    }
    for r, name in enumerate(REGION_NAMES):
        c = counts[-1][world.region == r]
        totals[f"KSZ ses_position working % 18-64 {name} {KSZ_YEARS[-1]}"] = (
            100 * c[..., SES_WORKING].sum() / c.sum()
        )
    return n_muni * n_combo, totals


# --------------------------------------------------------------------------------------------
# POD MI
# --------------------------------------------------------------------------------------------

MONTHS: tuple[str, ...] = tuple(f"{y}-{m:02d}" for y in PODMI_YEARS for m in range(1, 13))


def _podmi_cells() -> list[tuple[str, str, str, str, str]]:
    """(measure, family category, sex, age class, nationality) of every row of a muni-month."""
    cells: list[tuple[str, str, str, str, str]] = []
    t = TOTAL
    for measure in PODMI_MEASURES:
        cells.append((measure, t, t, t, t))
        if measure == "LL":
            cells += [(measure, f, t, t, t) for f in FAMILIES]
        cells += [(measure, t, s, t, t) for s in SEXES]
        if measure == "LL":
            cells += [(measure, t, t, a, t) for a in LL_AGE_CLASSES]
            cells += [(measure, t, t, t, n) for n in NATIONALITIES]
    return cells


def _ll_level(world: _World, rng: np.random.Generator) -> np.ndarray:
    """Expected leefloon count per month and municipality (months, 581), calibrated per region."""
    months = len(MONTHS)
    # national path: piecewise linear through the yearly averages (mid-year), seasonal, rescaled
    mid = np.array([12 * i + 5.5 for i in range(len(PODMI_YEARS))])
    annual = np.array([LL_MONTHLY_AVERAGE[y] for y in PODMI_YEARS], dtype=np.float64)
    path = np.interp(np.arange(months), mid, annual) * np.tile(
        LL_SEASON / LL_SEASON.mean(), len(PODMI_YEARS)
    )
    path = path.reshape(len(PODMI_YEARS), 12)
    path = (path * (annual / path.mean(axis=1))[:, None]).reshape(-1)
    shares = np.array(LL_REGIONS_2020) / sum(LL_REGIONS_2020)
    region_path = path[:, None] * shares[None, :]  # (months, 3)
    # municipal weights: regional rate × population × persistent effect × AR(1) deviation
    effect = _effect(world, "ll", 0.2, 0.25, 0.3)
    dev = np.empty((months, len(world.nis)))
    dev[0] = rng.standard_normal(len(world.nis)) * AR_SIGMA / np.sqrt(1 - AR_PHI**2)
    shocks = rng.standard_normal((months, len(world.nis))) * AR_SIGMA
    for t in range(1, months):
        dev[t] = AR_PHI * dev[t - 1] + shocks[t]
    pop = np.stack([world.population(y).sum(axis=(1, 2)) for y in PODMI_YEARS])  # (Y, 581)
    pop_month = np.repeat(pop, 12, axis=0).astype(np.float64)
    weight = pop_month * effect[None, :] * np.exp(dev)
    level = np.empty_like(weight)
    for r in range(len(REGIONS)):
        inr = world.region == r
        level[:, inr] = (
            weight[:, inr] / weight[:, inr].sum(axis=1, keepdims=True) * region_path[:, r : r + 1]
        )
    return level


def _muni_mix(
    world: _World, rng: np.random.Generator, base: np.ndarray, sigma: float = 0.15
) -> np.ndarray:
    """Municipal shares around ``base`` ((3, k) by region or (k,)): (581, k), fixed over time."""
    b = base[world.region] if base.ndim == 2 else np.broadcast_to(base, (len(world.nis), len(base)))
    return _normalise(b * np.exp(sigma * rng.standard_normal(b.shape)))


@dataclass(frozen=True)
class _PodmiParts:
    """The independent components every POD MI measure is built from (months, 581, ...)."""

    ll_total: np.ndarray
    ll_tables: list[np.ndarray]  # family (3), sex (2), age (7), nationality (3)
    extra_rmi: np.ndarray  # (T, 581, 2) employment (RMI without leefloon), by sex
    gpmi: np.ndarray  # (T, 581, 2) GPMI by sex (⊂ RMI)
    spi: np.ndarray  # (T, 581, 2) SPI by sex (⊂ LL)
    ell: np.ndarray  # (T, 581, 2) ELL by sex
    extra_rmh: np.ndarray  # (T, 581, 2) other financial aid (RMH without ELL), by sex

    def compose(self) -> np.ndarray:
        """All cells (months, 581, cells) in :func:`_podmi_cells` order; additive by construction."""
        ll_sex = self.ll_tables[1]
        rmi = ll_sex + self.extra_rmi
        rmh = self.ell + self.extra_rmh
        parts: list[np.ndarray] = []

        def add(total: np.ndarray, *tables: np.ndarray) -> None:
            parts.append(total[..., None])
            parts.extend(tables)

        add(rmi.sum(-1), rmi)
        fam, sex, age, nat = self.ll_tables
        add(self.ll_total, fam, sex, age, nat)
        add(self.gpmi.sum(-1), self.gpmi)
        add(rmh.sum(-1), rmh)
        add(self.ell.sum(-1), self.ell)
        add(self.spi.sum(-1), self.spi)
        return np.concatenate(parts, axis=-1)


def _podmi_final(world: _World, rng: np.random.Generator) -> _PodmiParts:
    """The final (fully reported) POD MI counts."""
    level = _ll_level(world, rng)
    ll_total = rng.poisson(level)
    mixes = [
        _muni_mix(world, rng, LL_FAMILY),
        _muni_mix(world, rng, np.array([1 - PODMI_FEMALE["LL"], PODMI_FEMALE["LL"]]), 0.05),
        _muni_mix(world, rng, LL_AGE, 0.15),
        _muni_mix(world, rng, LL_NATIONALITY, 0.2),
    ]
    tables = [_multinomial(rng, ll_total, mix[None]) for mix in mixes]

    def by_sex(total: np.ndarray, measure: str) -> np.ndarray:
        female = rng.binomial(total, PODMI_FEMALE[measure])
        return np.stack([total - female, female], axis=-1)

    extra_rmi = by_sex(rng.poisson(level * RMI_EXTRA * _effect(world, "rmi", 0.2)[None]), "RMI")
    rmi_sex = tables[1] + extra_rmi
    g = np.clip(GPMI_OF_RMI * _effect(world, "gpmi", 0.2), 0, 0.9)
    gpmi = rng.binomial(rmi_sex, g[None, :, None])
    s = np.clip(SPI_OF_LL * _effect(world, "spi", 0.3), 0, 0.5)
    spi = rng.binomial(tables[1], s[None, :, None])
    ell_rate = np.asarray(ELL_OF_LL)[world.region] * _effect(world, "ell", 0.3, 0.1, 0.2)
    ell_level = level * ell_rate[None]
    for r in range(len(REGIONS)):  # keep the regional ELL / LL ratios after the municipal effect
        inr = world.region == r
        ell_level[:, inr] *= ELL_OF_LL[r] * level[:, inr].sum() / ell_level[:, inr].sum()
    ell = by_sex(rng.poisson(ell_level), "ELL")
    extra_rmh = by_sex(rng.poisson(level * RMH_EXTRA), "RMH")
    return _PodmiParts(ll_total, tables, extra_rmi, gpmi, spi, ell, extra_rmh)


def _podmi_first(parts: _PodmiParts, world: _World, rng: np.random.Generator) -> _PodmiParts:
    """The first vintage: the last months under-counted (late reimbursement requests)."""
    keep_share = np.ones((len(MONTHS), len(world.nis)))
    for month, late in LATE_SHARE.items():
        t = MONTHS.index(month)
        u = late * np.exp(0.4 * rng.standard_normal(len(world.nis)) - 0.08)
        keep_share[t] = 1.0 - np.clip(u, 0, 0.25)
    idx = [MONTHS.index(m) for m in LATE_SHARE]

    def late(a: np.ndarray) -> np.ndarray:
        out = a.copy()
        share = keep_share[idx]
        out[idx] = rng.binomial(a[idx], share[..., None] if a.ndim == 3 else share)
        return out

    ll_total = late(parts.ll_total)
    tables = []
    for table in parts.ll_tables:
        t = table.copy()
        t[idx] = _thin(rng, table[idx], ll_total[idx])
        tables.append(t)
    rmi_sex = parts.ll_tables[1] + parts.extra_rmi
    extra_rmi = late(parts.extra_rmi)
    new_rmi_sex = tables[1] + extra_rmi
    gpmi = parts.gpmi.copy()
    gpmi[idx] = rng.hypergeometric(
        parts.gpmi[idx], rmi_sex[idx] - parts.gpmi[idx], new_rmi_sex[idx]
    )
    spi = parts.spi.copy()
    spi[idx] = rng.hypergeometric(
        parts.spi[idx], parts.ll_tables[1][idx] - parts.spi[idx], tables[1][idx]
    )
    return _PodmiParts(
        ll_total, tables, extra_rmi, gpmi, spi, late(parts.ell), late(parts.extra_rmh)
    )


def _name_variant(name: str, kind: int) -> str:
    """How an OCMW name gets typed: upper case, lower case, without accents, …"""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return [name.upper(), name.lower(), plain, plain.upper(), plain.lower(), f" {name} "][kind % 6]


def _name_only_candidates(world: _World) -> np.ndarray:
    """Municipalities whose Dutch name identifies them unambiguously (nl and fr names)."""
    from ksz_reports.core.text import normalize

    keys: dict[str, set[str]] = {}
    for nis, nl, fr in zip(world.nis, world.name_nl, world.name_fr, strict=True):
        for name in (nl, fr):
            keys.setdefault(normalize(name), set()).add(nis)
    return np.array([len(keys[normalize(nl)]) == 1 for nl in world.name_nl])


def _write_podmi(
    path: Path,
    world: _World,
    values: np.ndarray,
    present: np.ndarray,
    months: Sequence[int],
    rng: np.random.Generator,
    uniform: np.ndarray,
) -> int:
    """One ``podmi_monthly`` vintage: the muni-months where ``present``; returns the rows."""
    cells = _podmi_cells()
    csv = PODMI_CSV
    header = [
        "Maand",
        "NIS",
        "OCMW",
        "Maatregel",
        "Categorie",
        "Geslacht",
        "Leeftijdsklasse",
        "Nationaliteit",
        "Aantal",
    ]
    codes = default_config().codes
    dims = ("family_category", "sex", "age_class", "nationality_group")
    cell_fields = [
        csv.fields([c[0], *(codes.label(d, v, "nl") for d, v in zip(dims, c[1:], strict=True))])
        for c in cells
    ]
    maskable = np.array([c[1:] != (TOTAL,) * 4 for c in cells])
    v = values[list(months)]
    v = np.where(
        (v >= 1) & (v <= 4) & maskable & (uniform[list(months)] < MASK_P["podmi_monthly"]), -1, v
    )
    tm, mm = np.nonzero(present[list(months)])  # present muni-months, month-major
    n_cells = len(cells)
    row_month = np.repeat(tm, n_cells)
    row_muni = np.repeat(mm, n_cells)
    row_cell = np.tile(np.arange(n_cells), len(tm))
    row_value = v[tm, mm].reshape(-1)
    muni_fields = [csv.fields([n, name]) for n, name in zip(world.nis, world.name_nl, strict=True)]
    # a few rows give the OCMW name only (typed in varying case, without accents)
    ok = _name_only_candidates(world)
    accented = ok & np.array([not n.isascii() for n in world.name_nl])
    candidates = np.nonzero(np.isin(row_muni, np.nonzero(ok)[0]))[0]
    pick_acc = np.nonzero(np.isin(row_muni, np.nonzero(accented)[0]))[0]
    chosen = np.unique(
        np.concatenate(
            [
                rng.choice(pick_acc, size=min(NAME_ONLY_ROWS // 3, len(pick_acc)), replace=False),
                rng.choice(candidates, size=NAME_ONLY_ROWS - NAME_ONLY_ROWS // 3, replace=False),
            ]
        )
    )
    extra = [
        csv.fields(["", _name_variant(world.name_nl[row_muni[r]], k)]) for k, r in enumerate(chosen)
    ]
    muni_idx = row_muni.copy()
    muni_idx[chosen] = len(muni_fields) + np.arange(len(chosen))
    month_fields = [csv.field(MONTHS[m]) for m in months]
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(csv.header(header))
        step = 600_000
        for start in range(0, len(row_cell), step):
            sl = slice(start, start + step)
            _write_rows(
                fh,
                [
                    _column(month_fields, row_month[sl]),
                    _column(muni_fields + extra, muni_idx[sl]),
                    _column(cell_fields, row_cell[sl]),
                    _value_column(row_value[sl], str, "<5", csv),
                ],
                csv,
            )
    return len(row_cell)


def _write_barometer(path: Path, world: _World, final: np.ndarray, rng: np.random.Generator) -> int:
    """``podmi_barometer_xlsx``: distinct persons with a leefloon per year × category (+ Totaal)."""
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    cells = _podmi_cells()
    fam_idx = [cells.index(("LL", f, TOTAL, TOTAL, TOTAL)) for f in FAMILIES]
    n_years, n_muni = len(PODMI_YEARS), len(world.nis)
    monthly = final[..., fam_idx].reshape(n_years, 12, n_muni, len(FAMILIES))
    avg = monthly.mean(axis=1)
    peak = monthly.max(axis=1)
    expected = DISTINCT_FACTOR * avg * np.exp(0.05 * rng.standard_normal(avg.shape))
    distinct = peak + rng.poisson(np.maximum(expected - peak, 0.0))  # ≥ any single month
    values = np.concatenate(
        [distinct, distinct.sum(axis=-1, keepdims=True)], axis=-1
    )  # (Y, 581, 4)
    shown: np.ndarray = values.astype(object)
    shown[(values >= 1) & (values <= 4)] = "<5"
    flat = shown.reshape(-1)
    for code, where in zip(
        SWING_CODES, rng.choice(flat.size, len(SWING_CODES), replace=False), strict=True
    ):
        flat[where] = code
    wb = Workbook()
    ws = wb.active
    ws.title = "Barometer"
    ws.append(["Barometer maatschappelijke integratie"])
    ws.append(["Leefloon: aantal unieke personen per jaar"])
    ws.append([f"Extractiedatum: {BAROMETER_VINTAGE:%d/%m/%Y}"])
    ws.append([])
    ws.append(["NIS-code", "Gemeente", "Categorie", *map(str, PODMI_YEARS)])
    labels = ["Samenwonende", "Alleenstaande", "Met gezin ten laste", "Totaal"]
    for m in range(n_muni):
        for c, label in enumerate(labels):
            row = [shown[y, m, c] for y in range(n_years)]
            ws.append(
                [
                    world.nis[m],
                    world.name_nl[m],
                    label,
                    *(int(x) if not isinstance(x, str) else x for x in row),
                ]
            )
    ws.append([])
    ws.append(["Bron: POD Maatschappelijke Integratie"])
    ws.append(["<5: afgeschermd (minder dan 5 personen)"])
    stamp = dt.datetime(BAROMETER_VINTAGE.year, BAROMETER_VINTAGE.month, BAROMETER_VINTAGE.day)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = "POD Maatschappelijke Integratie"
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    # the zip entries carry the time of writing: rewrite them with a fixed one (same seed, same bytes)
    fixed = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src,
        zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            entry = zipfile.ZipInfo(
                info.filename, date_time=(*BAROMETER_VINTAGE.timetuple()[:3], 0, 0, 0)
            )
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            dst.writestr(entry, src.read(info.filename))
    with atomic_path(path) as tmp:
        tmp.write_bytes(fixed.getvalue())
    return n_muni * len(labels)


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def sample_file_names() -> dict[str, list[str]]:
    """The files ``generate_sample`` writes, per dialect."""
    return {
        "ksz_dwh_long": [f"ksz_dwh_long_{KSZ_VINTAGE:%Y-%m-%d}.csv"],
        "ksz_dwh_wide": [f"ksz_dwh_wide_{KSZ_VINTAGE:%Y-%m-%d}.csv"],
        "podmi_monthly": [f"podmi_monthly_{v:%Y-%m-%d}.csv" for v in PODMI_VINTAGES],
        "podmi_barometer_xlsx": [f"podmi_barometer_{BAROMETER_VINTAGE:%Y-%m-%d}.xlsx"],
    }


def _streams(seed: int) -> Iterator[np.random.Generator]:
    for child in np.random.SeedSequence(seed).spawn(8):
        yield np.random.Generator(np.random.PCG64(child))


def generate_sample(
    out: Path, *, seed: int = 1, rows: int | None = None, only: list[str] | None = None
) -> SampleSummary:
    """Write realistic sample exports for all 581 municipalities into ``out``.

    ``seed``: same seed, byte-identical files. ``rows``: scale ``ksz_dwh_long`` to about this many
    data rows by adding crossed tables (never fewer than the totals, 23,240 rows). ``only``: the
    dialects to write (:data:`DIALECTS`); the content of a file does not depend on ``only`` or
    (except ``ksz_dwh_long``) on ``rows``.
    """
    t_start = time.perf_counter()
    selected = list(DIALECTS) if only is None else list(dict.fromkeys(only))
    unknown = [d for d in selected if d not in DIALECTS]
    if unknown:
        raise UsageError(
            f"unknown sample dialect(s) {', '.join(unknown)}; known: {', '.join(DIALECTS)}"
        )
    if rows is not None and rows < 1:
        raise UsageError("rows must be a positive number")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = default_config()
    (world_rng, long_rng, long_mask, wide_rng, wide_mask, podmi_rng, podmi_mask, baro_rng) = (
        _streams(seed)
    )
    world = _world(world_rng)
    names = sample_file_names()
    summary = SampleSummary(out=out, seed=seed)

    def record(name: str, dialect: str, n_rows: int, cells: int, t0: float) -> None:
        size = (out / name).stat().st_size
        summary.files.append(
            SampleFile(name, dialect, n_rows, cells, size, time.perf_counter() - t0)
        )

    if "ksz_dwh_long" in selected:
        t0 = time.perf_counter()
        name = names["ksz_dwh_long"][0]
        n, totals = _write_ksz_long(out / name, world, long_rng, long_mask, cfg, rows)
        record(name, "ksz_dwh_long", n, n, t0)
        summary.headline.update(totals)
    if "ksz_dwh_wide" in selected:
        t0 = time.perf_counter()
        name = names["ksz_dwh_wide"][0]
        n, totals = _write_ksz_wide(out / name, world, wide_rng, wide_mask, cfg)
        record(name, "ksz_dwh_wide", n, n * len(KSZ_YEARS), t0)
        summary.headline.update(totals)
    if "podmi_monthly" in selected or "podmi_barometer_xlsx" in selected:
        t0 = time.perf_counter()
        final_parts = _podmi_final(world, podmi_rng)
        final = final_parts.compose()
        first = _podmi_first(final_parts, world, podmi_rng).compose()
        uniform = podmi_mask.random(final.shape)
        _podmi_headline(summary, world, final)
        if "podmi_monthly" in selected:
            present = np.ones(final.shape[:2], dtype=bool)
            lag = podmi_rng.random(len(world.nis))  # the same OCMWs lag in both months
            for month, share in MISSING_SHARE.items():
                present[MONTHS.index(month)] = lag >= share
            v1, v2 = names["podmi_monthly"]
            n1 = _write_podmi(
                out / v1, world, first, present, range(len(MONTHS)), podmi_rng, uniform
            )
            record(v1, "podmi_monthly", n1, n1, t0)
            t0 = time.perf_counter()
            last_year = range(MONTHS.index("2022-01"), len(MONTHS))
            n2 = _write_podmi(
                out / v2, world, final, np.ones_like(present), last_year, podmi_rng, uniform
            )
            record(v2, "podmi_monthly", n2, n2, t0)
        if "podmi_barometer_xlsx" in selected:
            t0 = time.perf_counter()
            name = names["podmi_barometer_xlsx"][0]
            n = _write_barometer(out / name, world, final, baro_rng)
            record(name, "podmi_barometer_xlsx", n, n * len(PODMI_YEARS), t0)
    summary.seconds = time.perf_counter() - t_start
    return summary


def _podmi_headline(summary: SampleSummary, world: _World, final: np.ndarray) -> None:
    cells = _podmi_cells()
    ll = final[..., cells.index(("LL", TOTAL, TOTAL, TOTAL, TOTAL))]  # (months, 581)
    by_year = ll.reshape(len(PODMI_YEARS), 12, -1).sum(axis=2).mean(axis=1)
    for y, v in zip(PODMI_YEARS, by_year, strict=True):
        summary.headline[f"POD MI LL monthly average Belgium {y}"] = float(v)
    y2020 = PODMI_YEARS.index(2020)
    year = ll.reshape(len(PODMI_YEARS), 12, -1)[y2020].mean(axis=0)
    for r, name in enumerate(REGION_NAMES):
        summary.headline[f"POD MI LL monthly average {name} 2020"] = float(
            year[world.region == r].sum()
        )
    for measure in PODMI_MEASURES:
        if measure == "LL":
            continue
        m = final[..., cells.index((measure, TOTAL, TOTAL, TOTAL, TOTAL))]
        avg = m.reshape(len(PODMI_YEARS), 12, -1)[y2020].sum(axis=1).mean()
        summary.headline[f"POD MI {measure} / LL 2020"] = float(avg / by_year[y2020])
