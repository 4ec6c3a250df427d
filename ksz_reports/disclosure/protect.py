"""Small-cell protection of everything a batch publishes (SPEC §6): primary and secondary suppression.

Methodology
-----------
**Linked table.** Every count a batch publishes is one *cell* — one variable per key: the same
count shown by several tables or reports is one cell — and every way to compute a published count
from others is a linear *relation* ``|Σ coef_i · x_i| ≤ tol``: a breakdown total is the sum of its
categories (for every dimension and every combination of the other dimensions, so crossings such
as sex × age class follow), an aggregate geography is the sum of its parts (municipality →
arrondissement → province → region → Belgium; Brussels has no province), plus what the caller adds
explicitly (a merged municipality = its predecessors; ``12 × yearly average ≈ Σ months`` with
``tol = 6`` for an average rounded to an integer). The relations are a sparse matrix. Suppression is
decided once, on the linked table of the whole publication.

**Primary suppression.** A count with ``0 < n < threshold`` is *suppressed*; zero is published; a
count masked at the source is *not available*: unknown to us as to anybody, never shown, never read
as 0, and an unknown term of every relation that uses it.

**Attacker and requirement.** The attacker knows every published cell, every relation and that
every cell is ≥ 0, and solves linear programs: for each suppressed cell the least and greatest
value compatible with all of that, ``[lo, hi]``. A primary cell is protected when
``hi − lo ≥ threshold`` (width in the units of the count): it can be neither recomputed
(``hi = lo``) nor narrowed to an interval shorter than the threshold. The a-priori bounds are
``[0, ∞)`` for every cell. An attacker who knows the rule also knows that a cell flagged
*suppressed* lies in ``[1, threshold − 1]``; that range is what the publication "fewer than
`threshold`" says by itself, so it is not put into the attacker's model — with it no primary cell
could ever be ``threshold`` wide and the criterion would be void. The criterion guarantees that the
published table leaves at least ``threshold + 1`` integer candidates, whatever the rule says.
(τ-ARGUS states requirements as protection levels around the true value; ``min_width`` lowers the
required width, e.g. to 1 = "not exactly recoverable", for comparisons.)

**Audit (the attacker's intervals).** Only relations with an unknown term matter; published terms
move to the bounds. A relation with one unknown gives it exactly (substituted repeatedly, no LP).
The rest splits into connected components (``scipy.sparse.csgraph``); a one-cell component is
solved in closed form; each larger one gets one HiGHS model, re-solved with one objective after the
other and warm-started by the primal simplex. Every LP solution is a feasible table, so it proves
``lo ≤ x_j ≤ hi`` for all cells at once: a few LPs pushing the open cells in random directions
(fixed seed) settle most bounds (``0``, or an upper bound implied by a single relation, attained),
and only the remaining ones get an LP of their own.

**Secondary suppression.** Published totals are the true totals, so protection comes only from
suppressing more cells. ``protect`` loops: (1) the audit finds the primary cells that are too
narrow; (2) for each of them, in a fixed order (largest deficit first), one LP looks for attacker
tables ``x⁺`` (and ``x⁻``) that satisfy every relation, agree with the published values except on
cells it may move, and differ by at least ``threshold`` in that cell; moving a published cell costs
its weight per unit, already suppressed cells move for free — the LP relaxation of Fischetti &
Salazar's model for one sensitive cell. Every published cell the optimum moves is suppressed: the
tables then *prove* the cell protected, and since suppressing more only widens intervals, it stays
protected. The LP lives on a neighbourhood of the cell (cells up to ``d`` relations away, ``d`` =
the number of relations of the cell: the corners of a ``d``-dimensional cube), the rest held at
its true values — a restriction, so its solutions remain proofs — and is widened when infeasible,
or once when its solution would suppress a total. (3) The audit is run again and must be clean,
otherwise the loop continues (``DisclosureError`` after ``max_rounds``). Like τ-ARGUS's Modular
and Optimal methods this uses an exact solver (HiGHS) for both the choice and the proof; nothing
is published that the final LP audit has not verified.

**Costs.** A cell's weight is by default ``1 + value`` (small cells first, zeros not free), times
``1 + k`` for a cell that is the total of ``k`` relations, so a total is chosen only when no
combination of cells is cheaper; ``cost="log"`` uses ``1 + ln(1 + value)``, ``cost="unity"``
counts cells, a ``weight`` column overrides. Zeros are complements only when nothing else works
(a suppressed zero hides only upwards). Information loss is reported as the number and the sum of
values of the secondary cells.

**Determinism.** Cells are sorted by key; components and cells are processed in a fixed order;
HiGHS is deterministic and the only random directions come from a fixed seed: the same input
gives the same suppression pattern.

The LPs use scipy's bundled HiGHS bindings (``scipy.optimize._highspy``, scipy ≥ 1.15) to keep a
model between solves; without them every LP is a ``scipy.optimize.linprog(method="highs")``.
Everything is vectorised over cells; Python loops run over relation kinds, components and the
cells that need an LP of their own.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse import csgraph

from ksz_reports.core.errors import DisclosureError
from ksz_reports.core.schema import DIMENSIONS, KEY_COLUMNS, TOTAL

try:  # scipy's bundled HiGHS bindings: a persistent model that warm-starts (no extra dependency)
    from scipy.optimize._highspy import _core as _hcore
except Exception:  # pragma: no cover - depends on the scipy build
    _hcore = None

__all__ = [
    "PUBLISHED",
    "SUPPRESSED",
    "SECONDARY",
    "NOT_AVAILABLE",
    "STATUSES",
    "Relation",
    "GroupRelations",
    "LinkedTable",
    "Intervals",
    "Protection",
    "make_linked_table",
    "build_linked_table",
    "default_geo_hierarchy",
    "attacker_intervals",
    "primary_mask",
    "protect",
    "blank_derived",
]

PUBLISHED = "published"
SUPPRESSED = "suppressed"
SECONDARY = "secondary"
NOT_AVAILABLE = "not_available"
#: Every status a cell can get, in code order.
STATUSES: tuple[str, ...] = (PUBLISHED, SUPPRESSED, SECONDARY, NOT_AVAILABLE)
STATUS_DTYPE = pd.CategoricalDtype(list(STATUSES))

_PUB, _SUP, _SEC, _NA = 0, 1, 2, 3

#: Numerical slack: an interval is narrow when ``hi − lo < threshold − EPS``.
EPS = 1e-6
#: At most this many random-direction certificate LPs per component before per-cell LPs.
_CERTIFICATE_ROUNDS = 12
#: Extra width the protection LP asks for, so that rounding never fails the audit.
_MARGIN = 1e-4

Cost = Literal["value", "log", "unity"]


# --------------------------------------------------------------------------------------------
# Linear programs: one persistent HiGHS model, re-solved with another objective / extra row.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Result:
    status: str  # "optimal", "infeasible", "unbounded", "error"
    x: np.ndarray | None
    objective: float


class _LP:
    """``min/max c·x  s.t. row_lower ≤ M x ≤ row_upper, col_lower ≤ x ≤ col_upper``.

    With scipy's bundled HiGHS bindings the model is built once and every :meth:`solve` starts
    from the previous optimal basis (only the objective, a bound or one row changes); without them
    each solve is a fresh ``scipy.optimize.linprog(method="highs")``.
    """

    def __init__(
        self,
        matrix: sp.spmatrix,
        col_lower: np.ndarray,
        col_upper: np.ndarray,
        row_lower: np.ndarray,
        row_upper: np.ndarray,
        *,
        primal: bool = False,
        backend: str | None = None,
    ):
        matrix = sp.csc_matrix(matrix, dtype=np.float64)
        self.n = matrix.shape[1]
        self.solves = 0
        self._cost = np.zeros(self.n)
        self._maximize = False
        self._col_lower = np.asarray(col_lower, dtype=np.float64).copy()
        self._col_upper = np.asarray(col_upper, dtype=np.float64).copy()
        self._extra: list[tuple[np.ndarray, np.ndarray, float, float]] = []
        self.backend = backend or ("highs" if _hcore is not None else "linprog")
        if self.backend == "highs":
            h = _hcore._Highs()
            h.setOptionValue("output_flag", False)
            h.setOptionValue("presolve", "off")
            if primal:  # re-solves after an objective change start primal feasible
                h.setOptionValue("simplex_strategy", 4)
            status = h.passModel(
                self.n,
                matrix.shape[0],
                matrix.nnz,
                int(_hcore.MatrixFormat.kColwise),
                int(_hcore.ObjSense.kMinimize),
                0.0,
                self._cost,
                self._col_lower,
                _inf_to_highs(self._col_upper),
                _inf_to_highs(np.asarray(row_lower, dtype=np.float64)),
                _inf_to_highs(np.asarray(row_upper, dtype=np.float64)),
                matrix.indptr.astype(np.int32),
                matrix.indices.astype(np.int32),
                matrix.data,
                np.zeros(self.n, dtype=np.int32),
            )
            if status != _hcore.HighsStatus.kOk:
                raise DisclosureError(f"HiGHS refused the LP model ({status})")
            self._h = h
        else:
            self._matrix = matrix.tocsr()
            self._row_lower = np.asarray(row_lower, dtype=np.float64)
            self._row_upper = np.asarray(row_upper, dtype=np.float64)

    # -- model changes ----------------------------------------------------------------------
    def set_cost(self, cost: np.ndarray, maximize: bool = False) -> None:
        """Replace the objective (only changed coefficients are sent to HiGHS)."""
        cost = np.asarray(cost, dtype=np.float64)
        if self.backend == "highs":
            changed = np.flatnonzero(cost != self._cost).astype(np.int32)
            if changed.size:
                self._h.changeColsCost(changed.size, changed, cost[changed])
            if maximize != self._maximize:
                sense = _hcore.ObjSense.kMaximize if maximize else _hcore.ObjSense.kMinimize
                self._h.changeObjectiveSense(sense)
        self._cost = cost.copy()
        self._maximize = maximize

    def set_col_upper(self, upper: np.ndarray) -> None:
        """Replace the upper bounds of the columns."""
        upper = np.asarray(upper, dtype=np.float64)
        if self.backend == "highs":
            changed = np.flatnonzero(upper != self._col_upper).astype(np.int32)
            if changed.size:
                self._h.changeColsBounds(
                    changed.size,
                    changed,
                    self._col_lower[changed],
                    _inf_to_highs(upper[changed]),
                )
        self._col_upper = upper.copy()

    def add_row(self, index: np.ndarray, value: np.ndarray, lower: float, upper: float) -> None:
        """Append one constraint row (removed again by :meth:`pop_row`)."""
        index = np.asarray(index, dtype=np.int32)
        value = np.asarray(value, dtype=np.float64)
        if self.backend == "highs":
            self._h.addRow(
                float(_inf_to_highs(np.array([lower]))[0]),
                float(_inf_to_highs(np.array([upper]))[0]),
                index.size,
                index,
                value,
            )
        self._extra.append((index, value, lower, upper))

    def pop_row(self) -> None:
        """Remove the last row added with :meth:`add_row`."""
        self._extra.pop()
        if self.backend == "highs":
            last = self._h.getNumRow() - 1
            self._h.deleteRows(1, np.array([last], dtype=np.int32))

    # -- solve --------------------------------------------------------------------------------
    def solve(self) -> _Result:
        """Solve the current model."""
        self.solves += 1
        if self.backend == "highs":
            return self._solve_highs()
        return self._solve_linprog()

    def _solve_highs(self) -> _Result:
        h = self._h
        h.run()
        status = h.getModelStatus()
        ms = _hcore.HighsModelStatus
        if status == ms.kUnboundedOrInfeasible:
            h.setOptionValue("presolve", "off")
            h.run()
            status = h.getModelStatus()
            h.setOptionValue("presolve", "off")
        if status == ms.kOptimal:
            x = np.asarray(h.getSolution().col_value, dtype=np.float64)
            return _Result("optimal", x, float(h.getInfo().objective_function_value))
        if status == ms.kInfeasible:
            return _Result("infeasible", None, np.nan)
        if status == ms.kUnbounded:
            return _Result("unbounded", None, np.inf if self._maximize else -np.inf)
        return _Result("error", None, np.nan)

    def _solve_linprog(self) -> _Result:
        from scipy.optimize import linprog

        matrix, lower, upper = self._matrix, self._row_lower, self._row_upper
        if self._extra:
            rows = [
                sp.csr_matrix((v, (np.zeros(i.size, dtype=int), i)), shape=(1, self.n))
                for i, v, _, _ in self._extra
            ]
            matrix = sp.vstack([matrix, *rows]).tocsr()
            lower = np.concatenate([lower, [e[2] for e in self._extra]])
            upper = np.concatenate([upper, [e[3] for e in self._extra]])
        eq = np.isfinite(lower) & np.isfinite(upper) & (lower == upper)
        has_up = np.isfinite(upper) & ~eq
        has_lo = np.isfinite(lower) & ~eq
        a_ub = sp.vstack([matrix[has_up], -matrix[has_lo]]).tocsr()
        b_ub = np.concatenate([upper[has_up], -lower[has_lo]])
        sign = -1.0 if self._maximize else 1.0
        bounds = np.column_stack(
            [self._col_lower, np.where(np.isfinite(self._col_upper), self._col_upper, np.nan)]
        )
        res = linprog(
            sign * self._cost,
            A_ub=a_ub if a_ub.shape[0] else None,
            b_ub=b_ub if a_ub.shape[0] else None,
            A_eq=matrix[eq] if eq.any() else None,
            b_eq=lower[eq] if eq.any() else None,
            bounds=[(lo, None if np.isnan(up) else up) for lo, up in bounds],
            method="highs",
        )
        if res.status == 0:
            return _Result("optimal", np.asarray(res.x), sign * float(res.fun))
        if res.status == 2:
            return _Result("infeasible", None, np.nan)
        if res.status == 3:
            return _Result("unbounded", None, np.inf if self._maximize else -np.inf)
        return _Result("error", None, np.nan)


def _inf_to_highs(a: np.ndarray) -> np.ndarray:
    """HiGHS wants its own infinity (1e30); numpy's inf is mapped onto it."""
    inf = _hcore.kHighsInf if _hcore is not None else np.inf
    return np.where(np.isposinf(a), inf, np.where(np.isneginf(a), -inf, a))


