"""Primary and secondary suppression (ksz_reports.disclosure): the linked table, the attacker's
intervals, protection verified by the audit, derived values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from ksz_reports import disclosure as D
from ksz_reports.core.errors import DisclosureError
from ksz_reports.core.schema import DIMENSIONS, KEY_COLUMNS, TOTAL
from ksz_reports.disclosure import (
    NOT_AVAILABLE,
    PUBLISHED,
    SECONDARY,
    SUPPRESSED,
    GroupRelations,
    Relation,
    attacker_intervals,
    blank_derived,
    build_linked_table,
    default_geo_hierarchy,
    make_linked_table,
    primary_mask,
    protect,
    required_width,
)
from ksz_reports.disclosure import lp as LP

# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def cell(geo: str, age: str, value, *, period: str = "2021", sex: str = TOTAL) -> dict:
    """One canonical cell: ``age_class`` (and optionally ``sex``) broken down, rest total."""
    row = {"indicator": "ll", "period": period, "geo": geo}
    row.update({d: TOTAL for d in DIMENSIONS})
    row["age_class"] = age
    row["sex"] = sex
    row["value"] = value
    return row


def grid(values: dict[str, list], hierarchy: dict[str, list[str]]) -> pd.DataFrame:
    """Cells of municipalities × age classes with every margin and geographic aggregate.

    ``values`` maps municipality → counts per age class (``None`` = masked at source); totals
    are true sums, masked when a member is masked.
    """
    n_cat = len(next(iter(values.values())))
    cats = [f"a{k}" for k in range(n_cat)]
    base = {g: pd.array(v, dtype="Float64") for g, v in values.items()}

    def value_of(geo: str) -> pd.arrays.FloatingArray:
        if geo in base:
            return base[geo]
        parts = [value_of(c) for c in hierarchy[geo]]
        total = parts[0].copy()
        for p in parts[1:]:
            total = total + p
        return total

    geos = list(values) + list(hierarchy)
    rows = []
    for g in geos:
        v = value_of(g)
        for c, x in zip(cats, v, strict=True):
            rows.append(cell(g, c, None if pd.isna(x) else int(x)))
        tot = None if pd.isna(v).any() else int(np.sum(np.asarray(v, dtype=float)))
        rows.append(cell(g, TOTAL, tot))
    return pd.DataFrame(rows)


def status_of(p: D.Protection) -> pd.DataFrame:
    return p.frame()[[*KEY_COLUMNS, "value", "status", "published"]]


def narrow_primary(table: D.LinkedTable, status: np.ndarray, threshold: int) -> np.ndarray:
    """Independent check with the engine: primary cells narrower than the threshold."""
    unknown = status != PUBLISHED
    prim = status == SUPPRESSED
    iv = attacker_intervals(table.matrix, table.tol, table.values, unknown, prim, exact=True)
    return prim & iv.narrow(threshold)


def naive_intervals(table: D.LinkedTable, unknown: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two plain LPs per unknown cell (scipy.optimize.linprog), for comparison."""
    a = table.matrix.tocsc()
    v = np.nan_to_num(table.values)
    ui = np.flatnonzero(unknown)
    rhs = -(a[:, ~unknown] @ v[~unknown])
    au = a[:, ui]
    tol = table.tol
    a_ub = sp.vstack([au, -au])
    b_ub = np.concatenate([rhs + tol, -(rhs - tol)])
    lo = np.full(len(v), np.nan)
    hi = np.full(len(v), np.nan)
    for k, j in enumerate(ui):
        c = np.zeros(len(ui))
        c[k] = 1.0
        r1 = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
        r2 = linprog(-c, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
        lo[j] = r1.fun
        hi[j] = np.inf if r2.status == 3 else -r2.fun
    return lo, hi


HIER = {"R1": ["m1", "m2"], "R2": ["m3", "m4", "m5"], "01000": ["R1", "R2"]}


# ---------------------------------------------------------------------------------------------
# primary rule, classic leaks
# ---------------------------------------------------------------------------------------------


def test_primary_rule_zero_published_masked_not_available():
    v = np.array([0, 1, 4, 5, np.nan, 12])
    assert primary_mask(v, 5).tolist() == [False, True, True, False, False, False]
    cells = pd.DataFrame({"cell_id": list("abcdef"), "value": pd.array([0, 1, 4, 5, None, 12])})
    p = protect(make_linked_table(cells), 5)
    assert p.status.astype(str).tolist() == [
        PUBLISHED,
        SUPPRESSED,
        SUPPRESSED,
        PUBLISHED,
        NOT_AVAILABLE,
        PUBLISHED,
    ]
    shown = p.published_values()
    assert shown["a"] == 0 and shown["d"] == 5
    assert shown[["b", "c", "e"]].isna().all()  # never shown as 0


def test_classic_row_leak_and_its_repair():
    cells = pd.DataFrame({"cell_id": ["t", "x", "y", "z"], "value": [25, 3, 10, 12]})
    table = make_linked_table(cells, [("t", ["x", "y", "z"])])
    p0 = protect(table, 5, secondary=False)
    assert p0.intervals.recovered()[1]  # 3 = 25 − 10 − 12
    assert not p0.ok
    p = protect(table, 5)
    assert p.ok
    st_ = p.status.astype(str)
    assert st_["x"] == SUPPRESSED
    assert st_["y"] == SECONDARY  # the cheapest complement, not the total
    assert st_["t"] == PUBLISHED and st_["z"] == PUBLISHED
    assert p.n_secondary == 1 and p.loss_value == 10
    assert p.intervals.lo[1] == 0 and p.intervals.hi[1] == 13
    assert not narrow_primary(table, p.status.astype(str).to_numpy(), 5).any()


def test_two_small_cells_narrow_interval_is_widened():
    # 1 + 2 = 3: neither exact, but both within [0, 3], narrower than 5
    cells = pd.DataFrame({"cell_id": list("tabc"), "value": [20, 1, 2, 17]})
    table = make_linked_table(cells, [("t", ["a", "b", "c"])])
    p0 = protect(table, 5, secondary=False)
    assert not p0.intervals.recovered()[1:3].any()
    assert p0.intervals.narrow(5)[1:3].all()
    p = protect(table, 5)
    assert p.ok and p.status["c"] == SECONDARY


def test_min_width_one_only_blocks_exact_recovery():
    cells = pd.DataFrame({"cell_id": list("tabc"), "value": [20, 1, 2, 17]})
    table = make_linked_table(cells, [("t", ["a", "b", "c"])])
    assert protect(table, 5, min_width=1).n_secondary == 0


def test_masked_cell_blocks_recovery_and_is_never_zero():
    # total 20 = masked + 3 + 12: the 3 cannot be recomputed (two unknowns)
    cells = pd.DataFrame({"cell_id": list("tmxy"), "value": pd.array([20, None, 3, 12])})
    table = make_linked_table(cells, [("t", ["m", "x", "y"])])
    p = protect(table, 5)
    assert p.ok and p.n_secondary == 0
    assert p.status["m"] == NOT_AVAILABLE
    assert pd.isna(p.published_values()["m"])
    assert p.intervals.lo[2] == 0 and p.intervals.hi[2] == 8


def test_masked_total_propagates_in_builder():
    values = {"m1": [3, None], "m2": [7, 9]}
    cells = grid(values, {"R1": ["m1", "m2"]})
    table = build_linked_table(cells, {"R1": ["m1", "m2"]})
    frame = table.cells
    masked = frame[frame["value"].isna()]
    # m1's total and R1's a1 and total are masked too, never 0
    assert set(zip(masked.geo, masked.age_class, strict=True)) == {
        ("m1", "a1"),
        ("m1", TOTAL),
        ("R1", "a1"),
        ("R1", TOTAL),
    }
    p = protect(table, 5)
    assert p.ok
    out = p.frame()
    assert (out.loc[out.value.isna(), "status"] == NOT_AVAILABLE).all()
    assert out.loc[out.value.isna(), "published"].isna().all()


def test_geography_leak_arrondissement_minus_other_municipalities():
    # m1 total 3 is recomputed as R1 − m2 − m3 with primary suppression only
    values = {"m1": [1, 2], "m2": [10, 11], "m3": [12, 14]}
    hier = {"R1": ["m1", "m2", "m3"]}
    table = build_linked_table(grid(values, hier), hier)
    p0 = protect(table, 5, secondary=False)
    f0 = p0.frame()
    i_tot = f0.index[(f0.geo == "m1") & (f0.age_class == TOTAL)][0]
    assert f0.loc[i_tot, "status"] == SUPPRESSED
    assert p0.intervals.recovered()[i_tot]
    p = protect(table, 5)
    assert p.ok
    f = p.frame()
    assert f.loc[(f.geo == "R1"), "status"].eq(PUBLISHED).all()  # true totals stay published
    assert not narrow_primary(table, p.status.astype(str).to_numpy(), 5).any()


def test_determinism_and_row_order_invariance():
    rng = np.random.default_rng(7)
    values = {g: list(rng.integers(0, 9, size=3)) for g in ["m1", "m2", "m3", "m4", "m5"]}
    cells = grid(values, HIER)
    t1 = build_linked_table(cells, HIER)
    t2 = build_linked_table(cells.sample(frac=1.0, random_state=3), HIER)
    s1 = status_of(protect(t1, 5))
    s2 = status_of(protect(t2, 5))
    s3 = status_of(protect(t1, 5))
    pd.testing.assert_frame_equal(s1, s2)
    pd.testing.assert_frame_equal(s1, s3)


# ---------------------------------------------------------------------------------------------
# the builder
# ---------------------------------------------------------------------------------------------


def test_builder_relations_and_crossings():
    rows = []
    for sex in ("M", "F", TOTAL):
        for age in ("a0", "a1", TOTAL):
            rows.append(cell("m1", age, 0, sex=sex))
    cells = pd.DataFrame(rows)
    cells["value"] = [1, 2, 3, 4, 5, 9, 5, 7, 12]  # sex rows M, F, total × ages a0, a1, total
    table = build_linked_table(cells, {})
    # 3 age relations (per sex incl. total) + 3 sex relations (per age incl. total)
    assert table.n_relations == 6
    assert (table.relations["kind"].value_counts().to_dict()) == {"sex": 3, "age_class": 3}
    assert table.violated_relations().size == 0


def test_builder_incomplete_group_gives_no_relation():
    cells = pd.DataFrame(
        [
            cell("m1", "a0", 3),
            cell("m1", TOTAL, 10),
            cell("m2", "a0", 1),
            cell("m2", "a1", 2),
            cell("m2", TOTAL, 3),
        ]
    )
    table = build_linked_table(cells, {})
    assert table.n_relations == 1  # m1 lacks a1: its total is not the sum of what is there


def test_builder_rejects_contradictions_and_dedupes():
    bad = pd.DataFrame([cell("m1", "a0", 3), cell("m1", "a1", 4), cell("m1", TOTAL, 9)])
    with pytest.raises(DisclosureError, match="do not hold"):
        build_linked_table(bad, {})
    dup = pd.DataFrame([cell("m1", "a0", 3), cell("m1", "a0", 3)])
    assert build_linked_table(dup, {}).n_cells == 1  # one count shown twice = one cell
    clash = pd.DataFrame([cell("m1", "a0", 3), cell("m1", "a0", 4)])
    with pytest.raises(DisclosureError, match="two values"):
        build_linked_table(clash, {})


def test_builder_extra_and_group_relations_average_of_months():
    months = [f"2021-{m:02d}" for m in range(1, 13)]
    vals = [3, 4, 2, 3, 5, 4, 3, 2, 4, 3, 3, 4]  # sum 40, average 3.33 → published 3
    rows = [cell("m1", TOTAL, v, period=p) for p, v in zip(months, vals, strict=True)]
    rows.append(cell("m1", TOTAL, 3, period="2021"))
    cells = pd.DataFrame(rows)
    avg = GroupRelations("period", {"2021": months}, total_coef=12, tol=6, kind="average")
    table = build_linked_table(cells, {}, groups=[avg])
    assert table.n_relations == 1 and table.tol[0] == 6
    # all months small: suppressed; the average (3) too; nothing narrower than 5 after protect
    p = protect(table, 5)
    assert p.ok
    # an explicit relation: merged municipality = its predecessors
    merged = pd.DataFrame([cell("new", TOTAL, 30), cell("old1", TOTAL, 27), cell("old2", TOTAL, 3)])
    key = lambda g: ("ll", "2021", g, *[TOTAL] * len(DIMENSIONS))  # noqa: E731
    t2 = build_linked_table(merged, {}, extra_relations=[(key("new"), [key("old1"), key("old2")])])
    assert t2.n_relations == 1
    p0 = protect(t2, 5, secondary=False)
    assert p0.intervals.recovered().sum() == 1


def test_group_relations_child_of_two_parents_only_where_every_child_is_there():
    # y is a child of A and of B (a municipality in its arrondissement and in its region);
    # indicator "other" is not grouped; in 2022 z is missing: B's relation does not hold there
    rows = [
        cell(g, TOTAL, v, period=p)
        for p in ("2021", "2022")
        for g, v in (("A", 7), ("B", 9), ("x", 3), ("y", 4), ("z", 5))
        if (p, g) != ("2022", "z")
    ]
    rows.append({**cell("A", TOTAL, 1), "indicator": "other"})
    rows.append({**cell("x", TOTAL, 1), "indicator": "other"})
    rows.append({**cell("y", TOTAL, 0), "indicator": "other"})
    groups = GroupRelations("geo", {"A": ["x", "y"], "B": ["y", "z"]}, indicators={"ll"})
    table = build_linked_table(pd.DataFrame(rows), {}, groups=[groups])
    key = table.cells[["indicator", "period", "geo"]].astype(str).agg("/".join, axis=1)
    terms = {
        key.iloc[int(table.relations["total"].iloc[r])]: sorted(
            key.iloc[j] for j in table.matrix[r].indices if j != table.relations["total"].iloc[r]
        )
        for r in range(table.n_relations)
    }
    assert terms == {
        "ll/2021/A": ["ll/2021/x", "ll/2021/y"],
        "ll/2021/B": ["ll/2021/y", "ll/2021/z"],
        "ll/2022/A": ["ll/2022/x", "ll/2022/y"],
    }


def test_default_geo_hierarchy_belgium():
    h = default_geo_hierarchy()
    assert sorted(h["01000"]) == ["02000", "03000", "04000"]
    assert h["04000"] == ["21000"]  # Brussels: no province
    assert "21001" in h["21000"]
    leaves = {c for cs in h.values() for c in cs} - set(h)
    assert len(leaves) == 581


# ---------------------------------------------------------------------------------------------
# the attacker engine against plain LPs
# ---------------------------------------------------------------------------------------------


@st.composite
def linked_tables(draw):
    n_cat = draw(st.integers(2, 4))
    n_m = [draw(st.integers(2, 3)), draw(st.integers(2, 3))]
    munis = [f"m{k}" for k in range(sum(n_m))]
    hier = {"R1": munis[: n_m[0]], "R2": munis[n_m[0] :], "01000": ["R1", "R2"]}
    small = st.one_of(st.integers(0, 4), st.integers(0, 14))
    values = {}
    for g in munis:
        row = draw(st.lists(small, min_size=n_cat, max_size=n_cat))
        if draw(st.integers(0, 9)) == 0:  # now and then a cell masked at source
            row[draw(st.integers(0, n_cat - 1))] = None
        values[g] = row
    return grid(values, hier), hier


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linked_tables())
def test_property_protect_leaves_nothing_for_the_audit(data):
    cells, hier = data
    table = build_linked_table(cells, hier)
    p = protect(table, 5)
    status = p.status.astype(str).to_numpy()
    assert p.ok
    assert not narrow_primary(table, status, 5).any()
    # published totals are the true totals; a suppressed cell is never shown as 0
    shown = p.published_values()
    pub = status == PUBLISHED
    assert (shown[pub].to_numpy(dtype=float) == table.values[pub]).all()
    assert shown[~pub].isna().all()
    # primary only: every cell alone-unknown in a relation is found exactly recoverable
    p0 = protect(table, 5, secondary=False)
    unknown = p0.status.astype(str).to_numpy() != PUBLISHED
    pattern = abs(table.matrix).sign()
    n_unknown = pattern @ unknown.astype(float)
    alone_rows = np.flatnonzero(n_unknown == 1)
    alone = np.unique(pattern[alone_rows].multiply(unknown.astype(float)).tocoo().col)
    prim0 = p0.status.astype(str).to_numpy() == SUPPRESSED
    alone = alone[prim0[alone]]
    assert p0.intervals.recovered()[alone].all()


