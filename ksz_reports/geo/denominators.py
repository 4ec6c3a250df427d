"""The population on 1 January: the shipped ``population.csv`` (2009–2022, on the 2019–2024
geography; age bands from 2017) plus any year imported with
:func:`ksz_reports.geo.statbel.import_statbel` into ``<user data>/population/`` (an imported year
replaces the shipped year of the same number).

Aggregates are always summed from municipalities. A year is shown on the geography of its
1 January, or on a later one when asked (``at``) or when ``geo`` only exists later (its
predecessors are summed; counts only, never rates). A missing year raises
:class:`PopulationNotAvailableError`; :func:`population_with_fallback` takes the nearest earlier
year and says which.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ksz_reports.core.errors import InputError, NotFoundError, UsageError
from ksz_reports.core.resources import data_path, user_data_dir
from ksz_reports.core.vocabulary import LEVELS
from ksz_reports.geo.codes import COUNTRY, normalise_code, spans
from ksz_reports.geo.geography import Geography, successor_map
from ksz_reports.geo.registry import At, geographies, geography, shipped_geography

SEXES: tuple[str, ...] = ("total", "M", "F")
TOTAL = "total"
_LOCK = threading.RLock()


class PopulationNotAvailableError(NotFoundError):
    """No population for that 1 January (not shipped, not imported)."""

    def __init__(self, year: int, available: Sequence[int]):
        self.year = year
        self.available = sorted(available)
        earlier = [y for y in self.available if y < year]
        self.nearest_earlier = earlier[-1] if earlier else None
        span = spans(self.available)
        text = f"No population for 1 January {year} (available: {span or 'none'})"
        if year > (self.available[-1] if self.available else 0):
            text += (
                f". Import Statbel's TF_SOC_POP_STRUCT_{year} file "
                "(ksz-reports population import FILE)"
            )
        if self.nearest_earlier is not None:
            text += f", or use the nearest earlier year ({self.nearest_earlier}) with fallback"
        super().__init__(text)


class AgeClassError(UsageError):
    """An age class that cannot be built exactly from the age bands of that year."""

    def __init__(self, message: str, age_class: str, available: Sequence[str]):
        self.age_class = age_class
        self.available = tuple(available)
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class PopulationFigure:
    """A population with the year it really comes from (``year`` < ``requested_year``: fallback)."""

    population: int
    year: int
    requested_year: int
    geo: str
    geography: str  # label of the geography the figure is on

    @property
    def is_fallback(self) -> bool:
        """True when an earlier year stands in for the requested one (the report must say so)."""
        return self.year != self.requested_year


def imported_population_dir() -> Path:
    """Where imported population years live: ``<user data>/population``."""
    return user_data_dir() / "population"


_IMPORTED = re.compile(r"population_(\d{4})\.parquet")
_POP_COLUMNS = ["year", "nis", "sex", "age_group", "population"]


def _parse_class(text: str) -> tuple[int, float] | None:
    """``18-64`` → (18, 65); ``65+`` → (65, inf); ``total`` → None (everyone)."""
    norm = re.sub(r"\s+", "", str(text)).replace("–", "-").replace("—", "-").lower()
    if norm == TOTAL:
        return None
    closed = re.fullmatch(r"(\d{1,3})-(\d{1,3})", norm)
    if closed and int(closed.group(1)) <= int(closed.group(2)):
        return int(closed.group(1)), int(closed.group(2)) + 1
    open_ = re.fullmatch(r"(\d{1,3})\+", norm)
    if open_:
        return int(open_.group(1)), math.inf
    raise UsageError(f"Not an age class: {text!r} (use an interval like 18-64, 65+, or 'total').")


def _canonical_class(text: str) -> str:
    interval = _parse_class(text)
    if interval is None:
        return TOTAL
    lo, hi = interval
    return f"{lo}+" if hi == math.inf else f"{lo}-{int(hi) - 1}"


@dataclass
class _Year:
    year: int
    frame: pd.DataFrame  # nis, sex, age_group, population — on ``geography``
    geography: Geography
    source: str
    bands: tuple[str, ...]  # age groups other than total, in age order


@dataclass
class _Cube:
    rows: dict[str, int]  # every unit code of the geography → row
    codes: np.ndarray
    levels: np.ndarray
    cols: dict[tuple[str, str], int]  # (sex, age_group) → column
    values: np.ndarray  # int64 rows × cols


def _year_data(year: int, frame: pd.DataFrame, geo: Geography, source: str) -> _Year:
    """Check that a year is complete (every municipality × sex × age group) and wrap it."""
    groups = frame["age_group"].unique().tolist()
    bands = [g for g in groups if g != TOTAL]
    bands.sort(key=lambda b: (_parse_class(b) or (0, 0))[0])
    expected = len(geo) * len(SEXES) * (1 + len(bands))
    codes = set(frame["nis"].unique())
    if len(frame) != expected or codes != set(geo.codes) or TOTAL not in groups:
        raise InputError(
            f"population of {year} is not complete on the geography {geo.label} "
            f"({len(frame)} rows for {len(codes)} municipalities, expected {expected})",
            file=source,
            hint="Import the Statbel file of that year again",
        )
    return _Year(year, frame.reset_index(drop=True), geo, source, tuple(bands))


_SHIPPED: dict[int, _Year] | None = None


def _shipped() -> dict[int, _Year]:
    """The shipped ``population.csv`` by year (read once)."""
    global _SHIPPED
    if _SHIPPED is None:
        with _LOCK:
            if _SHIPPED is None:
                g2019 = shipped_geography()
                frame = pd.read_csv(
                    data_path("population.csv"), dtype={"nis": str, "sex": str, "age_group": str}
                )
                _SHIPPED = {
                    int(year): _year_data(
                        int(year), part.drop(columns="year"), g2019, "shipped population.csv"
                    )
                    for year, part in frame.groupby("year", sort=True)
                }
    return _SHIPPED


class _PopulationStore:
    """All population years for one user data folder; cubes built on demand."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.years: dict[int, _Year] = dict(_shipped())
        self._cubes: dict[tuple[int, str], _Cube] = {}
        if folder.is_dir():
            for path in sorted(folder.glob("population_*.parquet")):
                match = _IMPORTED.fullmatch(path.name)
                if match:
                    self._load_imported(int(match.group(1)), path)

    def _add(self, year: int, frame: pd.DataFrame, geo: Geography, source: str) -> None:
        self.years[year] = _year_data(year, frame, geo, source)

    def _load_imported(self, year: int, path: Path) -> None:
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is the same problem
            raise InputError(
                f"cannot read the imported population file ({exc.__class__.__name__})",
                file=path,
                hint="Import the Statbel file of that year again",
            ) from exc
        missing = [c for c in _POP_COLUMNS if c not in frame.columns]
        if missing or set(frame["year"].unique()) != {year}:
            raise InputError(
                f"not a population file of {year} (columns {list(frame.columns)})",
                file=path,
                hint="Import the Statbel file of that year again",
            )
        frame = frame[_POP_COLUMNS].astype(
            {"nis": str, "sex": str, "age_group": str, "population": "int64"}
        )
        self._add(year, frame.drop(columns="year"), storage_geography(year), str(path))

    def get(self, year: int) -> _Year:
        found = self.years.get(year)
        if found is None:
            raise PopulationNotAvailableError(year, list(self.years))
        return found

    def cube(self, year: int, target: Geography) -> _Cube:
        key = (year, target.label)
        cube = self._cubes.get(key)
        if cube is None:
            with _LOCK:
                cube = self._cubes.get(key) or self._build_cube(self.get(year), target)
                self._cubes[key] = cube
        return cube

    def _build_cube(self, data: _Year, target: Geography) -> _Cube:
        if target.valid_from < data.geography.valid_from:
            raise UsageError(
                f"The population of {data.year} is on the geography {data.geography.label}; it "
                f"cannot be split onto the earlier geography {target.label}."
            )
        wide = data.frame.pivot(index="nis", columns=["sex", "age_group"], values="population")
        if target is not data.geography:  # sum the predecessors (counts only)
            mapping = successor_map(data.geography, target)
            wide = wide.groupby(wide.index.map(mapping)).sum()
        wide = wide.reindex(index=list(target.codes))
        if wide.isna().to_numpy().any():
            raise RuntimeError(f"population {data.year} does not cover {target.label}")
        ref = pd.DataFrame(
            [(m.nis, m.arrondissement, m.province, m.region) for m in target.municipalities()],
            columns=["nis", "arrondissement", "province", "region"],
        ).set_index("nis")
        parts = [wide]
        kinds = [np.full(len(wide), "municipality", dtype=object)]
        for level in ("arrondissement", "province", "region"):
            agg = wide.groupby(ref[level].to_numpy(), dropna=True).sum()
            parts.append(agg)
            kinds.append(np.full(len(agg), level, dtype=object))
        parts.append(wide.sum().to_frame(COUNTRY).T)
        kinds.append(np.array(["country"], dtype=object))
        full = pd.concat(parts)
        codes = full.index.astype(str).to_numpy()
        return _Cube(
            rows={c: i for i, c in enumerate(codes)},
            codes=codes,
            levels=np.concatenate(kinds),
            cols={(str(s), str(a)): i for i, (s, a) in enumerate(full.columns)},
            values=full.to_numpy(dtype="int64"),
        )


