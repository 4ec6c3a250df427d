"""Cells masked at the source are protected like primary cells (issue 11, docs/domain.md).

A supplier hides a cell because it is small. Publishing its total and the other categories gives
it back by subtraction, so :func:`protect` treats it as sensitive and the audit attacks it. The
attackers here are independent of the product's: an exact LP written in this file
(``scipy.optimize.linprog``) and ``tests/attacker.py``, which reads only ``cells.csv``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from attacker import attack
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from ksz_reports.core.cells import CELLS_COLUMNS
from ksz_reports.core.schema import DIMENSIONS, TOTAL
from ksz_reports.disclosure import make_linked_table, protect
from ksz_reports.disclosure.audit import audit_cells

THRESHOLD = 5


# --------------------------------------------------------------------------- an exact attacker


def exact_intervals(values, hidden, lower, upper, relations):
    """[min, max] of every hidden cell by LP: published cells fixed, each hidden cell within its
    a-priori range, every relation ``total = Σ members`` exact. Independent of the product."""
    n = len(values)
    unknown = np.flatnonzero(hidden)
    col = {int(c): k for k, c in enumerate(unknown)}
    rows, rhs = [], []
    for total, members in relations:
        coef = np.zeros(len(unknown))
        b = 0.0
        for cell, sign in [(total, 1.0), *[(m, -1.0) for m in members]]:
            if hidden[cell]:
                coef[col[cell]] += sign
            else:
                b -= sign * values[cell]
        if coef.any():
            rows.append(coef)
            rhs.append(b)
    bounds = [(lower[c], None if np.isinf(upper[c]) else upper[c]) for c in unknown]
    lo, hi = np.full(n, np.nan), np.full(n, np.nan)
    for k, c in enumerate(unknown):
        for sign, out in ((1.0, lo), (-1.0, hi)):
            cost = np.zeros(len(unknown))
            cost[k] = sign
            res = linprog(
                cost,
                A_eq=np.array(rows) if rows else None,
                b_eq=np.array(rhs) if rows else None,
                bounds=bounds,
                method="highs",
            )
            if res.status == 3:  # unbounded
                out[c] = np.inf
            else:
                assert res.status == 0, res.message
                out[c] = sign * res.fun
    return lo, hi


def grid_table(values: np.ndarray):
    """A two-way table with row, column and grand totals as cells and relations."""
    r, c = values.shape
    full = np.zeros((r + 1, c + 1))
    full[:r, :c] = values
    full[:r, c] = values.sum(axis=1)
    full[r, :c] = values.sum(axis=0)
    full[r, c] = values.sum()
    ids = np.arange((r + 1) * (c + 1)).reshape(r + 1, c + 1)
    relations = [(int(ids[i, c]), [int(x) for x in ids[i, :c]]) for i in range(r + 1)]
    relations += [(int(ids[r, j]), [int(x) for x in ids[:r, j]]) for j in range(c + 1)]
    return full.reshape(-1), relations


# --------------------------------------------------------------------------- small hand-made cases


def test_a_masked_category_is_no_longer_given_back_by_subtraction():
    # the case of the issue: total and two of three categories published, the third masked
    cells = pd.DataFrame({"cell_id": ["T", "COH", "SGL", "FAM"], "value": [24, 10, 10, None]})
    relations = [("T", ["COH", "SGL", "FAM"])]
    p = protect(make_linked_table(cells, relations), THRESHOLD)
    status = dict(zip(cells.cell_id, p.status.astype(str), strict=True))
    assert status["FAM"] == "not_available"
    assert sum(s == "secondary" for s in status.values()) >= 1
    values = np.array([24, 10, 10, 4.0])
    hidden = (p.status != "published").to_numpy()
    lo, hi = exact_intervals(values, hidden, np.zeros(4), np.full(4, np.inf), [(0, [1, 2, 3])])
    assert hi[3] - lo[3] >= THRESHOLD


def test_a_band_is_kept_whole_and_unknown_cells_are_not_protected():
    # FAM is masked as the band 1-3: the publication must not narrow it further
    banded = pd.DataFrame(
        {
            "cell_id": ["T", "COH", "SGL", "FAM"],
            "value": [22, 10, 10, None],
            "lower": [None, None, None, 1],
            "upper": [None, None, None, 3],
        }
    )
    p = protect(make_linked_table(banded, [("T", ["COH", "SGL", "FAM"])]), THRESHOLD)
    assert p.n_secondary == 1
    assert (p.intervals.lo[3], p.intervals.hi[3]) == (1.0, 3.0)
    # -99999 (not covered by the source) is unknown, not masked: no complement for it
    unknown = banded.assign(value=[24, 10, 10, None], lower=None, upper=None)
    q = protect(make_linked_table(unknown, [("T", ["COH", "SGL", "FAM"])]), THRESHOLD)
    assert q.status.astype(str).tolist() == ["published", "published", "published", "unknown"]


def write_cells(folder: Path, rows: list[dict]) -> Path:
    path = folder / "71017" / "cells.csv"
    path.parent.mkdir(parents=True)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, CELLS_COLUMNS)
        writer.writeheader()
        for row in rows:
            full = {c: TOTAL for c in DIMENSIONS} | {"indicator": "ll", "period": "2021"}
            writer.writerow(full | {"geo": "71017", "kind": "count"} | row)
    return folder


def test_the_audit_and_an_outside_attacker_recover_the_masked_month_of_old_reports(tmp_path):
    """What reports of the code before issue 11 published for 71017 (yearly averages of months,
    one FAM month masked at the source): total − COH − SGL gives FAM."""
    out = write_cells(
        tmp_path / "out",
        [
            {"table": "key_figures", "value": "24.5", "flag": ""},
            {"table": "ll_by_family_category", "family_category": "COH", "value": "10.25"},
            {"table": "ll_by_family_category", "family_category": "SGL", "value": "10.25"},
            {
                "table": "ll_by_family_category",
                "family_category": "FAM",
                "value": "",
                "flag": "not_available",
            },
        ],
    )
    cells = pd.read_csv(out / "71017" / "cells.csv", dtype=str, keep_default_na=False)
    report = audit_cells(cells, THRESHOLD, {})
    assert not report.ok
    [problem] = report.problems.to_dict(orient="records")
    assert (problem["problem"], problem["status"], problem["family_category"]) == (
        "recoverable",
        "not_available",
        "FAM",
    )
    assert problem["lo"] == problem["hi"] == pytest.approx(4.0)
    assert report.attacked["masked"] == {"attacked": 1, "recovered": 1, "narrow": 0}
    outside = attack(out, THRESHOLD)
    assert outside.frame["recovered"].tolist() == [True]


# --------------------------------------------------------------------------- property


@st.composite
def masked_tables(draw):
    r = draw(st.integers(2, 4))
    c = draw(st.integers(2, 4))
    values = np.array(draw(st.lists(st.integers(0, 30), min_size=r * c, max_size=r * c)))
    values = values.reshape(r, c)
    full, relations = grid_table(values)
    n = len(full)
    masked = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    masked &= draw(st.lists(st.booleans(), min_size=n, max_size=n))  # about one in four
    # a source bands small inner cells; a band on a total could pin its categories by itself
    inner = np.zeros((r + 1, c + 1), dtype=bool)
    inner[:r, :c] = True
    banded = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    banded &= masked & inner.reshape(-1)
    below = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    above = np.array(draw(st.lists(st.integers(1, 3), min_size=n, max_size=n)))  # width ≥ 1
    lower = np.where(banded, np.maximum(full - below, 0), np.where(masked, 0, np.nan))
    upper = np.where(banded, full + above, np.nan)
    return full, relations, masked, lower, upper


def _grid_case():
    """A case hypothesis found: HiGHS gave up ("unknown") on an attacker LP from its warm-started
    basis; the LP is now solved again from scratch."""
    inner = np.array([[0, 1, 0, 0], [3, 3, 8, 0], [3, 5, 0, 7], [3, 5, 1, 5]])
    full, relations = grid_table(inner)
    masked = np.zeros(25, dtype=bool)
    masked[[1, 5, 13, 16]] = True
    lower = np.full(25, np.nan)
    upper = np.full(25, np.nan)
    lower[[1, 5, 13, 16]] = [1, 3, 5, 0]
    upper[[1, 5, 13]] = [3, 4, 8]
    return full, relations, masked, lower, upper


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(masked_tables())
@example(_grid_case())
def test_after_protect_no_sensitive_cell_is_narrower_than_required(case):
    full, relations, masked, lower, upper = case
    cells = pd.DataFrame(
        {
            "cell_id": np.arange(len(full)),
            "value": pd.array(np.where(masked, np.nan, full), dtype="Float64"),
            "lower": pd.array(lower, dtype="Float64"),
            "upper": pd.array(upper, dtype="Float64"),
        }
    )
    p = protect(make_linked_table(cells, relations, check=False), THRESHOLD)
    status = p.status.astype(str).to_numpy()
    assert (status[masked] == "not_available").all()
    hidden = status != "published"
    a_lower = np.nan_to_num(lower, nan=0.0)
    a_upper = np.where(np.isnan(upper), np.inf, upper)
    lo, hi = exact_intervals(full, hidden, a_lower, a_upper, relations)
    sensitive = (status == "suppressed") | (status == "not_available")
    # what the source's own ranges give away, with nothing published: the most we can keep
    everything = np.ones(len(full), dtype=bool)
    s_lo, s_hi = exact_intervals(full, everything, a_lower, a_upper, relations)
    need = np.minimum(THRESHOLD, s_hi - s_lo)
    width = hi - lo
    assert (width[sensitive] >= need[sensitive] - 1e-6).all(), (
        full,
        status,
        width,
        need,
    )
    # nothing that may be shown is hidden without a reason
    assert not (status[(~masked) & (full > 0) & (full < THRESHOLD)] == "published").any()


# --------------------------------------------------------------------------- a hand-made export

MONTHLY_HEADER = "Maand;NIS;OCMW;Maatregel;Categorie;Geslacht;Leeftijdsklasse;Nationaliteit;Aantal"
# three municipalities of arrondissement Tongeren that no merger touched
TOWNS = {"73001": "Alken", "73022": "Heers", "73028": "Herstappe"}
CATEGORIES = {"Samenwonende": 11, "Alleenstaande": 9, "Met gezin ten laste": 7}


def write_monthly_export(folder: Path) -> Path:
    """A POD MI monthly export as SPEC §3 describes it, written by hand: leefloon (LL) per month of
    2021 for three OCMWs, the total and its three family categories. Alken's 'Met gezin ten laste'
    of March is masked at the source (``<5``): its true value is 3, and its yearly average is the
    average of eleven published months and that one."""
    lines = [MONTHLY_HEADER]
    for month in range(1, 13):
        for nis, name in TOWNS.items():
            counts = {
                cat: base + (month % 3) + int(nis[-2:]) % 4 for cat, base in CATEGORIES.items()
            }
            if nis == "73001" and month == 3:
                counts["Met gezin ten laste"] = 3
            total = sum(counts.values())
            row = f"2021-{month:02d};{nis};{name};LL;{{cat}};Totaal;Totaal;Totaal;{{n}}"
            lines.append(row.format(cat="Totaal", n=total))
            for cat, n in counts.items():
                shown = "<5" if n < THRESHOLD else str(n)
                lines.append(row.format(cat=cat, n=shown))
    path = folder / "podmi_monthly_2023-04-15.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_hand_made_export_with_a_masked_month_is_published_without_giving_it_back(tmp_path):
    """Ingest → batch → audit → an outside attacker, on an export the product did not write."""
    from ksz_reports import ingest, run_batch
    from ksz_reports.disclosure.audit import audit_dir

    export = write_monthly_export(tmp_path)
    data = tmp_path / "data"
    ingest([export], data)
    out = tmp_path / "out"
    result = run_batch(
        data, out, scope=list(TOWNS), formats="html", jobs=1, progress=None, quiet=True
    )
    assert result.exit_code == 0, result
    cells = pd.read_csv(out / "73001" / "cells.csv", dtype=str, keep_default_na=False)
    fam = cells[
        (cells["table"] == "ll_by_family_category")
        & (cells["period"] == "2021")
        & (cells["geo"] == "73001")
        & (cells["family_category"] == "FAM")
        & (cells["kind"] == "count")
    ]
    assert fam["flag"].tolist() == ["not_available"], fam
    report = audit_dir(out)
    assert report.ok, report.text()
    assert report.attacked["masked"]["attacked"] >= 1
    assert report.attacked["masked"]["recovered"] == 0
    outside = attack(out, THRESHOLD)
    assert not outside.frame["recovered"].any(), outside.text()
    assert not outside.frame["narrow"].any(), outside.text()