def test_a_count_given_twice_is_one_cell_and_one_key_with_two_values_is_refused():
    values = {"m1": [2, 30, 40], "m2": [20, 3, None], "m3": [22, 33, 44]}
    hier = {"R1": ["m1", "m2", "m3"]}
    cells = grid(values, hier)
    once = build_linked_table(cells, hier)
    withheld = cells.assign(withheld=True)  # the same counts, also as never published copies
    twice = build_linked_table(
        pd.concat([withheld, cells.assign(withheld=False)], ignore_index=True), hier
    )
    pd.testing.assert_frame_equal(twice.cells.drop(columns="withheld"), once.cells)
    assert not twice.withheld.any()  # a count published anywhere is published
    assert (twice.matrix != once.matrix).nnz == 0
    for other in (99, None):  # another value for a key, or none beside a value
        changed = cells.copy()
        at = changed.index[(changed["geo"] == "m2") & (changed["age_class"] == "a0")][0]
        changed.loc[at, "value"] = pd.NA if other is None else other
        with pytest.raises(DisclosureError, match="one cell, two values: .*geo=m2, .*age_class=a0"):
            build_linked_table(pd.concat([cells, changed.loc[[at]]], ignore_index=True), hier)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linked_tables())
def test_property_the_complements_tables_are_the_attackers(data):
    """A failing cell that the tables of its round of complements spread wide enough is not
    audited again; the interval protect reports for it is what those tables attain. They are
    tables of the publication: the exact attacker's interval of every sensitive cell contains
    the one protect reports, and is as wide as required."""
    cells, hier = data
    table = build_linked_table(cells, hier)
    p = protect(table, 5)
    unknown = p.status.astype(str).to_numpy() != PUBLISHED
    sensitive = p.sensitive
    lower, upper = table.bounds
    iv = attacker_intervals(
        table.matrix, table.tol, table.values, unknown, sensitive, exact=True,
        lower=lower, upper=upper,
    )  # fmt: skip
    reported = p.intervals
    assert np.all(iv.lo[sensitive] <= reported.lo[sensitive] + 1e-6)
    assert np.all(iv.hi[sensitive] >= reported.hi[sensitive] - 1e-6)
    assert p.ok and not (iv.narrow(required_width(table, 5)) & sensitive).any()


