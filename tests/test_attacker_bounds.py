"""Bound propagation in the attacker (``propagated_bounds``) and withheld cells in the
protection: the shortcuts of the monthly publication (issue 13), each checked against plain LPs
or an audit that knows only the published cells."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_disclosure import cell, linked_tables, naive_intervals, narrow_primary

from ksz_reports.core.errors import DisclosureError
from ksz_reports.core.schema import KEY_COLUMNS, TOTAL
from ksz_reports.disclosure import (
    PUBLISHED,
    SUPPRESSED,
    GroupRelations,
    attacker_intervals,
    build_linked_table,
    protect,
)
from ksz_reports.disclosure.attacker import propagated_bounds

INF = np.inf


def bounds(rows, row_lo, row_hi, col_lo, col_hi):
    matrix = sp.csr_matrix(np.array(rows, dtype=float))
    return propagated_bounds(
        matrix,
        np.array(row_lo, dtype=float),
        np.array(row_hi, dtype=float),
        np.array(col_lo, dtype=float),
        np.array(col_hi, dtype=float),
        np.zeros(matrix.shape[0]),
    )


def test_bounds_travel_along_a_chain_of_relations():
    # x1 + x2 = 7, x2 + x3 = 5, x3 ≤ 1: x2 ∈ [4, 5], so x1 ∈ [2, 3]
    lo, hi = bounds([[1, 1, 0], [0, 1, 1]], [7, 5], [7, 5], [0, 0, 0], [INF, INF, 1])
    np.testing.assert_allclose(lo, [2, 4, 0], atol=1e-6)
    np.testing.assert_allclose(hi, [3, 5, 1], atol=1e-6)
    assert (lo <= [2, 4, 0]).all() and (hi >= [3, 5, 1]).all()  # loosened, never tightened


def test_a_difference_leaves_both_terms_unbounded():
    # x1 − x2 = 0 and a tolerance relation 12·x3 − (x1 + x2) ∈ [−6, 6] (a yearly average)
    lo, hi = bounds([[1, -1, 0], [-1, -1, 12]], [0, -6], [0, 6], [0, 0, 0], [INF] * 3)
    assert (lo == 0).all() and np.isinf(hi).all()
    # once x3 is known to be at most 2, the months are at most 12·2 + 6 = 30 together
    lo, hi = bounds([[1, -1, 0], [-1, -1, 12]], [0, -6], [0, 6], [0, 0, 0], [INF, INF, 2])
    assert hi[0] == pytest.approx(30) and hi[1] == pytest.approx(30)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linked_tables(), st.booleans())
def test_property_propagated_bounds_contain_the_attackers_intervals(data, protected):
    """Outer bounds: every exact LP interval lies within them; and the quick verdict that uses
    them (``exact=False``) is the exact verdict."""
    cells, hier = data
    table = build_linked_table(cells, hier)
    p = protect(table, 5, secondary=protected)
    unknown = p.status.astype(str).to_numpy() != PUBLISHED
    lo, hi = naive_intervals(table, unknown)
    v = np.nan_to_num(table.values)
    p_lo, p_hi = propagated_bounds(
        table.matrix.tocsr(),
        -table.tol,
        table.tol,
        np.where(unknown, 0.0, v),
        np.where(unknown, INF, v),
        np.ones(table.n_relations),
    )
    assert (p_lo[unknown] <= lo[unknown] + 1e-6).all()
    assert (p_hi[unknown] >= hi[unknown] - 1e-6).all()
    args = (table.matrix, table.tol, table.values, unknown, unknown)
    quick = attacker_intervals(*args, threshold=5, exact=False)
    exact = attacker_intervals(*args, exact=True)
    np.testing.assert_array_equal(quick.narrow(5)[unknown], exact.narrow(5)[unknown])


# ---------------------------------------------------------------------------------------------
# withheld cells: the months of a yearly average outside the published window
# ---------------------------------------------------------------------------------------------

MONTHS = [f"2021-{m:02d}" for m in range(1, 13)]


def year_of_months(values: dict[str, list[int]], withheld: int) -> pd.DataFrame:
    """Per municipality its 12 months and yearly average (rounded), plus the region's; the
    first ``withheld`` months are withheld (known to the publisher, never published)."""
    rows = []
    for geo in [*values, "R1"]:
        months = values.get(geo) or [sum(v[k] for v in values.values()) for k in range(12)]
        for k, (period, count) in enumerate(zip(MONTHS, months, strict=True)):
            rows.append(cell(geo, TOTAL, count, period=period) | {"withheld": k < withheld})
        rows.append(cell(geo, TOTAL, round(sum(months) / 12), period="2021") | {"withheld": False})
    return pd.DataFrame(rows)


def months_table(cells: pd.DataFrame):
    average = GroupRelations("period", {"2021": MONTHS}, total_coef=12, tol=6, kind="average")
    return build_linked_table(cells, {"R1": ["m1", "m2", "m3"]}, groups=[average])


VALUES = {
    "m1": [2, 3, 40, 41, 39, 40, 38, 42, 40, 41, 3, 39],
    "m2": [30, 31, 29, 30, 2, 31, 30, 29, 30, 31, 30, 4],
    "m3": [50, 52, 51, 49, 50, 51, 1, 50, 52, 51, 50, 49],
}


def test_withheld_cells_are_unknown_never_primary_and_never_published():
    table = months_table(year_of_months(VALUES, withheld=10))
    withheld = table.withheld
    assert withheld.sum() == 4 * 10
    assert (table.unknown == withheld).all()  # every other cell has a value
    assert not np.isnan(table.values[withheld]).any()  # their true values stay in the relations
    p = protect(table, 5)
    assert p.ok
    status = p.status.astype(str).to_numpy()
    small = table.values < 5
    assert (status[withheld] == "unknown").all()
    assert (status[small & ~withheld] == SUPPRESSED).all()  # m1 2021-11 and m2 2021-12
    assert (small & ~withheld).sum() == 2
    assert p.published_values()[withheld].isna().all()
    # an audit that knows only the published cells pins no suppressed month
    unknown = status != PUBLISHED
    prim = status == SUPPRESSED
    iv = attacker_intervals(table.matrix, table.tol, table.values, unknown, prim, exact=True)
    assert not iv.narrow(5)[prim].any()


def test_without_withheld_months_the_same_small_counts_are_protected():
    """The months withheld here are published in the other run: there their small counts are
    primary, here not, and both runs leave nothing narrow for the audit."""
    for withheld in (0, 6, 10):
        table = months_table(year_of_months(VALUES, withheld=withheld))
        p = protect(table, 5)
        status = p.status.astype(str).to_numpy()
        unknown = status != PUBLISHED
        prim = status == SUPPRESSED
        expected = (table.values < 5) & ~table.withheld
        assert (prim == expected).all(), withheld
        iv = attacker_intervals(table.matrix, table.tol, table.values, unknown, prim, exact=True)
        assert p.ok and not iv.narrow(5)[prim].any(), withheld


def test_a_count_published_anywhere_is_published():
    """The same cell once withheld and once published (with the same value) is one published
    cell; withheld or not, a second value for a key is a contradiction."""
    cells = year_of_months(VALUES, withheld=10)
    copy = cells[cells["withheld"]].head(3).assign(withheld=False)
    table = months_table(pd.concat([cells, copy], ignore_index=True))
    assert table.n_cells == len(cells)
    keys = table.cells.set_index(list(KEY_COLUMNS))
    for key in copy[list(KEY_COLUMNS)].itertuples(index=False):
        assert not keys.loc[tuple(key), "withheld"]
    assert table.withheld.sum() == 4 * 10 - 3
    other = copy.head(1).assign(value=copy["value"].head(1) + 1)
    with pytest.raises(DisclosureError):
        months_table(pd.concat([cells, other], ignore_index=True))


# ---------------------------------------------------------------------------------------------
# complements: when only a zero can help
# ---------------------------------------------------------------------------------------------


def test_a_total_pinned_by_a_masked_category_and_zeros_gets_a_zero_complement():
    """m1's total 1 = M (masked at the source, range 1-3) + F (0): no published non-zero cell
    can widen it, bound propagation says so before any large LP (every scope counts as large
    here), and the complements then include the zero."""
    from unittest import mock

    import ksz_reports.disclosure.complements as P

    rows = [
        cell("m1", TOTAL, 1, sex=TOTAL) | {"lower": None, "upper": None},
        cell("m1", TOTAL, None, sex="M") | {"lower": 1.0, "upper": 3.0},
        cell("m1", TOTAL, 0, sex="F") | {"lower": None, "upper": None},
    ]
    for geo, (m, f) in {"m2": (12, 8), "m3": (14, 16), "m4": (9, 11)}.items():
        rows += [
            cell(geo, TOTAL, m + f),
            cell(geo, TOTAL, m, sex="M"),
            cell(geo, TOTAL, f, sex="F"),
        ]
    rows += [
        cell("R1", TOTAL, 71),
        cell("R1", TOTAL, None, sex="M"),
        cell("R1", TOTAL, 35, sex="F"),
    ]
    cells = pd.DataFrame(rows)
    table = build_linked_table(cells, {"R1": ["m1", "m2", "m3", "m4"]})
    answers = []

    def spy(*args):
        answers.append(P._needs_zeros.__wrapped__(*args))
        return answers[-1]

    spy.__wrapped__ = P._needs_zeros
    with mock.patch.object(P, "LOCAL_MAX_CELLS", 0), mock.patch.object(P, "_needs_zeros", spy):
        p = protect(table, 5)
    assert answers and answers[0] is True
    assert p.ok
    status = pd.Series(
        p.status.astype(str).to_numpy(), index=table.cells["geo"] + table.cells["sex"]
    )
    assert status["m1F"] == "secondary"
    unknown = status.to_numpy() != PUBLISHED
    sensitive = (status.to_numpy() == SUPPRESSED) | table.masked
    iv = attacker_intervals(table.matrix, table.tol, table.values, unknown, sensitive, exact=True)
    assert (iv.width()[sensitive] >= np.minimum(5, 3 - 1) - 1e-6).all()
    assert not iv.narrow(5)[status.to_numpy() == SUPPRESSED].any()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linked_tables())
def test_property_the_zero_check_before_every_ring_leaves_nothing_for_the_audit(data):
    from unittest import mock

    import ksz_reports.disclosure.complements as P

    cells, hier = data
    table = build_linked_table(cells, hier)
    with mock.patch.object(P, "LOCAL_MAX_CELLS", 0):
        p = protect(table, 5)
    assert p.ok
    assert not narrow_primary(table, p.status.astype(str).to_numpy(), 5).any()
