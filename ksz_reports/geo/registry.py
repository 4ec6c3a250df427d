"""The modelled geographies, built once from the shipped reference files, and the functions that
answer a question on one of them (``at``: which geography; default today's).

Files (package data ``ksz_reports.data``, see NOTICE): ``municipalities.csv`` (Statbel REFNIS 2019:
the 581 municipalities of 2019–2024 with their arrondissement, province and region),
``mergers_2019.csv`` (589 → 581 on 1 January 2019; added here: the table "Gemeentefusies 1 januari
2019" of provinciesincijfers/gebiedsniveaus ``wijzigende_gebiedsindelingen.md``, and the 11
Hainaut renumberings of Statbel, matched on the name one-to-one), ``mergers_2025.csv`` (581 → 565
on 1 January 2025), ``neighbours.csv`` (shared border segments, not single points) and
``municipalities.geojson`` (borders of the 581). Arrondissements before 2019 are the first two
digits of the code + ``000``.

Functions that take a code and ``at=None`` read it on today's geography when the code exists
there, else on the newest geography that has it (``hierarchy('11056')`` is Zwijndrecht of
2019–2024, in the province of Antwerpen). Names and codes of an earlier geography are followed to
their successor by :func:`resolve` (with a note) and :func:`lookup`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Iterable

import pandas as pd

from ksz_reports.core.errors import NotFoundError, UsageError
from ksz_reports.core.resources import data_path
from ksz_reports.geo.codes import COUNTRY, compact, normalise_code
from ksz_reports.geo.geography import (
    Geography,
    Hierarchy,
    Municipality,
    Resolved,
    successor_chain,
)

MERGERS_2019 = dt.date(2019, 1, 1)
MERGERS_2025 = dt.date(2025, 1, 1)
#: Antwerp's merger of 1 January 1983, the last change of the 589 municipalities before 2019.
SINCE_1983 = dt.date(1983, 1, 1)
#: The geography the shipped population and borders are on.
STORAGE_DATE = MERGERS_2019

# Arrondissements that only exist, or had another name, before 2019 (REFNIS before 2019).
_LEVEL_NAMES_BEFORE_2019 = {
    "54000": ("Arrondissement Moeskroen", "Arrondissement de Mouscron"),
    "57000": ("Arrondissement Doornik", "Arrondissement de Tournai"),
}

#: What ``at`` may be: a date or datetime, ``'2025-01-01'``, ``'2025'``, ``2025`` (1 January),
#: a :class:`Geography`, or None for today's geography.
At = dt.date | str | int | Geography | None

_LOCK = threading.RLock()
_GEOS: tuple[Geography, ...] | None = None
_BORDERS: dict | None = None


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(data_path(name), dtype=str, keep_default_na=False)


def _build() -> tuple[Geography, ...]:
    src = _read("municipalities.csv")
    level_names: dict[str, tuple[str, str]] = {COUNTRY: ("België", "Belgique")}
    for level in ("arrondissement", "province", "region"):
        cols = [f"{level}_nis", f"{level}_nl", f"{level}_fr"]
        for code, nl, fr in src[cols].drop_duplicates().itertuples(index=False):
            if code:
                level_names[code] = (nl, fr)
    base = src.rename(
        columns={
            "arrondissement_nis": "arrondissement",
            "province_nis": "province",
            "region_nis": "region",
        }
    )[["nis", "name_nl", "name_fr", "arrondissement", "province", "region"]]
    region_of_province = dict(zip(base["province"], base["region"], strict=False))
    region_of_province.pop("", None)
    names = base.set_index("nis")[["name_nl", "name_fr"]]

    # 2019-2024, formed on 1 January 2019 from the 589 (mergers_2019.csv)
    m19 = _read("mergers_2019.csv")
    pred19 = {new: tuple(sorted(g["old_nis"])) for new, g in m19.groupby("new_nis")}
    g2019 = Geography(
        "2019–2024", MERGERS_2019, MERGERS_2025 - dt.timedelta(days=1), base, level_names, pred19
    )

    # 2025-: successors of mergers_2025.csv
    m25 = _read("mergers_2025.csv")
    new_rows = []
    for new, group in m25.groupby("new_nis", sort=True):
        first = group.iloc[0]
        name_nl = name_fr = first["new_name"]
        for old in group["old_nis"]:  # a new municipality named like a predecessor keeps its names
            if first["new_name"] in (names.at[old, "name_nl"], names.at[old, "name_fr"]):
                name_nl, name_fr = names.at[old, "name_nl"], names.at[old, "name_fr"]
        province = first["new_province_nis"]
        new_rows.append(
            {
                "nis": new,
                "name_nl": name_nl,
                "name_fr": name_fr,
                "arrondissement": first["new_arrondissement_nis"],
                "province": province,
                "region": region_of_province[province],
            }
        )
    rec25 = pd.concat(
        [base[~base["nis"].isin(m25["old_nis"])], pd.DataFrame(new_rows)], ignore_index=True
    )
    pred25 = {new: tuple(sorted(g["old_nis"])) for new, g in m25.groupby("new_nis")}
    g2025 = Geography("2025–", MERGERS_2025, None, rec25, level_names, pred25)

    # 1983-2018: the predecessors of mergers_2019.csv instead of their successors
    province_of = dict(zip(base["nis"], base["province"], strict=True))
    region_of = dict(zip(base["nis"], base["region"], strict=True))
    old_rows = [
        {
            "nis": r.old_nis,
            "name_nl": r.old_name,
            "name_fr": r.old_name_fr,
            "arrondissement": r.old_nis[:2] + "000",
            "province": province_of[r.new_nis],
            "region": region_of[r.new_nis],
        }
        for r in m19.itertuples(index=False)
    ]
    rec_old = pd.concat(
        [base[~base["nis"].isin(m19["new_nis"])], pd.DataFrame(old_rows)], ignore_index=True
    )
    names_old = {**level_names, **_LEVEL_NAMES_BEFORE_2019}
    g_old = Geography(
        "1983–2018", SINCE_1983, MERGERS_2019 - dt.timedelta(days=1), rec_old, names_old, None
    )

    g_old.next, g2019.previous, g2019.next, g2025.previous = g2019, g_old, g2025, g2019

    # neighbours: both directions of neighbours.csv; 2025: the neighbours of the predecessors,
    # mapped to 2025 codes — a border between two predecessors is inside the new municipality
    pairs = _read("neighbours.csv")
    both = [*zip(pairs["nis_a"], pairs["nis_b"], strict=True)]
    both += [(b, a) for a, b in both]
    g2019.neighbour_pairs = _adjacency(both)
    to25 = g2025._from_previous
    mapped = ((to25.get(a, a), to25.get(b, b)) for a, b in both)
    g2025.neighbour_pairs = _adjacency((a, b) for a, b in mapped if a != b)
    return g_old, g2019, g2025


def _adjacency(pairs: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    """``{a: sorted neighbours}`` from directed pairs."""
    out: dict[str, set[str]] = {}
    for a, b in pairs:
        out.setdefault(a, set()).add(b)
    return {a: tuple(sorted(bs)) for a, bs in out.items()}


def geographies() -> tuple[Geography, ...]:
    """The modelled geographies, oldest first: 1983–2018 (589), 2019–2024 (581), 2025– (565)."""
    global _GEOS
    if _GEOS is None:
        with _LOCK:
            if _GEOS is None:
                _GEOS = _build()
    return _GEOS


def reload() -> None:
    """Forget the built geographies and borders; the next call reads the files again."""
    global _GEOS, _BORDERS
    with _LOCK:
        _GEOS = None
        _BORDERS = None


def to_date(at: dt.date | str | int) -> dt.date:
    """A date from a date or datetime, ``'2025-01-01'``, ``'2025'`` or ``2025`` (1 January)."""
    if isinstance(at, dt.datetime):
        return at.date()
    if isinstance(at, dt.date):
        return at
    if isinstance(at, int) and not isinstance(at, bool):
        return dt.date(at, 1, 1)
    if isinstance(at, str):
        text = at.strip()
        if re.fullmatch(r"\d{4}", text):
            return dt.date(int(text), 1, 1)
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise UsageError(f"Not a date: {at!r} (use 2025-01-01, 2025, or a datetime.date).")


def geography(at: At = None) -> Geography:
    """The geography valid on ``at`` (a date, ``'2025-01-01'``, ``'2019'``, ``2025`` = 1 January,
    or a :class:`Geography`); ``None`` is today's geography (2025–)."""
    if isinstance(at, Geography):
        return at
    geos = geographies()
    if at is None:
        return geos[-1]
    day = to_date(at)
    for geo in geos:
        if geo.contains(day):
            return geo
    raise UsageError(
        f"No geography is modelled for {day.isoformat()} "
        f"(the oldest starts {SINCE_1983.isoformat()})."
    )


