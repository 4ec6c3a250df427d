"""The calibration of the sample: published Belgian levels and the model parameters drawn on.

The levels come from docs/domain.md#sources-and-measures and the brief of the sample: POD MI leefloon averages and the other
measures relative to it, the KSZ indicator models (age- and sex-specific rates and the published
shares or counts they are rescaled to), the household / origin / nationality distributions, the
socio-economic position shares, the POD MI breakdowns, and how often cells are masked at source.
Plain data: this module imports nothing of the package.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: KSZ household positions (LIPRO), origins and nationality groups: the columns of the tables below.
HOUSEHOLDS: tuple[str, ...] = tuple(
    ["SING", "MAR0", "MAR+", "CMAR", "UNM0", "UNM+", "CUNM", "H1PA", "C1PA", "NFRP", "OTHR", "COLL"]
)
ORIGINS: tuple[str, ...] = ("BE", "EU", "NON_EU")
NATIONALITIES: tuple[str, ...] = ("BE", "EU", "NON_EU")

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