def test_cells_the_complements_prove_are_not_audited_again():
    """Without localities every failing cell gets its complements in the first round, each
    with the tables that prove it: the one audit is the first, and an independent one agrees."""
    from unittest import mock

    import ksz_reports.disclosure.protection as P

    values = {"m1": [2, 30, 40], "m2": [20, 3, 41], "m3": [22, 33, 44], "m4": [1, 25, 26]}
    hier = {"R1": ["m1", "m2"], "R2": ["m3", "m4"], "01000": ["R1", "R2"]}
    table = build_linked_table(grid(values, hier), hier)
    audits = []
    original = P.attacker_intervals

    def spy(*args, **kwargs):
        audits.append(int(np.asarray(args[4]).sum()))
        return original(*args, **kwargs)

    with mock.patch.object(P, "attacker_intervals", spy):
        p = protect(table, 5)
    assert p.n_secondary > 0 and p.ok
    assert audits == [p.n_primary]  # the primary cells once; the complements proved the rest
    assert not narrow_primary(table, p.status.astype(str).to_numpy(), 5).any()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linked_tables())
def test_property_nested_localities_protect_as_well(data):
    """With every relation "big" and two nested localities per municipality (an arrondissement
    of one or two municipalities inside its region), the protection looks for complements in the
    arrondissement, then the region, then everywhere: the result still leaves nothing narrow for
    an independent audit."""
    from unittest import mock

    import ksz_reports.disclosure.complements as P

    cells, hier = data
    table = build_linked_table(cells, hier)
    geo = table.cells["geo"].astype(str).to_numpy()
    region = {m: k for k, r in enumerate(("R1", "R2")) for m in hier[r]}
    arrondissement = {
        m: 2 * region[m] + (i % 2) for r in ("R1", "R2") for i, m in enumerate(hier[r])
    }
    locality = np.column_stack(
        [[arrondissement.get(g, -1) for g in geo], [region.get(g, -1) for g in geo]]
    )
    with mock.patch.object(P, "LOCAL_RELATION_SIZE", 1):
        p = protect(table, 5, locality=locality)
    assert p.ok
    assert not narrow_primary(table, p.status.astype(str).to_numpy(), 5).any()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linked_tables(), st.booleans())
