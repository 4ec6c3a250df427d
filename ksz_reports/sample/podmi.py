"""The POD MI sample exports: two ``podmi_monthly`` vintages and the ``podmi_barometer_xlsx``.

The leefloon follows the national seasonal path through the yearly averages with a municipal AR(1)
deviation; the equivalent measures are built from it (RMI = LL + employment, GPMI ⊂ RMI, SPI ⊂ LL,
RMH = ELL + other financial aid), so every cell of a municipality-month adds up. The first vintage
under-counts the last months (late reimbursement requests); the barometer counts distinct persons
per year and category.
"""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ksz_reports.core.atomic import atomic_path
from ksz_reports.core.config import Config
from ksz_reports.core.schema import TOTAL
from ksz_reports.sample.calibration import (
    AR_PHI,
    AR_SIGMA,
    DISTINCT_FACTOR,
    ELL_OF_LL,
    FAMILIES,
    GPMI_OF_RMI,
    LATE_SHARE,
    LL_AGE,
    LL_AGE_CLASSES,
    LL_FAMILY,
    LL_MONTHLY_AVERAGE,
    LL_NATIONALITY,
    LL_REGIONS_2020,
    LL_SEASON,
    MASK_P,
    NAME_ONLY_ROWS,
    NATIONALITIES,
    PODMI_FEMALE,
    PODMI_MEASURES,
    RMH_EXTRA,
    RMI_EXTRA,
    SPI_OF_LL,
    SWING_CODES,
)
from ksz_reports.sample.world import (
    BAROMETER_VINTAGE,
    PODMI_YEARS,
    REGION_NAMES,
    REGIONS,
    SEXES,
    _effect,
    _multinomial,
    _normalise,
    _thin,
    _World,
)
from ksz_reports.sample.writers import PODMI_CSV, _column, _value_column, _write_rows

#: The POD MI months, 2017-01 … 2022-12 (axis 0 of every POD MI array).
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
    config: Config,
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
    codes = config.codes
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


def _podmi_headline(world: _World, final: np.ndarray) -> dict[str, float]:
    """Headline totals of the final POD MI counts (monthly averages, measures relative to LL)."""
    totals: dict[str, float] = {}
    cells = _podmi_cells()
    ll = final[..., cells.index(("LL", TOTAL, TOTAL, TOTAL, TOTAL))]  # (months, 581)
    by_year = ll.reshape(len(PODMI_YEARS), 12, -1).sum(axis=2).mean(axis=1)
    for y, v in zip(PODMI_YEARS, by_year, strict=True):
        totals[f"POD MI LL monthly average Belgium {y}"] = float(v)
    y2020 = PODMI_YEARS.index(2020)
    year = ll.reshape(len(PODMI_YEARS), 12, -1)[y2020].mean(axis=0)
    for r, name in enumerate(REGION_NAMES):
        totals[f"POD MI LL monthly average {name} 2020"] = float(year[world.region == r].sum())
    for measure in PODMI_MEASURES:
        if measure == "LL":
            continue
        m = final[..., cells.index((measure, TOTAL, TOTAL, TOTAL, TOTAL))]
        avg = m.reshape(len(PODMI_YEARS), 12, -1)[y2020].sum(axis=1).mean()
        totals[f"POD MI {measure} / LL 2020"] = float(avg / by_year[y2020])
    return totals
