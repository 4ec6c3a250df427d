"""Independent privacy attacker for published reports (in the style of a τ-ARGUS / sdcTable audit).

It knows only what a reader knows: the ``cells.csv`` of every report under a folder, plus the
public geography tables. It deliberately does NOT import ``ksz_reports.disclosure``, so that it can
catch what the product's own audit misses.

Design
------
* Every distinct key (all key columns except ``table``) of a ``kind == "count"`` row is one
  variable. A key published anywhere is a constant (all published values of a key must agree); a
  key never published is an unknown ``x >= 0``.
* Additive relations ``coef * total = sum(parts)`` are inferred from the keys alone:
  breakdowns (``total`` = sum of the complete set of categories of one dimension), geography
  (municipality < arrondissement < province < region < Belgium, every aggregate = the sum of its
  members at every lower level, for the 2019-2024 or the 2025 map) and time
  (12 x yearly monthly average = sum of the 12 months). A relation is used only when its total and
  all its parts are keys; relations without unknowns are checked against the published values.
* The unknowns are split into connected components (unknowns linked by a relation); for every
  hidden count two LPs (min and max, ``scipy.optimize.linprog(method="highs")``) over its
  component give the interval ``[lo, hi]`` a reader can deduce (``[0, inf]`` when the component
  is infeasible, which is counted and means a relation does not hold). ``recovered``: width
  below 1e-6; ``narrow``: not recovered and width below the threshold (5 by default).

``python tests/attacker.py FOLDER [--threshold 5]`` prints the summary and the exposed cells.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import linprog

KEY_COLUMNS = [
    "indicator",
    "period",
    "geo",
    "sex",
    "age_class",
    "household_type",
    "origin",
    "nationality_group",
    "ses_position",
    "family_category",
]
DIMENSIONS = KEY_COLUMNS[3:]
TOTAL = "total"
BELGIUM = "01000"
#: municipalities.csv and mergers_2025.csv (public reference tables, not the product's code)
DATA_DIR = Path(os.environ.get("ATTACKER_DATA_DIR", "/work/shared/data"))

#: hi - lo below this (times the value when it is above 1): the exact value is known
RECOVERED_WIDTH = 1e-6
#: A relation holds up to this times its scale (the sum of |terms| published). Values, monthly
#: averages included, are published at full float precision, so only rounding (~1e-16 relative)
#: needs absorbing; a band as wide as 1e-6 x scale would itself exceed RECOVERED_WIDTH.
RELATIVE_TOLERANCE = 1e-12
YEAR = re.compile(r"^\d{4}$")


@dataclass(frozen=True)
class Relation:
    """``coef * total == sum(parts)``; total and parts are variable indices."""

    kind: str
    total: int
    parts: tuple[int, ...]
    coef: float = 1.0


@dataclass
class AttackReport:
    frame: pd.DataFrame  # one row per hidden count: key, flag, lo, hi, width, recovered, narrow
    threshold: float
    relations: dict[str, int] = field(default_factory=dict)  # relations with unknowns, by kind
    checked: int = 0  # relations between published values only (checked, not needed)
    conflicts: list[str] = field(default_factory=list)  # keys published with different values
    inconsistent: list[str] = field(default_factory=list)  # relations the published data break
    infeasible: int = 0  # components whose relations cannot all hold (unknowns left unbounded)
    seconds: float = 0.0

    def summary(self) -> pd.DataFrame:
        """Per flag: hidden counts attacked, recovered exactly, narrow (not exact, width < threshold)."""
        f = self.frame
        out = (
            f.groupby("flag")
            .agg(
                attacked=("flag", "size"), recovered=("recovered", "sum"), narrow=("narrow", "sum")
            )
            .astype(int)
        )
        out.loc["all"] = out.sum()
        return out

    def exposed(self) -> pd.DataFrame:
        """The recovered and narrow cells, most exposed first."""
        f = self.frame[self.frame.recovered | self.frame.narrow]
        return f.sort_values(["width", "lo"]).reset_index(drop=True)

    def text(self) -> str:
        lines = [
            f"hidden counts attacked: {len(self.frame)} in {self.seconds:.1f} s; "
            f"relations with unknowns: {sum(self.relations.values())} "
            f"{dict(sorted(self.relations.items()))}; between published values: {self.checked}",
            self.summary().to_string(),
        ]
        for title, items in (
            ("conflicting keys", self.conflicts),
            ("inconsistent relations", self.inconsistent),
        ):
            if items:
                lines.append(f"{title} ({len(items)}):")
                lines += [f"  {item}" for item in items[:20]]
        if self.infeasible:
            lines.append(f"infeasible components: {self.infeasible}")
        exposed = self.exposed()
        lines.append(
            f"recovered (width < {RECOVERED_WIDTH:g}) or narrow (width < {self.threshold:g}):"
        )
        for row in exposed.itertuples():
            dims = " ".join(
                f"{d}={getattr(row, d)}" for d in DIMENSIONS if getattr(row, d) != TOTAL
            )
            what = "recovered" if row.recovered else "narrow"
            lines.append(
                f"  {what:9} {row.indicator} {row.period} {row.geo} {dims or '(total)'} "
                f"[{row.flag}] lo={row.lo:.6g} hi={row.hi:.6g}"
            )
        return "\n".join(lines)


# --------------------------------------------------------------------------------- reading


def read_counts(folder: Path) -> pd.DataFrame:
    files = sorted(Path(folder).rglob("cells.csv"))
    if not files:
        raise FileNotFoundError(f"no cells.csv under {folder}")
    frames = [pd.read_csv(f, dtype=str, keep_default_na=False) for f in files]
    cells = pd.concat(frames, ignore_index=True)
    return cells[cells["kind"] == "count"].reset_index(drop=True)


def make_variables(counts: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """One row per key: ``value`` (NaN when hidden everywhere), ``flag`` of its hidden copies."""
    shown: dict[tuple[str, ...], set[float]] = defaultdict(set)
    flags: dict[tuple[str, ...], set[str]] = {}
    keys = counts[KEY_COLUMNS].itertuples(index=False, name=None)
    for key, value, flag in zip(keys, counts["value"], counts["flag"], strict=True):
        if value == "":
            flags.setdefault(key, set()).add(flag or "hidden")
        else:
            shown[key].add(float(value))
        flags.setdefault(key, set())  # every key gets an entry, hidden or not
    conflicts, rows = [], []
    for key in sorted(flags):
        values = sorted(shown.get(key, ()))
        if values and values[-1] - values[0] > RELATIVE_TOLERANCE * max(1.0, abs(values[-1])):
            conflicts.append(f"{'|'.join(key)}: {values}")
        hidden = "+".join(sorted(flags[key]))
        rows.append((*key, values[0] if values else np.nan, hidden, bool(hidden)))
    return pd.DataFrame(rows, columns=[*KEY_COLUMNS, "value", "flag", "hidden"]), conflicts


# ------------------------------------------------------------------------------- geography


@dataclass(frozen=True)
class Geography:
    name: str
    paths: dict[str, tuple[str, ...]]  # municipality -> (arrondissement, province*, region, BE)

    @property
    def municipalities(self) -> set[str]:
        return set(self.paths)

    def relations(self) -> set[tuple[str, frozenset[str]]]:
        """(aggregate, its members at one lower level), for every aggregate and lower level.

        *Brussels has no province: its arrondissement stands at the province level.
        """
        members: dict[str, list[tuple[str, ...]]] = defaultdict(list)  # aggregate -> chains below
        for m, path in self.paths.items():
            chain = (m, *path)
            for i, aggregate in enumerate(chain[1:], start=1):
                members[aggregate].append(chain[:i])
        out = set()
        for aggregate, below in members.items():
            for level in range(len(below[0])):
                parts = frozenset(chain[level] for chain in below)
                if parts != {aggregate}:
                    out.add((aggregate, parts))
        return out


def load_geographies(data_dir: Path = DATA_DIR) -> list[Geography]:
    munis = pd.read_csv(data_dir / "municipalities.csv", dtype=str, keep_default_na=False)
    mergers = pd.read_csv(data_dir / "mergers_2025.csv", dtype=str, keep_default_na=False)
    if "status" in mergers:
        mergers = mergers[mergers["status"] == "confirmed"]

    def path(arr: str, prov: str, region: str) -> tuple[str, ...]:
        return (arr, prov or arr, region, BELGIUM)

    old = {
        r.nis: path(r.arrondissement_nis, r.province_nis, r.region_nis) for r in munis.itertuples()
    }
    region_of_province = {p[1]: p[2] for p in old.values()}
    new = {m: p for m, p in old.items() if m not in set(mergers["old_nis"])}
    for r in mergers.itertuples():
        prov = r.new_province_nis
        new[r.new_nis] = path(
            r.new_arrondissement_nis, prov, region_of_province[prov or r.new_arrondissement_nis]
        )
    return [Geography("2019-2024", old), Geography("2025", new)]


def geography_relations(
    variables: pd.DataFrame, geographies: list[Geography]
) -> tuple[dict[str, set[tuple[str, frozenset[str]]]], list[str]]:
    """Per period, the aggregate relations of the geography that matches its municipality codes.

    When the codes fit both maps (no merged municipality among them) only the relations the two
    maps share are used; when they fit neither, the map with more matches is used (with a note).
    """
    notes = []
    known = set().union(*(g.municipalities for g in geographies))
    chosen = {}
    for period, geos in variables.groupby("period")["geo"]:
        found = set(geos) & known
        fits = [g for g in geographies if found <= g.municipalities]
        if len(fits) == 1:
            chosen[period] = fits[0].relations()
        elif fits:
            chosen[period] = set.intersection(*(g.relations() for g in fits))
        elif found:
            best = max(geographies, key=lambda g: len(found & g.municipalities))
            notes.append(f"period {period}: municipality codes fit no map, using {best.name}")
            chosen[period] = best.relations()
    return chosen, notes


# ------------------------------------------------------------------------------- relations


def infer_relations(
    variables: pd.DataFrame, geographies: list[Geography]
) -> tuple[list[Relation], list[str]]:
    index = {
        key: i for i, key in enumerate(variables[KEY_COLUMNS].itertuples(index=False, name=None))
    }
    relations: list[Relation] = []

    # breakdowns: total = sum of the complete set of categories of one dimension
    for pos, d in enumerate(KEY_COLUMNS):
        if d not in DIMENSIONS:
            continue
        # indicator -> categories of d seen anywhere; other key columns -> {category: variable}
        seen: dict[str, set[str]] = defaultdict(set)
        groups: dict[tuple[str, ...], dict[str, int]] = defaultdict(dict)
        for key, i in index.items():
            if key[pos] != TOTAL:
                seen[key[0]].add(key[pos])
            groups[key[:pos] + key[pos + 1 :]][key[pos]] = i
        for other, cats in groups.items():
            total = cats.pop(TOTAL, None)
            if total is not None and cats and set(cats) == seen[other[0]]:
                relations.append(Relation(f"breakdown:{d}", total, tuple(sorted(cats.values()))))

    # geography: aggregate = sum of its members at every lower level
    per_period, notes = geography_relations(variables, geographies)
    by_aggregate: dict[tuple[str, str], list[frozenset[str]]] = defaultdict(list)
    for period, pairs in per_period.items():
        for aggregate, parts in pairs:
            by_aggregate[period, aggregate].append(parts)
    g = KEY_COLUMNS.index("geo")
    for key, i in index.items():
        for parts in by_aggregate.get((key[1], key[g]), ()):
            members = [index.get((*key[:g], p, *key[g + 1 :])) for p in sorted(parts)]
            if all(m is not None for m in members):
                relations.append(Relation("geography", i, tuple(members)))

    # time: 12 x yearly monthly average = sum of the 12 months
    p = KEY_COLUMNS.index("period")
    for key, i in index.items():
        if YEAR.match(key[p]):
            months = [
                index.get((*key[:p], f"{key[p]}-{m:02d}", *key[p + 1 :])) for m in range(1, 13)
            ]
            if all(m is not None for m in months):
                relations.append(Relation("time", i, tuple(months), coef=12.0))
    return relations, notes


# ------------------------------------------------------------------------------------- LPs


def _components(n: int, relations: list[Relation], unknown: np.ndarray) -> dict[int, list[int]]:
    parent = list(range(n))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for r in relations:
        members = [v for v in (r.total, *r.parts) if unknown[v]]
        for v in members[1:]:
            parent[find(v)] = find(members[0])
    groups: dict[int, list[int]] = defaultdict(list)
    for v in np.flatnonzero(unknown):
        groups[find(int(v))].append(int(v))
    return groups


def _bounds(unknowns: list[int], rows: list[tuple[dict[int, float], float, float]]):
    """min and max of every unknown subject to ``|sum(a_v x_v) - b| <= tol`` and x >= 0."""
    col = {v: j for j, v in enumerate(unknowns)}
    a = np.zeros((len(rows), len(unknowns)))
    b = np.zeros(len(rows))
    tol = np.zeros(len(rows))
    for k, (coefs, rhs, t) in enumerate(rows):
        for v, c in coefs.items():
            a[k, col[v]] += c
        b[k], tol[k] = rhs, t
    a_ub, b_ub = np.vstack([a, -a]), np.concatenate([b + tol, tol - b])
    lo, hi = np.zeros(len(unknowns)), np.full(len(unknowns), np.inf)
    for j in range(len(unknowns)):
        c = np.zeros(len(unknowns))
        c[j] = 1.0
        res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
        if res.status == 2:
            return None
        lo[j] = res.fun if res.status == 0 else 0.0
        res = linprog(-c, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
        hi[j] = -res.fun if res.status == 0 else np.inf
    return lo, hi


def attack(folder: str | Path, threshold: float = 5.0, data_dir: Path = DATA_DIR) -> AttackReport:
    start = time.perf_counter()
    variables, conflicts = make_variables(read_counts(Path(folder)))
    relations, notes = infer_relations(variables, load_geographies(data_dir))
    for note in notes:
        warnings.warn(note, stacklevel=2)
    value = variables["value"].to_numpy()
    unknown = np.isnan(value)
    keys = ["|".join(k) for k in variables[KEY_COLUMNS].itertuples(index=False, name=None)]

    # move the published values to the right-hand side; check relations without unknowns
    rows_by_var: dict[int, list[tuple[dict[int, float], float, float]]] = defaultdict(list)
    used: dict[str, int] = defaultdict(int)
    checked = 0
    inconsistent = []
    for r in relations:
        terms = [(r.total, r.coef)] + [(v, -1.0) for v in r.parts]
        coefs: dict[int, float] = defaultdict(float)
        rhs, scale = 0.0, 1.0
        for v, c in terms:
            if unknown[v]:
                coefs[v] += c
            else:
                rhs -= c * value[v]
                scale += abs(c * value[v])
        tol = RELATIVE_TOLERANCE * scale
        if not coefs:
            checked += 1
            if abs(rhs) > tol:
                inconsistent.append(f"{r.kind}: {keys[r.total]} off by {-rhs:+.6g}")
            continue
        if all(c >= 0 for c in coefs.values()) and rhs < -tol:  # would make the LP infeasible
            inconsistent.append(f"{r.kind}: {keys[r.total]} parts exceed total by {-rhs:.6g}")
        used[r.kind.split(":")[0]] += 1
        rows_by_var[next(iter(coefs))].append((dict(coefs), rhs, tol))

    lo, hi = np.zeros(len(variables)), np.full(len(variables), np.inf)
    lo[~unknown] = hi[~unknown] = value[~unknown]
    infeasible = 0
    for members in _components(len(variables), relations, unknown).values():
        rows = [row for v in members for row in rows_by_var.get(v, ())]
        if not rows:
            continue
        bounds = _bounds(members, rows)
        if bounds is None:
            infeasible += 1
            continue
        lo[members], hi[members] = bounds

    hidden = variables["hidden"].to_numpy()
    frame = variables.loc[hidden, [*KEY_COLUMNS, "flag"]].copy()
    frame["published_elsewhere"] = ~unknown[hidden]
    frame["lo"], frame["hi"] = lo[hidden], hi[hidden]
    frame["width"] = frame["hi"] - frame["lo"]
    slack = RECOVERED_WIDTH * np.maximum(1.0, frame["lo"])  # LP and float rounding noise
    frame["recovered"] = frame["width"] < slack
    frame["narrow"] = ~frame["recovered"] & (frame["width"] < threshold - slack)
    return AttackReport(
        frame=frame.reset_index(drop=True),
        threshold=threshold,
        relations=dict(used),
        checked=checked,
        conflicts=conflicts,
        inconsistent=inconsistent,
        infeasible=infeasible,
        seconds=time.perf_counter() - start,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--threshold", type=float, default=5.0)
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    args = parser.parse_args(argv)
    print(attack(args.folder, threshold=args.threshold, data_dir=args.data_dir).text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
