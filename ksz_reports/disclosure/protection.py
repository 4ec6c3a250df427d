"""Primary and secondary suppression (docs/domain.md#primary-suppression, docs/domain.md#secondary-suppression): :func:`protect` decides the status of every cell of a
linked table and verifies the result with the attacker's LP audit.

The primary rule (:func:`primary_mask`) suppresses ``0 < n < threshold``. The *sensitive* cells are
the primary ones and those masked at the source (:attr:`LinkedTable.masked`): a source masks a
cell because it is small, so publishing its total and the other categories must not give it back.
A sensitive cell needs an attacker interval at least ``threshold`` wide — a masked cell whose
source gave a narrower range ``[lower, upper]`` needs that whole range. :func:`protect` loops: the
audit (:func:`ksz_reports.disclosure.attacker.attacker_intervals`) finds the sensitive
cells whose interval is too narrow, and for each of them one complement LP on a neighbourhood of
the cell (the LP relaxation of Fischetti & Salazar's model for one sensitive cell) chooses the
published cells to suppress as well, until the audit is clean. The outcome is a
:class:`Protection`. The method is described in :mod:`ksz_reports.disclosure`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ksz_reports.core.errors import DisclosureError
from ksz_reports.disclosure.attacker import EPS, Intervals, attacker_intervals
from ksz_reports.disclosure.linked import LinkedTable
from ksz_reports.disclosure.lp import _LP
from ksz_reports.disclosure.parts import Outcome, connected_components, protect_in_parts, split
from ksz_reports.disclosure.status import (
    NOT_AVAILABLE,
    PUBLISHED,
    SECONDARY,
    STATUS_DTYPE,
    SUPPRESSED,
    UNKNOWN,
)

__all__ = ["Protection", "primary_mask", "protect"]

#: Status codes of :data:`~ksz_reports.disclosure.status.STATUS_DTYPE` (positions in ``STATUSES``).
_PUB, _SUP, _SEC, _NA, _UNK = 0, 1, 2, 3, 4

#: Extra width the protection LP asks for, so that rounding never fails the audit.
_MARGIN = 1e-4

#: A relation with more terms than this is "big" for the local neighbourhoods of
#: :func:`_add_complements` (a region or Belgium as the sum of its municipalities).
LOCAL_RELATION_SIZE = 40
#: A local neighbourhood (beyond the first two rings) larger than this many cells is not tried:
#: the local rings grow from ring 2 until one has a solution or is this large.
LOCAL_MAX_CELLS = 2000


def required_width(table: LinkedTable, min_width: float) -> np.ndarray:
    """The interval width each cell must keep: ``min_width``, or for a cell whose range the
    source's own ranges already make narrower (a band; a total of banded parts), that range: the
    source gave it away, the publication must not narrow it further (:func:`source_ranges`)."""
    lower, upper = source_ranges(table)
    return np.minimum(min_width, upper - lower)


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


def primary_mask(values: np.ndarray, threshold: float) -> np.ndarray:
    """Primary rule: ``0 < value < threshold`` (masked cells, NaN, are not primary)."""
    v = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return ~np.isnan(v) & (v > 0) & (v < threshold)


@dataclass(frozen=True, eq=False)
class Protection:
    """The outcome of :func:`protect`: a status per cell, the verification and the costs."""

    table: LinkedTable
    threshold: int
    min_width: float
    status: pd.Series
    intervals: Intervals
    rounds: int
    lp_solves: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def n_primary(self) -> int:
        """Cells suppressed by the primary rule."""
        return int((self.status == SUPPRESSED).sum())

    @property
    def n_secondary(self) -> int:
        """Cells suppressed to protect primary ones."""
        return int((self.status == SECONDARY).sum())

    @property
    def n_not_available(self) -> int:
        """Cells masked at the source (sensitive)."""
        return int((self.status == NOT_AVAILABLE).sum())

    @property
    def n_unknown(self) -> int:
        """Cells without a value that are not sensitive (e.g. not covered by the source)."""
        return int((self.status == UNKNOWN).sum())

    @property
    def sensitive(self) -> np.ndarray:
        """Primary cells and cells masked at the source."""
        return ((self.status == SUPPRESSED) | (self.status == NOT_AVAILABLE)).to_numpy()

    @property
    def loss_cells(self) -> int:
        """Information loss: number of secondary cells."""
        return self.n_secondary

    @property
    def loss_value(self) -> float:
        """Information loss: sum of the values of the secondary cells."""
        sec = (self.status == SECONDARY).to_numpy()
        return float(np.nansum(self.table.values[sec]))

    @property
    def ok(self) -> bool:
        """Every sensitive cell keeps its required attacker interval (:func:`required_width`)."""
        narrow = self.intervals.narrow(required_width(self.table, self.min_width))
        return not bool((narrow & self.sensitive).any())

    def published_values(self) -> pd.Series:
        """The value to show per cell: the true value if published, else NA (never 0)."""
        v = self.table.cells["value"].astype("Float64").copy()
        v[(self.status != PUBLISHED).to_numpy()] = pd.NA
        return v

    def flags(self) -> pd.Series:
        """The ``flag`` of ``cells.csv`` per cell: ``""`` when published, else the status."""
        flag = self.status.astype(str)
        return flag.where(flag != PUBLISHED, "").rename("flag")

    def frame(self) -> pd.DataFrame:
        """The cells with ``status``, ``published`` (value or NA), ``lo``, ``hi`` (attacker)."""
        out = self.table.cells.copy()
        out["status"] = self.status
        out["published"] = self.published_values()
        out["lo"] = self.intervals.lo
        out["hi"] = self.intervals.hi
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-able figures."""
        return {
            "threshold": self.threshold,
            "min_width": self.min_width,
            "cells": int(self.table.n_cells),
            "relations": int(self.table.n_relations),
            "primary": self.n_primary,
            "secondary": self.n_secondary,
            "not_available": self.n_not_available,
            "unknown": self.n_unknown,
            "loss_cells": self.loss_cells,
            "loss_value": self.loss_value,
            "rounds": self.rounds,
            "lp_solves": self.lp_solves,
            "seconds": round(self.seconds, 3),
            "ok": self.ok,
        }


