"""The reference geography and population: municipalities, their hierarchy, neighbours and
borders, and the population on 1 January — loaded lazily from the package data, cached.

Geographies (:func:`geography`) — match on NIS codes, never on names:

============  ==============  =====================================================================
valid         municipalities  built from
============  ==============  =====================================================================
1983–2018     589             the 2019 list + ``mergers_2019.csv`` (needed as *predecessors* only)
2019–2024     581             ``municipalities.csv`` (Statbel REFNIS 2019) — **the default**
2025–         565             the 2019 list + ``mergers_2025.csv``
============  ==============  =====================================================================

Functions that take a code and ``at=None`` use the 2019–2024 geography when the code exists
there, else the newest geography that has it (so ``predecessors('71071')`` works without
``at``). Codes that exist in several geographies with different content (``11002`` Antwerpen
gained Borsbeek in 2025; arrondissement ``11000`` lost Zwijndrecht) therefore mean the 2019–2024
unit unless ``at`` says otherwise. :func:`lookup` and :func:`search` resolve names on the
2019–2024 geography unless ``at`` is given (``lookup('Hasselt')`` is 71022,
``lookup('Hasselt', at='2025-01-01')`` is 71072).

``mergers_2019.csv`` (added here, same layout as ``mergers_2025.csv`` plus ``old_name_fr`` and
``change``). Its ``sources`` column: ``pinc_doc`` = the table "Gemeentefusies 1 januari 2019" of
``wijzigende_gebiedsindelingen.md`` in github.com/provinciesincijfers/gebiedsniveaus (commit
01c6992ff476f644e142a625225d5e2e7297b9b7); ``data_readme`` = ``shared/data/README.md``, section
population.csv (the 7 mergers, and the 11 Hainaut renumberings matched on the name and checked
one-to-one by the data maintainers). Renumbering rows rest on that one source: ``single_source``.
Arrondissements before 2019 are the first two digits of the code + ``000`` (54000 Moeskroen and
57000 Doornik then; level names otherwise as in REFNIS 2019).

Population (:func:`population`, :func:`population_table`): the shipped ``population.csv``
(1 January 2009–2022, on the 2019–2024 geography; age bands 2017+) plus any year imported with
:func:`ksz_reports.geo.statbel.import_statbel` into ``<user data>/population/`` (an imported year
replaces the shipped year of the same number). Aggregates are always summed from municipalities.
A year is shown on the geography of its 1 January, or on a later one when asked (``at``) or when
``geo`` only exists later (its predecessors are summed; counts only). A missing year raises
:class:`PopulationNotAvailableError`; :func:`population_with_fallback` takes the nearest earlier
year and says which.

Gaps: borders of the 2025 geography are not built (:func:`borders` raises for it); French
names of the new 2025 municipalities with a new name are the Dutch name (no source);
neighbours before 2019 are not modelled.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import math
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ksz_reports.core.errors import InputError, NotFoundError, UsageError
from ksz_reports.core.resources import data_path, user_data_dir

COUNTRY = "01000"
#: Region codes: Flemish, Walloon and Brussels-Capital Region.
FLANDERS, WALLONIA, BRUSSELS = "02000", "03000", "04000"
LEVELS: tuple[str, ...] = ("municipality", "arrondissement", "province", "region", "country")
SEXES: tuple[str, ...] = ("total", "M", "F")
TOTAL = "total"
LANGS: tuple[str, ...] = ("nl", "fr", "en")

MERGERS_2019 = dt.date(2019, 1, 1)
MERGERS_2025 = dt.date(2025, 1, 1)
#: Antwerp's merger of 1 January 1983, the last change of the 589 municipalities before 2019.
SINCE_1983 = dt.date(1983, 1, 1)
#: The geography used when ``at`` is not given.
DEFAULT_DATE = MERGERS_2019

_EN_NAMES = {
    COUNTRY: "Belgium",
    FLANDERS: "Flemish Region",
    WALLONIA: "Walloon Region",
    BRUSSELS: "Brussels-Capital Region",
}
# Arrondissements that only exist, or had another name, before 2019 (REFNIS before 2019).
_LEVEL_NAMES_BEFORE_2019 = {
    "54000": ("Arrondissement Moeskroen", "Arrondissement de Mouscron"),
    "57000": ("Arrondissement Doornik", "Arrondissement de Tournai"),
}
# The German-speaking municipalities: the German name (our name_nl) is the official one.
_GERMAN_SPEAKING = frozenset(
    {"63001", "63012", "63013", "63023", "63040", "63048", "63061", "63067", "63087"}
)


# --------------------------------------------------------------------------------------------
# errors


class AmbiguousNameError(NotFoundError):
    """A name that designates several municipalities equally well (use the NIS code)."""


class PopulationNotAvailableError(NotFoundError):
    """No population for that 1 January (not shipped, not imported)."""

    def __init__(self, year: int, available: Sequence[int]):
        self.year = year
        self.available = sorted(available)
        earlier = [y for y in self.available if y < year]
        self.nearest_earlier = earlier[-1] if earlier else None
        span = _spans(self.available)
        text = f"No population for 1 January {year} (available: {span or 'none'})"
        if year > (self.available[-1] if self.available else 0):
            text += (
                f". Import Statbel's TF_SOC_POP_STRUCT_{year} file "
                "(ksz_reports.geo.statbel.import_statbel)"
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


# --------------------------------------------------------------------------------------------
# records


@dataclass(frozen=True, slots=True)
class Municipality:
    """One municipality of one geography (``valid_from``/``valid_to``: that geography's span)."""

    nis: str
    name_nl: str
    name_fr: str
    arrondissement: str
    province: str | None  # None for the 19 Brussels municipalities
    region: str
    valid_from: dt.date
    valid_to: dt.date | None  # None: still valid

    def name(self, lang: str = "nl") -> str:
        """The name in ``nl``, ``fr`` or ``en`` (English: the official-language name)."""
        lang = _check_lang(lang)
        if lang == "nl":
            return self.name_nl
        if lang == "fr":
            return self.name_fr
        return (
            self.name_nl
            if self.region == FLANDERS or self.nis in _GERMAN_SPEAKING
            else self.name_fr
        )

    @property
    def label(self) -> str:
        """``Gent (44021)``: the form used in messages and suggestions."""
        return f"{self.name_nl} ({self.nis})"

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True, slots=True)
class Hierarchy:
    """The units a municipality belongs to (``province`` is None in Brussels)."""

    municipality: str
    arrondissement: str
    province: str | None
    region: str
    country: str = COUNTRY

    def levels(self) -> list[tuple[str, str]]:
        """``[(level, code), …]`` from the municipality up to Belgium (no province in Brussels)."""
        pairs = [
            ("municipality", self.municipality),
            ("arrondissement", self.arrondissement),
            ("province", self.province),
            ("region", self.region),
            ("country", self.country),
        ]
        return [(level, code) for level, code in pairs if code is not None]

    def as_dict(self) -> dict[str, str | None]:
        """The hierarchy as a plain dict."""
        return {
            "municipality": self.municipality,
            "arrondissement": self.arrondissement,
            "province": self.province,
            "region": self.region,
            "country": self.country,
        }


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