def test_property_intervals_equal_plain_lps(data, protected):
    cells, hier = data
    table = build_linked_table(cells, hier)
    p = protect(table, 5, secondary=protected)
    unknown = p.status.astype(str).to_numpy() != PUBLISHED
    iv = attacker_intervals(table.matrix, table.tol, table.values, unknown, unknown, exact=True)
    lo, hi = naive_intervals(table, unknown)
    np.testing.assert_allclose(iv.lo[unknown], lo[unknown], atol=1e-6)
    np.testing.assert_allclose(iv.hi[unknown], hi[unknown], atol=1e-6)
    assert iv.exact[unknown].all()


def test_engine_without_scipy_highs_bindings(monkeypatch):
    values = {"m1": [1, 2, 9], "m2": [10, 11, 3], "m3": [12, 14, 6]}
    hier = {"R1": ["m1", "m2", "m3"]}
    table = build_linked_table(grid(values, hier), hier)
    fast = protect(table, 5)
    monkeypatch.setattr(LP, "_hcore", None)
    slow = protect(table, 5)
    assert slow.ok
    unknown = slow.status.astype(str).to_numpy() != PUBLISHED
    iv = attacker_intervals(table.matrix, table.tol, table.values, unknown, unknown)
    lo, hi = naive_intervals(table, unknown)
    np.testing.assert_allclose(iv.lo[unknown], lo[unknown], atol=1e-6)
    np.testing.assert_allclose(iv.hi[unknown], hi[unknown], atol=1e-6)
    assert fast.ok