def protect(
    table: LinkedTable,
    threshold: int = 5,
    secondary: bool = True,
    *,
    min_width: float | None = None,
    max_rounds: int = 10,
    locality: np.ndarray | None = None,
    processes: int = 1,
) -> Protection:
    """Primary and secondary suppression of a linked table, verified by the LP audit.

    Returns a :class:`Protection` with per cell ``published``, ``suppressed`` (primary),
    ``secondary``, ``not_available`` (masked at source) or ``unknown``. Every sensitive cell
    (primary or masked at the source) ends with an attacker interval ``hi − lo ≥ min_width``, or
    its whole source range when that is narrower (default: ``threshold``, the product's rule; a
    smaller value, e.g. 1 = "not exactly recoverable", exists for comparisons with other tools).
    With ``secondary=False`` only the primary rule is applied (the result's intervals then show
    what leaks). Raises :class:`DisclosureError` when the audit is not clean after
    ``max_rounds`` rounds, or the values contradict the relations.

    ``locality`` (one integer per cell, ``-1``: none; or one row per cell of nested localities,
    finest first) says which cells are near one another — in the product, a municipality's
    arrondissement and its province: the protection LPs first look for complements among the
    cells of the failing cell's locality (each level in turn), where a relation with more than
    :data:`LOCAL_RELATION_SIZE` terms (Belgium = Σ its 565 municipalities) would otherwise bring
    the whole table into every neighbourhood (:func:`_add_complements`). A restriction only: the
    result is verified by the same audit.

    ``processes`` > 1 protects the connected components of a large table (at least
    :data:`~ksz_reports.disclosure.parts.PARALLEL_MIN_CELLS` cells) in that many processes at
    once: no relation joins two components, so each part is protected and audited exactly as in
    one process (:mod:`ksz_reports.disclosure.parts`).
    """
    if threshold < 1:
        raise DisclosureError("the threshold must be at least 1")
    required = float(threshold if min_width is None else min_width)
    if required <= 0:
        raise DisclosureError("the required interval width must be positive")
    t0 = time.perf_counter()
    parts = []
    if processes > 1:
        parts = split(table, processes, primary_mask(table.values, threshold) | table.masked)
    if len(parts) > 1:
        args = (threshold, secondary, required, max_rounds)
        outcome = protect_in_parts(_protect_table, table, parts, args, locality)
    else:
        outcome = _protect_table(table, threshold, secondary, required, max_rounds, locality)
    code, iv, rounds, solves, timings = outcome
    status = pd.Series(
        pd.Categorical.from_codes(code, dtype=STATUS_DTYPE), index=table.cells.index, name="status"
    )
    return Protection(
        table=table,
        threshold=threshold,
        min_width=required,
        status=status,
        intervals=iv,
        rounds=rounds,
        lp_solves=solves,
        seconds=time.perf_counter() - t0,
        timings=timings,
    )