# --------------------------------------------------------------------------------------------
# The linked table
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Relation:
    """One linear relation ``|Σ coef · x[key]| ≤ tol`` between cells (``tol = 0``: exact)."""

    terms: tuple[tuple[Hashable, float], ...]
    tol: float = 0.0
    kind: str = "extra"

    @classmethod
    def sum(
        cls,
        total: Hashable,
        members: Iterable[Hashable],
        *,
        coef: float = 1.0,
        tol: float = 0.0,
        kind: str = "extra",
    ) -> Relation:
        """``coef × total = Σ members`` (within ``tol``), e.g. ``coef=12, tol=6`` for a yearly
        average rounded to an integer and its twelve months."""
        return cls(((total, float(coef)), *((m, -1.0) for m in members)), float(tol), kind)


RelationLike = Relation | tuple[Hashable, Iterable[Hashable]]
HierarchyLike = Mapping[str, Iterable[str]] | pd.DataFrame


@dataclass(frozen=True)
class GroupRelations:
    """``total_coef × cell[column = parent] = Σ cell[column = child]`` for every combination of
    the other key columns where the parent and *all* its children are present.

    ``groups`` maps parent → children (or is a DataFrame with ``parent, child``); a child may have
    several parents. Examples: the geography (``column="geo"``), merged municipalities
    (``{"23106": ["23023", "23024", ...]}``), a yearly average of months (``column="period"``,
    ``total_coef=12``, ``tol=6``, ``indicators={"ll"}``).
    """

    column: str
    groups: HierarchyLike
    total_coef: float = 1.0
    tol: float = 0.0
    indicators: frozenset[str] | None = None
    kind: str | None = None


