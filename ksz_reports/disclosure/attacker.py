"""The attacker (docs/domain.md#secondary-suppression): the interval ``[lo, hi]`` an attacker can derive for each suppressed cell
by linear programming, from every published cell, every relation and ``x ≥ 0``.

:func:`attacker_intervals` drops relations without unknowns, peels relations with a single
unknown (exact, no LP), solves one-cell components in closed form and every larger connected
component with one warm-started HiGHS model (:mod:`ksz_reports.disclosure.lp`), settling most
bounds from a few certificate tables. It is both the verification inside
:func:`ksz_reports.disclosure.protection.protect` and the audit of a publication
(:mod:`ksz_reports.disclosure.audit`). The method is described in :mod:`ksz_reports.disclosure`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from ksz_reports.core.errors import DisclosureError
from ksz_reports.disclosure.lp import _LP

__all__ = ["EPS", "Intervals", "attacker_intervals", "propagated_bounds"]

#: Numerical slack: an interval is narrow when ``hi − lo < threshold − EPS``.
EPS = 1e-6
#: At most this many random-direction certificate LPs per component before per-cell LPs.
_CERTIFICATE_ROUNDS = 32
#: Connected components are solved together, side by side in one LP, up to this many unknowns
#: (:func:`_packs`): no relation joins them, so one LP settles a bound in each of them at once.
PACK_CELLS = 1000


@dataclass(frozen=True, eq=False)
class Intervals:
    """What an attacker can derive about each target cell.

    ``lo``/``hi`` per cell (NaN for non-targets): the exact LP bounds where ``exact``. Otherwise
    (``exact=False`` runs) they are *inner* bounds when ``hi − lo ≥ threshold`` (values attained
    by feasible tables: the cell is proven wide enough) and *outer* bounds when narrower (the
    exact bound, or the bound propagated through the relations, :func:`propagated_bounds`: the
    cell is proven narrow), so the verdict of :meth:`narrow` is exact either way.
    ``lo_seen``/``hi_seen`` are the smallest and largest values attained by the feasible tables
    the solver met (inner bounds, always valid).
    ``peeled`` marks cells recovered without an LP (alone in a relation, then substituted).
    ``inconsistent`` marks cells in a part of the table whose published values contradict the
    relations (no feasible table): their bounds are NaN.
    """

    lo: np.ndarray
    hi: np.ndarray
    exact: np.ndarray
    lo_seen: np.ndarray
    hi_seen: np.ndarray
    peeled: np.ndarray
    inconsistent: np.ndarray
    inconsistent_relations: np.ndarray
    lp_solves: int
    components: int
    seconds: float

    def width(self) -> np.ndarray:
        """``hi − lo`` (inf when unbounded)."""
        with np.errstate(invalid="ignore"):
            return self.hi - self.lo

    def narrow(self, threshold: float) -> np.ndarray:
        """Targets pinned to an interval shorter than ``threshold`` (including recovered ones)."""
        w = self.width()
        return ~np.isnan(w) & (w < threshold - EPS)

    def recovered(self) -> np.ndarray:
        """Targets whose value the attacker computes exactly."""
        w = self.width()
        return ~np.isnan(w) & (w <= EPS)


def _clean(x: np.ndarray) -> np.ndarray:
    """Round LP noise: values within 1e-7 of an integer become that integer."""
    r = np.round(x)
    with np.errstate(invalid="ignore"):
        return np.where(np.abs(x - r) < 1e-7, r, x)


def attacker_intervals(
    matrix: sp.spmatrix,
    tol: np.ndarray,
    values: np.ndarray,
    unknown: np.ndarray,
    targets: np.ndarray,
    *,
    threshold: float | np.ndarray | None = None,
    exact: bool = True,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
    groups: np.ndarray | None = None,
) -> Intervals:
    """The attacker's interval ``[min, max]`` of every target cell by linear programming.

    The attacker knows ``values`` where not ``unknown``, the relations ``|matrix @ x| ≤ tol`` and
    ``x ≥ 0``. Only relations with an unknown term matter; published terms move to the bounds.
    A relation with one unknown term (and ``tol = 0``) gives that cell exactly, which is
    substituted until no such relation is left ("peeling", no LP). The remaining unknowns are split
    into connected components (``scipy.sparse.csgraph``); a one-cell component is solved in closed
    form; in larger ones one persistent HiGHS model is re-solved with one objective after the
    other, warm-started. Every LP solution is a feasible table and so proves ``min ≤ x_j ≤ max``
    for every cell ``j`` at once: a bound is taken from such a point without its own LP when it is
    attained (``0``, or an upper bound implied by a single relation). With ``exact=False`` and a
    ``threshold`` only the verdict is exact: a cell proven ``max − min ≥ threshold`` by two
    feasible tables, or proven narrower by its propagated outer bounds (:func:`propagated_bounds`),
    gets no LP of its own (see :class:`Intervals` for what ``lo``/``hi`` then hold).

    ``lower``/``upper`` (per cell; default ``0`` and ``inf``) are what the attacker knows of each
    unknown before the publication: the range a source gave for a cell it masked (a band such
    as ``1-3``). ``threshold`` may be one number or one per cell.

    Small components are solved side by side, several in one LP (:data:`PACK_CELLS`); with
    ``groups`` (one integer per cell) only components of one group together. The certificate
    tables, and so ``lo_seen``/``hi_seen`` and what :func:`~ksz_reports.disclosure.protection.
    protect` decides from them, depend on which components share an LP: a table protected in
    parts (:mod:`ksz_reports.disclosure.parts`) passes the connected components of its
    relations as groups, the same in a part as in the whole table.
    """
    t0 = time.perf_counter()
    matrix = sp.csr_matrix(matrix, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    unknown = np.asarray(unknown, dtype=bool)
    targets = np.asarray(targets, dtype=bool) & unknown
    tol = np.asarray(tol, dtype=np.float64)
    n = matrix.shape[1]
    lower = np.zeros(n) if lower is None else np.nan_to_num(np.asarray(lower, np.float64), nan=0.0)
    upper = np.full(n, np.inf) if upper is None else np.asarray(upper, np.float64).copy()
    upper[np.isnan(upper)] = np.inf
    if threshold is not None:
        threshold = np.broadcast_to(np.asarray(threshold, dtype=np.float64), (n,))
    lo = np.full(n, np.nan)
    hi = np.full(n, np.nan)
    lo_seen = np.full(n, np.nan)
    hi_seen = np.full(n, np.nan)
    is_exact = np.zeros(n, dtype=bool)
    peeled_all = np.zeros(n, dtype=bool)
    bad_cells = np.zeros(n, dtype=bool)
    bad_rows: list[np.ndarray] = []
    solves = 0
    n_comp = 0

    unk_idx = np.flatnonzero(unknown)
    known_vals = np.where(unknown, 0.0, np.nan_to_num(values))
    rhs = -(matrix @ known_vals)
    mcsc = matrix.tocsc()
    au = mcsc[:, unk_idx].tocsr()
    has_unk = np.diff(au.indptr) > 0
    # relations without unknowns: must hold (else the publication is inconsistent)
    scale = 1.0 + abs(matrix) @ np.abs(known_vals)
    full_known = np.flatnonzero(~has_unk & (matrix.getnnz(axis=1) > 0))
    viol = full_known[np.abs(rhs[full_known]) > tol[full_known] + 1e-6 * scale[full_known]]
    if viol.size:
        bad_rows.append(viol)
    row_ids = np.flatnonzero(has_unk)
    au = au[row_ids]
    bl = rhs[row_ids] - tol[row_ids]
    bu = rhs[row_ids] + tol[row_ids]
    exact_row = tol[row_ids] == 0
    row_scale = scale[row_ids]
    nu = len(unk_idx)

    # ---- peeling: relations with a single unknown term -----------------------------------
    pattern = au.copy()
    pattern.data = np.ones_like(pattern.data)
    known_u = np.zeros(nu, dtype=bool)
    val_u = np.zeros(nu)
    while True:
        rem = (~known_u).astype(np.float64)
        cnt = pattern @ rem
        single = np.flatnonzero(exact_row & (cnt == 1))
        if single.size == 0:
            break
        sub = au[single]
        entry_row = np.repeat(np.arange(len(single)), np.diff(sub.indptr))
        keep = ~known_u[sub.indices]
        j = sub.indices[keep]
        coef = sub.data[keep]
        r_local = entry_row[keep]
        residual = bl[single] - sub @ (val_u * known_u)
        x = residual[r_local] / coef
        order = np.lexsort((r_local, j))
        j, x, r_local = j[order], x[order], r_local[order]
        first = np.ones(len(j), dtype=bool)
        first[1:] = j[1:] != j[:-1]
        # two relations giving two different values: inconsistent publication
        xf = np.repeat(x[first], np.diff(np.append(np.flatnonzero(first), len(j))))
        clash = np.abs(x - xf) > 1e-6 * row_scale[single][r_local]
        slack = 1e-6 * row_scale[single][r_local]
        cell = unk_idx[j]
        negative = (x < lower[cell] - slack) | (x > upper[cell] + slack)
        if clash.any() or negative.any():
            bad_rows.append(row_ids[single[r_local[clash | negative]]])
            bad_cells[unk_idx[j[clash | negative]]] = True
        known_u[j[first]] = True
        val_u[j[first]] = np.maximum(_clean(x[first]), lower[unk_idx[j[first]]])
    peeled = unk_idx[known_u]
    lo[peeled] = val_u[known_u]
    hi[peeled] = val_u[known_u]
    is_exact[peeled] = True
    peeled_all[peeled] = True

    # ---- remaining system -------------------------------------------------------------------
    shift = au @ (val_u * known_u)
    bl = bl - shift
    bu = bu - shift
    rem_u = np.flatnonzero(~known_u)
    ar = au[:, rem_u].tocsr()
    active = np.diff(ar.indptr) > 0
    done_rows = np.flatnonzero(~active)
    slack = 1e-6 * row_scale[done_rows]
    off = (bl[done_rows] > slack) | (bu[done_rows] < -slack)
    if off.any():
        bad_rows.append(row_ids[done_rows[off]])
    act = np.flatnonzero(active)
    ar = ar[act]
    bl, bu, row_scale = bl[act], bu[act], row_scale[act]
    row_ids = row_ids[act]
    cell_of = unk_idx[rem_u]  # table position of each remaining unknown
    tgt = targets[cell_of]
    # unknown cells in no relation: anything in their range (≥ 0)
    free = np.diff(ar.tocsc().indptr) == 0
    lo[cell_of[free]] = lower[cell_of[free]]
    hi[cell_of[free]] = upper[cell_of[free]]
    is_exact[cell_of[free]] = True

    m_r, n_r = ar.shape
    quick = not exact and threshold is not None
    if quick and m_r and n_r:  # outer bounds that prove most narrow cells without an LP
        p_lo, p_hi = propagated_bounds(ar, bl, bu, lower[cell_of], upper[cell_of], row_scale)
    if m_r and n_r:
        pat = ar.copy()
        pat.data = np.ones_like(pat.data)
        graph = sp.bmat([[None, pat], [pat.T, None]], format="csr")
        n_comp_all, labels = csgraph.connected_components(graph, directed=False)
        row_lab = labels[:m_r]
        col_lab = labels[m_r:]
        has_target = np.zeros(n_comp_all, dtype=bool)
        has_target[col_lab[tgt & ~free]] = True
        col_order = np.argsort(col_lab, kind="stable")
        row_order = np.argsort(row_lab, kind="stable")
        col_bounds = np.searchsorted(col_lab[col_order], np.arange(n_comp_all + 1))
        row_bounds = np.searchsorted(row_lab[row_order], np.arange(n_comp_all + 1))
        sizes = np.diff(col_bounds)
        # one-cell components, vectorised: intersect the intervals of the relations
        singles = np.flatnonzero(has_target & (sizes == 1))
        if singles.size:
            s_cols = col_order[col_bounds[singles]]
            _single_cell_bounds(
                ar, bl, bu, s_cols, cell_of, lo, hi, is_exact, bad_cells, lower, upper
            )
        multi = np.flatnonzero(has_target & (sizes > 1))
        group = np.zeros(len(multi), dtype=np.int64)
        if groups is not None and len(multi):
            group = np.asarray(groups)[cell_of[col_order[col_bounds[multi]]]]
        packs = _packs(multi, sizes[multi], group, PACK_CELLS)
        while packs:
            pack = packs.pop(0)
            cols = _members(col_order, col_bounds, pack)
            rows = _members(row_order, row_bounds, pack)
            sub = ar[rows][:, cols]
            pos = cell_of[cols]
            blocks = np.searchsorted(pack, col_lab[cols]) if len(pack) > 1 else None
            res = _component_bounds(
                sub,
                bl[rows],
                bu[rows],
                tgt[cols],
                None if threshold is None else threshold[pos],
                exact,
                lower[pos],
                upper[pos],
                (p_lo[cols], p_hi[cols]) if quick else None,
                blocks,
            )
            solves += res["solves"]
            if res["infeasible"] and len(pack) > 1:  # which of them contradicts: one by one
                packs[:0] = [pack[j : j + 1] for j in range(len(pack))]
                continue
            n_comp += len(pack)
            if res["infeasible"]:
                bad_cells[pos] = True
                bad_rows.append(row_ids[rows])
                continue
            sel = tgt[cols]
            for name, arr in (("lo", lo), ("hi", hi), ("lo_seen", lo_seen), ("hi_seen", hi_seen)):
                arr[pos[sel]] = res[name][sel]
            is_exact[pos[sel]] = res["exact"][sel]
        n_comp += singles.size
    keep = targets & ~bad_cells
    lo = np.where(keep, lo, np.nan)
    hi = np.where(keep, hi, np.nan)
    exact_known = keep & is_exact
    lo_seen = np.where(exact_known, lo, np.where(keep, lo_seen, np.nan))
    hi_seen = np.where(exact_known, hi, np.where(keep, hi_seen, np.nan))
    bad = np.unique(np.concatenate(bad_rows)) if bad_rows else np.zeros(0, dtype=np.int64)
    return Intervals(
        lo=lo,
        hi=hi,
        exact=is_exact & keep,
        lo_seen=lo_seen,
        hi_seen=hi_seen,
        peeled=peeled_all & targets,
        inconsistent=bad_cells & targets,
        inconsistent_relations=bad,
        lp_solves=solves,
        components=n_comp,
        seconds=time.perf_counter() - t0,
    )


def _members(order: np.ndarray, bounds: np.ndarray, components: np.ndarray) -> np.ndarray:
    """The columns (or rows) of ``components``, sorted: ``order[bounds[c]:bounds[c + 1]]``."""
    return np.sort(np.concatenate([order[bounds[c] : bounds[c + 1]] for c in components]))


def _packs(
    components: np.ndarray, sizes: np.ndarray, group: np.ndarray, most: int
) -> list[np.ndarray]:
    """``components`` (sorted) of each ``group`` in consecutive packs of at most ``most``
    unknowns together (``sizes``); a larger component is a pack of its own."""
    packs: list[np.ndarray] = []
    for g in np.unique(group):
        mine = np.flatnonzero(group == g)
        start, total = 0, 0
        for j, size in enumerate(sizes[mine]):
            if j > start and total + size > most:
                packs.append(components[mine[start:j]])
                start, total = j, 0
            total += int(size)
        packs.append(components[mine[start:]])
    return packs


def _single_cell_bounds(
    ar: sp.csr_matrix,
    bl: np.ndarray,
    bu: np.ndarray,
    cols: np.ndarray,
    cell_of: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    is_exact: np.ndarray,
    bad_cells: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
) -> None:
    """Closed-form interval of cells that are alone in their component (within their range)."""
    csc = ar.tocsc()
    starts, ends = csc.indptr[cols], csc.indptr[cols + 1]
    counts = ends - starts
    offsets = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    entries = np.arange(int(counts.sum())) + offsets
    owner = np.repeat(np.arange(len(cols)), counts)
    r = csc.indices[entries]
    c = csc.data[entries]
    a = bl[r] / c
    b = bu[r] / c
    low = np.where(c > 0, a, b)
    up = np.where(c > 0, b, a)
    pos = cell_of[cols]
    lows = lower[pos].copy()
    ups = upper[pos].copy()
    np.maximum.at(lows, owner, low)
    np.minimum.at(ups, owner, up)
    lows, ups = _clean(np.maximum(lows, lower[pos])), _clean(ups)
    ok = lows <= ups + 1e-6
    lo[pos] = np.where(ok, lows, np.nan)
    hi[pos] = np.where(ok, ups, np.nan)
    is_exact[pos] = ok
    bad_cells[pos[~ok]] = True


def _implied_upper(sub: sp.csr_matrix, bl: np.ndarray, bu: np.ndarray) -> np.ndarray:
    """Upper bound of each column implied by single relations whose terms all have one sign."""
    n = sub.shape[1]
    ub = np.full(n, np.inf)
    entry_row = np.repeat(np.arange(sub.shape[0]), np.diff(sub.indptr))
    pos = sub.data > 0
    n_pos = np.bincount(entry_row, weights=pos, minlength=sub.shape[0])
    n_all = np.diff(sub.indptr)
    all_pos = n_pos == n_all
    all_neg = n_pos == 0
    # Σ c x ≤ bu with all c > 0  →  x_j ≤ bu / c_j ;  all c < 0: Σ |c| x ≤ −bl
    cand = np.full(len(sub.data), np.inf)
    sel = all_pos[entry_row]
    cand[sel] = bu[entry_row[sel]] / sub.data[sel]
    sel = all_neg[entry_row]
    cand[sel] = -bl[entry_row[sel]] / -sub.data[sel]
    np.minimum.at(ub, sub.indices, cand)
    return np.maximum(ub, 0.0)


def propagated_bounds(
    matrix: sp.csr_matrix,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    row_scale: np.ndarray,
    passes: int = 20,
) -> tuple[np.ndarray, np.ndarray]:
    """Outer bounds of every column of ``row_lower ≤ matrix @ x ≤ row_upper``,
    ``col_lower ≤ x ≤ col_upper`` by bound propagation: each relation bounds each of its terms by
    what the other terms can reach at most and at least, repeated ``passes`` times or until
    nothing moves. Every feasible table lies within them (each bound is loosened by
    ``1e-9 × row_scale`` and the size of the terms, against rounding), so an interval narrower
    than the threshold here is narrow for the attacker's LP too, without an LP of its own: in a
    published table most sensitive cells the audit finds narrow are proven so in a few passes."""
    n_rows = matrix.shape[0]
    row = np.repeat(np.arange(n_rows), np.diff(matrix.indptr))
    col, a = matrix.indices, matrix.data
    up = a > 0
    lo_x = np.asarray(col_lower, dtype=np.float64).copy()
    hi_x = np.asarray(col_upper, dtype=np.float64).copy()
    size = np.bincount(row, weights=np.abs(a) * np.abs(lo_x[col]), minlength=n_rows)
    slack = 1e-9 * (row_scale + np.abs(row_lower) + np.abs(row_upper) + size)

    def sums(contrib: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per term: the sum of the other terms' contributions and whether one is infinite."""
        inf = ~np.isfinite(contrib)
        finite = np.where(inf, 0.0, contrib)
        total = np.bincount(row, weights=finite, minlength=n_rows)
        n_inf = np.bincount(row, weights=inf, minlength=n_rows)
        return total[row] - finite, (n_inf[row] - inf) > 0

    for _ in range(passes):
        least, least_inf = sums(np.where(up, a * lo_x[col], a * hi_x[col]))
        most, most_inf = sums(np.where(up, a * hi_x[col], a * lo_x[col]))
        # a·x_j ≤ row_upper − (least of the others) and a·x_j ≥ row_lower − (most of the others)
        cap = np.where(least_inf, np.inf, row_upper[row] - least + slack[row])
        floor = np.where(most_inf, -np.inf, row_lower[row] - most - slack[row])
        new_hi = hi_x.copy()
        new_lo = lo_x.copy()
        np.minimum.at(new_hi, col, np.where(up, cap, floor) / a)
        np.maximum.at(new_lo, col, np.where(up, floor, cap) / a)
        with np.errstate(invalid="ignore"):  # inf − inf: an unbounded term stays unbounded
            moved = (new_hi < hi_x - 1e-6 * (1.0 + np.abs(new_hi))) | (
                new_lo > lo_x + 1e-6 * (1.0 + np.abs(new_lo))
            )
        lo_x, hi_x = new_lo, new_hi
        if not moved.any():
            break
    return lo_x, hi_x