def test_tolerance_relation_gives_an_interval_not_a_value():
    # 12 × average ≈ sum of months within ±6: one unknown month is not exact
    cells = pd.DataFrame({"cell_id": ["avg", *range(12)], "value": [10, *[10] * 12]})
    rel = Relation((("avg", 12.0), *((k, -1.0) for k in range(12))), tol=6.0)
    table = make_linked_table(cells, [rel])
    unknown = np.zeros(13, bool)
    unknown[1] = True
    iv = attacker_intervals(table.matrix, table.tol, table.values, unknown, unknown)
    assert iv.lo[1] == 4 and iv.hi[1] == 16


def test_inconsistent_values_refused():
    cells = pd.DataFrame({"cell_id": list("tab"), "value": [5, 1, 9]})
    with pytest.raises(DisclosureError):
        make_linked_table(cells, [("t", ["a", "b"])])
    table = make_linked_table(cells, [("t", ["a", "b"])], check=False)
    with pytest.raises(DisclosureError, match="contradict"):
        protect(table, 5)


# ---------------------------------------------------------------------------------------------
# derived values
# ---------------------------------------------------------------------------------------------


def _protected_grid() -> tuple[D.Protection, pd.DataFrame]:
    """A small protected grid with a primary cell and one masked at the source, and its frame."""
    values = {"m1": [1, 20], "m2": [10, 11], "m3": [None, 14]}
    hier = {"R1": ["m1", "m2", "m3"]}
    p = protect(build_linked_table(grid(values, hier), hier), 5)
    return p, p.frame()


