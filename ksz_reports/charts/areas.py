"""The areas of the maps: the municipalities of the reference list (2019–2024), the 2025
mergers, and the names of municipalities and areas as the maps write them."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from ksz_reports.core.resources import data_path
from ksz_reports.l10n import gettext

BELGIUM = "01000"
REGIONS = ("02000", "03000", "04000")


@dataclass(frozen=True)
class Municipality:
    """A municipality of the reference list (``municipalities.csv``, 2019–2024)."""

    nis: str
    name_nl: str
    name_fr: str
    province: str
    region: str
    province_nl: str
    province_fr: str


@cache
def municipalities() -> dict[str, Municipality]:
    """The 581 municipalities of 2019–2024 by NIS code."""
    with open(data_path("municipalities.csv"), encoding="utf-8", newline="") as fh:
        return {
            r["nis"]: Municipality(
                r["nis"],
                r["name_nl"],
                r["name_fr"],
                r["province_nis"],
                r["region_nis"],
                r["province_nl"],
                r["province_fr"],
            )
            for r in csv.DictReader(fh)
        }


@cache
def _mergers_table() -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    merges: dict[str, str] = {}
    new: dict[str, tuple[str, str]] = {}
    with open(data_path("mergers_2025.csv"), encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            merges[r["old_nis"]] = r["new_nis"]
            new[r["new_nis"]] = (r["new_name"], r["new_province_nis"])
    return merges, new


def mergers_2025() -> dict[str, str]:
    """The shipped old → new NIS map of 1 January 2025 (only the 30 municipalities involved)."""
    return dict(_mergers_table()[0])


def _name(nis: str, lang: str, olds: Sequence[str]) -> str:
    """Name of a municipality of the map: its own, the merger table's, or its predecessors'."""
    munis = municipalities()
    merged_names = _mergers_table()[1]
    if olds == [nis] or (nis in munis and nis not in merged_names):
        m = munis[nis]
        return m.name_nl if lang == "nl" or (lang == "en" and m.region == "02000") else m.name_fr
    if nis in merged_names:
        return merged_names[nis][0]
    return " / ".join(_name(old, lang, [old]) for old in olds)


def _new_province_region(new_nis: str, olds: Sequence[str]) -> tuple[str, str]:
    munis = municipalities()
    merged = _mergers_table()[1]
    region = munis[olds[0]].region
    if new_nis in merged:
        return merged[new_nis][1], region
    return munis[olds[0]].province, region


def area_name(area: str | None, lang: str) -> str:
    """Name of a map area: Belgium, a region or a province NIS code."""
    _ = gettext(lang)
    if area in (None, BELGIUM):
        return _("Belgium")
    names = {
        "02000": _("Flemish Region"),
        "03000": _("Walloon Region"),
        "04000": _("Brussels-Capital Region"),
    }
    if area in names:
        return names[area]
    for m in municipalities().values():
        if m.province == area:
            return m.province_fr if lang == "fr" else m.province_nl
    raise ValueError(f"unknown area {area!r}: a province or region NIS code, or {BELGIUM}")