@dataclass(frozen=True, eq=False)
class LinkedTable:
    """Cells and the additive relations between them.

    ``cells`` is indexed by the unique cell id and has ``value`` (float, NaN = masked at source)
    and ``weight`` (cost of suppressing the cell), plus any key columns it was built from.
    ``matrix`` (relations × cells, CSR) and ``tol`` encode ``|matrix @ x| ≤ tol``; ``relations``
    describes each row (``kind``, ``total`` = position of the aggregate cell or −1, ``size``).
    """

    cells: pd.DataFrame
    matrix: sp.csr_matrix
    tol: np.ndarray
    relations: pd.DataFrame

    @property
    def n_cells(self) -> int:
        """Number of cells (variables)."""
        return self.matrix.shape[1]

    @property
    def n_relations(self) -> int:
        """Number of relations (rows)."""
        return self.matrix.shape[0]

    @property
    def values(self) -> np.ndarray:
        """Cell values as float64, NaN where masked at source."""
        return self.cells["value"].to_numpy(dtype=np.float64, na_value=np.nan)

    @property
    def weights(self) -> np.ndarray:
        """Suppression costs as float64."""
        return self.cells["weight"].to_numpy(dtype=np.float64)

    def violated_relations(self, values: np.ndarray | None = None) -> np.ndarray:
        """Positions of the relations whose terms are all known and that do not hold."""
        values = self.values if values is None else np.asarray(values, dtype=np.float64)
        unknown = np.isnan(values)
        pattern = self.matrix.copy()
        pattern.data = np.ones_like(pattern.data)
        all_known = (pattern @ unknown.astype(np.float64)) == 0
        residual = self.matrix @ np.nan_to_num(values)
        scale = 1.0 + abs(self.matrix) @ np.abs(np.nan_to_num(values))
        bad = all_known & (np.abs(residual) > self.tol + 1e-9 * scale)
        return np.flatnonzero(bad)

    def describe_relation(self, row: int) -> str:
        """A readable form of one relation (for error messages)."""
        lo, hi = self.matrix.indptr[row], self.matrix.indptr[row + 1]
        coefs = self.matrix.data[lo:hi]
        labels = [self.cell_label(int(p)) for p in self.matrix.indices[lo:hi]]
        terms = " ".join(f"{c:+g}·{lab}" for c, lab in zip(coefs, labels, strict=True))
        tol = self.tol[row]
        return f"{terms} = 0" + (f" ± {tol:g}" if tol else "")

    def cell_label(self, position: int) -> str:
        """A readable name of the cell at ``position``: its key columns, else its id."""
        row = self.cells.iloc[position]
        if all(c in self.cells.columns for c in KEY_COLUMNS):
            parts = [f"{row[c]}" for c in KEY_COLUMNS if row[c] != TOTAL or c in ("indicator",)]
            return "(" + ",".join(parts) + ")"
        return str(self.cells.index[position])


def _weights(values: np.ndarray, total_roles: np.ndarray, cost: Cost) -> np.ndarray:
    v = np.nan_to_num(values, nan=0.0)
    if cost == "value":
        base = 1.0 + v
    elif cost == "log":
        base = 1.0 + np.log1p(v)
    elif cost == "unity":
        base = np.ones_like(v)
    else:
        raise ValueError(f"unknown cost {cost!r} (value, log or unity)")
    return base * (1.0 + total_roles)


def _finish_table(
    cells: pd.DataFrame,
    rows: np.ndarray,
    cols: np.ndarray,
    data: np.ndarray,
    tol: np.ndarray,
    kind: np.ndarray,
    total: np.ndarray,
    cost: Cost,
    check: bool,
) -> LinkedTable:
    """Assemble the sparse matrix, drop empty relations, compute default weights, check."""
    n = len(cells)
    n_rel = len(tol)
    matrix = sp.csr_matrix((data, (rows, cols)), shape=(n_rel, n), dtype=np.float64)
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    size = np.diff(matrix.indptr)
    keep = size >= 2
    matrix = matrix[keep]
    relations = pd.DataFrame(
        {"kind": np.asarray(kind)[keep], "total": np.asarray(total)[keep], "size": size[keep]}
    )
    tol = np.asarray(tol, dtype=np.float64)[keep]
    cells = cells.copy()
    values = cells["value"].to_numpy(dtype=np.float64, na_value=np.nan)
    if "weight" not in cells.columns or cells["weight"].isna().any():
        tot = relations["total"].to_numpy()
        roles = np.bincount(tot[tot >= 0], minlength=n).astype(np.float64)
        default = _weights(values, roles, cost)
        if "weight" in cells.columns:
            given = pd.to_numeric(cells["weight"]).to_numpy(dtype=np.float64, na_value=np.nan)
            default = np.where(np.isnan(given), default, given)
        cells["weight"] = default
    weights = cells["weight"].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(weights) & (weights > 0)):
        raise DisclosureError("every cell weight must be a positive finite number")
    table = LinkedTable(cells, matrix.tocsr(), tol, relations)
    if check:
        bad = table.violated_relations()
        if bad.size:
            raise DisclosureError(
                f"{bad.size} relation(s) do not hold in the data, e.g. "
                f"{table.describe_relation(int(bad[0]))} — overlapping categories, an incomplete "
                "breakdown or an aggregate that is not the sum of its parts"
            )
    return table


