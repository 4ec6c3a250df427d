"""Rectangles (docs/domain.md#secondary-suppression): moves of two or four cells that keep every
relation — complements of secondary suppression found without an LP.

In a two-way table (municipalities × the months of a year; municipalities × the categories of a
breakdown) four cells ``i, j, k, o`` at the corners of a rectangle — ``i, j`` parts of one
relation, ``i, k`` parts of another, ``o`` where the other relation of ``j`` crosses the other
relation of ``k`` — can move together: ``x + d·(e_i − e_j − e_k + e_o)`` leaves every sum
unchanged. In a one-way table (a municipality's count in its arrondissement, and nothing else)
two parts of one relation do: ``x + d·(e_i − e_j)``. When the move ``v`` satisfies *every*
relation of the table (``matrix @ v = 0``: checked term by term, never assumed from the two
sides) and its corners are suppressed, the true table moved by any ``d`` that keeps each corner
in its range is a feasible table for the attacker: it proves ``x_i`` spread over
``[x_i − down, x_i + up]`` (:func:`moves`). This is the idea of the hypercube method of τ-ARGUS
(GHMITER). :meth:`Rectangles.around` lists the moves of a cell, and
:meth:`ksz_reports.disclosure.complements.Workspace.rectangle` takes the cheapest one that is
wide enough, before any LP, when it suppresses at most one more cell (the LP would often find
cheaper patterns of more cells).

The *sides* of a cell are the relations it is a part of that are not *big* — the caller says
which are: the complements' (:data:`~ksz_reports.disclosure.complements.LOCAL_RELATION_SIZE`);
a cell with fewer than two of them also has its smallest big one (a municipality's category as a
part of its region's), through which its partners are only the cells of its own locality (its
arrondissement) — as in the local scopes of the complement LPs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

__all__ = ["Rectangles", "moves"]


class Rectangles:
    """The moves of a relation matrix whose corners are ``movable`` cells (cells with a value).

    Built once per table: each cell's sides, the partners through every side, and the cell at
    the crossing of every two sides. ``big``: per relation, whether it is big (default: none is);
    ``locality``: per cell, the locality its partners through a big relation must share (``-1``:
    none — no partner there).
    """

    def __init__(
        self,
        matrix: sp.spmatrix,
        movable: np.ndarray,
        locality: np.ndarray | None = None,
        big: np.ndarray | None = None,
    ) -> None:
        csr = sp.csr_matrix(matrix)
        n_rows, n = csr.shape
        self.n_rows = n_rows
        self.terms = csr.tocsc()  # every term of each cell, to check a move
        # a random weighing of the relations: a move that keeps every relation keeps this sum
        # (a filter only; :meth:`keeps_relations` checks term by term)
        weigh = np.random.default_rng(20241207).uniform(1.0, 2.0, n_rows)
        self.signature = self.terms.T @ weigh
        loc = np.full(n, -1, dtype=np.int64) if locality is None else np.asarray(locality)
        self.locality = loc.astype(np.int64)
        size = np.diff(csr.indptr)
        self.big = np.zeros(n_rows, dtype=bool) if big is None else np.asarray(big, dtype=bool)
        row_of = np.repeat(np.arange(n_rows), size)
        part = (csr.data < 0) & np.asarray(movable, dtype=bool)[csr.indices]
        rows, cells = row_of[part], csr.indices[part].astype(np.int64)
        # partners: the parts of a small relation; of a big one, by locality
        self.slots = int(loc.max(initial=-1)) + 2  # slot per locality, the last: a small row
        slot = np.where(self.big[rows], self.locality[cells], self.slots - 1)
        keep = slot >= 0
        key = rows[keep] * self.slots + slot[keep]
        order = np.argsort(key, kind="stable")
        self.side_key, self.side_cell = key[order], cells[keep][order]
        # the sides of each cell: its small relations, or with fewer than two its smallest big one
        order = np.lexsort((rows, size[rows], self.big[rows], cells))
        c, r = cells[order], rows[order]
        small = ~self.big[r]
        n_small = np.bincount(c[small], minlength=n)
        # a cell's entries: its small relations, then its big ones from the smallest up — the
        # first big one follows a small one or nothing
        after_small = np.ones(len(c), dtype=bool)
        after_small[1:] = (c[1:] != c[:-1]) | small[:-1]
        use = small | (~small & after_small & (n_small[c] < 2))
        c, r = c[use], r[use]
        deg = np.bincount(c, minlength=n)
        width = max(int(deg.max(initial=0)), 1)
        self.sides = np.full((n, width), -1, dtype=np.int64)
        start = np.concatenate([[0], np.cumsum(deg)[:-1]])
        self.sides[c, np.arange(len(c)) - start[c]] = r
        self.n_sides = deg
        # the cell at the crossing of two sides (a pair shared by two cells: none)
        keys, owners = [], []
        for a in range(width):
            for b in range(a + 1, width):
                has = np.flatnonzero(self.sides[:, b] >= 0)
                keys.append(self._key(self.sides[has, a], self.sides[has, b]))
                owners.append(has)
        keys_all = np.concatenate(keys) if keys else np.zeros(0, np.int64)
        owner_all = np.concatenate(owners) if owners else np.zeros(0, np.int64)
        uniq, first_at, counts = np.unique(keys_all, return_index=True, return_counts=True)
        self.cross_key = uniq[counts == 1]
        self.cross_cell = owner_all[first_at[counts == 1]]

    def _key(self, ra: np.ndarray, rb: np.ndarray) -> np.ndarray:
        return np.minimum(ra, rb).astype(np.int64) * self.n_rows + np.maximum(ra, rb)

    def partners(self, i: int, row: int) -> np.ndarray:
        """The parts of relation ``row`` other than ``i`` (through a big one: of ``i``'s
        locality)."""
        slot = self.locality[i] if self.big[row] else self.slots - 1
        if slot < 0:
            return np.zeros(0, dtype=np.int64)
        key = row * self.slots + slot
        lo, hi = np.searchsorted(self.side_key, [key, key + 1])
        p = self.side_cell[lo:hi]
        return p[p != i]

    def around(
        self, i: int, allowed: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The moves of cell ``i``: ``(j, k, o)`` per move, ``k = o = -1`` for a move of two
        (``e_i − e_j``), else ``e_i − e_j − e_k + e_o``; only moves that keep a random weighing
        of the relations, not yet checked term by term (:meth:`keeps_relations`).
        ``allowed(j, k)``: which pairs of neighbours of a rectangle to try (default: all)."""
        sides = self.sides[i, : self.n_sides[i]]
        near = [self.partners(i, int(r)) for r in sides]
        js, ks, os_ = [], [], []
        for p in near:
            js.append(p)
            ks.append(np.full(len(p), -1, dtype=np.int64))
            os_.append(ks[-1])
        for a in range(len(sides)):
            for b in range(a + 1, len(sides)):
                j, k = np.repeat(near[a], len(near[b])), np.tile(near[b], len(near[a]))
                if allowed is not None:
                    keep = allowed(j, k)
                    j, k = j[keep], k[keep]
                if not j.size:
                    continue
                o = self._fourth(j, k, sides[a], sides[b])
                hit = (o >= 0) & (o != j) & (o != k) & (o != i) & (j != k)
                js.append(j[hit])
                ks.append(k[hit])
                os_.append(o[hit])
        if not js:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        j, k, o = np.concatenate(js), np.concatenate(ks), np.concatenate(os_)
        sig = self.signature
        four = k >= 0
        rest = sig[i] - sig[j] + np.where(four, sig[o] - sig[np.where(four, k, 0)], 0.0)
        keep = np.abs(rest) <= 1e-9 * (1.0 + abs(sig[i]))
        return j[keep], k[keep], o[keep]

    def _fourth(self, j: np.ndarray, k: np.ndarray, r1: int, r2: int) -> np.ndarray:
        """Per pair ``(j, k)``, the cell where a side of ``j`` other than ``r1`` crosses a side
        of ``k`` other than ``r2`` (``-1``: none)."""
        if not self.cross_key.size:
            return np.full(len(j), -1, dtype=np.int64)
        rj = self.sides[j][:, :, None]
        rk = self.sides[k][:, None, :]
        fine = (rj >= 0) & (rk >= 0) & (rj != r1) & (rk != r2) & (rj != rk)
        key = np.where(fine, self._key(rj, rk), -1)
        pos = np.minimum(np.searchsorted(self.cross_key, key), len(self.cross_key) - 1)
        hit = fine & (self.cross_key[pos] == key)
        cell = np.where(hit, self.cross_cell[pos], -1).reshape(len(j), -1)
        return cell.max(axis=1)

    def keeps_relations(self, i: int, j: int, k: int, o: int) -> bool:
        """Whether the move ``e_i − e_j`` (``k = o = -1``) or ``e_i − e_j − e_k + e_o`` leaves
        every relation's sum unchanged: its corners' terms, summed per relation, all vanish."""
        t = self.terms
        rows, terms = [], []
        for cell, sign in ((i, 1.0), (j, -1.0), (k, -1.0), (o, 1.0)):
            if cell < 0:
                continue
            lo, hi = t.indptr[cell], t.indptr[cell + 1]
            rows.append(t.indices[lo:hi])
            terms.append(sign * t.data[lo:hi])
        r, v = np.concatenate(rows), np.concatenate(terms)
        uniq, where = np.unique(r, return_inverse=True)
        return bool((np.abs(np.bincount(where, weights=v, minlength=len(uniq))) <= 1e-9).all())


def moves(
    values: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    i: int,
    j: np.ndarray,
    k: np.ndarray,
    o: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """How far each move takes ``x_i`` up and down from the true table ``values`` with every
    corner in its range ``[lower, upper]``: ``(up, down)`` (``k = o = -1``: a move of two)."""
    x = values
    four = k >= 0
    kk, oo = np.where(four, k, j), np.where(four, o, i)
    up = np.minimum(
        np.minimum(x[j] - lower[j], x[kk] - lower[kk]),
        np.minimum(upper[i] - x[i], upper[oo] - x[oo]),
    )
    down = np.minimum(
        np.minimum(x[i] - lower[i], x[oo] - lower[oo]),
        np.minimum(upper[j] - x[j], upper[kk] - x[kk]),
    )
    return np.maximum(up, 0.0), np.maximum(down, 0.0)