def shipped_geography() -> Geography:
    """The geography of the shipped population and borders (2019–2024)."""
    return geography(STORAGE_DATE)


def _resolve(code: str, at: At) -> tuple[Geography, str]:
    """The geography to read ``code`` on (see the module docstring) and the 5-digit code."""
    if at is not None:
        geo = geography(at)
        return geo, geo.known(code)
    norm = normalise_code(code)
    for geo in reversed(geographies()):
        if norm is not None and norm in geo:
            return geo, norm
    current = geography()
    return current, current.known(code)


# --------------------------------------------------------------------------------------------
# questions on one geography


def municipalities(at: At = None) -> list[Municipality]:
    """The municipalities of the geography at ``at`` (default today's), sorted by code."""
    return geography(at).municipalities()


def municipalities_frame(at: At = None) -> pd.DataFrame:
    """The municipalities at ``at`` as a DataFrame: codes and nl/fr names of every level."""
    return geography(at).frame()


def as_record(m: Municipality) -> dict[str, str | None]:
    """A municipality as a flat JSON-ready dict: codes and nl/fr names of every level, ISO dates."""
    geo = geography(m.valid_from)
    record: dict[str, str | None] = {"nis": m.nis, "name_nl": m.name_nl, "name_fr": m.name_fr}
    for level in ("arrondissement", "province", "region"):
        code = getattr(m, level)
        record[level] = code
        record[f"{level}_nl"] = geo.name(code, "nl") if code else None
        record[f"{level}_fr"] = geo.name(code, "fr") if code else None
    record["valid_from"] = m.valid_from.isoformat()
    record["valid_to"] = m.valid_to.isoformat() if m.valid_to else None
    return record