def _cell_frame(cells: pd.DataFrame) -> pd.DataFrame:
    """Validate ``value`` (non-negative, NA = masked) and return a frame with float values."""
    if "value" not in cells.columns:
        raise DisclosureError("the cell table has no 'value' column")
    out = cells.copy()
    try:
        values = pd.to_numeric(out["value"], errors="raise").astype("Float64")
    except (TypeError, ValueError) as exc:
        raise DisclosureError(f"cell values must be numbers or empty (masked): {exc}") from exc
    if (values < 0).any():
        raise DisclosureError("cell values must not be negative")
    out["value"] = values
    return out


def make_linked_table(
    cells: pd.DataFrame,
    relations: Iterable[RelationLike] = (),
    *,
    cost: Cost = "value",
    check: bool = True,
) -> LinkedTable:
    """A linked table from cells with ids and explicit relations.

    ``cells`` has a unique ``cell_id`` column (or a unique index), ``value`` (NA = masked at the
    source) and optionally ``weight``. Each relation is a :class:`Relation` or a pair
    ``(total_id, [member_ids])``. With ``check`` a relation whose terms are all known and that
    does not hold raises :class:`DisclosureError`.
    """
    frame = _cell_frame(cells)
    if "cell_id" in frame.columns:
        frame = frame.set_index("cell_id")
    if not frame.index.is_unique:
        dup = frame.index[frame.index.duplicated()][0]
        raise DisclosureError(f"cell id {dup!r} occurs twice")
    rels = [r if isinstance(r, Relation) else Relation.sum(r[0], r[1]) for r in relations]
    sizes = np.array([len(r.terms) for r in rels], dtype=np.int64)
    keys = [k for r in rels for k, _ in r.terms]
    coefs = np.array([c for r in rels for _, c in r.terms], dtype=np.float64)
    pos = frame.index.get_indexer(keys) if keys else np.zeros(0, dtype=np.int64)
    if (pos < 0).any():
        missing = keys[int(np.flatnonzero(pos < 0)[0])]
        raise DisclosureError(f"a relation names cell {missing!r}, which is not in the table")
    rows = np.repeat(np.arange(len(rels)), sizes)
    total = np.full(len(rels), -1, dtype=np.int64)
    has = sizes > 0
    first = (np.cumsum(sizes) - sizes)[has]
    total[has] = np.where(coefs[first] > 0, pos[first], -1)
    return _finish_table(
        frame,
        rows,
        pos,
        coefs,
        np.array([r.tol for r in rels], dtype=np.float64),
        np.array([r.kind for r in rels], dtype=object),
        total,
        cost,
        check,
    )


# --------------------------------------------------------------------------------------------
# Builder from the product's cell tables
# --------------------------------------------------------------------------------------------


def default_geo_hierarchy(municipalities: pd.DataFrame | None = None) -> dict[str, list[str]]:
    """Belgian geography, parent → children: arrondissement → municipalities, province →
    arrondissements, region → provinces (Brussels: arrondissement 21000 directly), ``01000`` →
    regions. Read from the shipped reference list unless a frame with the same columns is given.
    """
    m = _reference_municipalities() if municipalities is None else municipalities
    pairs = [
        pd.DataFrame({"parent": m["arrondissement_nis"], "child": m["nis"]}),
        pd.DataFrame(
            {
                "parent": m["province_nis"].where(m["province_nis"] != "", m["region_nis"]),
                "child": m["arrondissement_nis"],
            }
        ),
        pd.DataFrame({"parent": m["region_nis"], "child": m["province_nis"]}),
        pd.DataFrame({"parent": "01000", "child": m["region_nis"]}),
    ]
    frame = pd.concat(pairs, ignore_index=True)
    frame = frame[(frame["child"] != "") & (frame["parent"] != "")].drop_duplicates()
    frame = frame.sort_values(["parent", "child"])
    return {p: list(g["child"]) for p, g in frame.groupby("parent", sort=True)}


@functools.cache
def _reference_municipalities() -> pd.DataFrame:
    from ksz_reports.core.resources import data_path

    return pd.read_csv(data_path("municipalities.csv"), dtype=str, keep_default_na=False)


def _pairs(groups: HierarchyLike) -> pd.DataFrame:
    if isinstance(groups, pd.DataFrame):
        frame = groups[["parent", "child"]].astype(str)
    else:
        items = [(str(p), str(c)) for p, children in groups.items() for c in children]
        frame = pd.DataFrame(items, columns=["parent", "child"])
    return frame.drop_duplicates().reset_index(drop=True)


def _dense_key(columns: Sequence[np.ndarray], sizes: Sequence[int]) -> np.ndarray:
    """One dense int64 code per distinct combination of integer code columns."""
    if not columns:
        return np.zeros(0, dtype=np.int64)
    n = len(columns[0])
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    radix = 1
    for s in sizes:
        radix *= max(int(s), 1)
    if radix < 2**62:
        key = np.zeros(n, dtype=np.int64)
        for c, s in zip(columns, sizes, strict=True):
            key = key * max(int(s), 1) + c
        return np.unique(key, return_inverse=True)[1].astype(np.int64)
    stacked = np.column_stack(columns)
    return np.unique(stacked, axis=0, return_inverse=True)[1].reshape(-1).astype(np.int64)


