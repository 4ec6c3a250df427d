"""The disclosure audit (docs/domain.md#the-audit): try to recover every suppressed count from what is published.

``ksz-reports audit OUT`` reads every report's ``cells.csv`` (docs/architecture.md#the-cellscsv-contract) under ``OUT`` as one
publication: the same count shown by several tables or reports is one variable (two different
values for one key is an *inconsistent publication*). From the keys it rebuilds the additive
relations with the same builder as :mod:`ksz_reports.disclosure.linked` (breakdown totals, crossings,
geography up to Belgium, plus explicit extra relations) and computes, by linear programming, the
interval ``[lo, hi]`` an attacker can derive for every count that is not shown: published counts
are constants, hidden counts are unknowns ``≥ 0`` (a count masked at the source within the range
the source gave, when the publication's store says it). Every hidden count is attacked and the
outcome is counted per kind: ``primary`` (suppressed), ``secondary``, ``masked`` (masked at the
source; sensitive like a primary count) and ``unknown`` (no value for another reason; not
sensitive).

A problem is any of:

* ``recoverable``: a sensitive count (primary, or masked at the source) is computed exactly
  (``hi = lo``), including one shown elsewhere in the publication;
* ``narrow``: its interval is shorter than the threshold (``hi − lo < threshold``; for a masked
  count whose source range is narrower, shorter than that range);
* ``derived_leak``: a rate, share, growth, index or interval is shown for a suppressed count;
* ``small_count_published``: a count ``0 < n < threshold`` is shown;
* ``inconsistent_publication``: one key published with two values;
* ``inconsistent_relation``: published values contradict a relation (a total that is not the sum
  of its parts), so the publication cannot be audited as one table there.

The LP work is structured, not one LP per cell: relations without unknowns are dropped,
relations with a single unknown give it exactly (substituted repeatedly), the rest splits into
connected components solved with one warm-started HiGHS model each (see
:func:`ksz_reports.disclosure.attacker.attacker_intervals`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ksz_reports.core.cells import CELLS_COLUMNS, DERIVED_KINDS, FLAGS, KINDS, read_cells_csv
from ksz_reports.core.config import Config
from ksz_reports.core.errors import InputError
from ksz_reports.core.schema import KEY_COLUMNS
from ksz_reports.core.vocabulary import HIDDEN_COUNT_FLAGS
from ksz_reports.disclosure.attacker import attacker_intervals
from ksz_reports.disclosure.build import direct_groups, geo_hierarchy, year_average_relations
from ksz_reports.disclosure.linked import (
    GroupRelations,
    HierarchyLike,
    RelationLike,
    build_linked_table,
)
from ksz_reports.disclosure.publication import PUBLICATION_DIR, Publication, publication_geography
from ksz_reports.disclosure.status import (
    NOT_AVAILABLE,
    PUBLISHED,
    SECONDARY,
    SUPPRESSED,
    UNKNOWN,
)

__all__ = ["AuditReport", "audit_cells", "audit_dir", "audit_output"]

#: Kinds of hidden counts the audit attacks, in report order; ``primary`` and ``masked`` are
#: sensitive.
ATTACK_KINDS: tuple[str, ...] = ("primary", "secondary", "masked", "unknown")
_KIND_OF_STATUS = {
    SUPPRESSED: "primary",
    SECONDARY: "secondary",
    NOT_AVAILABLE: "masked",
    UNKNOWN: "unknown",
}

PROBLEM_COLUMNS: tuple[str, ...] = (
    "problem",
    "status",
    "table",
    *KEY_COLUMNS,
    "kind",
    "value",
    "lo",
    "hi",
    "detail",
    "source",
)


@dataclass(eq=False)
class AuditReport:
    """The outcome of an audit; ``ok`` when no problem was found.

    ``intervals`` has one row per checked count (key columns, ``status``, ``lo``, ``hi``,
    ``width``, ``exact``); ``problems`` one row per problem (see the module docstring).
    """

    threshold: int
    min_width: float
    intervals: pd.DataFrame
    problems: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)
    attacked: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: float = 0.0
    lp_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """No suppressed count recoverable or narrowed, no derived leak, nothing inconsistent."""
        return self.problems.empty

    def problem_counts(self) -> dict[str, int]:
        """Number of problems per kind of problem."""
        return {str(k): int(v) for k, v in self.problems["problem"].value_counts().items()}

    @property
    def n_recoverable(self) -> int:
        """Suppressed counts an attacker computes exactly."""
        return self.problem_counts().get("recoverable", 0)

    @property
    def n_narrow(self) -> int:
        """Suppressed counts narrowed below the threshold (but not exactly)."""
        return self.problem_counts().get("narrow", 0)

    @property
    def n_derived_leaks(self) -> int:
        """Derived values shown for suppressed counts."""
        return self.problem_counts().get("derived_leak", 0)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able summary with every problem (``null`` bounds: unbounded or unknown)."""
        problems = [
            {k: _jsonable(v) for k, v in row.items()}
            for row in self.problems.to_dict(orient="records")
        ]
        return {
            "ok": self.ok,
            "threshold": self.threshold,
            "min_width": self.min_width,
            "counts": dict(self.counts),
            "attacked": {k: dict(v) for k, v in self.attacked.items()},
            "problem_counts": self.problem_counts(),
            "seconds": round(self.seconds, 3),
            "lp_seconds": round(self.lp_seconds, 3),
            "problems": problems,
        }

    def summary_lines(self) -> list[str]:
        """A few human-readable lines for the command line."""
        c = self.counts
        pc = self.problem_counts()
        lines = [
            f"cells read: {c.get('rows', 0):,} rows from {c.get('files', 0):,} file(s); "
            f"{c.get('counts', 0):,} distinct counts, {c.get('relations', 0):,} relations",
            f"hidden: {c.get('primary', 0):,} primary + {c.get('secondary', 0):,} secondary"
            f" + {c.get('not_available', 0):,} masked at the source"
            f" + {c.get('unknown', 0):,} unknown",
            f"checked: {c.get('checked', 0):,} hidden counts by linear programming "
            f"({c.get('components', 0):,} components, {c.get('lp_solves', 0):,} LPs)",
            *(
                f"  {kind:<9} attacked {a.get('attacked', 0):>7,}; recovered exactly "
                f"{a.get('recovered', 0):>5,}; narrower than required {a.get('narrow', 0):>5,}"
                + ("" if kind in ("primary", "masked") else " (not sensitive)")
                for kind, a in self.attacked.items()
            ),
            f"recoverable: {pc.get('recoverable', 0):,} exactly; narrower than "
            f"{self.min_width:g}: {pc.get('narrow', 0):,}",
            f"derived leaks: {pc.get('derived_leak', 0):,}; small counts shown: "
            f"{pc.get('small_count_published', 0):,}; inconsistent: "
            f"{pc.get('inconsistent_publication', 0) + pc.get('inconsistent_relation', 0):,}",
            f"seconds: {self.seconds:.2f}",
        ]
        if c.get("files", 1) == 0 and c.get("rows", 0) == 0:
            lines.insert(0, "no cells.csv found")
        verdict = "OK" if self.ok else f"FAILED: {len(self.problems):,} problem(s)"
        lines.append(f"audit: {verdict}")
        return lines