# --------------------------------------------------------------------------------------------
# text helpers


def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise UsageError(f"Unknown language {lang!r}: use one of {', '.join(LANGS)}.")
    return lang


def _fold(text: str) -> str:
    """Accent-, case-, punctuation-insensitive form with single spaces: ``Liège`` → ``liege``."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return re.sub(r"[^0-9a-z]+", " ", plain).strip()


def _compact(text: str) -> str:
    """:func:`_fold` without spaces: ``Sint Niklaas``, ``sint-niklaas`` → ``sintniklaas``."""
    return _fold(text).replace(" ", "")


def _spans(years: Sequence[int]) -> str:
    """``2009–2022, 2024`` for a sorted list of years."""
    parts: list[tuple[int, int]] = []
    for year in years:
        if parts and year == parts[-1][1] + 1:
            parts[-1] = (parts[-1][0], year)
        else:
            parts.append((year, year))
    return ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in parts)


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _fmt_date(day: dt.date) -> str:
    """``1 January 2025`` (English, locale-independent)."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def normalise_code(text: str | int) -> str | None:
    """A NIS code as 5 characters (``' 44021 '`` → ``44021``, ``'2000'`` → ``02000``), or None."""
    raw = str(text).strip()
    if not raw.isdigit() or not raw.isascii():
        return None
    if len(raw) == 4:
        raw = "0" + raw
    return raw if len(raw) == 5 else None