def _protect_table(
    table: LinkedTable,
    threshold: int,
    secondary: bool,
    required: float,
    max_rounds: int,
    locality: np.ndarray | None,
) -> Outcome:
    """The rounds of :func:`protect` on one table, in this process."""
    values = table.values
    masked = table.masked
    lower, upper = table.bounds
    primary = primary_mask(values, threshold)
    sensitive = primary | masked
    need = required_width(table, required)
    code = np.full(table.n_cells, _PUB, dtype=np.int8)
    code[table.unknown] = _UNK
    code[masked] = _NA
    code[primary] = _SUP
    solves = 0
    timings = {"audit": 0.0, "complements": 0.0}
    rounds = 0
    margin = _MARGIN
    components: tuple[int, np.ndarray] | None = None
    # More suppression only widens an attacker's intervals (every table feasible before stays
    # feasible), so a cell proven wide stays wide: after the first round only the cells that
    # failed are audited again.
    targets = sensitive
    iv: Intervals | None = None
    while True:
        rounds += 1
        ta = time.perf_counter()
        fresh = attacker_intervals(
            table.matrix,
            table.tol,
            values,
            code != _PUB,
            targets,
            threshold=need,
            exact=False,
            lower=lower,
            upper=upper,
        )
        iv = fresh if iv is None else _update(iv, fresh, targets)
        timings["audit"] += time.perf_counter() - ta
        solves += fresh.lp_solves
        if iv.inconsistent.any() or iv.inconsistent_relations.size:
            raise DisclosureError(
                "the cell values contradict the relations of the linked table; "
                "cannot protect an inconsistent publication"
            )
        failing = sensitive & iv.narrow(need)
        if not secondary or not failing.any():
            break
        if rounds > max_rounds:
            raise DisclosureError(
                f"secondary suppression did not converge in {max_rounds} rounds: "
                f"{int(failing.sum())} cell(s) still narrower than {required:g}"
            )
        tc = time.perf_counter()
        if components is None:
            components = connected_components(table.matrix)
        added, n_lp = _add_complements(
            table, code, values, failing, iv, need, margin, components, locality
        )
        solves += n_lp
        timings["complements"] += time.perf_counter() - tc
        targets = failing
        if not added:
            margin *= 10.0  # numerical: the LP proof held only within tolerances; ask for more
    return code, iv, rounds, solves, timings


def _update(old: Intervals, new: Intervals, where: np.ndarray) -> Intervals:
    """``old`` with the cells ``where`` taken from ``new`` (a later audit of those cells)."""
    arrays = {
        name: np.where(where, getattr(new, name), getattr(old, name))
        for name in ("lo", "hi", "exact", "lo_seen", "hi_seen", "peeled", "inconsistent")
    }
    return replace(
        old,
        **arrays,
        inconsistent_relations=new.inconsistent_relations,
        lp_solves=old.lp_solves + new.lp_solves,
        components=new.components,
        seconds=old.seconds + new.seconds,
    )