def find(text: str | None = None, at: At = None, limit: int = 10) -> list[dict[str, str | None]]:
    """Records (:func:`as_record` plus ``note``) of the municipalities of the geography at ``at``
    (default today's) matching ``text`` — every municipality when ``text`` is None — followed by
    the former municipalities that match, each with what became of it (``note``). Raises the
    :func:`not_found` error when nothing matches."""
    geo = geography(at)
    if text is None:
        return [{**as_record(m), "note": None} for m in geo.municipalities()]
    # today's matches (exact, prefix, substring, then close spellings), then the former
    # municipalities whose name contains the text, each with what became of it
    key = compact(text)

    def contains(m: Municipality) -> bool:
        return bool(key) and (
            m.nis.startswith(key) or any(key in compact(n) for n in (m.name_nl, m.name_fr))
        )

    current = geo.search(text, limit)
    records = [{**as_record(m), "note": None} for m in current]
    seen = {m.nis for m in current}
    for earlier in reversed(geographies()):
        if earlier.valid_from >= geo.valid_from:
            continue
        for m in earlier.search(text, limit):
            if m.nis not in seen and not geo.is_municipality(m.nis) and contains(m):
                at_index = sum(contains(c) for c in current)  # after today's containing ones
                records.insert(at_index, {**as_record(m), "note": geo.resolve(m.nis).note})
                seen.add(m.nis)
    if not records:
        raise not_found(text, at)
    return records


def not_found(text: str, at: At = None) -> NotFoundError:
    """The error for a search or lookup of ``text`` that found nothing (with suggestions)."""
    geo = geography(at)
    return NotFoundError(
        f"No municipality matches {text!r} among the {len(geo)} of {geo.label}",
        geo.suggestions(text),
    )