def test_blank_derived():
    p, frame = _protected_grid()
    derived = frame[list(KEY_COLUMNS)].copy()
    derived["kind"] = "rate_per_1000"
    flags = blank_derived(derived, p)
    expected = [None if s == PUBLISHED else s for s in frame["status"].astype(str)]
    assert flags.tolist() == expected
    assert {SUPPRESSED, NOT_AVAILABLE} <= set(expected)
    # growth: depends on the base period too
    counts = frame[list(KEY_COLUMNS)].assign(status=frame["status"].astype(str))
    prev = counts.assign(period="2020", status=PUBLISHED)
    prev.loc[prev.geo == "m2", "status"] = SUPPRESSED
    both = pd.concat([counts, prev], ignore_index=True)
    growth = frame[list(KEY_COLUMNS)].assign(base_period="2020")
    g = blank_derived(growth, both, period_columns=["base_period"])
    m2 = (frame.geo == "m2").to_numpy()
    assert (g[m2] == SUPPRESSED).all()
    with pytest.raises(DisclosureError, match="not disclosed"):
        blank_derived(growth.assign(base_period="1999"), both, period_columns=["base_period"])


def test_blank_derived_follows_its_links_and_the_worst_status_wins():
    p, frame = _protected_grid()
    status = frame["status"].astype(str).to_numpy()
    published = np.flatnonzero(status == PUBLISHED)
    hidden = {s: np.flatnonzero(status == s)[0] for s in (SUPPRESSED, NOT_AVAILABLE)}
    # two shares of published counts: one's denominator is suppressed, the other's is masked
    # at the source and also suppressed (the worse status, not_available, wins)
    derived = frame.iloc[published[:2]][list(KEY_COLUMNS)].set_axis(["s1", "s2"])
    links = pd.concat(
        [
            frame.iloc[[hidden[SUPPRESSED]]][list(KEY_COLUMNS)].assign(derived="s1"),
            frame.iloc[[hidden[SUPPRESSED]]][list(KEY_COLUMNS)].assign(derived="s2"),
            frame.iloc[[hidden[NOT_AVAILABLE]]][list(KEY_COLUMNS)].assign(derived="s2"),
        ]
    )
    flags = blank_derived(derived, p, links=links)
    assert flags.to_dict() == {"s1": SUPPRESSED, "s2": NOT_AVAILABLE}
    assert blank_derived(derived, p).isna().all()  # their own counts are published
    with pytest.raises(DisclosureError, match="not disclosed"):
        blank_derived(derived, p, links=links.assign(geo="nowhere"))


