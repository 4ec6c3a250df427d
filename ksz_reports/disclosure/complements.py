"""The complementary cells of secondary suppression (docs/domain.md#secondary-suppression): for
each sensitive cell the audit finds too narrow, one LP on a neighbourhood of the cell chooses the
published cells to suppress as well (:func:`add_complements`, called by
:func:`ksz_reports.disclosure.protection.protect`), and :func:`source_ranges`, what the ranges a
source gave imply on their own. The method is described in :mod:`ksz_reports.disclosure`.
"""

from __future__ import annotations

import functools
from functools import partial
from typing import NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ksz_reports.core.errors import DisclosureError
from ksz_reports.disclosure.attacker import EPS, Intervals, propagated_bounds
from ksz_reports.disclosure.linked import LinkedTable
from ksz_reports.disclosure.lp import _LP
from ksz_reports.disclosure.rectangles import Rectangles, moves
from ksz_reports.disclosure.status import CODES, PUBLISHED, SECONDARY

__all__ = [
    "LOCAL_MAX_CELLS",
    "LOCAL_RELATION_SIZE",
    "Complements",
    "Workspace",
    "add_complements",
    "has_big_relations",
    "source_ranges",
]

_PUB, _SEC = CODES[PUBLISHED], CODES[SECONDARY]

#: A relation with more terms than this is "big" for the local neighbourhoods of
#: :func:`add_complements` (a region or Belgium as the sum of its municipalities).
LOCAL_RELATION_SIZE = 40
#: A local neighbourhood (beyond the first two rings) larger than this many cells is not tried:
#: the local rings grow from ring 2 until one has a solution or is this large. With monthly
#: breakdowns a cell's arrondissement rings pass 2,000 cells early, and the full rings after them
#: are the whole of Belgium (LPs of 20,000+ relations, 8 s each): 10,000 keeps those rare.
LOCAL_MAX_CELLS = 10_000


def has_big_relations(table: LinkedTable) -> bool:
    """Whether a relation of ``table`` has more than :data:`LOCAL_RELATION_SIZE` terms: only
    then are the local neighbourhoods of :func:`add_complements` narrower than the full ones."""
    return bool((np.diff(table.matrix.indptr) > LOCAL_RELATION_SIZE).any())