_POPULATION: dict[Path, _PopulationStore] = {}


def _store() -> _PopulationStore:
    folder = imported_population_dir()
    store = _POPULATION.get(folder)
    if store is None:
        with _LOCK:
            store = _POPULATION.get(folder)
            if store is None:
                store = _POPULATION[folder] = _PopulationStore(folder)
    return store


def _geography_of_year(year: int) -> Geography | None:
    day = dt.date(year, 1, 1)
    return next((g for g in geographies() if g.contains(day)), None)


def storage_geography(year: int) -> Geography:
    """The geography the population of ``year`` is stored on: that of its 1 January, but never
    before 2019 (earlier years are summed onto the 2019 municipalities, like the shipped ones)."""
    geo = _geography_of_year(year)
    default = shipped_geography()
    return default if geo is None or geo.valid_from < default.valid_from else geo


def _default_target(for_year: int, data: _Year) -> Geography:
    """The geography of 1 January ``for_year``, or the data's own if that one is later."""
    geo = _geography_of_year(for_year)
    if geo is None or geo.valid_from < data.geography.valid_from:
        return data.geography
    return geo


def _target(for_year: int, data: _Year, geo: str, at: At) -> tuple[Geography, str]:
    """The geography a population figure is on, and the unit code: ``at``'s, else the default,
    else the first later geography where ``geo`` is a municipality (predecessors summed)."""
    if at is not None:
        target = geography(at)
        return target, target.known(geo)
    base = _default_target(for_year, data)
    code = normalise_code(geo)
    if code is not None and code not in base:
        for later in geographies():
            if later.valid_from > base.valid_from and later.is_municipality(code):
                return later, code
    return base, base.known(geo)


