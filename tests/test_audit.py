"""The disclosure audit (ksz_reports.disclosure.audit): cells.csv in, attacker intervals and leaks out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ksz_reports.core.cells import CELLS_COLUMNS, read_cells_csv
from ksz_reports.core.errors import InputError
from ksz_reports.core.schema import DIMENSIONS, KEY_COLUMNS, TOTAL
from ksz_reports.disclosure import (
    PUBLISHED,
    SUPPRESSED,
    build_linked_table,
    protect,
)
from ksz_reports.disclosure.audit import audit_cells, audit_dir

BENCH = Path(__file__).resolve().parents[1] / "bench" / "data" / "sdc_581x20.csv"


def cell(geo: str, age: str, value, *, period: str = "2021") -> dict:
    row = {"indicator": "ll", "period": period, "geo": geo}
    row.update({d: TOTAL for d in DIMENSIONS})
    row["age_class"] = age
    row["value"] = value
    return row


def grid(values: dict[str, list], hierarchy: dict[str, list[str]]) -> pd.DataFrame:
    """Municipalities × age classes with margins and aggregates (true sums; None = masked)."""
    n_cat = len(next(iter(values.values())))

    def value_of(geo: str) -> list:
        if geo in values:
            return values[geo]
        parts = [value_of(c) for c in hierarchy[geo]]
        return [
            None if any(p[k] is None for p in parts) else sum(p[k] for p in parts)
            for k in range(n_cat)
        ]

    rows = []
    for g in [*values, *hierarchy]:
        v = value_of(g)
        rows += [cell(g, f"a{k}", x) for k, x in enumerate(v)]
        rows.append(cell(g, TOTAL, None if None in v else sum(v)))
    return pd.DataFrame(rows)


def published_cells(
    cells: pd.DataFrame,
    hier: dict,
    *,
    secondary: bool = True,
    table: str = "t1",
    threshold: int = 5,
) -> pd.DataFrame:
    """Protect ``cells`` and lay the result out as cells.csv rows (kind count)."""
    p = protect(build_linked_table(cells, hier), threshold, secondary=secondary)
    f = p.frame()
    out = f[list(KEY_COLUMNS)].copy()
    out.insert(0, "table", table)
    out["kind"] = "count"
    out["value"] = f["published"].astype("Float64")
    out["flag"] = p.flags().to_numpy()
    return out[list(CELLS_COLUMNS)].reset_index(drop=True)


def write_cells(folder: Path, frame: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    out = frame.copy()
    out["value"] = out["value"].map(lambda v: "" if pd.isna(v) else f"{v:g}")
    path = folder / "cells.csv"
    out[list(CELLS_COLUMNS)].to_csv(path, index=False)
    return path


HIER = {"A1": ["m1", "m2", "m3"]}
VALUES = {"m1": [1, 2, 30], "m2": [10, 11, 12], "m3": [12, 14, 9]}


# ---------------------------------------------------------------------------------------------


def test_primary_only_is_caught_and_protected_is_clean():
    cells = grid(VALUES, HIER)
    leaky = audit_cells(published_cells(cells, HIER, secondary=False), 5, HIER)
    assert not leaky.ok
    assert leaky.n_recoverable + leaky.n_narrow >= 1
    probs = leaky.problems
    # m1 a0 = 1 and a1 = 2: A1 − m2 − m3 per age class gives both exactly
    m1 = probs[(probs.geo == "m1") & probs.age_class.isin(["a0", "a1"])]
    assert set(m1.problem) == {"recoverable"}
    assert m1.lo.tolist() == [1.0, 2.0] and m1.hi.tolist() == [1.0, 2.0]
    clean = audit_cells(published_cells(cells, HIER), 5, HIER)
    assert clean.ok, clean.problems
    c = clean.counts
    assert clean.attacked["primary"]["attacked"] == c["primary"] >= 2
    assert c["checked"] == c["primary"] + c["secondary"] + c["not_available"] + c["unknown"]
    assert (clean.intervals.width >= 5).all() and clean.intervals.exact.all()
    json.dumps(clean.to_dict())
    json.dumps(leaky.to_dict())
    lines = leaky.summary_lines()
    assert any(line.startswith("recoverable:") for line in lines)
    assert lines[-1].startswith("audit: FAILED")
    assert clean.summary_lines()[-1] == "audit: OK"


def test_classic_leak_row_with_published_total():
    rows = [cell("m1", "a0", None), cell("m1", "a1", 10), cell("m1", TOTAL, 13)]
    frame = pd.DataFrame(rows).assign(table="t", kind="count")
    frame["flag"] = ["suppressed", "", ""]
    report = audit_cells(frame, 5, {})
    assert report.problems.problem.tolist() == ["recoverable"]
    assert report.problems.lo.tolist() == [3.0] and report.problems.hi.tolist() == [3.0]


def test_masked_cell_makes_a_relation_useless():
    # 25 = a0 (suppressed) + a1 (masked at source) + 10: a0 is anywhere in [0, 15]
    rows = [
        cell("m1", "a0", None),
        cell("m1", "a1", None),
        cell("m1", "a2", 10),
        cell("m1", TOTAL, 25),
    ]
    frame = pd.DataFrame(rows).assign(table="t", kind="count")
    frame["flag"] = ["suppressed", "not_available", "", ""]
    report = audit_cells(frame, 5, {})
    assert report.ok
    # both hidden counts are attacked; neither is narrowed
    assert report.intervals.lo.tolist() == [0.0, 0.0]
    assert report.intervals.hi.tolist() == [15.0, 15.0]
    assert report.counts["not_available"] == 1
    assert report.attacked["masked"] == {"attacked": 1, "recovered": 0, "narrow": 0}
    assert report.attacked["primary"] == {"attacked": 1, "recovered": 0, "narrow": 0}


def test_derived_leaks_and_small_counts_shown():
    cells = published_cells(grid(VALUES, HIER), HIER)
    hidden = cells[cells.flag == SUPPRESSED].iloc[0]
    rate = hidden.copy()
    rate["kind"], rate["value"], rate["flag"] = "rate_per_1000", 1.2, ""
    ok_rate = hidden.copy()
    ok_rate["kind"], ok_rate["value"], ok_rate["flag"] = "rate_per_1000", np.nan, SUPPRESSED
    shown = cells[cells.flag == ""].iloc[0].copy()
    shown_rate = shown.copy()
    shown_rate["kind"], shown_rate["value"] = "share_pct", 12.5
    frame = pd.concat([cells, pd.DataFrame([rate, ok_rate, shown_rate])], ignore_index=True)
    report = audit_cells(frame, 5, HIER)
    assert report.problem_counts() == {"derived_leak": 1}
    # a small count shown
    frame2 = cells.copy()
    i = frame2.index[frame2.flag == SUPPRESSED][0]
    frame2.loc[i, "flag"] = ""
    frame2.loc[i, "value"] = 1
    report2 = audit_cells(frame2, 5, HIER)
    assert "small_count_published" in report2.problem_counts()


def test_inconsistent_publication_and_relation():
    cells = published_cells(grid(VALUES, HIER), HIER)
    other = cells.copy()
    other["table"] = "t2"
    j = other.index[(other.flag == "") & (other.geo == "A1") & (other.age_class == TOTAL)][0]
    other.loc[j, "value"] = other.loc[j, "value"] + 1
    report = audit_cells(pd.concat([cells, other], ignore_index=True), 5, HIER)
    assert report.problem_counts().get("inconsistent_publication") == 1
    # a published total that is not the sum of its published parts
    bad = cells.copy()
    bad.loc[bad.index[(bad.geo == "m2") & (bad.age_class == TOTAL)][0], "value"] = 999
    report = audit_cells(bad, 5, HIER)
    assert "inconsistent_relation" in report.problem_counts()


def test_audit_dir_two_reports_sharing_an_arrondissement(tmp_path):
    cells = grid(VALUES, HIER)
    leaky = published_cells(cells, HIER, secondary=False)
    # report 1: m1, m2 and A1; report 2: m3 and A1 (A1 published by both)
    r1 = leaky[leaky.geo.isin(["m1", "m2", "A1"])].assign(table="r1")
    r2 = leaky[leaky.geo.isin(["m3", "A1"])].assign(table="r2")
    write_cells(tmp_path / "m1", r1)
    alone = audit_dir(tmp_path, 5, HIER)
    write_cells(tmp_path / "m3", r2)
    both = audit_dir(tmp_path, 5, HIER)
    assert both.counts["files"] == 2
    assert both.counts["counts"] == len(leaky)  # A1 read twice, one variable per key
    # m1's age classes: A1 − m2 − m3 per column, only visible with both reports; report 1
    # alone shows their sum (3), which is narrow but not exact
    assert alone.n_recoverable == 0 and alone.n_narrow == 2
    assert both.n_recoverable == 2
    # the batch protected as one publication passes
    good = published_cells(cells, HIER)
    write_cells(tmp_path / "m1", good[good.geo.isin(["m1", "m2", "A1"])].assign(table="r1"))
    write_cells(tmp_path / "m3", good[good.geo.isin(["m3", "A1"])].assign(table="r2"))
    report = audit_dir(tmp_path, 5, HIER)
    assert report.ok, report.problems
    assert report.summary_lines()[0].startswith("cells read:")


def test_audit_dir_inconsistent_between_reports(tmp_path):
    good = published_cells(grid(VALUES, HIER), HIER)
    write_cells(tmp_path / "a", good)
    other = good.copy()
    k = other.index[(other.geo == "A1") & (other.age_class == TOTAL)][0]
    other.loc[k, "value"] += 2
    write_cells(tmp_path / "b", other)
    report = audit_dir(tmp_path, 5, HIER)
    assert report.problem_counts()["inconsistent_publication"] == 1
    assert not report.ok


def test_audit_dir_of_a_folder_without_cells_is_a_usage_error(tmp_path):
    from ksz_reports.core.errors import UsageError

    with pytest.raises(UsageError, match="no cells.csv found"):
        audit_dir(tmp_path, 5, {})


@pytest.mark.parametrize(
    ("mutate", "row", "column"),
    [
        (lambda f: f.drop(columns=["flag"]), 1, "flag"),
        (lambda f: f.assign(value=f["value"].where(f.index != 3, "abc")), 5, "value"),
        (lambda f: f.assign(flag=f["flag"].where(f.index != 0, "hidden")), 2, "flag"),
        (lambda f: f.assign(kind=f["kind"].where(f.index != 1, "ratio")), 3, "kind"),
        (lambda f: f.assign(value=f["value"].where(f.index != 2, "-4")), 4, "value"),
    ],
)
def test_malformed_cells_csv_names_file_row_column(tmp_path, mutate, row, column):
    good = published_cells(grid(VALUES, HIER), HIER)
    good = good.assign(
        value=good["value"].map(lambda v: "" if pd.isna(v) else f"{v:g}"),
        flag=good["flag"].where(good["value"].notna() | (good["flag"] != ""), "suppressed"),
    )
    good.loc[0:3, "flag"] = ""
    good.loc[0:3, "value"] = "7"
    folder = tmp_path / "r"
    folder.mkdir()
    mutate(good).to_csv(folder / "cells.csv", index=False)
    with pytest.raises(InputError) as err:
        audit_dir(tmp_path, 5, HIER)
    assert err.value.file == str(folder / "cells.csv")
    assert err.value.row == row and err.value.column == column


def test_unreadable_cells_csv(tmp_path):
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "cells.csv").write_text("")
    with pytest.raises(InputError, match="empty"):
        audit_dir(tmp_path, 5, HIER)
    (folder / "cells.csv").write_text(",".join(CELLS_COLUMNS) + "\n" + "a,b\n" + "1," * 20 + "\n")
    with pytest.raises(InputError) as err:
        read_cells_csv(folder / "cells.csv")
    assert err.value.row == 3


# ---------------------------------------------------------------------------------------------
# the reference table (bench/data/sdc_581x20.csv)
# ---------------------------------------------------------------------------------------------


def bench_cells() -> tuple[pd.DataFrame, dict]:
    df = pd.read_csv(BENCH)
    inner = pd.DataFrame({"geo": df.muni, "age_class": df.cat, "value": df.n})
    rows = inner.groupby("geo", as_index=False)["value"].sum().assign(age_class=TOTAL)
    cols = inner.groupby("age_class", as_index=False)["value"].sum().assign(geo="01000")
    grand = pd.DataFrame({"geo": ["01000"], "age_class": [TOTAL], "value": [df.n.sum()]})
    cells = pd.concat([inner, rows, cols, grand], ignore_index=True)
    for c in KEY_COLUMNS:
        if c not in cells:
            cells[c] = {"indicator": "x", "period": "2021"}.get(c, TOTAL)
    return cells, {"01000": sorted(df.muni.unique())}


def test_reference_table_primary_only_has_36_recoverable_cells():
    cells, hier = bench_cells()
    p0 = protect(build_linked_table(cells, hier), 5, secondary=False)
    assert p0.n_primary == 2370
    f = p0.frame()
    out = f[list(KEY_COLUMNS)].assign(
        table="t", kind="count", value=f["published"], flag=p0.flags().to_numpy()
    )
    report = audit_cells(out, 5, hier)
    assert report.counts["checked"] == 2370
    assert report.n_recoverable == 36
    assert report.n_narrow == 174 - 36  # rows whose suppressed cells sum to less than 5


@pytest.mark.slow
def test_reference_table_protected_passes_the_audit():
    cells, hier = bench_cells()
    p = protect(build_linked_table(cells, hier), 5)
    assert p.ok
    # at least one complement in each of the 97 rows whose suppressed cells sum to < 5
    assert 97 <= p.n_secondary <= 110
    f = p.frame()
    assert (f.loc[f.status == "secondary", "age_class"] != TOTAL).all()  # no total suppressed
    assert (f.loc[f.status == "secondary", "geo"] != "01000").all()
    out = f[list(KEY_COLUMNS)].assign(
        table="t", kind="count", value=f["published"], flag=p.flags().to_numpy()
    )
    report = audit_cells(out, 5, hier)
    assert report.ok
    assert report.counts["checked"] == 2370 + p.n_secondary
    assert (report.intervals.loc[report.intervals.status == SUPPRESSED, "width"] >= 5).all()
    assert (report.intervals.status != PUBLISHED).all()