def source_ranges(table: LinkedTable, passes: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """What the ranges the source gave imply alone (no published value used): each cell's
    :attr:`LinkedTable.bounds`, for the total of a relation ``c·total = Σ parts`` whose parts
    all have a range, ``[Σ lower / c, Σ upper / c]``, and for a part of a total with a range, at
    most ``c·upper − Σ lower of the other parts`` (a month of a masked yearly average; repeated
    ``passes`` times along the relations)."""
    lower, upper = (b.copy() for b in table.bounds)
    totals = table.relations["total"].to_numpy()
    rows = np.flatnonzero(totals >= 0)
    if not rows.size or not table.masked.any():
        return lower, upper
    m = table.matrix[rows].tocsr()
    tot = totals[rows]
    c_tot = np.asarray(m[np.arange(len(rows)), tot]).ravel()
    parts = (m - sp.csr_matrix((c_tot, (np.arange(len(rows)), tot)), shape=m.shape)).tocsr()
    parts.eliminate_zeros()
    entry_row = np.repeat(np.arange(len(rows)), np.diff(parts.indptr))
    ok = np.ones(len(rows), dtype=bool)
    ok[entry_row[parts.data > 0]] = False  # only totals of sums of parts
    ok &= c_tot > 0
    rows_ok = np.flatnonzero(ok)
    weight = abs(parts[rows_ok])
    tol = table.tol[rows][rows_ok]
    part_row = np.repeat(np.arange(len(rows_ok)), np.diff(weight.indptr))
    part_col, part_coef = weight.indices, weight.data
    for _ in range(passes):
        unbounded = (weight @ np.isinf(upper).astype(np.float64)) > 0
        s_up = weight @ np.where(np.isinf(upper), 0.0, upper)
        new_up = np.where(unbounded, np.inf, (s_up + tol) / c_tot[rows_ok])
        new_lo = (weight @ lower - tol) / c_tot[rows_ok]
        before = (lower.copy(), upper.copy())
        np.minimum.at(upper, tot[rows_ok], new_up)
        np.maximum.at(lower, tot[rows_ok], np.maximum(new_lo, 0.0))
        # a part is at most what the total's upper bound leaves after the others' lower bounds
        cap = c_tot[rows_ok] * upper[tot[rows_ok]]
        s_lo = weight @ lower
        bounded = np.isfinite(cap[part_row])
        part_up = (
            cap[part_row] - (s_lo[part_row] - part_coef * lower[part_col]) + tol[part_row]
        ) / part_coef
        part_up = np.maximum(part_up, lower[part_col])
        np.minimum.at(upper, part_col[bounded], part_up[bounded])
        if np.array_equal(before[0], lower) and np.array_equal(before[1], upper):
            break
    return lower, upper


class Complements(NamedTuple):
    """What one round of :func:`add_complements` did: the cells it suppressed, the LPs it
    solved, the failing cells it left for the next audit, and per cell the smallest and largest
    value attained by the feasible tables it met (``inf``/``-inf``: none). Every one of those
    tables is one of the publication *after* the round — the audit's certificates, the moves
    of a rectangle, the optima of the LPs: each keeps every relation, moves only cells that are
    hidden by then, holds the rest at their true values — so a cell they spread over its
    required width is proven wide without another audit."""

    added: int
    solves: int
    deferred: int
    seen_lo: np.ndarray
    seen_hi: np.ndarray


def add_complements(
    space: Workspace,
    code: np.ndarray,
    failing: np.ndarray,
    iv: Intervals,
    threshold: np.ndarray,
    margin: float,
    components: tuple[int, np.ndarray],
    defer: bool = False,
) -> Complements:
    """Suppress complementary cells so that every failing cell gets a wide enough interval.

    For each failing cell ``i`` (deterministic order: component, larger deficit, larger value,
    position) one LP looks for attacker tables proving ``max x_i − min x_i ≥ threshold``. The LP
    lives on a neighbourhood of ``i``: the cells at most two relations away move (unknown ones
    freely, published candidates at the cost of their weight per unit), every other cell keeps its
    true value — a restriction, so a solution is still a proof. Candidates are first the published
    cells sharing a relation with ``i``, then those of the neighbourhood, then the whole connected
    component, zeros last. With a ``locality`` the first neighbourhoods are *local*: through a
    relation of more than :data:`LOCAL_RELATION_SIZE` terms only the cells of the localities
    already reached are (a municipality's rectangle of complements lies in its arrondissement,
    not among every municipality of its region); the full rings follow when no local one will do. Cells the optimum moves are suppressed. When a table with ``x_i = 0`` is
    known, one table ``x⁺`` with ``x⁺_i ≥ threshold`` suffices; otherwise two tables ``x⁺, x⁻``
    with ``x⁺_i − x⁻_i ≥ threshold``. Every LP solution is kept as a certificate: a later failing
    cell already spread by ``threshold`` over the kept tables needs no LP. ``threshold`` is the
    required width per cell (:func:`required_width`); unknown cells move within their range.
    Two LPs are never solved in vain: a scope with the cells and candidates of one before is not
    tried again (a ring that stopped growing; a province's ring that is its arrondissement's,
    when no big relation leads out of it), and before the first large one
    (:data:`LOCAL_MAX_CELLS`) bound propagation tells whether any LP without zeros can succeed (:func:`_needs_zeros`); when none can, the scopes
    start again from the nearest with the zeros among the candidates. With ``defer`` (the first
    round of :func:`~ksz_reports.disclosure.protection.protect`) a cell that has localities but
    no local solution is left as it is, for the next audit: the other cells' complements often
    protect it. Before any LP, a move of two or four cells that keeps every relation and needs
    at most one more suppression (:meth:`Workspace.rectangle`) settles the cell without one; in
    the first round one that needs a new suppression is left to the next audit as well.
    ``space`` holds the table and what every LP reads (:class:`Workspace`).
    Returns the cells suppressed, the LPs solved, the cells left for the next audit and the
    values the feasible tables met attain (:class:`Complements`).
    """
    table = space.table
    m, n = table.matrix.shape
    values = space.values
    _, labels = components
    cell_lab = labels[m:]
    width = iv.width()
    deficit = np.where(failing, threshold - np.nan_to_num(width, nan=0.0), 0.0)
    fail_idx = np.flatnonzero(failing)
    order = np.lexsort(
        (fail_idx, -np.nan_to_num(values[fail_idx]), -deficit[fail_idx], cell_lab[fail_idx])
    )
    fail_idx = fail_idx[order]
    # certificates: values attained by feasible attacker tables (the audit's exact bounds)
    pt_min = np.where(failing, np.nan_to_num(iv.lo_seen, nan=np.inf), np.inf)
    pt_max = np.where(failing, np.nan_to_num(iv.hi_seen, nan=-np.inf), -np.inf)
    added = 0
    solves = 0
    deferred = 0
    a_all, lower, upper, span = space.a_all, space.lower, space.upper, space.span
    csr, csc, levels = space.csr, space.csc, space.levels
    for i in fail_idx:
        if pt_max[i] - pt_min[i] >= threshold[i] - EPS:
            continue
        # exact arithmetic on the true table: the audit's own criterion, no LP margin
        rect = space.rectangle(i, code, min(threshold[i], span[i] - 1e-7), pt_min[i], pt_max[i])
        if rect is not None:  # two or four corners that move together: no LP
            corners, rise, fall = rect
            new = corners[code[corners] == _PUB]
            if new.size and defer and levels:
                deferred += 1  # perhaps the others' complements protect it for free
                continue
            code[new] = _SEC
            added += int(new.size)
            np.minimum.at(pt_min, corners, values[corners] - fall)
            np.maximum.at(pt_max, corners, values[corners] + rise)
            continue
        # neighbourhoods: ring k = cells at most k relations away from i (computed on demand);
        # a local ring reaches through a big relation only the localities already reached
        depth = max(2, int(space.dims[i]))  # a corner of a d-dimensional cube
        rings = [np.array([i])]
        local_rings = [[np.array([i])] for _ in levels]

        component: list[np.ndarray] = []  # the cells of i's connected component, on demand

        def component_cells(i: int = i, component: list = component) -> np.ndarray:
            if not component:
                component.append(np.flatnonzero(cell_lab == cell_lab[i]))
            return component[0]

        def ring(k: int, rings: list[np.ndarray] = rings) -> np.ndarray:
            while len(rings) <= k:
                rings.append(_cells_of(csr, _rows_of(csc, rings[-1], m), n))
            return rings[k]

        def local_ring(k: int, level: int, local_rings: list = local_rings) -> np.ndarray:
            rings = local_rings[level]
            while len(rings) <= k:
                rings.append(space.local_step(rings[-1], level))
            return rings[k]

        low = lower[i] if pt_min[i] <= lower[i] + EPS else np.inf
        res = None

        # (scope, ring of the cells, ring of the candidates, locality level of a local scope,
        # whether published zeros are candidates)
        def ladder(zeros: bool, depth: int = depth) -> list[tuple[str, int, int, int, bool]]:
            return [
                *(
                    ("local", k, k, lv, zeros)
                    for lv in range(len(levels))
                    for k in range(2, depth + 2)
                ),
                ("ring", depth, depth - 1, -1, zeros),
                ("ring", depth, depth, -1, zeros),
                ("ring", depth + 1, depth + 1, -1, zeros),
                ("ring", depth + 2, depth + 2, -1, zeros),
                ("component", 0, 0, -1, zeros),
            ]

        scopes = [*ladder(False), ("component", 0, 0, -1, True)]  # zeros last
        too_big = np.zeros(len(levels), dtype=bool)
        # the scopes already solved in vain, (cells, candidates): a ring that stopped growing,
        # or a locality's ring that is the finer one's (no big relation reached another)
        tried: set[tuple[bytes, bytes]] = set()
        zeros_checked = False
        k = 0
        while k < len(scopes):
            scope, cell_ring, cand_ring, level, zeros = scopes[k]
            k += 1
            is_local = scope == "local"
            if defer and levels and not is_local:
                deferred += 1  # no local complement: perhaps those of the others will do
                break
            rings_of = partial(local_ring, level=level) if is_local else ring
            if scope == "component":
                cells = component_cells()
            else:
                if is_local and too_big[level]:
                    continue
                cells = rings_of(cell_ring)
                if is_local and cell_ring > 2 and len(cells) > LOCAL_MAX_CELLS:
                    too_big[level] = True  # wider rings of this locality only grow
                    continue
                cells = space.masked_closure(cells)
            width = min(threshold[i] + margin, span[i] - 1e-7)  # a source range: all of it
            if not zeros and not zeros_checked and not is_local and len(cells) > LOCAL_MAX_CELLS:
                zeros_checked = True  # a large LP: first ask whether any without zeros can do
                if _needs_zeros(space, component_cells(), code, i, width, low):
                    scopes[k - 1 :] = ladder(True)  # only zeros help: near the cell first
                    k -= 1
                    too_big[:] = False
                    tried = set()
                    continue
            pub = code[cells] == _PUB
            cand = cells[pub]
            if cand_ring:
                cand = np.intersect1d(cand, rings_of(cand_ring), assume_unique=True)
            if not zeros:
                cand = cand[a_all[cand] > 0]
            scope_key = (cells.tobytes(), cand.tobytes())
            if scope_key in tried:
                continue  # the same LP as a scope before, infeasible again
            tried.add(scope_key)
            rows = _rows_of(csc, cells, m)
            solves += 1
            found = _complement_lp(space, rows, cells[~pub], cand, i, width, low, lower, upper)
            if found is not None:  # the nearest scope with a solution: its optimum
                res = found
                break
        if res is None:
            if defer and levels:
                continue
            raise DisclosureError(f"cell {table.cell_label(int(i))} cannot be protected")
        new, points = res
        if new.size:
            code[new] = _SEC
            added += int(new.size)
        for cells_pt, x in points:
            np.minimum.at(pt_min, cells_pt, x)
            np.maximum.at(pt_max, cells_pt, x)
    return Complements(added, solves, deferred, pt_min, pt_max)


def _needs_zeros(
    space: Workspace, cells: np.ndarray, code: np.ndarray, i: int, width: float, low: float
) -> bool:
    """Whether no complement LP of cell ``i`` without published zeros can succeed, by bound
    propagation over its connected component ``cells`` (sorted;
    :func:`~ksz_reports.disclosure.attacker.propagated_bounds`): unknown cells within their range
    ``[lower, upper]``, published non-zero cells anywhere ``≥ 0`` (every candidate of every
    scope), published zeros held at 0. When even these outer
    bounds of ``x_i`` are narrower than ``width`` (above ``low`` when a table with ``x_i = low``
    is known), every such LP is infeasible — typically a total whose one masked category has a
    narrow source range and whose other categories are all 0 — and only a zero can help."""
    csr, lower, upper = space.csr, space.lower, space.upper
    rows = _rows_of(space.csc, cells, csr.shape[0])
    sub = csr[rows][:, cells]
    values = space.a_all[cells]
    published = code[cells] == _PUB
    col_lower = np.where(published, 0.0, lower[cells])
    col_upper = np.where(published, np.where(values > 0, np.inf, 0.0), upper[cells])
    tol = space.tol[rows]
    lo, hi = propagated_bounds(sub, -tol, tol, col_lower, col_upper, abs(sub) @ values)
    k = int(np.searchsorted(cells, i))
    if np.isfinite(low):
        return bool(hi[k] < low + width - EPS)
    return bool(hi[k] - lo[k] < width - EPS)


def _dimensions_per_cell(table: LinkedTable, csc: sp.csc_matrix) -> np.ndarray:
    """Per cell: the number of dimensions its relations run along — the kinds of its relations,
    the geographical ones (the hierarchy, the direct sums, the mergers) counted once: a
    municipality in its arrondissement, its region and Belgium is in one geographical dimension."""
    kinds, names = pd.factorize(table.relations["kind"].astype(str))
    family = np.array(["geo" if str(k).startswith("geo") else str(k) for k in names], dtype=object)
    _, family_code = np.unique(family.astype(str), return_inverse=True)
    code = family_code[kinds] if len(names) else kinds
    n_codes = int(code.max()) + 1 if code.size else 1
    cell_of_entry = np.repeat(np.arange(csc.shape[1]), np.diff(csc.indptr))
    pairs = _unique(cell_of_entry.astype(np.int64) * n_codes + code[csc.indices])
    return np.bincount(pairs // n_codes, minlength=csc.shape[1])


def _gather(indptr: np.ndarray, indices: np.ndarray, major: np.ndarray) -> np.ndarray:
    """The minor indices of the ``major`` rows (CSR) or columns (CSC), concatenated: the
    ``indices`` of a fancy-indexed matrix, without building it."""
    starts = indptr[major]
    lengths = indptr[major + 1] - starts
    total = int(lengths.sum())
    if total == 0:
        return indices[:0]
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
    return indices[offsets]


def _unique(a: np.ndarray) -> np.ndarray:
    """The distinct values of an integer array, sorted: ``np.unique`` without its overhead (the
    neighbourhoods of the complement LPs take tens of thousands of small ones)."""
    if a.size < 2:
        return a.copy()
    a = np.sort(a)
    keep = np.empty(a.size, dtype=bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


def _rows_of(csc: sp.csc_matrix, cells: np.ndarray, n_rows: int) -> np.ndarray:
    """Relations (rows) with a term in one of ``cells``, sorted."""
    return _unique(_gather(csc.indptr, csc.indices, np.asarray(cells)))


def _cells_of(csr: sp.csr_matrix, rows: np.ndarray, n_cells: int) -> np.ndarray:
    """Cells with a term in one of ``rows``, sorted."""
    return _unique(_gather(csr.indptr, csr.indices, np.asarray(rows)))


class Workspace:
    """What every complement LP of a table reads, computed once per :func:`protect
    <ksz_reports.disclosure.protection.protect>` run (the table does not change between its
    rounds, only the statuses): the matrix by rows and by columns, the true table's row sums,
    weights, tolerances and ranges, the big relations and the localities, the
    dimensions per cell, which relations have a masked term — and scratch maps (relation → LP
    row, locality → reached), reset after each use."""

    def __init__(self, table: LinkedTable, locality: np.ndarray | None = None):
        self.table = table
        self.values = table.values
        self.a_all = np.nan_to_num(self.values, nan=0.0)
        self.masked = np.isnan(self.values)
        self.lower, self.upper = table.bounds
        src_lower, src_upper = source_ranges(table)
        with np.errstate(invalid="ignore"):
            self.span = src_upper - src_lower
        self.csr = table.matrix
        self.csc = csc = table.matrix.tocsc()
        m, n = self.csr.shape
        self.indptr = csc.indptr
        self.indices = csc.indices
        self.data = csc.data
        self.row_sums = table.matrix @ self.a_all
        self.weights = table.weights
        self.tol = table.tol
        self.row_pos = np.full(m, -1, dtype=np.int64)
        self.big = np.diff(self.csr.indptr) > LOCAL_RELATION_SIZE
        self.dims = _dimensions_per_cell(table, csc)
        # nested localities, finest first (a municipality's arrondissement, then its province);
        # given only for a table with a big relation (protect decides it on the whole table, so
        # that a part of it without one is protected the same way)
        self.levels = [] if locality is None else list(np.atleast_2d(locality.T))
        self._reached = [np.zeros(int(lv.max()) + 2, dtype=bool) for lv in self.levels]
        self._inside = np.zeros(n, dtype=bool)  # scratch of masked_closure
        self.row_masked = np.zeros(m, dtype=bool)
        self.touches_masked = np.zeros(n, dtype=bool)
        if self.masked.any():
            self.row_masked = (abs(table.matrix) @ self.masked.astype(np.float64)) > 0
            self.touches_masked = (abs(csc).T @ self.row_masked.astype(np.float64)) > 0

    @functools.cached_property
    def rectangles(self) -> Rectangles:
        """The moves of two or four cells with a value (:mod:`~ksz_reports.disclosure.
        rectangles`), partners through a big relation from the finest locality."""
        locality = self.levels[0] if self.levels else None
        return Rectangles(self.csr, ~self.masked, locality, self.big)

    def rectangle(
        self, i: int, code: np.ndarray, width: float, seen_lo: float, seen_hi: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The cheapest move of two or four cells around cell ``i`` that suppresses at most
        one more cell and, with the values ``[seen_lo, seen_hi]`` feasible tables already
        attain, spreads ``x_i`` over ``width``: its corners and how far each moves up and down —
        or None. Cost: the weight of the published corner (it is suppressed)."""
        rect = self.rectangles
        hidden = code != _PUB
        j, k, o = rect.around(i, lambda j, k: hidden[j] | hidden[k])
        if not j.size:
            return None
        x = self.a_all
        up, down = moves(x, self.lower, self.upper, i, j, k, o)
        spread = np.maximum(seen_hi, x[i] + up) - np.minimum(seen_lo, x[i] - down)
        corners = np.stack([j, k, o], axis=1)
        real = corners >= 0
        at = np.where(real, corners, i)
        shown = real & ~hidden[at]
        # at most one more suppression, never a published zero (zeros come last, as in the LPs)
        fine = (spread >= width - EPS) & (shown.sum(axis=1) <= 1)
        fine &= ~(shown & (x[at] == 0)).any(axis=1)
        if not fine.any():
            return None
        cost = np.where(shown, self.weights[at], 0.0).sum(axis=1)
        for pick in np.flatnonzero(fine)[np.lexsort((-spread[fine], cost[fine]))]:
            jj, kk, ll = (int(c) for c in corners[pick])
            if not rect.keeps_relations(i, jj, kk, ll):
                continue
            moved = np.array([i, jj, kk, ll])
            rise = np.array([up[pick], down[pick], down[pick], up[pick]])
            fall = np.array([down[pick], up[pick], up[pick], down[pick]])
            mine = moved >= 0
            return moved[mine], rise[mine], fall[mine]
        return None

    def local_step(self, cells: np.ndarray, level: int) -> np.ndarray:
        """The next local ring around ``cells``: every cell of their small relations, and of
        their big relations the cells whose locality (at ``level``) one of ``cells`` has."""
        csr, big = self.csr, self.big
        rows = _unique(_gather(self.indptr, self.indices, cells))
        parts = [cells, _gather(csr.indptr, csr.indices, rows[~big[rows]])]
        big_rows = rows[big[rows]]
        if big_rows.size:
            locality, reached = self.levels[level], self._reached[level]
            near = locality[cells] + 1  # -1 (none) is slot 0, never reached
            reached[near] = True
            reached[0] = False
            reach = _gather(csr.indptr, csr.indices, big_rows)
            parts.append(reach[reached[locality[reach] + 1]])
            reached[near] = False
        return _unique(np.concatenate(parts))

    def masked_closure(self, cells: np.ndarray) -> np.ndarray:
        """``cells`` and the masked cells of the relations touching them, until none is left
        out: their values are unknown to us, so they cannot be held fixed. Only the relations of
        the cells added last are looked at."""
        new = cells[self.touches_masked[cells]]
        if not new.size:
            return cells
        csr, row_masked, masked, inside = self.csr, self.row_masked, self.masked, self._inside
        inside[cells] = True
        try:
            while True:
                rows = _gather(self.indptr, self.indices, new)
                rows = _unique(rows[row_masked[rows]])
                if not rows.size:
                    return cells
                around = _gather(csr.indptr, csr.indices, rows)
                extra = _unique(around[masked[around] & ~inside[around]])
                if not extra.size:
                    return cells
                inside[extra] = True
                cells = np.union1d(cells, extra)
                new = extra
        finally:
            inside[cells] = False

    def columns(self, cols: np.ndarray, rows: np.ndarray) -> tuple:
        """The columns ``cols`` restricted to the relations ``rows``, as CSC arrays
        ``(indptr, row positions in rows, data)``."""
        self.row_pos[rows] = np.arange(len(rows))
        starts = self.indptr[cols]
        lengths = self.indptr[cols + 1] - starts
        total = int(lengths.sum())
        at = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
        pos = self.row_pos[self.indices[at]]
        self.row_pos[rows] = -1
        keep = pos >= 0
        col_of = np.repeat(np.arange(len(cols)), lengths)[keep]
        indptr = np.zeros(len(cols) + 1, dtype=np.int64)
        np.cumsum(np.bincount(col_of, minlength=len(cols)), out=indptr[1:])
        return indptr, pos[keep], self.data[at][keep]


def _complement_lp(
    space: Workspace,
    rows: np.ndarray,
    unk: np.ndarray,
    cand: np.ndarray,
    i: int,
    width: float,
    low: float,
    lower: np.ndarray,
    upper: np.ndarray,
) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]] | None:
    """One protection LP; returns the cells to suppress and the tables, or None if infeasible.

    Columns: ``x⁺`` (and ``x⁻``) of the free unknown cells ``unk`` (≥ 0), then for the candidates
    the upward and downward deviations of each table (``p ≥ 0``, ``0 ≤ q ≤ value``). Every other
    cell of the relations ``rows`` keeps its true value (masked cells must all be in ``unk``):
    ``|A_unk x + A_cand (p − q)| ≤ tol − A_fixed·a_fixed − A_cand·a_cand``. When a table with
    ``x_i = low`` is already known (``low`` = 0), only ``x⁺`` is needed: ``x⁺_i ≥ low + width``;
    otherwise (``low`` = inf) both, with ``x⁺_i − x⁻_i ≥ width``. The unknown cells stay within
    their range ``[lower, upper]`` (:attr:`LinkedTable.bounds`).
    """
    a_all = space.a_all
    ptr, pos, dat = space.columns(np.concatenate([unk, cand]), rows)
    # the fixed part of each relation: its true sum without the unknown cells' terms
    nu_terms = int(ptr[len(unk)])
    const = space.row_sums[rows].copy()
    np.subtract.at(
        const, pos[:nu_terms], dat[:nu_terms] * np.repeat(a_all[unk], np.diff(ptr[: len(unk) + 1]))
    )
    hit = np.zeros(len(rows), dtype=bool)
    hit[pos] = True
    new_row = np.cumsum(hit) - 1
    m = int(hit.sum())
    tol = space.tol[rows][hit]
    row_lo = -tol - const[hit]
    row_hi = tol - const[hit]
    nu, nk = len(unk), len(cand)
    ind = new_row[pos]
    cut = ptr[nu]
    block_u = (ptr[: nu + 1], ind[:cut], dat[:cut])
    block_c = (ptr[nu:] - cut, ind[cut:], dat[cut:])
    a_c = a_all[cand]
    w = space.weights[cand]
    lo_u = lower[unk]
    inf_u = upper[unk]
    inf_c = np.full(nk, np.inf)
    zero_c = np.zeros(nk)
    li = int(np.searchsorted(unk, i))
    two = not np.isfinite(low)
    # HiGHS without scaling (scaled=False): the coefficients are ±1 and 12 (a yearly average)
    # and the LPs small — 20 % less time, the same optima
    if two:
        model = _hstack_csc(
            [
                (block_u, 0, 1.0),
                (block_u, m, 1.0),
                (block_c, 0, 1.0),
                (block_c, 0, -1.0),
                (block_c, m, 1.0),
                (block_c, m, -1.0),
            ],
            2 * m,
        )
        col_upper = np.concatenate([inf_u, inf_u, inf_c, a_c, inf_c, a_c])
        col_lower = np.concatenate([lo_u, lo_u, zero_c, zero_c, zero_c, zero_c])
        cost = np.concatenate([np.zeros(2 * nu), w, w, w, w])
        row_lo, row_hi = np.tile(row_lo, 2), np.tile(row_hi, 2)
        lp = _LP(model, col_lower, col_upper, row_lo, row_hi, scaled=False, cost=cost)
        lp.add_row(np.array([li, nu + li]), np.array([1.0, -1.0]), width, np.inf)
    else:
        model = _hstack_csc([(block_u, 0, 1.0), (block_c, 0, 1.0), (block_c, 0, -1.0)], m)
        col_upper = np.concatenate([inf_u, inf_c, a_c])
        col_lower = np.concatenate([lo_u, zero_c, zero_c])
        cost = np.concatenate([np.zeros(nu), w, w])
        lp = _LP(model, col_lower, col_upper, row_lo, row_hi, scaled=False, cost=cost)
        lp.add_row(np.array([li]), np.array([1.0]), low + width, np.inf)
    res = lp.solve()
    if res.status != "optimal":
        return None
    x = res.x
    n_tables = 2 if two else 1
    xs = [x[k * nu : (k + 1) * nu] for k in range(n_tables)]
    base = n_tables * nu
    devs = [x[base + k * nk : base + (k + 1) * nk] for k in range(2 * n_tables)]
    moved = sum(devs) > 1e-7 * (1.0 + a_c)
    new = cand[moved]
    cells_pt = np.concatenate([unk, new])
    points = [
        (cells_pt, np.concatenate([xs[k], (a_c + devs[2 * k] - devs[2 * k + 1])[moved]]))
        for k in range(n_tables)
    ]
    return new, points


def _hstack_csc(
    blocks: list[tuple[tuple[np.ndarray, np.ndarray, np.ndarray], int, float]], n_rows: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
    """Columns of CSC blocks ``((indptr, indices, data), row_offset, sign)`` side by side, as
    the CSC arrays ``(indptr, indices, data, shape)`` :class:`~ksz_reports.disclosure.lp._LP`
    takes."""
    ptrs, inds, dats = [np.zeros(1, dtype=np.int64)], [], []
    offset = 0
    for (ptr, ind, dat), row_offset, sign in blocks:
        ptrs.append(ptr[1:] - ptr[0] + offset)
        offset += int(ptr[-1] - ptr[0])
        inds.append(ind + row_offset)
        dats.append(dat * sign)
    indptr = np.concatenate(ptrs)
    return indptr, np.concatenate(inds), np.concatenate(dats), (n_rows, len(indptr) - 1)