def _component_bounds(
    sub: sp.csr_matrix,
    bl: np.ndarray,
    bu: np.ndarray,
    target: np.ndarray,
    threshold: np.ndarray | None,
    exact: bool,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    outer: tuple[np.ndarray, np.ndarray] | None = None,
    blocks: np.ndarray | None = None,
) -> dict[str, Any]:
    """Intervals of the target columns of one connected component (see attacker_intervals);
    ``threshold`` per column, ``col_lower``/``col_upper`` the range each unknown is known in,
    ``outer`` bounds every feasible table keeps (:func:`propagated_bounds`; only for the verdict).
    ``blocks`` (per column, ``0 … B−1``): the columns are ``B`` components side by side, which no
    relation joins (:data:`PACK_CELLS`). Every objective then is a sum of one per component, so
    one LP optimises each of them at once: a certificate table of each, and in the per-cell LPs
    the bound of one cell of each component (:func:`_per_cell_bounds`).

    Returns a dict with ``lo, hi, exact, lo_seen, hi_seen`` (per column), ``solves`` and
    ``infeasible``.
    """
    k = sub.shape[1]
    upper = _clean(np.minimum(_implied_upper(sub, bl, bu), col_upper))
    finite = np.concatenate([bl[np.isfinite(bl)], bu[np.isfinite(bu)], col_lower])
    t_max = float(threshold.max()) if threshold is not None and len(threshold) else 0.0
    cap = 10.0 * (float(np.abs(finite).sum()) + t_max + 1.0)
    capped = np.where(np.isfinite(upper), upper, cap)
    lp = _LP(sub, col_lower, upper, bl, bu, primal=True)
    best_lo = np.full(k, np.inf)
    best_hi = np.full(k, -np.inf)
    lo = np.full(k, np.nan)
    hi = np.full(k, np.nan)
    done_lo = np.zeros(k, dtype=bool)
    done_hi = np.zeros(k, dtype=bool)
    out: dict[str, Any] = {"solves": 0, "infeasible": False}
    quick = not exact and threshold is not None
    t = threshold if threshold is not None else np.zeros(k)
    outer_lo = col_lower if outer is None else np.maximum(col_lower, outer[0])
    outer_hi = upper if outer is None else np.minimum(upper, outer[1])

    def finish(infeasible: bool = False) -> dict[str, Any]:
        out.update(solves=lp.solves, infeasible=infeasible, lo=lo, hi=hi)
        out.update(exact=done_lo & done_hi, lo_seen=_clean(best_lo), hi_seen=_clean(best_hi))
        return out

    def absorb(x: np.ndarray) -> None:
        np.minimum(best_lo, x, out=best_lo)
        np.maximum(best_hi, x, out=best_hi)
        z = ~done_lo & (best_lo <= col_lower + 1e-7)
        lo[z] = col_lower[z]
        done_lo[z] = True
        u = ~done_hi & np.isfinite(upper) & (best_hi >= upper - 1e-7)
        hi[u] = upper[u]
        done_hi[u] = True

    def open_cells() -> np.ndarray:
        """Targets whose bounds are still needed."""
        need = target & ~(done_lo & done_hi)
        if quick:
            # on the rounded values that finish() returns: the same verdict as Intervals.narrow
            wide = _clean(best_hi) - _clean(best_lo) >= t - EPS
            # max − min ≤ (exact max or outer upper) − (exact min or outer lower) < threshold
            narrow = np.where(done_hi, hi, outer_hi) - np.where(done_lo, lo, outer_lo) < t - EPS
            need &= ~wide & ~narrow
        return need

    # Certificate tables. Sums of unknowns are often fixed by the relations, so "all as high as
    # possible" says little; instead each round pushes every open target up or down at random
    # (fixed seed: deterministic). The extra caps only shrink the feasible set, so every
    # solution stays a feasible table.
    rng = np.random.default_rng(20240521)
    need = open_cells()
    lp.set_cost(need.astype(np.float64), maximize=False)
    r = lp.solve()
    if r.status == "infeasible":
        return finish(True)
    if r.status != "optimal":
        raise DisclosureError(f"the attacker LP failed ({r.status})")
    absorb(r.x)
    need = open_cells()
    lp.set_col_upper(capped)
    for _ in range(_CERTIFICATE_ROUNDS):
        if not need.any():
            break
        before = int(need.sum())
        direction = rng.choice([-1.0, 1.0], size=k)
        lp.set_cost(direction * need / np.maximum(capped, 1.0), maximize=True)
        r = lp.solve()
        if r.status != "optimal":
            break
        absorb(r.x)
        need = open_cells()
        if before - int(need.sum()) < max(2, before // 20):
            break
    if blocks is None:
        lp.set_col_upper(upper)
    state = (lo, hi, done_lo, done_hi, col_lower, upper, capped)
    if not _per_cell_bounds(lp, need, blocks, state, absorb, open_cells):
        return finish(True)
    if quick:
        # not exact: wide cells get the inner bounds seen, narrow ones their exact or outer bounds
        rest = target & ~(done_lo & done_hi)
        wide = rest & (_clean(best_hi) - _clean(best_lo) >= t - EPS)
        lo[wide] = np.where(done_lo[wide], lo[wide], _clean(best_lo[wide]))
        hi[wide] = np.where(done_hi[wide], hi[wide], _clean(best_hi[wide]))
        narrow = rest & ~wide
        lo[narrow] = np.where(done_lo[narrow], lo[narrow], outer_lo[narrow])
        hi[narrow] = np.where(done_hi[narrow], hi[narrow], outer_hi[narrow])
    return finish()


def _per_cell_bounds(
    lp: _LP,
    need: np.ndarray,
    blocks: np.ndarray | None,
    state: tuple,
    absorb: Any,
    open_cells: Any,
) -> bool:
    """The per-cell LPs of :func:`_component_bounds`: for each cell of ``need`` still open, its
    maximum, then its minimum, each an LP of its own, until the cell is settled. With ``blocks``
    each LP takes the next cell of every component at once: its objective is the sum of one
    per component, which no relation joins, so the optimum is each one's own. Those LPs keep
    the certificate rounds' caps on the unbounded columns (an unbounded component would leave
    the others without an optimum); a bound is taken only where no capped column of its
    component is at its cap (then the caps do not bind: the optimum is that without them), the
    others get an LP of their own without caps. Returns False when an LP is infeasible (the
    published values contradict the relations)."""
    lo, hi, done_lo, done_hi, col_lower, upper, capped = state
    k = len(need)
    capped_cols = np.isinf(upper)
    while True:
        open_ = need & open_cells()
        if not open_.any():
            return True
        cells = np.flatnonzero(open_)
        if blocks is None:
            picks = cells[:1]
        else:  # the first open cell of every component
            picks = cells[np.unique(blocks[cells], return_index=True)[1]]
        up = ~done_hi[picks]  # the maximum first: a small cell's maximum often settles it
        if blocks is not None:
            cost = np.zeros(k)
            cost[picks] = np.where(up, 1.0, -1.0)
            lp.set_cost(cost, maximize=True)
            r = lp.solve()
            if r.status == "optimal":
                x = r.x
                at_cap = capped_cols & (x >= capped - 1e-7 * np.maximum(capped, 1.0))
                free = ~np.isin(blocks[picks], blocks[at_cap])
                absorb(x)
                _settle(picks[free], up[free], _clean(x[picks[free]]), state)
                picks, up = picks[~free], up[~free]
            if not picks.size:
                continue
            lp.set_col_upper(upper)
        for j, side_up in zip(picks, up, strict=True):  # one LP each, without caps
            cost = np.zeros(k)
            cost[j] = 1.0
            lp.set_cost(cost, maximize=bool(side_up))
            r = lp.solve()
            if r.status == "optimal":
                absorb(r.x)
                value = float(_clean(np.array([r.objective]))[0])
                _settle(np.array([j]), np.array([side_up]), np.array([value]), state)
            elif r.status == "unbounded" and side_up:
                hi[j] = np.inf
                done_hi[j] = True
            elif r.status == "infeasible":
                return False
            else:
                raise DisclosureError(f"the attacker LP failed ({r.status})")
        if blocks is not None:
            lp.set_col_upper(capped)


def _settle(cells: np.ndarray, up: np.ndarray, values: np.ndarray, state: tuple) -> None:
    """Record the exact maximum (``up``) or minimum of each of ``cells``."""
    lo, hi, done_lo, done_hi, col_lower, _, _ = state
    hi[cells[up]] = values[up]
    done_hi[cells[up]] = True
    down = cells[~up]
    lo[down] = np.maximum(values[~up], col_lower[down])
    done_lo[down] = True