# --------------------------------------------------------------------------------------------
# geography


class Geography:
    """The municipalities valid during one span of dates, and their hierarchy.

    Built by this module (:func:`geography`); immutable. Lookups by code are dict look-ups.
    """

    def __init__(
        self,
        label: str,
        valid_from: dt.date,
        valid_to: dt.date | None,
        records: pd.DataFrame,
        level_names: dict[str, tuple[str, str]],
        predecessors: dict[str, tuple[str, ...]] | None,
    ):
        self.label = label
        self.valid_from = valid_from
        self.valid_to = valid_to
        self.previous: Geography | None = None
        self.next: Geography | None = None
        self._neighbours: dict[str, tuple[str, ...]] | None = None
        records = records.sort_values("nis").reset_index(drop=True)
        self._by_nis: dict[str, Municipality] = {
            r.nis: Municipality(
                r.nis,
                r.name_nl,
                r.name_fr,
                r.arrondissement,
                r.province or None,
                r.region,
                valid_from,
                valid_to,
            )
            for r in records.itertuples(index=False)
        }
        self._level: dict[str, str] = dict.fromkeys(self._by_nis, "municipality")
        self._members: dict[str, tuple[str, ...]] = {nis: (nis,) for nis in self._by_nis}
        grouped: dict[str, list[str]] = {}
        for m in self._by_nis.values():  # sorted by code, so members are sorted too
            for level in ("arrondissement", "province", "region"):
                code = getattr(m, level)
                if code:
                    self._level[code] = level
                    grouped.setdefault(code, []).append(m.nis)
        self._members.update({code: tuple(codes) for code, codes in grouped.items()})
        self._level[COUNTRY] = "country"
        self._members[COUNTRY] = tuple(self._by_nis)
        self._level_names = {c: n for c, n in level_names.items() if c in self._level}
        missing = [
            c
            for c in self._level
            if self._level[c] != "municipality" and c not in self._level_names
        ]
        if missing:
            raise RuntimeError(f"no name for level codes {missing} in {label}")
        if predecessors is None:
            self._predecessors = None
            self._from_previous: dict[str, str] = {}
        else:
            self._predecessors = {nis: predecessors.get(nis, (nis,)) for nis in self._by_nis}
            self._from_previous = {
                old: new for new, olds in self._predecessors.items() for old in olds
            }
        self._index: tuple[list, dict] | None = None  # name index, built on the first name look-up

    # -- basics -----------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"<Geography {self.label}: {len(self)} municipalities>"

    def __len__(self) -> int:
        return len(self._by_nis)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self._level

    def contains(self, day: dt.date) -> bool:
        """Whether ``day`` falls in this geography's span."""
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    @property
    def codes(self) -> tuple[str, ...]:
        """The municipality codes, sorted."""
        return self._members[COUNTRY]

    def municipalities(self) -> list[Municipality]:
        """All municipalities, sorted by NIS code."""
        return list(self._by_nis.values())

    def frame(self) -> pd.DataFrame:
        """One row per municipality: codes and names of the municipality and of every level."""
        rows = []
        for m in self._by_nis.values():
            row = {"nis": m.nis, "name_nl": m.name_nl, "name_fr": m.name_fr}
            for level in ("arrondissement", "province", "region"):
                code = getattr(m, level)
                names = self._level_names.get(code, (None, None)) if code else (None, None)
                row[level] = code
                row[f"{level}_nl"], row[f"{level}_fr"] = names
            row["valid_from"], row["valid_to"] = m.valid_from, m.valid_to
            rows.append(row)
        return pd.DataFrame(rows)

    def municipality(self, nis: str) -> Municipality:
        """The municipality with that code; the NotFoundError says where else the code exists."""
        code = normalise_code(nis)
        found = self._by_nis.get(code or "")
        if found is None:
            raise NotFoundError(self._explain_missing(str(nis).strip(), code))
        return found

    def level_of(self, code: str) -> str:
        """``municipality``, ``arrondissement``, ``province``, ``region`` or ``country``."""
        return self._level[self._known(code)]

    def codes_of(self, level: str) -> list[str]:
        """All codes of one level, sorted."""
        if level not in LEVELS:
            raise UsageError(f"Unknown level {level!r}: use one of {', '.join(LEVELS)}.")
        return sorted(c for c, lv in self._level.items() if lv == level)

    def members(self, code: str) -> list[str]:
        """The municipality codes of a unit (a municipality's own code for a municipality)."""
        return list(self._members[self._known(code)])

    def hierarchy(self, nis: str) -> Hierarchy:
        """Arrondissement, province, region and country of a municipality."""
        m = self.municipality(nis)
        return Hierarchy(m.nis, m.arrondissement, m.province, m.region)

    def name(self, code: str, lang: str = "nl") -> str:
        """The name of a municipality or of any level, in ``nl``, ``fr`` or ``en``."""
        lang = _check_lang(lang)
        code = self._known(code)
        if code in self._by_nis:
            return self._by_nis[code].name(lang)
        nl, fr = self._level_names[code]
        if lang == "en":
            if code in _EN_NAMES:
                return _EN_NAMES[code]
            first = self._by_nis[self._members[code][0]]
            return nl if first.region == FLANDERS else fr
        return nl if lang == "nl" else fr

    def predecessors(self, nis: str) -> list[str]:
        """The codes of the previous geography this municipality was formed from (itself if
        unchanged)."""
        m = self.municipality(nis)
        if self._predecessors is None:
            raise UsageError(
                f"{m.label}: no geography before {self.label} is modelled, so no predecessors."
            )
        return sorted(self._predecessors[m.nis])

    def successor(self, old_nis: str) -> str:
        """The code in this geography of a municipality of the previous geography."""
        code = normalise_code(old_nis) or str(old_nis).strip()
        if self.previous is None or code not in self.previous._by_nis:
            raise NotFoundError(
                f"{code!r} is not a municipality of the geography before {self.label}"
            )
        return self._from_previous.get(code, code)

    def neighbours(self, nis: str) -> list[str]:
        """Municipalities sharing a border segment with ``nis`` (not a single point), sorted."""
        m = self.municipality(nis)
        if self._neighbours is None:
            raise UsageError(f"Neighbours are not modelled for the geography {self.label}.")
        return list(self._neighbours.get(m.nis, ()))

    # -- names ------------------------------------------------------------------------------

    def _official(self, m: Municipality) -> set[str]:
        if m.region == BRUSSELS or m.nis in _GERMAN_SPEAKING or m.name_nl == m.name_fr:
            return {m.name_nl, m.name_fr}
        return {m.name_nl} if m.region == FLANDERS else {m.name_fr}

    def _names(self) -> tuple[list, dict]:
        """``(keys, exact)``: every (compact key, nis, name, rank, tokens) and key → matches;
        rank 0 = an official name, 1 = the other language's name."""
        if self._index is None:
            keys: list[tuple[str, str, str, int, tuple[str, ...]]] = []
            exact: dict[str, list[tuple[int, str, str]]] = {}
            for m in self._by_nis.values():
                official = self._official(m)
                for name in dict.fromkeys((m.name_nl, m.name_fr)):
                    rank = 0 if name in official else 1
                    folded = _fold(name)
                    key = folded.replace(" ", "")
                    tokens = tuple(t for t in folded.split() if len(t) >= 3)
                    keys.append((key, m.nis, name, rank, tokens))
                    exact.setdefault(key, []).append((rank, m.nis, name))
            self._index = (keys, exact)
        return self._index

    @property
    def _keys(self) -> list[tuple[str, str, str, int, tuple[str, ...]]]:
        return self._names()[0]

    @property
    def _exact(self) -> dict[str, list[tuple[int, str, str]]]:
        return self._names()[1]

    def _ranked(self, text: str, limit: int) -> list[tuple[str, str]]:
        """``[(nis, name that matched), …]``: exact, prefix, substring, then fuzzy matches."""
        raw = text.strip()
        if raw.isdigit():
            hits = sorted(c for c in self._by_nis if c.startswith(raw))
            padded = normalise_code(raw)
            if padded in self._by_nis and padded not in hits:
                hits.insert(0, padded)
            return [(c, self._by_nis[c].name_nl) for c in hits[:limit]]
        q = _compact(raw)
        if not q:
            return []
        best: dict[str, tuple[tuple, str]] = {}

        def keep(nis: str, score: tuple, name: str) -> None:
            if nis not in best or score < best[nis][0]:
                best[nis] = (score, name)

        for key, nis, name, rank, _tokens in self._keys:
            if key == q:
                keep(nis, (0, rank, 0, key), name)
            elif key.startswith(q):
                keep(nis, (1, rank, len(key), key), name)
            elif q in key:
                keep(nis, (2, rank, key.index(q), key), name)
        if len(best) < limit:
            matcher = difflib.SequenceMatcher(autojunk=False)
            matcher.set_seq2(q)
            cutoff = 0.6
            for key, nis, name, rank, tokens in self._keys:
                if nis in best and best[nis][0][0] < 3:
                    continue
                ratio = 0.0
                for candidate in (key, *tokens):
                    matcher.set_seq1(candidate)
                    if matcher.real_quick_ratio() >= cutoff and matcher.quick_ratio() >= cutoff:
                        ratio = max(ratio, matcher.ratio())
                if ratio >= cutoff:
                    keep(nis, (3, -round(ratio, 6), rank, abs(len(key) - len(q)), key), name)
        ordered = sorted(best.items(), key=lambda item: item[1][0])
        return [(nis, name) for nis, (_score, name) in ordered[:limit]]

    def search(self, text: str, limit: int = 10) -> list[Municipality]:
        """Municipalities matching ``text``, best first: exact, prefix and substring matches of the
        normalised nl/fr names, then close spellings (difflib); digits match code prefixes."""
        return [self._by_nis[nis] for nis, _name in self._ranked(text, limit)]

    def suggestions(self, text: str, limit: int = 5) -> list[str]:
        """``['Gent (44021)', …]``: the "did you mean" list for ``text``."""
        return [f"{name} ({nis})" for nis, name in self._ranked(text, limit)]

    def lookup(self, text: str | int) -> Municipality:
        """The municipality named or coded by ``text`` (see :func:`lookup`)."""
        raw = str(text).strip()
        labelled = re.fullmatch(r"(.*?)\s*\(\s*(\d{4,5})\s*\)", raw)
        if labelled:
            m = self.municipality(labelled.group(2))
            given = _compact(labelled.group(1))
            if given and given not in {_compact(m.name_nl), _compact(m.name_fr)}:
                raise NotFoundError(f"{raw!r}: {m.nis} is {m.name_nl}, not {labelled.group(1)!r}")
            return m
        if raw.isdigit():
            return self.municipality(raw)
        if not _compact(raw):
            raise NotFoundError("Empty municipality name: give a name or a 5-digit NIS code")
        matches = self._exact.get(_compact(raw), [])
        if matches:
            top = min(rank for rank, _nis, _name in matches)
            codes = sorted({nis for rank, nis, _name in matches if rank == top})
            if len(codes) == 1:
                return self._by_nis[codes[0]]
            raise AmbiguousNameError(
                f"{raw!r} is the name of {len(codes)} municipalities; give the NIS code",
                [self._by_nis[c].label for c in codes],
            )
        message = f"No municipality {raw!r} among the {len(self)} of {self.label}"
        elsewhere = self._elsewhere_by_name(raw)
        if elsewhere:
            message += f" ({elsewhere})"
        raise NotFoundError(message, self.suggestions(raw))

    # -- explanations -----------------------------------------------------------------------

    def _known(self, code: str) -> str:
        norm = normalise_code(code)
        if norm is None or norm not in self._level:
            raise NotFoundError(self._explain_missing(str(code).strip(), norm))
        return norm

    def _others(self) -> list[Geography]:
        """The other geographies, nearest in time first (a later one first on a tie)."""
        geos = _geographies()
        me = geos.index(self)
        return sorted(
            (g for g in geos if g is not self),
            key=lambda g: (abs(geos.index(g) - me), -geos.index(g)),
        )

    def _relation(self, m: Municipality, other: Geography) -> str:
        """How municipality ``m`` of ``other`` relates to this geography, for messages."""
        if other.valid_from < self.valid_from:
            new = self._by_nis[_successor_chain(m.nis, other, self)]
            changed = other.valid_to + dt.timedelta(days=1)  # type: ignore[operator]
            return f"{m.label} became {new.label} on {_fmt_date(changed)}"
        start = other.valid_from
        return f"{m.label} exists from {_fmt_date(start)}: pass at='{start.isoformat()}'"

    def _explain_missing(self, raw: str, code: str | None) -> str:
        if code is None:
            return f"{raw!r} is not a NIS code (5 digits, e.g. 44021)"
        if code in self._level:
            level = self._level[code]
            return f"{code} is the {level} {self.name(code)}, not a municipality"
        text = f"{code} is not a code of the geography {self.label}"
        for other in self._others():
            if code in other._by_nis:
                return f"{text}: {self._relation(other._by_nis[code], other)}"
            if code in other._level:
                level = other._level[code]
                article = "an" if level == "arrondissement" else "a"
                return f"{text}: {other.name(code)} ({code}) is {article} {level} of {other.label}"
        return text

    def _elsewhere_by_name(self, raw: str) -> str | None:
        key = _compact(raw)
        for other in self._others():
            hits = other._exact.get(key)
            if hits:
                return self._relation(other._by_nis[min(hits)[1]], other)
        return None


