"""The KSZ DWH sample exports: ``ksz_dwh_long`` (every indicator but one) and ``ksz_dwh_wide``.

Every KSZ count of an indicator and year is a marginal of one joint table (municipality × sex × age
class × household position × origin × nationality), drawn from the population with the indicator's
calibrated rates; :func:`plan_ksz_tables` chooses the tables (dimension subsets) of the long file.
The wide file holds ``ses_position``: 20 statuses × sex × age class (18–64), one column per year.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksz_reports.core.atomic import atomic_path
from ksz_reports.core.config import Config
from ksz_reports.core.schema import TOTAL
from ksz_reports.sample.calibration import (
    _HOUSEHOLD_BY_AGE,
    _NATIONALITY_BY_ORIGIN,
    _ORIGIN_BY_REGION,
    _SES_INACTIVE,
    _SES_JOBS,
    _SES_JOBS_MIX,
    _SES_WORK,
    _SES_WORK_MIX,
    HOUSEHOLDS,
    KSZ_INDICATORS,
    KSZ_MODELS,
    LL_MONTHLY_AVERAGE,
    MASK_P,
    NATIONALITIES,
    ORIGINS,
    SES_CODES,
    SES_JOBSEEKER,
    SES_TARGET_JOBS,
    SES_TARGET_WORK,
    SES_WORKING,
    SES_YEAR_JOBS,
    SES_YEAR_WORK,
    _KszModel,
)
from ksz_reports.sample.world import (
    _EFFECTS,
    AGE_CLASSES,
    BAND_CLASS,
    KSZ_YEARS,
    REGION_NAMES,
    REGIONS,
    SEXES,
    _effect,
    _mask,
    _multinomial,
    _normalise,
    _World,
)
from ksz_reports.sample.writers import (
    LONG_CSV,
    WIDE_CSV,
    _column,
    _thousands,
    _value_column,
    _write_rows,
)

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