def _jsonable(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


# --------------------------------------------------------------------------------------------
# Reading and validating cells.csv
# --------------------------------------------------------------------------------------------


def _validate(frame: pd.DataFrame) -> pd.DataFrame:
    """Check kinds, flags and values; return the frame with a float ``value`` (NaN = empty)."""
    out = frame.copy()
    if "_file" not in out.columns:
        out["_file"] = None
    if "_row" not in out.columns:
        out["_row"] = np.arange(2, len(out) + 2)
    for c in (*KEY_COLUMNS, "table", "kind", "flag"):
        out[c] = out[c].astype("string").fillna("").str.strip().astype(object)

    def fail(mask: np.ndarray | pd.Series, column: str, message: str) -> None:
        i = int(np.flatnonzero(np.asarray(mask))[0])
        row = out.iloc[i]
        raise InputError(
            message.format(value=row[column] if column in out.columns else ""),
            file=row["_file"],
            row=int(row["_row"]),
            column=column,
            code="invalid-cell",
        )

    bad = ~out["kind"].isin(KINDS)
    if bad.any():
        fail(bad, "kind", "unknown kind {value!r}")
    bad = ~out["flag"].isin(FLAGS)
    if bad.any():
        fail(bad, "flag", "unknown flag {value!r}")
    for c in KEY_COLUMNS:
        bad = out[c] == ""
        if bad.any():
            fail(bad, c, "empty key column")
    raw = out["value"].astype("string").fillna("").str.strip().to_numpy(dtype=object)
    empty = raw == ""
    parsed = pd.to_numeric(pd.Series(np.where(empty, None, raw), dtype=object), errors="coerce")
    value = parsed.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    flag = out["flag"].to_numpy(dtype=object)
    bad = ~empty & np.isnan(value)
    if bad.any():
        fail(bad, "value", "not a number: {value!r}")
    bad = empty & (flag == "")
    if bad.any():
        fail(bad, "flag", "empty value without a flag saying why")
    with np.errstate(invalid="ignore"):
        bad = out["kind"].isin(["count", "population"]).to_numpy() & (value < 0)
    if bad.any():
        fail(bad, "value", "negative count {value!r}")
    out["value"] = value
    return out


# --------------------------------------------------------------------------------------------
# The audit
# --------------------------------------------------------------------------------------------


def _problem_frame(rows: pd.DataFrame, problem: str, **extra: Any) -> pd.DataFrame:
    out = pd.DataFrame({"problem": problem}, index=rows.index)
    for c in PROBLEM_COLUMNS[1:]:
        if c in extra:
            out[c] = extra[c]
        elif c in rows.columns:
            out[c] = rows[c]
        elif c == "source" and "_file" in rows.columns:
            out[c] = rows["_file"]
        else:
            out[c] = None
    return out[list(PROBLEM_COLUMNS)]


def audit_cells(
    cells: pd.DataFrame,
    threshold: int = 5,
    hierarchy: HierarchyLike | None = None,
    *,
    groups: Iterable[GroupRelations] = (),
    extra_relations: Iterable[RelationLike] = (),
    min_width: float | None = None,
    exact: bool = True,
    bounds: pd.DataFrame | None = None,
) -> AuditReport:
    """Audit published cells in the ``cells.csv`` layout (docs/architecture.md#the-cellscsv-contract).

    ``hierarchy`` is the geography (``None``: Belgium, from the shipped reference list; ``{}``:
    none); ``groups`` and ``extra_relations`` add relations the keys cannot show (mergers,
    averages of months; see :func:`ksz_reports.disclosure.linked.build_linked_table`). A primary
    suppressed count must keep an attacker interval ``hi − lo ≥ min_width`` (default: the
    threshold); so must a count masked at the source, or its whole source range when that is
    narrower. Secondary and unknown counts are attacked and counted too (they are no problem:
    those counts are not small). ``bounds`` (key columns, ``lower``, ``upper``) gives the range the
    source published for masked counts (without it: ``[0, ∞)``). ``exact=False`` skips the LPs of
    cells already proven wide enough (their bounds are then inner bounds); verdicts are the same.
    """
    t0 = time.perf_counter()
    required = float(threshold if min_width is None else min_width)
    frame = _validate(cells)
    files = frame["_file"].dropna().nunique()
    problems: list[pd.DataFrame] = []

    # -- shown despite a hiding flag: the attacker knows the value
    shown_hidden = frame["flag"].isin(list(HIDDEN_COUNT_FLAGS)) & frame["value"].notna()
    if shown_hidden.any():
        problems.append(
            _problem_frame(
                frame[shown_hidden], "derived_leak", detail="value shown despite its flag"
            )
        )

    # -- inconsistent publication: one key (and kind), two published values
    shown = frame[frame["value"].notna()]
    nvals = shown.groupby([*KEY_COLUMNS, "kind"], sort=True)["value"].transform("nunique")
    incons = shown[nvals > 1]
    if not incons.empty:
        first = incons.drop_duplicates([*KEY_COLUMNS, "kind", "value"])
        detail = first.groupby([*KEY_COLUMNS, "kind"], sort=True)["value"].transform(
            lambda s: "values " + ", ".join(f"{v:g}" for v in s)
        )
        problems.append(
            _problem_frame(
                first.drop_duplicates([*KEY_COLUMNS, "kind"]),
                "inconsistent_publication",
                detail=detail,
            )
        )

    # -- counts: one variable per key
    counts = frame[frame["kind"] == "count"]
    marks = pd.DataFrame(
        {
            "p": (counts["flag"] == SUPPRESSED).to_numpy(),
            "s": (counts["flag"] == SECONDARY).to_numpy(),
            "n": (counts["flag"] == NOT_AVAILABLE).to_numpy(),
            "u": (counts["flag"] == UNKNOWN).to_numpy(),
            "value": counts["value"].to_numpy(),
        }
    )
    for c in KEY_COLUMNS:
        marks[c] = counts[c].to_numpy()
    grouped = marks.groupby(list(KEY_COLUMNS), sort=True)
    flags = grouped[["p", "s", "n", "u"]].any()
    value = grouped["value"].first()  # the first shown value (NaN if never shown)
    keys = flags.index.to_frame(index=False)
    is_primary = flags["p"].to_numpy()
    is_secondary = flags["s"].to_numpy() & ~is_primary
    # masked at the source is sensitive for a municipality; an aggregate not available because
    # one of its municipalities is masked is no small count (docs/domain.md#primary-suppression)
    aggregate = keys["geo"].astype(str).str.endswith("000").to_numpy()
    na_flag = flags["n"].to_numpy() & ~is_primary & ~is_secondary
    is_na = na_flag & ~aggregate
    is_unk = (flags["u"].to_numpy() | na_flag) & ~is_primary & ~is_secondary & ~is_na
    values = value.to_numpy(dtype=np.float64)
    unknown = np.isnan(values)
    status = np.select(
        [is_primary, is_secondary, is_na, is_unk],
        [SUPPRESSED, SECONDARY, NOT_AVAILABLE, UNKNOWN],
        PUBLISHED,
    ).astype(object)

    # -- small counts shown
    small = counts[(counts["value"] > 0) & (counts["value"] < threshold)]
    if not small.empty:
        problems.append(
            _problem_frame(
                small, "small_count_published", detail=f"a count below {threshold} is shown"
            )
        )

    # -- derived values of hidden counts
    hidden_keys = keys[(is_primary | is_secondary) & unknown].assign(_hidden=True)
    derived = frame[frame["kind"].isin(list(DERIVED_KINDS)) & frame["value"].notna()]
    if not derived.empty and not hidden_keys.empty:
        leak = derived.merge(hidden_keys, on=list(KEY_COLUMNS), how="inner")
        if not leak.empty:
            problems.append(
                _problem_frame(leak, "derived_leak", detail="derived value of a suppressed count")
            )

    # -- the linked table of the counts and the attacker's intervals
    tl = time.perf_counter()
    table_in = keys.copy()
    table_in["value"] = pd.array(values, dtype="Float64")
    table_in["value"] = table_in["value"].where(~unknown, pd.NA)
    table_in["lower"], table_in["upper"] = _source_ranges(keys, is_na & unknown, bounds)
    linked = build_linked_table(
        table_in,
        hierarchy,
        groups=groups,
        extra_relations=extra_relations,
        check=False,
    )
    # build_linked_table sorts by key: realign
    order = pd.MultiIndex.from_frame(linked.cells[list(KEY_COLUMNS)]).get_indexer(
        pd.MultiIndex.from_frame(keys)
    )
    lvalues = np.full(linked.n_cells, np.nan)
    lvalues[order] = values
    lunknown = np.zeros(linked.n_cells, dtype=bool)
    lunknown[order] = unknown
    lprimary = np.zeros(linked.n_cells, dtype=bool)
    lprimary[order] = is_primary
    lmasked = linked.masked & lunknown
    lower, upper = linked.bounds
    with np.errstate(invalid="ignore"):
        need = np.where(lmasked, np.minimum(required, upper - lower), required)
    targets = lunknown.copy()
    iv = attacker_intervals(
        linked.matrix,
        linked.tol,
        lvalues,
        lunknown,
        targets,
        threshold=need,
        exact=exact,
        lower=lower,
        upper=upper,
    )
    lp_seconds = time.perf_counter() - tl

    cellframe = linked.cells[list(KEY_COLUMNS)].reset_index(drop=True)
    lstatus = np.empty(linked.n_cells, dtype=object)
    lstatus[order] = status
    intervals = cellframe[targets].copy()
    intervals["status"] = lstatus[targets]
    intervals["lo"] = iv.lo[targets]
    intervals["hi"] = iv.hi[targets]
    intervals["width"] = intervals["hi"] - intervals["lo"]
    intervals["exact"] = iv.exact[targets]
    intervals = intervals.reset_index(drop=True)

    recovered = targets & iv.recovered()
    narrowed = targets & iv.narrow(need) & ~recovered
    attacked = {}
    for st, kind in _KIND_OF_STATUS.items():
        mine = targets & (lstatus == st)
        attacked[kind] = {
            "attacked": int(mine.sum()),
            "recovered": int((mine & recovered).sum()),
            "narrow": int((mine & narrowed).sum()),
        }
    sensitive = targets & ((lstatus == SUPPRESSED) | (lstatus == NOT_AVAILABLE))
    src = _sources(counts)
    for mask, name, text in (
        (sensitive & recovered, "recoverable", "computed exactly from the published cells"),
        (sensitive & narrowed, "narrow", f"interval shorter than {required:g}"),
    ):
        if mask.any():
            rows = cellframe[mask].copy()
            rows["kind"] = "count"
            rows["value"] = np.nan
            rows["status"] = lstatus[mask]
            rows = rows.merge(src, on=list(KEY_COLUMNS), how="left")
            problems.append(_problem_frame(rows, name, lo=iv.lo[mask], hi=iv.hi[mask], detail=text))
    # primary counts shown elsewhere in the publication: the attacker reads them
    elsewhere = lprimary & ~lunknown
    if elsewhere.any():
        rows = cellframe[elsewhere].copy()
        rows["kind"] = "count"
        rows["status"] = SUPPRESSED
        rows["value"] = lvalues[elsewhere]
        rows = rows.merge(src, on=list(KEY_COLUMNS), how="left")
        problems.append(
            _problem_frame(
                rows,
                "recoverable",
                lo=lvalues[elsewhere],
                hi=lvalues[elsewhere],
                detail="suppressed in one place, shown in another",
            )
        )
    bad_cells = iv.inconsistent
    if iv.inconsistent_relations.size:
        texts = [linked.describe_relation(int(r)) for r in iv.inconsistent_relations[:1000]]
        rows = pd.DataFrame({"detail": texts})
        problems.append(_problem_frame(rows, "inconsistent_relation", detail=rows["detail"]))
    elif bad_cells.any():
        rows = cellframe[bad_cells].copy()
        problems.append(
            _problem_frame(
                rows, "inconsistent_relation", detail="no table fits the published cells"
            )
        )

    allp = (
        pd.concat(problems, ignore_index=True)
        if problems
        else pd.DataFrame(columns=list(PROBLEM_COLUMNS))
    )
    allp = allp.sort_values(["problem", *KEY_COLUMNS, "kind"], kind="stable", na_position="last")
    report_counts = {
        "files": int(files),
        "rows": int(len(frame)),
        "counts": int(len(keys)),
        "relations": int(linked.n_relations),
        "primary": int(is_primary.sum()),
        "secondary": int(is_secondary.sum()),
        "not_available": int(is_na.sum()),
        "unknown": int(is_unk.sum()),
        "checked": int(targets.sum()),
        "recovered_without_lp": int(iv.peeled.sum()),
        "components": int(iv.components),
        "lp_solves": int(iv.lp_solves),
    }
    return AuditReport(
        threshold=threshold,
        min_width=required,
        intervals=intervals,
        problems=allp.reset_index(drop=True),
        counts=report_counts,
        attacked=attacked,
        seconds=time.perf_counter() - t0,
        lp_seconds=lp_seconds,
    )


def _source_ranges(
    keys: pd.DataFrame, masked: np.ndarray, bounds: pd.DataFrame | None
) -> tuple[pd.arrays.FloatingArray, pd.arrays.FloatingArray]:
    """``lower``/``upper`` per count: for a count masked at the source the range its source gave
    (``bounds``), else ``[0, ∞)``; NA lower for every other count (a hidden count that is not
    masked at the source is not sensitive)."""
    n = len(keys)
    lower = np.full(n, np.nan)
    upper = np.full(n, np.nan)
    lower[masked] = 0.0
    if bounds is not None and not bounds.empty and masked.any():
        b = bounds.astype({c: str for c in KEY_COLUMNS}).drop_duplicates(list(KEY_COLUMNS))
        pos = pd.MultiIndex.from_frame(b[list(KEY_COLUMNS)]).get_indexer(
            pd.MultiIndex.from_frame(keys.astype(str))
        )
        hit = masked & (pos >= 0)
        lo = b["lower"].to_numpy(dtype=np.float64, na_value=np.nan)[pos[hit]]
        hi = b["upper"].to_numpy(dtype=np.float64, na_value=np.nan)[pos[hit]]
        lower[hit] = np.nan_to_num(lo, nan=0.0)
        upper[hit] = hi
    return pd.array(lower, dtype="Float64"), pd.array(upper, dtype="Float64")


def _sources(counts: pd.DataFrame) -> pd.DataFrame:
    """First table and file where each count key appears (for problem reports)."""
    cols = [*KEY_COLUMNS, "table", "_file"]
    return counts[cols].drop_duplicates(list(KEY_COLUMNS)).rename(columns={"_file": "source"})


def audit_dir(
    outdir: str | Path,
    threshold: int = 5,
    hierarchy: HierarchyLike | None = None,
    *,
    groups: Iterable[GroupRelations] = (),
    extra_relations: Iterable[RelationLike] = (),
    min_width: float | None = None,
    exact: bool = True,
) -> AuditReport:
    """Audit every ``cells.csv`` under ``outdir`` (hidden folders excepted) as one publication
    (see :func:`audit_cells`). No cells.csv at all is a usage error: a wrong path must not pass.

    A malformed ``cells.csv`` raises :class:`InputError` with file, row and column.
    """
    t0 = time.perf_counter()
    cells, paths = read_output_cells(outdir)
    report = audit_cells(
        cells,
        threshold,
        hierarchy,
        groups=groups,
        extra_relations=extra_relations,
        min_width=min_width,
        exact=exact,
    )
    report.counts["files"] = len(paths)
    report.seconds = time.perf_counter() - t0
    return report


def read_output_cells(outdir: str | Path) -> tuple[pd.DataFrame, list[Path]]:
    """Every ``cells.csv`` under ``outdir`` (hidden folders excepted) as one frame, and the
    files; no cells.csv at all is a usage error."""
    root = Path(outdir)
    paths = sorted(
        p
        for p in root.rglob("cells.csv")
        if not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    if not paths:
        from ksz_reports.core.errors import UsageError

        raise UsageError(
            f"{outdir}: no cells.csv found; give the output folder of "
            "`ksz-reports report` or `ksz-reports batch`."
        )
    frames = [read_cells_csv(p) for p in paths]
    if frames:
        cells = pd.concat(frames, ignore_index=True)
    else:
        cells = pd.DataFrame({c: pd.Series(dtype=object) for c in CELLS_COLUMNS})
    return cells, paths


#: Kinds of a rate: with the public population, a shown rate gives its count away.
RATE_KINDS = ("rate_per_1000", "share_pct")


def counts_of_rates(cells: pd.DataFrame, publication: Publication | None) -> pd.DataFrame:
    """The counts the shown rates give away, as count cells: a reader multiplies a rate by the
    public population (Statbel) and has the count. For every key with a rate and no count in
    ``cells``: its count from the ``publication`` the rates were cut from when the rate is
    shown (the same number, without rounding noise), or a hidden count with the rate's flag
    when it is not. Without a publication only the hidden ones are added."""
    keys = list(KEY_COLUMNS)
    rates = cells[cells["kind"].isin(list(RATE_KINDS))].drop_duplicates(keys)
    have = cells.loc[cells["kind"] == "count", keys].drop_duplicates()
    rates = rates.merge(have.assign(_has=True), on=keys, how="left")
    rates = rates[rates["_has"].isna()].drop(columns="_has")
    if rates.empty:
        return rates[list(CELLS_COLUMNS)]
    out = rates.assign(table="counts_of_rates", kind="count")
    shown = pd.to_numeric(out["value"], errors="coerce").notna().to_numpy()
    out["value"] = np.nan
    if publication is not None and shown.any():
        indicators = sorted(set(out["indicator"].astype(str)))
        pub = publication.frame(
            columns=[*keys, "count", "flag"], filters=[("indicator", "in", indicators)]
        )
        pub = pub[pub["flag"].fillna("").astype(str) == ""][[*keys, "count"]]
        got = out[keys].astype(str).merge(pub, on=keys, how="left")["count"].to_numpy()
        out["value"] = np.where(shown, got.astype(np.float64), np.nan)
        out = out[~(shown & np.isnan(out["value"].to_numpy(dtype=np.float64)))]
    else:
        out = out[~shown]
    value = out["value"].to_numpy(dtype=np.float64)
    out["value"] = [repr(float(v)) if not np.isnan(v) else "" for v in value]
    return out[list(CELLS_COLUMNS)]


def audit_output(out: str | Path, config: Config) -> AuditReport:
    """Audit every ``cells.csv`` under ``out`` with the relations of the publication's geography
    (``OUT/.publication``; the configured geography when there is none) — the hierarchy and the
    direct region/Belgium sums — and the months of every monthly indicator's yearly average
    (``12 × average = Σ months``, wherever a report shows an average and its 12 months). The
    counts a shown rate gives away (:func:`counts_of_rates`) are attacked with the others."""
    t0 = time.perf_counter()
    publication = Publication.load(Path(out) / PUBLICATION_DIR)
    geo = publication.geography if publication else publication_geography(config)
    monthly = [i.id for i in config.indicators.values() if i.frequency == "month"]
    time_relations = (year_average_relations(monthly, range(1900, 2201)),) if monthly else ()
    cells, paths = read_output_cells(out)
    cells = pd.concat([cells, counts_of_rates(cells, publication)], ignore_index=True)
    report = audit_cells(
        cells,
        config.settings.disclosure.threshold,
        geo_hierarchy(geo),
        groups=(*direct_groups(geo), *time_relations),
    )
    report.counts["files"] = len(paths)
    report.seconds = time.perf_counter() - t0
    return report