def resolve(text: str | int, at: At = None) -> Resolved:
    """The municipality of the geography at ``at`` (default today's) named or coded by ``text``,
    and a note when ``text`` names a municipality of an earlier geography: ``resolve('Melle')``
    is Merelbeke-Melle (44088) with "Melle (44040) is part of Merelbeke-Melle (44088) since
    1 January 2025". See :meth:`Geography.resolve`."""
    return geography(at).resolve(text)


def lookup(text: str | int, at: At = None) -> Municipality:
    """Resolve a NIS code or a name to a municipality of the geography at ``at`` (default
    today's); a municipality of an earlier geography gives its successor (:func:`resolve`)."""
    return geography(at).lookup(text)


def search(text: str, at: At = None, limit: int = 10) -> list[Municipality]:
    """Ranked matches for ``text`` on the geography at ``at`` (default today's): exact, prefix
    and substring matches of normalised names first, then close spellings."""
    return geography(at).search(text, limit)


def hierarchy(nis: str, at: At = None) -> Hierarchy:
    """Arrondissement, province (None in Brussels), region and country of a municipality."""
    geo, code = _resolve(nis, at)
    return geo.hierarchy(code)


def members(code: str, at: At = None) -> list[str]:
    """Municipality codes of a municipality, arrondissement, province, region or ``01000``."""
    geo, code = _resolve(code, at)
    return geo.members(code)


def level_of(code: str, at: At = None) -> str:
    """``municipality``, ``arrondissement``, ``province``, ``region`` or ``country``."""
    geo, code = _resolve(code, at)
    return geo.level_of(code)


def name(code: str, lang: str = "nl", at: At = None) -> str:
    """Name of a municipality or level code in ``nl``, ``fr`` or ``en``."""
    geo, code = _resolve(code, at)
    return geo.name(code, lang)


def predecessors(nis: str, at: At = None) -> list[str]:
    """The codes a municipality was formed from at the previous geography (itself if unchanged):
    ``predecessors('71071')`` → ``['71057', '71069']``; ``predecessors('12041', at=2019)``: 2018
    codes."""
    geo, code = _resolve(nis, at)
    return geo.predecessors(code)


def successor(nis: str, at: At = None) -> str:
    """What a municipality code became in the geography at ``at`` (default: today's):
    ``successor('11056')`` → ``46030``, ``successor('12030', at=2020)`` → ``12041``."""
    code = normalise_code(nis)
    geos = geographies()
    src = next((g for g in geos if g.is_municipality(code or "")), None)
    if code is None or src is None:
        raise NotFoundError(f"{str(nis).strip()!r} is not a municipality code of any geography")
    dst = geography(at)
    if dst.valid_from < src.valid_from:
        raise UsageError(f"{code} first exists in {src.label}, after {dst.label}.")
    return successor_chain(code, src, dst)


def neighbours(nis: str, at: At = None) -> list[str]:
    """Municipalities sharing a border with ``nis`` (both directions of ``neighbours.csv``); for a
    2025 code the neighbours of its predecessors, mapped to 2025 codes (not itself)."""
    geo, code = _resolve(nis, at)
    return geo.neighbours(code)


def borders(at: At = None) -> dict:
    """The GeoJSON FeatureCollection of the 581 municipalities of 2019–2024 (parsed once; do not
    mutate it); ``at`` of another geography raises.

    The shipped borders are those of 2019–2024; maps of 2025 dissolve the predecessors of each
    merged municipality (:mod:`ksz_reports.charts.maps`).
    """
    global _BORDERS
    geo = shipped_geography() if at is None else geography(at)
    if geo is not shipped_geography():
        raise UsageError(
            f"The shipped borders are those of 2019–2024, not {geo.label}: a map of {geo.label} "
            "dissolves the predecessors of its merged municipalities."
        )
    if _BORDERS is None:
        with _LOCK:
            if _BORDERS is None:
                with open(data_path("municipalities.geojson"), encoding="utf-8") as fh:
                    _BORDERS = json.load(fh)
    return _BORDERS