def _add_complements(
    table: LinkedTable,
    code: np.ndarray,
    values: np.ndarray,
    failing: np.ndarray,
    iv: Intervals,
    threshold: np.ndarray,
    margin: float,
    components: tuple[int, np.ndarray],
    locality: np.ndarray | None = None,
) -> tuple[int, int]:
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
    """
    m, n = table.matrix.shape
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
    a_all = np.nan_to_num(values, nan=0.0)
    masked = np.isnan(values)
    lower, upper = table.bounds
    src_lower, src_upper = source_ranges(table)
    with np.errstate(invalid="ignore"):
        span = src_upper - src_lower
    has_masked = bool(masked.any())
    row_masked = (abs(table.matrix) @ masked.astype(np.float64)) > 0 if has_masked else None
    totals = table.relations["total"].to_numpy()
    is_total = np.zeros(n, dtype=bool)
    is_total[totals[totals >= 0]] = True
    csr = table.matrix
    csc = table.matrix.tocsc()
    space = _Workspace(table, csc, a_all)
    big = np.diff(csr.indptr) > LOCAL_RELATION_SIZE
    dims = _dimensions_per_cell(table, csc)
    # nested localities, finest first (a municipality's arrondissement, then its province)
    levels = [] if locality is None or not big.any() else list(np.atleast_2d(locality.T))
    for i in fail_idx:
        if pt_max[i] - pt_min[i] >= threshold[i] - EPS:
            continue
        # neighbourhoods: ring k = cells at most k relations away from i (computed on demand);
        # a local ring reaches through a big relation only the localities already reached
        depth = max(2, int(dims[i]))  # a corner of a d-dimensional cube
        rings = [np.array([i])]
        local_rings = [[np.array([i])] for _ in levels]

        def ring(k: int, rings: list[np.ndarray] = rings) -> np.ndarray:
            while len(rings) <= k:
                rings.append(_cells_of(csr, _rows_of(csc, rings[-1], m), n))
            return rings[k]

        def local_ring(k: int, level: int, local_rings: list = local_rings) -> np.ndarray:
            rings = local_rings[level]
            while len(rings) <= k:
                rings.append(_local_step(csr, csc, rings[-1], big, levels[level]))
            return rings[k]

        low = lower[i] if pt_min[i] <= lower[i] + EPS else np.inf
        res = None
        widened = False
        # (scope, ring of the cells, ring of the candidates, locality level of a local scope)
        scopes = (
            *(("local", k, k, lv) for lv in range(len(levels)) for k in range(2, depth + 2)),
            ("ring", depth, depth - 1, -1),
            ("ring", depth, depth, -1),
            ("ring", depth + 1, depth + 1, -1),
            ("ring", depth + 2, depth + 2, -1),
            ("component", 0, 0, -1),
            ("zeros", 0, 0, -1),
        )
        last_local = sum(1 for sc in scopes if sc[0] == "local") - 1
        too_big = np.zeros(len(levels), dtype=bool)
        for k, (scope, cell_ring, cand_ring, level) in enumerate(scopes):
            is_local = scope == "local"
            rings_of = partial(local_ring, level=level) if is_local else ring
            if scope in ("component", "zeros"):
                cells = np.flatnonzero(cell_lab == cell_lab[i])
            else:
                if is_local and too_big[level]:
                    continue
                cells = rings_of(cell_ring)
                if is_local and cell_ring > 2 and len(cells) > LOCAL_MAX_CELLS:
                    too_big[level] = True  # wider rings of this locality only grow
                    if res is not None:
                        break
                    continue
                if has_masked:
                    cells = _masked_closure(csr, csc, cells, masked, row_masked)
            pub = code[cells] == _PUB
            cand = cells[pub]
            if cand_ring:
                cand = np.intersect1d(cand, rings_of(cand_ring), assume_unique=True)
            if scope != "zeros":
                cand = cand[a_all[cand] > 0]
            rows = _rows_of(csc, cells, m)
            solves += 1
            width = min(threshold[i] + margin, span[i] - 1e-7)  # a source range: all of it
            found = _complement_lp(space, rows, cells[~pub], cand, i, width, low, lower, upper)
            if found is not None:
                res = found  # a wider scope's optimum is never more expensive
                # never a total when cells will do: a solution with a total is retried once wider
                # (a local solution is retried among the local scopes only: the full rings of
                # a municipality-month are every municipality of Belgium in the year)
                if not is_total[found[0]].any() or widened or scope == "zeros" or k == last_local:
                    break
                widened = True
            elif res is not None:
                break
        if res is None:
            raise DisclosureError(f"cell {table.cell_label(int(i))} cannot be protected")
        new, points = res
        if new.size:
            code[new] = _SEC
            added += int(new.size)
        for cells_pt, x in points:
            np.minimum.at(pt_min, cells_pt, x)
            np.maximum.at(pt_max, cells_pt, x)
    return added, solves


def _dimensions_per_cell(table: LinkedTable, csc: sp.csc_matrix) -> np.ndarray:
    """Per cell: the number of dimensions its relations run along — the kinds of its relations,
    the geographical ones (the hierarchy, the direct sums, the mergers) counted once: a
    municipality in its arrondissement, its region and Belgium is in one geographical dimension."""
    kinds = table.relations["kind"].astype(str).to_numpy()
    family = np.where(np.char.startswith(kinds.astype("U"), "geo"), "geo", kinds)
    _, code = np.unique(family, return_inverse=True)
    cell_of_entry = np.repeat(np.arange(csc.shape[1]), np.diff(csc.indptr))
    pairs = np.unique(cell_of_entry.astype(np.int64) * (code.max() + 1) + code[csc.indices])
    return np.bincount(pairs // (code.max() + 1), minlength=csc.shape[1])


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


def _rows_of(csc: sp.csc_matrix, cells: np.ndarray, n_rows: int) -> np.ndarray:
    """Relations (rows) with a term in one of ``cells``, sorted."""
    return np.unique(_gather(csc.indptr, csc.indices, np.asarray(cells)))


def _cells_of(csr: sp.csr_matrix, rows: np.ndarray, n_cells: int) -> np.ndarray:
    """Cells with a term in one of ``rows``, sorted."""
    return np.unique(_gather(csr.indptr, csr.indices, np.asarray(rows)))


def _local_step(
    csr: sp.csr_matrix,
    csc: sp.csc_matrix,
    cells: np.ndarray,
    big: np.ndarray,
    locality: np.ndarray,
) -> np.ndarray:
    """The next local ring around ``cells``: every cell of their small relations, and of their
    big relations (``big``, per row) the cells whose locality one of ``cells`` has."""
    rows = np.unique(_gather(csc.indptr, csc.indices, cells))
    parts = [cells, _gather(csr.indptr, csr.indices, rows[~big[rows]])]
    big_rows = rows[big[rows]]
    if big_rows.size:
        near = np.unique(locality[cells])
        reach = _gather(csr.indptr, csr.indices, big_rows)
        parts.append(reach[np.isin(locality[reach], near[near >= 0])])
    return np.unique(np.concatenate(parts))


def _masked_closure(
    csr: sp.csr_matrix,
    csc: sp.csc_matrix,
    cells: np.ndarray,
    masked: np.ndarray,
    row_masked: np.ndarray,
) -> np.ndarray:
    """Add the masked cells of the relations touching ``cells`` until there are none left out:
    their values are unknown to us, so they cannot be held fixed. ``row_masked`` marks the
    relations with a masked term; only the relations of the cells added last are looked at."""
    new = cells
    while True:
        rows = _gather(csc.indptr, csc.indices, new)
        rows = np.unique(rows[row_masked[rows]])
        if not rows.size:
            return cells
        around = _gather(csr.indptr, csr.indices, rows)
        extra = np.setdiff1d(np.unique(around[masked[around]]), cells, assume_unique=True)
        if not extra.size:
            return cells
        cells = np.union1d(cells, extra)
        new = extra


class _Workspace:
    """What every complement LP of one :func:`_add_complements` call reads, computed once: the
    matrix by columns, the true table's row sums, the weights and tolerances, and a scratch map
    from relation to LP row (reset after each use)."""

    def __init__(self, table: LinkedTable, csc: sp.csc_matrix, a_all: np.ndarray):
        self.indptr = csc.indptr
        self.indices = csc.indices
        self.data = csc.data
        self.a_all = a_all
        self.row_sums = table.matrix @ a_all
        self.weights = table.weights
        self.tol = table.tol
        self.row_pos = np.full(table.matrix.shape[0], -1, dtype=np.int64)

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
    space: _Workspace,
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
        lp = _LP(model, col_lower, col_upper, np.tile(row_lo, 2), np.tile(row_hi, 2))
        lp.set_cost(cost)
        lp.add_row(np.array([li, nu + li]), np.array([1.0, -1.0]), width, np.inf)
    else:
        model = _hstack_csc([(block_u, 0, 1.0), (block_c, 0, 1.0), (block_c, 0, -1.0)], m)
        col_upper = np.concatenate([inf_u, inf_c, a_c])
        col_lower = np.concatenate([lo_u, zero_c, zero_c])
        cost = np.concatenate([np.zeros(nu), w, w])
        lp = _LP(model, col_lower, col_upper, row_lo, row_hi)
        lp.set_cost(cost)
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
) -> sp.csc_matrix:
    """Columns of CSC blocks ``((indptr, indices, data), row_offset, sign)`` side by side."""
    ptrs, inds, dats = [np.zeros(1, dtype=np.int64)], [], []
    offset = 0
    for (ptr, ind, dat), row_offset, sign in blocks:
        ptrs.append(ptr[1:] - ptr[0] + offset)
        offset += int(ptr[-1] - ptr[0])
        inds.append(ind + row_offset)
        dats.append(dat * sign)
    indptr = np.concatenate(ptrs)
    return sp.csc_matrix(
        (np.concatenate(dats), np.concatenate(inds), indptr), shape=(n_rows, len(indptr) - 1)
    )