def test_a_cell_without_a_local_complement_waits_a_round_then_looks_further():
    """m1 is alone in its arrondissement: no local complement exists for its small cell. The
    first round leaves it (the complements of the others may protect it: the next audit says);
    the next round finds its complements beyond the arrondissement, and the result is clean."""
    from unittest import mock

    import ksz_reports.disclosure.complements as P

    values = {"m1": [2, 30, 40], "m2": [20, 31, 41], "m3": [22, 33, 44]}
    hier = {"R1": ["m1", "m2", "m3"]}
    table = build_linked_table(grid(values, hier), hier)
    geo = table.cells["geo"].astype(str).to_numpy()
    arrondissement = {"m1": 0, "m2": 1, "m3": 1}
    locality = np.array([[arrondissement.get(g, -1)] for g in geo])
    calls = []
    original = P.add_complements

    def spy(*args, **kwargs):
        out = original(*args, **kwargs)
        calls.append((kwargs.get("defer", False), out))
        return out

    with (
        mock.patch.object(P, "LOCAL_RELATION_SIZE", 1),
        mock.patch("ksz_reports.disclosure.protection.add_complements", spy),
    ):
        p = protect(table, 5, locality=locality)
    assert p.ok
    assert not narrow_primary(table, p.status.astype(str).to_numpy(), 5).any()
    (defer, (added, _, deferred, *_)), (later, (added_later, *_)) = calls
    assert defer and deferred == 1 and added == 0  # round 1: left for the next audit
    assert not later and added_later > 0  # round 2: complements beyond m1's arrondissement
    secondary = p.status.astype(str).to_numpy() == SECONDARY
    assert set(geo[secondary]) - {"m1"}


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_unscaled_lp_finds_the_same_optimum(seed):
    """The complement LPs run HiGHS without scaling (faster on their small unit-coefficient
    models): the optimum is the one the scaled model and scipy's linprog find."""
    rng = np.random.default_rng(seed)
    m, n = rng.integers(2, 8), rng.integers(3, 12)
    a = sp.random(
        m, n, density=0.6, random_state=rng, data_rvs=lambda k: rng.choice([-1, 1, 12], k)
    )
    x0 = rng.integers(0, 20, n).astype(float)  # a feasible table
    rows = a @ x0
    upper = np.where(rng.random(n) < 0.3, np.inf, x0 + rng.integers(0, 5, n))
    cost = rng.integers(-3, 4, n).astype(float)
    cost[np.isinf(upper)] = np.abs(cost[np.isinf(upper)])  # bounded below: min exists
    found = []
    for kwargs in ({}, {"scaled": False}, {"backend": "linprog"}):
        lp = LP._LP(a, np.zeros(n), upper, rows - 1, rows + 1, cost=cost, **kwargs)
        res = lp.solve()
        assert res.status == "optimal"
        found.append(res.objective)
    np.testing.assert_allclose(found, found[0], rtol=1e-7, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# components side by side in one LP; direct sums the hierarchy implies
# ---------------------------------------------------------------------------------------------


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(linked_tables(), min_size=2, max_size=3), st.randoms(use_true_random=False))
def test_property_components_solved_side_by_side_equal_plain_lps(tables, rnd):
    """Small components share one LP (attacker.PACK_CELLS): the exact intervals are those of
    plain LPs, one per cell and side — also for a component whose cells are unbounded (all its
    cells hidden: nothing caps them) next to bounded ones."""
    frames = []
    for k, (cells, _) in enumerate(tables):
        frames.append(cells.assign(indicator=f"ind{k}"))  # no relation joins two indicators
    hier = tables[0][1]
    frame = pd.concat(frames, ignore_index=True)
    table = build_linked_table(frame, {})  # the categories only: many small components
    unknown = np.array([rnd.random() < 0.5 for _ in range(table.n_cells)])
    unknown |= np.isnan(table.values)
    unknown[: table.n_cells // 6] = True  # the first indicator's first cells: often unbounded
    iv = attacker_intervals(table.matrix, table.tol, table.values, unknown, unknown, exact=True)
    lo, hi = naive_intervals(table, unknown)
    np.testing.assert_allclose(iv.lo[unknown], lo[unknown], atol=1e-6)
    np.testing.assert_allclose(iv.hi[unknown], hi[unknown], atol=1e-6)
    assert iv.exact[unknown].all()
    # and the quick verdict of the protection is that of the exact intervals
    quick = attacker_intervals(
        table.matrix, table.tol, table.values, unknown, unknown, threshold=5.0, exact=False
    )
    np.testing.assert_array_equal(quick.narrow(5.0), iv.narrow(5.0))
    assert hier  # the strategy's geography is not used here: one table per indicator


def test_direct_sums_the_hierarchy_implies_are_left_out():
    """Belgium and a region as direct sums of their municipalities: left out at the totals,
    where every level between is a cell (the hierarchy's relations add up to them), kept for
    the breakdowns published for municipalities and regions only. An attacker learns the same
    either way."""
    hier = {"01000": ["R1", "R2"], "R1": ["A1", "A2"], "R2": ["A3"]}
    hier |= {"A1": ["m1", "m2"], "A2": ["m3"], "A3": ["m4", "m5"]}
    direct = {"01000": ["m1", "m2", "m3", "m4", "m5"], "R1": ["m1", "m2", "m3"]}
    direct["R2"] = ["m4", "m5"]
    values = {"m1": [1, 7, 2], "m2": [3, 3, 9], "m3": [12, 1, 4], "m4": [2, 2, 2], "m5": [6, 0, 3]}
    cells = grid(values, hier)
    is_area = cells["geo"].isin(["A1", "A2", "A3"]) & (cells["age_class"] != TOTAL)
    cells = cells[~is_area].reset_index(drop=True)  # breakdowns: municipalities and regions
    with_all = build_linked_table(cells, hier, groups=[GroupRelations("geo", direct, kind="d")])
    implied = GroupRelations("geo", direct, kind="d", implied_by=hier)
    table = build_linked_table(cells, hier, groups=[implied])
    rel = table.relations
    kept = rel[rel["kind"] == "d"]
    total_age = table.cells["age_class"].to_numpy()[kept["total"].to_numpy()]
    assert len(kept) == 3 * 3 and (total_age != TOTAL).all()  # 3 parents × 3 age classes
    assert (with_all.relations["kind"] == "d").sum() == 3 * 4
    rng = np.random.default_rng(7)
    for _ in range(5):
        unknown = rng.random(table.n_cells) < 0.4
        a = attacker_intervals(with_all.matrix, with_all.tol, table.values, unknown, unknown)
        b = attacker_intervals(table.matrix, table.tol, table.values, unknown, unknown)
        np.testing.assert_allclose(a.lo, b.lo, atol=1e-9)
        np.testing.assert_allclose(a.hi, b.hi, atol=1e-9)
    # not when that hierarchy is not the table's own, nor for a parent whose members are not
    # the leaves below it
    alone = build_linked_table(cells, {}, groups=[implied])
    assert (alone.relations["kind"] == "d").sum() == 3 * 4
    odd = GroupRelations("geo", {"R2": ["m4"]}, kind="d", implied_by=hier)
    odd_table = build_linked_table(cells, hier, groups=[odd], check=False)
    assert (odd_table.relations["kind"] == "d").sum() == 4
