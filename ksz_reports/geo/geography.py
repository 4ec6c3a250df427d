"""One :class:`Geography`: the municipalities valid during one span of dates, the units above
them, their names in every report language, neighbours and the mergers that formed them.

Three geographies are modelled (built by :mod:`ksz_reports.geo.registry` from the shipped files);
each knows the one before and after it, so a code of another geography can be explained or
followed to its successor:

============  ====  ==============  ===========================================================
valid         id    municipalities  notes
============  ====  ==============  ===========================================================
1983–2018     1983  589             predecessors of the 2019 mergers (no neighbours, no borders)
2019–2024     2019  581             Statbel REFNIS 2019; the shipped population and borders
2025–         2025  565             **today's geography**: the 2019 list + the 2025 mergers
============  ====  ==============  ===========================================================

Match on NIS codes, never on names: Lokeren, Lochristi, Wingene, Tielt, Hasselt and Bastogne kept
their names in 2025 but got new codes, and Antwerpen (11002) kept its code but gained Borsbeek.
Look-ups by code are dictionary look-ups; the name index is built on the first name look-up.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ksz_reports.core.errors import NotFoundError, UsageError
from ksz_reports.core.vocabulary import LEVELS, check_lang, check_level
from ksz_reports.geo.codes import (
    BRUSSELS,
    COUNTRY,
    EN_NAMES,
    FLANDERS,
    GERMAN_SPEAKING,
    compact,
    english_date,
    fold,
    normalise_code,
)


class AmbiguousNameError(NotFoundError):
    """A name that designates several municipalities equally well (use the NIS code)."""


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
        lang = check_lang(lang)
        if lang == "nl":
            return self.name_nl
        if lang == "fr":
            return self.name_fr
        return (
            self.name_nl if self.region == FLANDERS or self.nis in GERMAN_SPEAKING else self.name_fr
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
class Resolved:
    """What a look-up found: the municipality of the asked geography, and a one-line ``note``
    when the text named a municipality of an earlier geography (``Melle (44040) is part of
    Merelbeke-Melle (44088) since 1 January 2025``)."""

    municipality: Municipality
    note: str | None = None


class Geography:
    """The municipalities valid during one span of dates, and their hierarchy.

    Built by :mod:`ksz_reports.geo.registry` (:func:`ksz_reports.geo.geography`); immutable.
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
        self.neighbour_pairs: dict[str, tuple[str, ...]] | None = None
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

    @property
    def id(self) -> str:
        """The short name of the geography: the year it starts (``1983``, ``2019``, ``2025``)."""
        return str(self.valid_from.year)

    def __repr__(self) -> str:
        return f"<Geography {self.label}: {len(self)} municipalities>"

    def __len__(self) -> int:
        return len(self._by_nis)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self._level

    def contains(self, day: dt.date) -> bool:
        """Whether ``day`` falls in this geography's span."""
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def is_municipality(self, code: str) -> bool:
        """Whether ``code`` is a municipality of this geography."""
        return code in self._by_nis

    @property
    def codes(self) -> tuple[str, ...]:
        """The municipality codes, sorted."""
        return self._members[COUNTRY]

    def municipalities(self) -> list[Municipality]:
        """All municipalities, sorted by NIS code."""
        return list(self._by_nis.values())

    def frame(self) -> pd.DataFrame:
        """One row per municipality: codes and nl/fr names of the municipality and of every level
        (``province`` is NaN in Brussels)."""
        rows = []
        for m in self._by_nis.values():
            row = {"nis": m.nis, "name_nl": m.name_nl, "name_fr": m.name_fr}
            for level in ("arrondissement", "province", "region"):
                code = getattr(m, level)
                names = self._level_names.get(code, (None, None)) if code else (None, None)
                row[level] = code if code else np.nan
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
        return self._level[self.known(code)]

    def codes_of(self, level: str) -> list[str]:
        """All codes of one level, sorted."""
        check_level(level)
        return sorted(c for c, lv in self._level.items() if lv == level)

    def members(self, code: str) -> list[str]:
        """The municipality codes of a unit (a municipality's own code for a municipality)."""
        return list(self._members[self.known(code)])

    def hierarchy(self, nis: str) -> Hierarchy:
        """Arrondissement, province, region and country of a municipality."""
        m = self.municipality(nis)
        return Hierarchy(m.nis, m.arrondissement, m.province, m.region)

    def parents_of(self, nis: str) -> dict[str, str | None]:
        """``{"arrondissement": …, "province": … (None in Brussels), "region": …, "country": …}``."""
        d = self.hierarchy(nis).as_dict()
        del d["municipality"]
        return d

    def name(self, code: str, lang: str = "nl") -> str:
        """The name of a municipality or of any level, in ``nl``, ``fr`` or ``en``."""
        lang = check_lang(lang)
        code = self.known(code)
        if code in self._by_nis:
            return self._by_nis[code].name(lang)
        nl, fr = self._level_names[code]
        if lang == "en":
            if code in EN_NAMES:
                return EN_NAMES[code]
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
        if self.neighbour_pairs is None:
            raise UsageError(f"Neighbours are not modelled for the geography {self.label}.")
        return list(self.neighbour_pairs.get(m.nis, ()))

    # -- tables (aggregation, see ksz_reports.geo.aggregate) ---------------------------------

    @cached_property
    def parent(self) -> dict[str, dict[str, str | None]]:
        """Per level above the municipality: municipality code → the code of its unit."""
        ms = self._by_nis.values()
        return {
            "arrondissement": {m.nis: m.arrondissement for m in ms},
            "province": {m.nis: m.province for m in ms},
            "region": {m.nis: m.region for m in ms},
            "country": dict.fromkeys(self._by_nis, COUNTRY),
        }

    @cached_property
    def successors(self) -> dict[str, str]:
        """Every municipality code of an earlier geography that changed → its code here."""
        out: dict[str, str] = {}
        geo = self.previous
        while geo is not None:
            for code in geo.codes:
                new = successor_chain(code, geo, self)
                if new != code and code not in out:
                    out[code] = new
            geo = geo.previous
        return out

    @cached_property
    def predecessor_sets(self) -> dict[str, set[frozenset[str]]]:
        """Per municipality here: the sets of codes that form it, its own code (when no earlier
        geography used it for something else) and the codes of each earlier geography:
        ``{"11002": {frozenset({"11002", "11007"})}}`` — ``11002`` alone is the Antwerpen of
        2019–2024, not today's; an unchanged municipality gives ``{frozenset({code})}``."""
        earlier = self.previous
        out: dict[str, set[frozenset[str]]] = {
            nis: set()
            if earlier is not None and earlier.is_municipality(nis)
            else {frozenset({nis})}
            for nis in self._by_nis
        }
        geo = self.previous
        while geo is not None:
            members: dict[str, set[str]] = {}
            for code in geo.codes:
                members.setdefault(successor_chain(code, geo, self), set()).add(code)
            for new, olds in members.items():
                out[new].add(frozenset(olds))
            geo = geo.previous
        return out

    @cached_property
    def region_of(self) -> dict[str, str]:
        """Every code of a municipality or a unit below Belgium → its region (Belgium → itself)."""
        out = {code: code for code, level in self._level.items() if level in ("region", "country")}
        for m in self._by_nis.values():
            for code in (m.nis, m.arrondissement, m.province):
                if code:
                    out[code] = m.region
        return out

    # -- names ------------------------------------------------------------------------------

    def _official(self, m: Municipality) -> set[str]:
        if m.region == BRUSSELS or m.nis in GERMAN_SPEAKING or m.name_nl == m.name_fr:
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
                    folded = fold(name)
                    key = folded.replace(" ", "")
                    tokens = tuple(t for t in folded.split() if len(t) >= 3)
                    keys.append((key, m.nis, name, rank, tokens))
                    exact.setdefault(key, []).append((rank, m.nis, name))
            self._index = (keys, exact)
        return self._index

    def _ranked(self, text: str, limit: int) -> list[tuple[str, str]]:
        """``[(nis, name that matched), …]``: exact, prefix, substring, then fuzzy matches."""
        raw = text.strip()
        if raw.isdigit():
            hits = sorted(c for c in self._by_nis if c.startswith(raw))
            padded = normalise_code(raw)
            if padded in self._by_nis and padded not in hits:
                hits.insert(0, padded)
            return [(c, self._by_nis[c].name_nl) for c in hits[:limit]]
        q = compact(raw)
        if not q:
            return []
        best: dict[str, tuple[tuple, str]] = {}

        def keep(nis: str, score: tuple, name: str) -> None:
            if nis not in best or score < best[nis][0]:
                best[nis] = (score, name)

        keys = self._names()[0]
        for key, nis, name, rank, _tokens in keys:
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
            for key, nis, name, rank, tokens in keys:
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

    def lookup(self, text: str | int, *, follow: bool = True) -> Municipality:
        """The municipality named or coded by ``text`` (see :meth:`resolve`)."""
        return self.resolve(text, follow=follow).municipality

    def resolve(self, text: str | int, *, follow: bool = True) -> Resolved:
        """The municipality of this geography named or coded by ``text``, with a note when the
        text names a municipality of an earlier geography (its successor here is returned).

        Codes: ``44021``, ``' 44021 '``, 4 digits are zero-padded. Names: Dutch or French,
        accent-, case-, hyphen- and space-insensitive; ``Gent (44021)`` also works. An official
        name wins over another municipality's other-language name. Unknown →
        :class:`NotFoundError` with suggestions; ambiguous → :class:`AmbiguousNameError`.
        With ``follow=False`` only this geography's own names and codes are accepted.
        """
        raw = str(text).strip()
        labelled = re.fullmatch(r"(.*?)\s*\(\s*(\d{4,5})\s*\)", raw)
        if labelled:
            found = self._resolve_code(labelled.group(2), follow)
            m = found.municipality if found.note is None else self._earlier(labelled.group(2))
            given = compact(labelled.group(1))
            if given and given not in {compact(m.name_nl), compact(m.name_fr)}:
                raise NotFoundError(f"{raw!r}: {m.nis} is {m.name_nl}, not {labelled.group(1)!r}")
            return found
        if raw.isdigit():
            return self._resolve_code(raw, follow)
        if not compact(raw):
            raise NotFoundError("Empty municipality name: give a name or a 5-digit NIS code")
        matches = self._names()[1].get(compact(raw), [])
        if matches:
            top = min(rank for rank, _nis, _name in matches)
            codes = sorted({nis for rank, nis, _name in matches if rank == top})
            if len(codes) == 1:
                return Resolved(self._by_nis[codes[0]])
            raise AmbiguousNameError(
                f"{raw!r} is the name of {len(codes)} municipalities; give the NIS code",
                [self._by_nis[c].label for c in codes],
            )
        for other in self._earlier_geographies() if follow else ():
            hits = other._names()[1].get(compact(raw))
            if hits:
                return self._follow(other._by_nis[min(hits)[1]], other)
        message = f"No municipality {raw!r} among the {len(self)} of {self.label}"
        elsewhere = self._later_by_name(raw)
        if elsewhere:
            message += f" ({elsewhere})"
        raise NotFoundError(message, self.suggestions(raw))

    def _resolve_code(self, text: str, follow: bool = True) -> Resolved:
        code = normalise_code(text)
        if code in self._by_nis:
            return Resolved(self._by_nis[code])
        for other in self._earlier_geographies() if follow else ():
            if code in other._by_nis:
                return self._follow(other._by_nis[code], other)
        raise NotFoundError(self._explain_missing(str(text).strip(), code))

    def _earlier(self, text: str) -> Municipality:
        code = normalise_code(text)
        return next(g._by_nis[code] for g in self._earlier_geographies() if code in g._by_nis)

    def _follow(self, old: Municipality, other: Geography) -> Resolved:
        """The successor here of ``old`` (a municipality of the earlier ``other``), with the note:
        ``Melle (44040) is part of Merelbeke-Melle (44088) since 1 January 2025``, or for a code
        that only changed, ``La Louvière (55022) has the code 58001 since 1 January 2019``."""
        new = self._by_nis[successor_chain(old.nis, other, self)]
        changed = english_date(other.valid_to + dt.timedelta(days=1))  # type: ignore[operator]
        if len(self._all_predecessors(new.nis, other)) == 1:
            return Resolved(new, f"{old.label} has the code {new.nis} since {changed}")
        return Resolved(new, f"{old.label} is part of {new.label} since {changed}")

    def _all_predecessors(self, nis: str, other: Geography) -> list[str]:
        """The codes of ``other`` (an earlier geography) that became ``nis`` here."""
        return [c for c in other.codes if successor_chain(c, other, self) == nis]

    # -- explanations -----------------------------------------------------------------------

    def known(self, code: str) -> str:
        """``code`` as a 5-digit code of a municipality or unit here, else :class:`NotFoundError`."""
        norm = normalise_code(code)
        if norm is None or norm not in self._level:
            raise NotFoundError(self._explain_missing(str(code).strip(), norm))
        return norm

    def _earlier_geographies(self) -> list[Geography]:
        out, geo = [], self.previous
        while geo is not None:
            out.append(geo)
            geo = geo.previous
        return out

    def _later_geographies(self) -> list[Geography]:
        out, geo = [], self.next
        while geo is not None:
            out.append(geo)
            geo = geo.next
        return out

    def _others(self) -> list[Geography]:
        """The other geographies, nearest in time first (a later one first on a tie)."""
        earlier, later = self._earlier_geographies(), self._later_geographies()
        out = []
        for i in range(max(len(earlier), len(later))):
            out += later[i : i + 1] + earlier[i : i + 1]
        return out

    def _relation(self, m: Municipality, other: Geography) -> str:
        """How municipality ``m`` of ``other`` relates to this geography, for messages."""
        if other.valid_from < self.valid_from:
            return self._follow(m, other).note or m.label
        return f"{m.label} exists from {english_date(other.valid_from)} (geography {other.id})"

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

    def _later_by_name(self, raw: str) -> str | None:
        key = compact(raw)
        for other in self._later_geographies():
            hits = other._names()[1].get(key)
            if hits:
                return self._relation(other._by_nis[min(hits)[1]], other)
        return None


def successor_chain(code: str, src: Geography, dst: Geography) -> str:
    """The code in ``dst`` (not earlier than ``src``) of municipality ``code`` of ``src``."""
    geo = src
    while geo is not dst:
        if geo.next is None:
            raise UsageError(f"The geography {dst.label} is not later than {src.label}.")
        geo = geo.next
        code = geo._from_previous.get(code, code)
    return code


def successor_map(src: Geography, dst: Geography) -> dict[str, str]:
    """``{code of src: code in dst}`` for every municipality of ``src`` (dst not earlier)."""
    return {code: successor_chain(code, src, dst) for code in src.codes}


__all__ = [
    "LEVELS",
    "AmbiguousNameError",
    "Geography",
    "Hierarchy",
    "Municipality",
    "Resolved",
    "successor_chain",
    "successor_map",
]