def _bands_for(age_class: str, data: _Year) -> list[str]:
    """The stored age groups whose sum is exactly ``age_class`` in that year."""
    interval = _parse_class(age_class)
    if interval is None or interval == (0, math.inf):
        return [TOTAL]
    lo, hi = interval
    chosen, edge = [], lo
    for band in data.bands:
        b_lo, b_hi = _parse_class(band)  # type: ignore[misc]
        if b_lo >= lo and b_hi <= hi:
            if b_lo != edge:
                break
            chosen.append(band)
            edge = b_hi
    if chosen and edge == hi:
        return chosen
    available = ", ".join(data.bands) if data.bands else f"none (only '{TOTAL}')"
    raise AgeClassError(
        f"Age class {_canonical_class(age_class)!r} cannot be built exactly from the age bands of "
        f"{data.year}: {available}",
        age_class,
        data.bands,
    )


def _check_sex(sex: str) -> str:
    if sex not in SEXES:
        raise UsageError(f"Unknown sex {sex!r}: use one of {', '.join(SEXES)}.")
    return sex


def population_years() -> list[int]:
    """The years (1 January) with population: shipped plus imported."""
    return sorted(_store().years)


def population_sources() -> dict[int, str]:
    """Where each year comes from: ``shipped population.csv`` or the imported file's path."""
    return {y: d.source for y, d in sorted(_store().years.items())}


def population_bands(year: int) -> tuple[str, ...]:
    """The age bands stored for a year (empty: only ``total``)."""
    return _store().get(int(year)).bands