class _RelationCollector:
    """Accumulates COO triplets of relations."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.data: list[np.ndarray] = []
        self.tol: list[np.ndarray] = []
        self.kind: list[np.ndarray] = []
        self.total: list[np.ndarray] = []
        self.count = 0

    def add_groups(
        self,
        total_rows: np.ndarray,
        member_rows: np.ndarray,
        member_rel: np.ndarray,
        *,
        total_coef: float,
        tol: float,
        kind: str,
    ) -> None:
        """Relations ``total_coef × total_rows[k] − Σ members with member_rel == k``."""
        k = len(total_rows)
        if k == 0:
            return
        base = self.count
        self.rows += [base + np.arange(k), base + member_rel]
        self.cols += [total_rows, member_rows]
        self.data += [np.full(k, float(total_coef)), np.full(len(member_rows), -1.0)]
        self.tol.append(np.full(k, float(tol)))
        self.kind.append(np.full(k, kind, dtype=object))
        self.total.append(total_rows.astype(np.int64))
        self.count += k

    def arrays(self) -> tuple[np.ndarray, ...]:
        def cat(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

        return (
            cat(self.rows, np.int64),
            cat(self.cols, np.int64),
            cat(self.data, np.float64),
            cat(self.tol, np.float64),
            cat(self.kind, object),
            cat(self.total, np.int64),
        )


def _canonical_keys(cells: pd.DataFrame) -> pd.DataFrame:
    """Key columns as strings, deduplicated by key (one count = one cell), sorted by key."""
    missing = [c for c in KEY_COLUMNS if c not in cells.columns]
    if missing:
        raise DisclosureError(f"the cell table lacks key column(s) {', '.join(missing)}")
    frame = _cell_frame(cells[[*KEY_COLUMNS, "value", *(["weight"] if "weight" in cells else [])]])
    for c in KEY_COLUMNS:
        frame[c] = frame[c].astype(str)
    frame = frame.drop_duplicates(subset=[*KEY_COLUMNS, "value"])
    dup = frame.duplicated(subset=list(KEY_COLUMNS), keep=False)
    if dup.any():
        row = frame[dup].iloc[0]
        key = ", ".join(f"{c}={row[c]}" for c in KEY_COLUMNS)
        raise DisclosureError(f"one cell, two values: {key}")
    return frame.sort_values(list(KEY_COLUMNS), kind="stable").reset_index(drop=True)


def build_linked_table(
    cells: pd.DataFrame,
    hierarchy: HierarchyLike | None = None,
    *,
    groups: Iterable[GroupRelations] = (),
    extra_relations: Iterable[RelationLike] = (),
    cost: Cost = "value",
    check: bool = True,
) -> LinkedTable:
    """The linked table of the product's cells (canonical key columns + ``value``).

    Relations generated (vectorised, on integer codes):

    * for every breakdown dimension ``d``: the row with ``d = total`` equals the sum of the rows
      with the other categories of ``d`` and all other key columns equal — when the group holds
      every category of ``d`` that occurs for its indicator (the code lists are partitions);
    * geography: ``hierarchy`` maps parent → children (``None``: the Belgian geography of
      :func:`default_geo_hierarchy`; ``{}``: none); a relation when the parent and all its
      children are present;
    * ``groups``: further :class:`GroupRelations` (mergers, yearly average of months, …);
    * ``extra_relations``: explicit :class:`Relation` s or ``(total_key, [member_keys])`` whose
      keys are tuples in ``KEY_COLUMNS`` order (relations naming an absent cell are skipped: the
      attacker cannot use them either).

    The same count given several times (several tables) becomes one cell; one key with two values
    raises :class:`DisclosureError`. Cells are sorted by key; the cell id is the key tuple.
    """
    frame = _canonical_keys(cells)
    codes: dict[str, np.ndarray] = {}
    sizes: dict[str, int] = {}
    for c in KEY_COLUMNS:
        code, uniques = pd.factorize(frame[c], sort=True)
        codes[c] = code.astype(np.int64)
        sizes[c] = len(uniques)
    out = _RelationCollector()

    ind = codes["indicator"]
    for d in DIMENSIONS:
        col = frame[d].to_numpy()
        is_tot = col == TOTAL
        if not is_tot.any() or is_tot.all():
            continue
        others = [c for c in KEY_COLUMNS if c != d]
        gkey = _dense_key([codes[c] for c in others], [sizes[c] for c in others])
        mem = np.flatnonzero(~is_tot)
        # categories of d that occur per indicator (the complete list of the group)
        pairs = np.unique(ind[mem] * sizes[d] + codes[d][mem])
        required = np.bincount(pairs // sizes[d], minlength=sizes["indicator"])
        uniq, inv, cnt = np.unique(gkey[mem], return_inverse=True, return_counts=True)
        g_ind = np.zeros(len(uniq), dtype=np.int64)
        g_ind[inv] = ind[mem]
        complete = cnt == required[g_ind]
        tot = np.flatnonzero(is_tot)
        _link_totals(out, tot, gkey[tot], uniq, complete, mem, inv, 1.0, 0.0, d)

    specs = list(groups)
    if hierarchy is None:
        hierarchy = default_geo_hierarchy()
    if len(hierarchy):
        specs.insert(0, GroupRelations("geo", hierarchy, kind="geo"))
    for spec in specs:
        _group_relations(out, frame, codes, sizes, spec)

    rows, cols, data, tol, kind, total = out.arrays()
    extra = [r if isinstance(r, Relation) else Relation.sum(r[0], r[1]) for r in extra_relations]
    if extra:
        index = pd.MultiIndex.from_frame(frame[list(KEY_COLUMNS)])
        keys = [tuple(str(p) for p in _key_tuple(k)) for r in extra for k, _ in r.terms]
        pos = index.get_indexer(keys)
        sizes_r = np.array([len(r.terms) for r in extra])
        rel_of = np.repeat(np.arange(len(extra)), sizes_r)
        usable = np.ones(len(extra), dtype=bool)
        np.logical_and.at(usable, rel_of, pos >= 0)
        take = usable[rel_of]
        remap = np.cumsum(usable) - 1 + out.count
        coefs = np.array([c for r in extra for _, c in r.terms], dtype=np.float64)
        first = np.concatenate([[0], np.cumsum(sizes_r)[:-1]])
        rows = np.concatenate([rows, remap[rel_of[take]]])
        cols = np.concatenate([cols, pos[take]])
        data = np.concatenate([data, coefs[take]])
        tol = np.concatenate([tol, [r.tol for r, u in zip(extra, usable, strict=True) if u]])
        kind = np.concatenate([kind, [r.kind for r, u in zip(extra, usable, strict=True) if u]])
        tot = np.where(coefs[first] > 0, pos[first], -1)[usable]
        total = np.concatenate([total, tot])
    frame.index.name = "cell_id"
    return _finish_table(frame, rows, cols, data, tol, kind, total, cost, check)


def _key_tuple(key: Any) -> tuple:
    if isinstance(key, Mapping):
        return tuple(key.get(c, TOTAL) for c in KEY_COLUMNS)
    return tuple(key)


def _link_totals(
    out: _RelationCollector,
    total_rows: np.ndarray,
    total_gkey: np.ndarray,
    uniq: np.ndarray,
    complete: np.ndarray,
    member_rows: np.ndarray,
    member_group: np.ndarray,
    total_coef: float,
    tol: float,
    kind: str,
) -> None:
    """Relate each total row to the complete member group with the same group key."""
    if len(uniq) == 0 or len(total_rows) == 0:
        return
    tk = total_gkey
    pos = np.searchsorted(uniq, tk)
    posc = np.minimum(pos, len(uniq) - 1)
    ok = (pos < len(uniq)) & (uniq[posc] == tk)
    ok &= complete[posc]
    rel_of_group = np.full(len(uniq), -1, dtype=np.int64)
    rel_of_group[posc[ok]] = np.arange(int(ok.sum()))
    m_rel = rel_of_group[member_group]
    keep = m_rel >= 0
    out.add_groups(
        total_rows[ok],
        member_rows[keep],
        m_rel[keep],
        total_coef=total_coef,
        tol=tol,
        kind=kind,
    )


def _group_relations(
    out: _RelationCollector,
    frame: pd.DataFrame,
    codes: dict[str, np.ndarray],
    sizes: dict[str, int],
    spec: GroupRelations,
) -> None:
    """Vectorised ``parent = Σ children`` along ``spec.column`` for all other key combinations."""
    c = spec.column
    if c not in KEY_COLUMNS:
        raise DisclosureError(f"group relations on {c!r}, which is not a key column")
    pairs = _pairs(spec.groups)
    if pairs.empty or len(frame) == 0:
        return
    names = pd.Index(pd.unique(pd.concat([frame[c], pairs["parent"], pairs["child"]])))
    ccode = names.get_indexer(frame[c]).astype(np.int64)
    pc = names.get_indexer(pairs["parent"]).astype(np.int64)
    cc = names.get_indexer(pairs["child"]).astype(np.int64)
    n_children = np.bincount(pc, minlength=len(names))
    eligible = np.ones(len(frame), dtype=bool)
    if spec.indicators is not None:
        eligible = frame["indicator"].isin(list(spec.indicators)).to_numpy()
    others = [k for k in KEY_COLUMNS if k != c]
    gkey = _dense_key([codes[k] for k in others], [sizes[k] for k in others])
    n_names = len(names)
    # members: each eligible row whose value of `column` is a child, once per parent
    rows_df = pd.DataFrame({"row": np.flatnonzero(eligible), "child": ccode[eligible]})
    link = rows_df.merge(pd.DataFrame({"child": cc, "parent": pc}), on="child", how="inner")
    if link.empty:
        return
    m_rows = link["row"].to_numpy(dtype=np.int64)
    m_parent = link["parent"].to_numpy(dtype=np.int64)
    mk = gkey[m_rows] * n_names + m_parent
    uniq, inv, cnt = np.unique(mk, return_inverse=True, return_counts=True)
    g_parent = np.zeros(len(uniq), dtype=np.int64)
    g_parent[inv] = m_parent
    complete = cnt == n_children[g_parent]
    t_rows = np.flatnonzero(eligible & (n_children[ccode] > 0))
    tk = gkey[t_rows] * n_names + ccode[t_rows]
    _link_totals(
        out, t_rows, tk, uniq, complete, m_rows, inv, spec.total_coef, spec.tol, spec.kind or c
    )


# --------------------------------------------------------------------------------------------
# The attacker: intervals by linear programming
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Intervals:
    """What an attacker can derive about each target cell.

    ``lo``/``hi`` per cell (NaN for non-targets): the exact LP bounds where ``exact``. Otherwise
    (``exact=False`` runs) they are *inner* bounds when ``hi − lo ≥ threshold`` (values attained
    by feasible tables: the cell is proven wide enough) and *outer* bounds when narrower (``0`` or
    the exact minimum, and an upper bound implied by one relation: the cell is proven narrow), so
    the verdict of :meth:`narrow` is exact either way. ``lo_seen``/``hi_seen`` are the smallest and
    largest values attained by the feasible tables the solver met (inner bounds, always valid).
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
    threshold: float | None = None,
    exact: bool = True,
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
    feasible tables, or proven narrower by ``upper bound − 0 < threshold``, gets no LP of its own
    (see :class:`Intervals` for what ``lo``/``hi`` then hold).
    """
    t0 = time.perf_counter()
    matrix = sp.csr_matrix(matrix, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    unknown = np.asarray(unknown, dtype=bool)
    targets = np.asarray(targets, dtype=bool) & unknown
    tol = np.asarray(tol, dtype=np.float64)
    n = matrix.shape[1]
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
        negative = x < -1e-6 * row_scale[single][r_local]
        if clash.any() or negative.any():
            bad_rows.append(row_ids[single[r_local[clash | negative]]])
            bad_cells[unk_idx[j[clash | negative]]] = True
        known_u[j[first]] = True
        val_u[j[first]] = np.maximum(_clean(x[first]), 0.0)
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
    # unknown cells in no relation: anything ≥ 0
    free = np.diff(ar.tocsc().indptr) == 0
    lo[cell_of[free]] = 0.0
    hi[cell_of[free]] = np.inf
    is_exact[cell_of[free]] = True

    m_r, n_r = ar.shape
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
            _single_cell_bounds(ar, bl, bu, s_cols, cell_of, lo, hi, is_exact, bad_cells)
        for k in np.flatnonzero(has_target & (sizes > 1)):
            cols = np.sort(col_order[col_bounds[k] : col_bounds[k + 1]])
            rows = np.sort(row_order[row_bounds[k] : row_bounds[k + 1]])
            sub = ar[rows][:, cols]
            res = _component_bounds(sub, bl[rows], bu[rows], tgt[cols], threshold, exact)
            solves += res["solves"]
            n_comp += 1
            pos = cell_of[cols]
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
) -> None:
    """Closed-form interval of cells that are alone in their component."""
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
    lows = np.zeros(len(cols))
    ups = np.full(len(cols), np.inf)
    np.maximum.at(lows, owner, low)
    np.minimum.at(ups, owner, up)
    lows, ups = _clean(np.maximum(lows, 0.0)), _clean(ups)
    pos = cell_of[cols]
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


def _component_bounds(
    sub: sp.csr_matrix,
    bl: np.ndarray,
    bu: np.ndarray,
    target: np.ndarray,
    threshold: float | None,
    exact: bool,
) -> dict[str, Any]:
    """Intervals of the target columns of one connected component (see attacker_intervals).

    Returns a dict with ``lo, hi, exact, lo_seen, hi_seen`` (per column), ``solves`` and
    ``infeasible``.
    """
    k = sub.shape[1]
    upper = _clean(_implied_upper(sub, bl, bu))
    finite = np.concatenate([bl[np.isfinite(bl)], bu[np.isfinite(bu)]])
    cap = 10.0 * (float(np.abs(finite).sum()) + (threshold or 0.0) + 1.0)
    capped = np.where(np.isfinite(upper), upper, cap)
    lp = _LP(sub, np.zeros(k), upper, bl, bu, primal=True)
    best_lo = np.full(k, np.inf)
    best_hi = np.full(k, -np.inf)
    lo = np.full(k, np.nan)
    hi = np.full(k, np.nan)
    done_lo = np.zeros(k, dtype=bool)
    done_hi = np.zeros(k, dtype=bool)
    out: dict[str, Any] = {"solves": 0, "infeasible": False}
    quick = not exact and threshold is not None
    t = float(threshold) if threshold is not None else 0.0

    def finish(infeasible: bool = False) -> dict[str, Any]:
        out.update(solves=lp.solves, infeasible=infeasible, lo=lo, hi=hi)
        out.update(exact=done_lo & done_hi, lo_seen=_clean(best_lo), hi_seen=_clean(best_hi))
        return out

    def absorb(x: np.ndarray) -> None:
        np.minimum(best_lo, x, out=best_lo)
        np.maximum(best_hi, x, out=best_hi)
        z = ~done_lo & (best_lo <= 1e-7)
        lo[z] = 0.0
        done_lo[z] = True
        u = ~done_hi & np.isfinite(upper) & (best_hi >= upper - 1e-7)
        hi[u] = upper[u]
        done_hi[u] = True

    def open_cells() -> np.ndarray:
        """Targets whose bounds are still needed."""
        need = target & ~(done_lo & done_hi)
        if quick:
            wide = best_hi - best_lo >= t - EPS
            narrow = upper < t - EPS  # max − min ≤ upper − 0 < threshold, proven without LP
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
    lp.set_col_upper(upper)
    for j in np.flatnonzero(need):
        if not open_cells()[j]:
            continue
        for side in ("lo", "hi"):
            if (done_lo if side == "lo" else done_hi)[j]:
                continue
            cost = np.zeros(k)
            cost[j] = 1.0
            lp.set_cost(cost, maximize=side == "hi")
            r = lp.solve()
            if r.status == "optimal":
                absorb(r.x)
                value = float(_clean(np.array([r.objective]))[0])
                if side == "lo":
                    lo[j] = max(value, 0.0)
                    done_lo[j] = True
                else:
                    hi[j] = value
                    done_hi[j] = True
            elif r.status == "unbounded" and side == "hi":
                hi[j] = np.inf
                done_hi[j] = True
            elif r.status == "infeasible":
                return finish(True)
            else:
                raise DisclosureError(f"the attacker LP failed ({r.status})")
            if quick and not open_cells()[j]:
                break
    if quick:
        # not exact: wide cells get the inner bounds seen, narrow ones [exact lo or 0, upper]
        rest = target & ~(done_lo & done_hi)
        wide = rest & (best_hi - best_lo >= t - EPS)
        lo[wide] = np.where(done_lo[wide], lo[wide], _clean(best_lo[wide]))
        hi[wide] = np.where(done_hi[wide], hi[wide], _clean(best_hi[wide]))
        narrow = rest & ~wide
        lo[narrow] = np.where(done_lo[narrow], lo[narrow], 0.0)
        hi[narrow] = np.where(done_hi[narrow], hi[narrow], upper[narrow])
    return finish()


# --------------------------------------------------------------------------------------------
# Protection
# --------------------------------------------------------------------------------------------


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
        """Cells masked at the source."""
        return int((self.status == NOT_AVAILABLE).sum())

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
        """Every primary cell has an attacker interval at least ``min_width`` wide."""
        prim = (self.status == SUPPRESSED).to_numpy()
        return not bool((self.intervals.narrow(self.min_width) & prim).any())

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
) -> Protection:
    """Primary and secondary suppression of a linked table, verified by the LP audit.

    Returns a :class:`Protection` with per cell ``published``, ``suppressed`` (primary),
    ``secondary`` or ``not_available`` (masked at source). Every primary cell ends with an
    attacker interval ``hi − lo ≥ min_width`` (default: ``threshold``, the product's rule; a
    smaller value, e.g. 1 = "not exactly recoverable", exists for comparisons with other tools).
    With ``secondary=False`` only the primary rule is applied (the result's intervals then show
    what leaks). Raises :class:`DisclosureError` when the audit is not clean after
    ``max_rounds`` rounds, or the values contradict the relations.
    """
    if threshold < 1:
        raise DisclosureError("the threshold must be at least 1")
    required = float(threshold if min_width is None else min_width)
    if required <= 0:
        raise DisclosureError("the required interval width must be positive")
    t0 = time.perf_counter()
    values = table.values
    masked = np.isnan(values)
    primary = primary_mask(values, threshold)
    code = np.full(table.n_cells, _PUB, dtype=np.int8)
    code[masked] = _NA
    code[primary] = _SUP
    solves = 0
    timings = {"audit": 0.0, "complements": 0.0}
    rounds = 0
    margin = _MARGIN
    components: tuple[int, np.ndarray] | None = None
    while True:
        rounds += 1
        ta = time.perf_counter()
        iv = attacker_intervals(
            table.matrix,
            table.tol,
            values,
            code != _PUB,
            primary,
            threshold=required,
            exact=False,
        )
        timings["audit"] += time.perf_counter() - ta
        solves += iv.lp_solves
        if iv.inconsistent.any() or iv.inconsistent_relations.size:
            raise DisclosureError(
                "the cell values contradict the relations of the linked table; "
                "cannot protect an inconsistent publication"
            )
        failing = primary & iv.narrow(required)
        if not secondary or not failing.any():
            break
        if rounds > max_rounds:
            raise DisclosureError(
                f"secondary suppression did not converge in {max_rounds} rounds: "
                f"{int(failing.sum())} cell(s) still narrower than {required:g}"
            )
        tc = time.perf_counter()
        if components is None:
            components = _components(table.matrix)
        added, n_lp = _add_complements(
            table, code, values, failing, iv, required, margin, components
        )
        solves += n_lp
        timings["complements"] += time.perf_counter() - tc
        if not added:
            margin *= 10.0  # numerical: the LP proof held only within tolerances; ask for more
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


def _components(matrix: sp.csr_matrix) -> tuple[int, np.ndarray]:
    """Connected components of the cells (two cells are linked when they share a relation)."""
    m, n = matrix.shape
    pat = matrix.copy()
    pat.data = np.ones_like(pat.data)
    graph = sp.bmat([[None, pat], [pat.T, None]], format="csr")
    k, labels = csgraph.connected_components(graph, directed=False)
    return k, labels


def _add_complements(
    table: LinkedTable,
    code: np.ndarray,
    values: np.ndarray,
    failing: np.ndarray,
    iv: Intervals,
    threshold: float,
    margin: float,
    components: tuple[int, np.ndarray],
) -> tuple[int, int]:
    """Suppress complementary cells so that every failing cell gets a wide enough interval.

    For each failing cell ``i`` (deterministic order: component, larger deficit, larger value,
    position) one LP looks for attacker tables proving ``max x_i − min x_i ≥ threshold``. The LP
    lives on a neighbourhood of ``i``: the cells at most two relations away move (unknown ones
    freely, published candidates at the cost of their weight per unit), every other cell keeps its
    true value — a restriction, so a solution is still a proof. Candidates are first the published
    cells sharing a relation with ``i``, then those of the neighbourhood, then the whole connected
    component, zeros last. Cells the optimum moves are suppressed. When a table with ``x_i = 0`` is
    known, one table ``x⁺`` with ``x⁺_i ≥ threshold`` suffices; otherwise two tables ``x⁺, x⁻``
    with ``x⁺_i − x⁻_i ≥ threshold``. Every LP solution is kept as a certificate: a later failing
    cell already spread by ``threshold`` over the kept tables needs no LP.
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
    has_masked = bool(masked.any())
    totals = table.relations["total"].to_numpy()
    is_total = np.zeros(n, dtype=bool)
    is_total[totals[totals >= 0]] = True
    csr = table.matrix
    csc = table.matrix.tocsc()
    for i in fail_idx:
        if pt_max[i] - pt_min[i] >= threshold - EPS:
            continue
        # neighbourhoods: ring k = cells at most k relations away from i (computed on demand)
        depth = max(2, int(csc.indptr[i + 1] - csc.indptr[i]))  # a corner of a d-dim cube
        rings = [np.array([i])]

        def ring(k: int, rings: list[np.ndarray] = rings) -> np.ndarray:
            while len(rings) <= k:
                rings.append(_cells_of(csr, _rows_of(csc, rings[-1], m), n))
            return rings[k]

        low = 0.0 if pt_min[i] <= EPS else np.inf
        res = None
        widened = False
        scopes = (
            (depth, depth - 1),
            (depth, depth),
            (depth + 1, depth + 1),
            (depth + 2, depth + 2),
            ("component", 0),
            ("zeros", 0),
        )
        for scope, cand_ring in scopes:
            if scope in ("component", "zeros"):
                cells = np.flatnonzero(cell_lab == cell_lab[i])
            else:
                cells = ring(int(scope))
                if has_masked:
                    cells = _masked_closure(csr, csc, cells, masked)
            pub = code[cells] == _PUB
            cand = cells[pub]
            if cand_ring:
                cand = np.intersect1d(cand, ring(cand_ring), assume_unique=True)
            if scope != "zeros":
                cand = cand[a_all[cand] > 0]
            rows = _rows_of(csc, cells, m)
            solves += 1
            found = _complement_lp(
                table, a_all, rows, cells[~pub], cand, i, threshold + margin, low
            )
            if found is not None:
                res = found  # a wider scope's optimum is never more expensive
                # never a total when cells will do: a solution with a total is retried once wider
                if not is_total[found[0]].any() or widened or scope == "zeros":
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


