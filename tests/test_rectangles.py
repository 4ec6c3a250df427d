"""Rectangles (ksz_reports.disclosure.rectangles): moves of two or four cells that keep every
relation, and the complements they give without an LP."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from ksz_reports.disclosure import (
    PUBLISHED,
    SECONDARY,
    SUPPRESSED,
    Relation,
    make_linked_table,
    protect,
)
from ksz_reports.disclosure import complements as C
from ksz_reports.disclosure.rectangles import Rectangles, moves


def two_way(values: list[list[float]], extra: tuple[Relation, ...] = ()):
    """Cells ``r{a}c{b}`` of a table with its row totals ``R{a}``, column totals ``C{b}`` and
    grand total ``T``; ``extra`` relations on top."""
    rows, cols = len(values), len(values[0])
    cells = {f"r{a}c{b}": values[a][b] for a in range(rows) for b in range(cols)}
    cells.update({f"R{a}": sum(values[a]) for a in range(rows)})
    cells.update({f"C{b}": sum(v[b] for v in values) for b in range(cols)})
    cells["T"] = sum(map(sum, values))
    extra_cells = {}
    for rel in extra:
        for key, coef in rel.terms:
            if key not in cells and coef > 0:
                extra_cells[key] = None
    relations = [
        *((f"R{a}", [f"r{a}c{b}" for b in range(cols)]) for a in range(rows)),
        *((f"C{b}", [f"r{a}c{b}" for a in range(rows)]) for b in range(cols)),
        ("T", [f"R{a}" for a in range(rows)]),
        ("T", [f"C{b}" for b in range(cols)]),
        *extra,
    ]
    frame = pd.DataFrame({"cell_id": list(cells), "value": list(cells.values())})
    return make_linked_table(frame, relations)


def pos(table, cell_id: str) -> int:
    return int(table.cells.index.get_loc(cell_id))


def test_an_inner_cell_has_a_rectangle_with_every_other_row_and_column():
    table = two_way([[2, 10, 11], [12, 13, 14], [15, 16, 17]])
    rect = Rectangles(table.matrix, np.ones(table.n_cells, dtype=bool))
    i = pos(table, "r0c0")
    j, k, o = rect.around(i)
    four = k >= 0
    assert not (~four).any()  # a cell in two relations has no move of two
    checked = [rect.keeps_relations(i, a, b, c) for a, b, c in zip(j, k, o, strict=True)]
    assert all(checked) and len(checked) == 4  # (3 - 1) rows × (3 - 1) columns
    opposite = {table.cells.index[c] for c in o}
    assert opposite == {"r1c1", "r1c2", "r2c1", "r2c2"}


def test_every_move_found_keeps_every_relation_and_its_ranges():
    table = two_way([[2, 10, 11, 0], [12, 3, 14, 5], [15, 16, 1, 9]])
    x = table.values
    lower, upper = table.bounds
    rect = Rectangles(table.matrix, np.ones(table.n_cells, dtype=bool))
    for i in range(table.n_cells):
        j, k, o = rect.around(i)
        up, down = moves(x, lower, upper, i, j, k, o)
        for a, b, c, u, d in zip(j, k, o, up, down, strict=True):
            if not rect.keeps_relations(i, int(a), int(b), int(c)):
                continue
            v = np.zeros(table.n_cells)
            v[[i, a]] = [1.0, -1.0]
            if b >= 0:
                v[[b, c]] = [-1.0, 1.0]
            assert np.abs(table.matrix @ v).max() == 0
            for step in (u, -d):
                moved = x + step * v
                assert moved.min() >= -1e-12
                assert np.abs(table.matrix @ moved).max() <= 1e-9


def test_a_move_that_breaks_another_relation_is_rejected():
    # r1c1 is also the total of two cells outside the grid: moving it alone breaks that sum
    extra = (Relation.sum("r1c1", ["u", "w"]),)
    table = two_way([[2, 10], [12, 13]], extra=())
    cells = table.cells.reset_index()
    cells = pd.concat(
        [cells, pd.DataFrame({"cell_id": ["u", "w"], "value": [6.0, 7.0]})], ignore_index=True
    )
    relations = [
        ("R0", ["r0c0", "r0c1"]),
        ("R1", ["r1c0", "r1c1"]),
        ("C0", ["r0c0", "r1c0"]),
        ("C1", ["r0c1", "r1c1"]),
        ("T", ["R0", "R1"]),
        ("T", ["C0", "C1"]),
        *extra,
    ]
    table = make_linked_table(cells[["cell_id", "value"]], relations)
    rect = Rectangles(table.matrix, np.ones(table.n_cells, dtype=bool))
    i = pos(table, "r0c0")
    j, k, o = rect.around(i)
    assert len(j) == 0 or not any(
        rect.keeps_relations(i, a, b, c) for a, b, c in zip(j, k, o, strict=True)
    )


def test_a_one_way_table_has_moves_of_two():
    cells = pd.DataFrame({"cell_id": ["t", "a", "b", "c"], "value": [20.0, 2.0, 8.0, 10.0]})
    table = make_linked_table(cells, [("t", ["a", "b", "c"])])
    rect = Rectangles(table.matrix, np.ones(4, dtype=bool))
    j, k, o = rect.around(pos(table, "a"))
    assert sorted(table.cells.index[j]) == ["b", "c"] and (k == -1).all() and (o == -1).all()
    up, down = moves(table.values, *table.bounds, pos(table, "a"), j, k, o)
    assert sorted(zip(up, down, strict=True)) == [(8.0, 2.0), (10.0, 2.0)]


def test_a_rectangle_with_one_published_corner_protects_without_an_lp(monkeypatch):
    table = two_way([[2, 3, 20, 21], [4, 30, 22, 23], [24, 25, 26, 27]])

    def no_lp(*args, **kwargs):
        raise AssertionError("a rectangle should have done")

    monkeypatch.setattr(C, "_complement_lp", no_lp)
    result = protect(table, threshold=5)
    status = result.status
    assert result.ok
    assert (status[["r0c0", "r0c1", "r1c0"]] == SUPPRESSED).all()
    assert status["r1c1"] == SECONDARY  # the fourth corner
    assert (status.drop(["r0c0", "r0c1", "r1c0", "r1c1"]) == PUBLISHED).all()
    # an attacker's LP over the published cells finds every suppressed cell 5 wide
    assert _outside_widths(table, status) >= 5 - 1e-6


def _outside_widths(table, status) -> float:
    """The narrowest interval an LP attacker finds for a hidden cell of ``table``."""
    hidden = (status != PUBLISHED).to_numpy()
    m = table.matrix.toarray()
    x = table.values
    a_eq = m[:, hidden]
    b_eq = -(m[:, ~hidden] @ x[~hidden])
    widths = []
    for c in range(int(hidden.sum())):
        cost = np.zeros(int(hidden.sum()))
        cost[c] = 1.0
        lo = linprog(cost, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        hi = linprog(-cost, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        widths.append(-hi.fun - lo.fun if hi.status == 0 else np.inf)
    return min(widths)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.lists(st.integers(min_value=0, max_value=30), min_size=3, max_size=4),
        min_size=3,
        max_size=4,
    ).filter(lambda rows: len({len(r) for r in rows}) == 1)
)
def test_protection_with_rectangles_holds_against_an_outside_attacker(values):
    table = two_way(values)
    result = protect(table, threshold=5)
    assert result.ok
    sensitive = (result.status == SUPPRESSED).to_numpy()
    if sensitive.any():
        widths = _sensitive_widths(table, result.status)
        assert min(widths) >= 5 - 1e-6


def _sensitive_widths(table, status) -> list[float]:
    hidden = (status != PUBLISHED).to_numpy()
    idx = np.flatnonzero(hidden)
    m = table.matrix.toarray()
    x = table.values
    a_eq, b_eq = m[:, hidden], -(m[:, ~hidden] @ x[~hidden])
    out = []
    for c, cell in enumerate(idx):
        if status.iloc[cell] != SUPPRESSED:
            continue
        cost = np.zeros(len(idx))
        cost[c] = 1.0
        lo = linprog(cost, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        hi = linprog(-cost, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        out.append(np.inf if hi.status == 3 else -hi.fun - lo.fun)
    return out


@pytest.mark.parametrize("movable_corner", [True, False])
def test_a_cell_without_a_value_is_never_a_corner(movable_corner):
    table = two_way([[2, 10, 11], [12, 13, 14], [15, 16, 17]])
    movable = np.ones(table.n_cells, dtype=bool)
    movable[pos(table, "r1c1")] = movable_corner
    rect = Rectangles(table.matrix, movable)
    j, k, o = rect.around(pos(table, "r0c0"))
    used = set(table.cells.index[np.concatenate([j, k, o])])
    assert ("r1c1" in used) == movable_corner