def _value(
    year: int, for_year: int, geo: str, sex: str, age_class: str, at: At
) -> tuple[int, Geography, str]:
    store = _store()
    data = store.get(year)
    target, code = _target(for_year, data, geo, at)
    cube = store.cube(year, target)
    cols = [cube.cols[(_check_sex(sex), band)] for band in _bands_for(age_class, data)]
    return int(cube.values[cube.rows[code], cols].sum()), target, code


def population(year: int, geo: str, sex: str = TOTAL, age_class: str = TOTAL, at: At = None) -> int:
    """Population on 1 January ``year`` of a municipality or a unit (arrondissement, province,
    region, ``01000``), summed from its municipalities.

    ``sex``: ``total``, ``M``, ``F``. ``age_class``: ``total`` or an interval (``18-64``, ``65+``)
    summed from the bands of that year (:class:`AgeClassError` if not exact). Geography: that of
    1 January ``year`` (2019–2024 for the shipped years before 2019), a later one for a code that
    only exists later (predecessors summed), or the one at ``at``. Missing year:
    :class:`PopulationNotAvailableError`.
    """
    year = int(year)
    return _value(year, year, geo, sex, age_class, at)[0]


def population_with_fallback(
    year: int, geo: str, sex: str = TOTAL, age_class: str = TOTAL, at: At = None
) -> PopulationFigure:
    """Like :func:`population`, but a missing year is replaced by the nearest *earlier* year
    (never a later one), on the geography of the requested year; the figure says which year."""
    year = int(year)
    store = _store()
    used = year
    if year not in store.years:
        earlier = [y for y in store.years if y < year]
        if not earlier:
            raise PopulationNotAvailableError(year, list(store.years))
        used = max(earlier)
    value, target, code = _value(used, year, geo, sex, age_class, at)
    return PopulationFigure(value, used, year, code, target.label)


def population_table(
    years: Iterable[int] | None = None,
    level: str | Iterable[str] = "municipality",
    sexes: Iterable[str] = SEXES,
    age_classes: Iterable[str] = (TOTAL,),
    at: At = None,
) -> pd.DataFrame:
    """A tidy table ``year, geo, sex, age_class, population`` (vectorised).

    ``years``: default all available. ``level``: one of :data:`LEVELS`, several, or ``'all'``.
    Each year is on the geography of its 1 January (2019–2024 for years before 2019), or on
    ``at`` for every year (e.g. ``at='2025-01-01'`` for a series on the 2025 municipalities).
    ``df.attrs['geography']`` maps each year to the geography label used.
    """
    store = _store()
    years = sorted(store.years) if years is None else [int(y) for y in years]
    levels = LEVELS if level == "all" else (level,) if isinstance(level, str) else tuple(level)
    for lv in levels:
        if lv not in LEVELS:
            raise UsageError(f"Unknown level {lv!r}: use one of {', '.join(LEVELS)} or 'all'.")
    sexes = [_check_sex(s) for s in sexes]
    classes = [_canonical_class(c) for c in age_classes]
    frames, used = [], {}
    for year in years:
        data = store.get(year)
        target = _default_target(year, data) if at is None else geography(at)
        used[year] = target.label
        cube = store.cube(year, target)
        combos = [(s, c) for s in sexes for c in classes]
        selector = np.zeros((len(cube.cols), len(combos)), dtype="int64")
        for j, (s, c) in enumerate(combos):
            for band in _bands_for(c, data):
                selector[cube.cols[(s, band)], j] = 1
        rows = np.flatnonzero(np.isin(cube.levels, levels))
        values = cube.values[rows] @ selector
        frames.append(
            pd.DataFrame(
                {
                    "year": np.full(values.size, year, dtype="int64"),
                    "geo": np.repeat(cube.codes[rows], len(combos)),
                    "sex": np.tile([s for s, _ in combos], len(rows)),
                    "age_class": np.tile([c for _, c in combos], len(rows)),
                    "population": values.reshape(-1),
                }
            )
        )
    columns = ["year", "geo", "sex", "age_class", "population"]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    out.attrs["geography"] = used
    return out


def reload_population() -> None:
    """Forget the imported population years (the importer calls it); shipped data stays cached."""
    with _LOCK:
        _POPULATION.clear()


def reload() -> None:
    """Forget every cached population table; the next call reads the files again."""
    global _SHIPPED
    with _LOCK:
        _SHIPPED = None
        _POPULATION.clear()