def _rows_of(csc: sp.csc_matrix, cells: np.ndarray, n_rows: int) -> np.ndarray:
    """Relations (rows) with a term in one of ``cells``, sorted."""
    hit = np.zeros(n_rows, dtype=bool)
    hit[csc[:, cells].indices] = True
    return np.flatnonzero(hit)


def _cells_of(csr: sp.csr_matrix, rows: np.ndarray, n_cells: int) -> np.ndarray:
    """Cells with a term in one of ``rows``, sorted."""
    hit = np.zeros(n_cells, dtype=bool)
    hit[csr[rows].indices] = True
    return np.flatnonzero(hit)


def _masked_closure(
    csr: sp.csr_matrix, csc: sp.csc_matrix, cells: np.ndarray, masked: np.ndarray
) -> np.ndarray:
    """Add the masked cells of the relations touching ``cells`` until there are none left out:
    their values are unknown to us, so they cannot be held fixed."""
    m, n = csr.shape
    while True:
        around = _cells_of(csr, _rows_of(csc, cells, m), n)
        extra = np.setdiff1d(around[masked[around]], cells, assume_unique=True)
        if extra.size == 0:
            return cells
        cells = np.union1d(cells, extra)


def _complement_lp(
    table: LinkedTable,
    a_all: np.ndarray,
    rows: np.ndarray,
    unk: np.ndarray,
    cand: np.ndarray,
    i: int,
    width: float,
    low: float,
) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]] | None:
    """One protection LP; returns the cells to suppress and the tables, or None if infeasible.

    Columns: ``x⁺`` (and ``x⁻``) of the free unknown cells ``unk`` (≥ 0), then for the candidates
    the upward and downward deviations of each table (``p ≥ 0``, ``0 ≤ q ≤ value``). Every other
    cell of the relations ``rows`` keeps its true value (masked cells must all be in ``unk``):
    ``|A_unk x + A_cand (p − q)| ≤ tol − A_fixed·a_fixed − A_cand·a_cand``. When a table with
    ``x_i = low`` is already known (``low`` = 0), only ``x⁺`` is needed: ``x⁺_i ≥ low + width``;
    otherwise (``low`` = inf) both, with ``x⁺_i − x⁻_i ≥ width``.
    """
    a_rows = table.matrix[rows]
    fixed = a_all.copy()
    fixed[unk] = 0.0
    const = a_rows @ fixed
    sub = a_rows[:, np.concatenate([unk, cand])].tocsc()
    hit = np.zeros(len(rows), dtype=bool)
    hit[sub.indices] = True
    new_row = np.cumsum(hit) - 1
    m = int(hit.sum())
    tol = table.tol[rows][hit]
    lower = -tol - const[hit]
    upper = tol - const[hit]
    nu, nk = len(unk), len(cand)
    ptr, ind, dat = sub.indptr, new_row[sub.indices], sub.data
    cut = ptr[nu]
    block_u = (ptr[: nu + 1], ind[:cut], dat[:cut])
    block_c = (ptr[nu:] - cut, ind[cut:], dat[cut:])
    a_c = a_all[cand]
    w = table.weights[cand]
    inf_u = np.full(nu, np.inf)
    inf_c = np.full(nk, np.inf)
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
        cost = np.concatenate([np.zeros(2 * nu), w, w, w, w])
        lp = _LP(model, np.zeros(len(cost)), col_upper, np.tile(lower, 2), np.tile(upper, 2))
        lp.set_cost(cost)
        lp.add_row(np.array([li, nu + li]), np.array([1.0, -1.0]), width, np.inf)
    else:
        model = _hstack_csc([(block_u, 0, 1.0), (block_c, 0, 1.0), (block_c, 0, -1.0)], m)
        col_upper = np.concatenate([inf_u, inf_c, a_c])
        cost = np.concatenate([np.zeros(nu), w, w])
        lp = _LP(model, np.zeros(len(cost)), col_upper, lower, upper)
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