#: What ``at`` may be: a date or datetime, ``'2025-01-01'``, ``'2025'``, ``2025`` (1 January),
#: a :class:`Geography`, or None for the default (2019–2024).
At = dt.date | str | int | Geography | None

# --------------------------------------------------------------------------------------------
# building the geographies (once)

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

    # neighbours: both directions of neighbours.csv; 2025 = union of the predecessors' neighbours
    pairs = _read("neighbours.csv")
    both = [*zip(pairs["nis_a"], pairs["nis_b"], strict=True)]
    both += [(b, a) for a, b in both]
    g2019._neighbours = _adjacency(both)
    to25 = g2025._from_previous
    mapped = ((to25.get(a, a), to25.get(b, b)) for a, b in both)
    g2025._neighbours = _adjacency((a, b) for a, b in mapped if a != b)
    return g_old, g2019, g2025


def _adjacency(pairs: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    """``{a: sorted neighbours}`` from directed pairs."""
    out: dict[str, set[str]] = {}
    for a, b in pairs:
        out.setdefault(a, set()).add(b)
    return {a: tuple(sorted(bs)) for a, bs in out.items()}


def _geographies() -> tuple[Geography, ...]:
    global _GEOS
    if _GEOS is None:
        with _LOCK:
            if _GEOS is None:
                _GEOS = _build()
    return _GEOS


def reload() -> None:
    """Forget every cached table (geography, borders, population); the next call reads the files
    again."""
    global _GEOS, _BORDERS, _SHIPPED
    with _LOCK:
        _GEOS = None
        _BORDERS = None
        _SHIPPED = None
        _POPULATION.clear()


def reload_population() -> None:
    """Forget the imported population years (the importer calls it); shipped data stays cached."""
    with _LOCK:
        _POPULATION.clear()


def _to_date(at: dt.date | str | int) -> dt.date:
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


def geographies() -> tuple[Geography, ...]:
    """The modelled geographies, oldest first: 1983–2018 (589), 2019–2024 (581), 2025– (565)"""
    return _geographies()


def geography(at: At = None) -> Geography:
    """The geography valid on ``at`` (a date, ``'2025-01-01'``, ``'2025'`` or ``2025`` = 1 January).

    ``None`` is the 2019–2024 geography (the one the shipped population is on).
    """
    if isinstance(at, Geography):
        return at
    geos = _geographies()
    day = DEFAULT_DATE if at is None else _to_date(at)
    for geo in geos:
        if geo.contains(day):
            return geo
    raise UsageError(
        f"No geography is modelled for {day.isoformat()} "
        f"(the oldest starts {SINCE_1983.isoformat()})."
    )


def _resolve(code: str, at: At) -> tuple[Geography, str]:
    """The geography to read ``code`` on (see the module docstring) and the 5-digit code."""
    if at is not None:
        geo = geography(at)
        return geo, geo._known(code)
    default = geography()
    norm = normalise_code(code)
    if norm is not None and norm not in default:
        for geo in reversed(_geographies()):
            if norm in geo:
                return geo, norm
    return default, default._known(code)


def _successor_chain(code: str, src: Geography, dst: Geography) -> str:
    geo = src
    while geo is not dst:
        if geo.next is None:
            raise UsageError(f"The geography {dst.label} is not later than {src.label}.")
        geo = geo.next
        code = geo._from_previous.get(code, code)
    return code


# --------------------------------------------------------------------------------------------
# public geography functions


def municipalities(at: At = None) -> list[Municipality]:
    """The municipalities of the geography at ``at`` (default 2019–2024), sorted by code."""
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


def not_found(text: str, at: At = None) -> NotFoundError:
    """The error for a search or lookup of ``text`` that found nothing (with suggestions)."""
    geo = geography(at)
    return NotFoundError(
        f"No municipality matches {text!r} among the {len(geo)} of {geo.label}",
        geo.suggestions(text),
    )


def lookup(text: str | int, at: At = None) -> Municipality:
    """Resolve a NIS code or a name to a municipality of the geography at ``at``.

    Default geography: 2019–2024. Codes: ``44021``, ``' 44021 '``, 4 digits are zero-padded.
    Names: Dutch or French, accent-, case-, hyphen- and space-insensitive (``gent``, ``sint
    niklaas``, ``Liège``/``liege``/``Luik``, ``Écaussinnes``); ``Gent (44021)`` also works. When a
    name is the official name of one municipality and another's other-language name
    (``Saint-Nicolas``: 62093, and Sint-Niklaas in French), the official name wins. Unknown →
    :class:`NotFoundError` with up to 5 suggestions ``Gent (44021)``; ambiguous →
    :class:`AmbiguousNameError`.
    """
    return geography(at).lookup(text)


def search(text: str, at: At = None, limit: int = 10) -> list[Municipality]:
    """Ranked matches for ``text`` on the geography at ``at`` (default 2019–2024): exact, prefix
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
    ``predecessors('71071')`` → ``['71057', '71069']``; ``predecessors('12041')``: 2018 codes."""
    geo, code = _resolve(nis, at)
    return geo.predecessors(code)


def successor(nis: str, at: At = None) -> str:
    """What a municipality code became in the geography at ``at`` (default: the newest):
    ``successor('11056')`` → ``46030``, ``successor('12030', at=2020)`` → ``12041``."""
    code = normalise_code(nis)
    geos = _geographies()
    src = next((g for g in geos if code in g._by_nis), None)
    if code is None or src is None:
        raise NotFoundError(f"{str(nis).strip()!r} is not a municipality code of any geography")
    dst = geos[-1] if at is None else geography(at)
    if dst.valid_from < src.valid_from:
        raise UsageError(f"{code} first exists in {src.label}, after {dst.label}.")
    return _successor_chain(code, src, dst)


def successor_map(src: Geography, dst: Geography) -> dict[str, str]:
    """``{code of src: code in dst}`` for every municipality of ``src`` (dst not earlier)."""
    return {code: _successor_chain(code, src, dst) for code in src.codes}


def neighbours(nis: str, at: At = None) -> list[str]:
    """Municipalities sharing a border with ``nis`` (both directions of ``neighbours.csv``); for a
    2025 code the union of its predecessors' neighbours, mapped to 2025 codes."""
    geo, code = _resolve(nis, at)
    return geo.neighbours(code)


def borders(at: At = None) -> dict:
    """The GeoJSON FeatureCollection of the 581 municipalities (parsed once; do not mutate it).

    Only the 2019–2024 geography has borders; the 2025 polygons are not built yet (a gap).
    """
    global _BORDERS
    geo = geography(at)
    if geo is not geography():
        raise UsageError(
            f"Borders are only available for the 2019–2024 geography, not {geo.label} "
            "(the merged 2025 polygons are not built yet)."
        )
    if _BORDERS is None:
        with _LOCK:
            if _BORDERS is None:
                with open(data_path("municipalities.geojson"), encoding="utf-8") as fh:
                    _BORDERS = json.load(fh)
    return _BORDERS


# --------------------------------------------------------------------------------------------
# population


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
                g2019 = geography()
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
    return next((g for g in _geographies() if g.contains(day)), None)


def storage_geography(year: int) -> Geography:
    """The geography the population of ``year`` is stored on: that of its 1 January, but never
    before 2019 (earlier years are summed onto the 2019 municipalities, like the shipped ones)."""
    geo = _geography_of_year(year)
    default = geography()
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
        return target, target._known(geo)
    base = _default_target(for_year, data)
    code = normalise_code(geo)
    if code is not None and code not in base:
        for later in _geographies():
            if later.valid_from > base.valid_from and code in later._by_nis:
                return later, code
    return base, base._known(geo)


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