# --------------------------------------------------------------------------------------------
# Derived values
# --------------------------------------------------------------------------------------------


def blank_derived(
    derived: pd.DataFrame,
    counts: pd.DataFrame | Protection,
    *,
    period_columns: Sequence[str] = (),
    links: pd.DataFrame | None = None,
) -> pd.Series:
    """Which derived values (rate, share, growth, index, interval) must not be published.

    ``derived`` has the key columns of the count it derives from. ``counts`` is a
    :class:`Protection` or a frame with the key columns and ``status`` (or ``flag``). A derived
    value depends on the count with its own key, and also on the counts whose ``period`` is given
    in each of ``period_columns`` (e.g. ``"base_period"`` of a growth rate or an index); ``links``
    (columns ``derived`` = index label in ``derived``, plus the key columns) adds any other
    dependency, such as a count used as denominator of a share.

    Returns, aligned on ``derived.index``, the flag to show instead of the value: ``None`` when
    it may be published, else ``not_available`` (a count masked at the source), ``suppressed``
    or ``secondary`` (in that order of precedence). A derived value whose count did not pass
    through disclosure raises :class:`DisclosureError`.
    """
    if isinstance(counts, Protection):
        frame = counts.table.cells[list(KEY_COLUMNS)].copy()
        frame["status"] = counts.status.astype(str).to_numpy()
    else:
        frame = counts.copy()
        if "status" not in frame.columns:
            if "flag" not in frame.columns:
                raise DisclosureError("the counts need a 'status' or 'flag' column")
            flag = frame["flag"].astype("string").fillna("")
            frame["status"] = np.where(
                flag.isin([SUPPRESSED, SECONDARY, NOT_AVAILABLE]), flag, PUBLISHED
            )
    frame = frame[[*KEY_COLUMNS, "status"]].astype(str).drop_duplicates(list(KEY_COLUMNS))
    rank = {PUBLISHED: 0, SECONDARY: 1, SUPPRESSED: 2, NOT_AVAILABLE: 3}
    frame["rank"] = frame["status"].map(rank).fillna(0).astype(np.int8)
    deps = [derived[list(KEY_COLUMNS)].astype(str).assign(derived=derived.index)]
    for col in period_columns:
        d = derived[list(KEY_COLUMNS)].astype(str).assign(derived=derived.index)
        d["period"] = derived[col].astype(str).to_numpy()
        deps.append(d[derived[col].notna().to_numpy()])
    if links is not None:
        deps.append(links[[*KEY_COLUMNS, "derived"]].astype({c: str for c in KEY_COLUMNS}))
    dep = pd.concat(deps, ignore_index=True)
    merged = dep.merge(frame[[*KEY_COLUMNS, "rank"]], on=list(KEY_COLUMNS), how="left")
    if merged["rank"].isna().any():
        row = merged[merged["rank"].isna()].iloc[0]
        key = ", ".join(f"{c}={row[c]}" for c in KEY_COLUMNS)
        raise DisclosureError(f"a derived value depends on a count that was not disclosed: {key}")
    worst = merged.groupby("derived", sort=False)["rank"].max()
    worst = worst.reindex(derived.index).fillna(0).astype(int)
    names = np.array([None, SECONDARY, SUPPRESSED, NOT_AVAILABLE], dtype=object)
    return pd.Series(names[worst.to_numpy()], index=derived.index, name="flag", dtype=object)
