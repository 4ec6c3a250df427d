"""The linked table (docs/domain.md#secondary-suppression): every published count is one cell, every way to compute a count from
others is a linear relation ``|Σ coef_i · x_i| ≤ tol``, held as a sparse relation matrix.

:func:`make_linked_table` builds one from cells with ids and explicit relations;
:func:`build_linked_table` from the product's cells (canonical key columns), generating the
breakdown totals, crossings and the geography (:func:`default_geo_hierarchy`) vectorised on
integer codes, plus :class:`GroupRelations` (mergers, yearly averages of months) and explicit
:class:`Relation` s. The default suppression costs (weights) are set here. The method is described
in :mod:`ksz_reports.disclosure`.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ksz_reports.core.errors import DisclosureError
from ksz_reports.core.schema import DIMENSIONS, KEY_COLUMNS, TOTAL

__all__ = [
    "Cost",
    "Relation",
    "RelationLike",
    "HierarchyLike",
    "GroupRelations",
    "LinkedTable",
    "make_linked_table",
    "build_linked_table",
    "default_geo_hierarchy",
]

Cost = Literal["value", "log", "unity"]

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

    ``implied_by``: a hierarchy along the same column (parent → children) whose relations are in
    the table too — the geography's, for a region and Belgium as the sums of their
    municipalities. A parent's relation is left out at every key where the parent and every
    node between it and its members in that hierarchy are present: there it is the sum of the
    hierarchy's relations (Belgium − Σ regions, each region − Σ its provinces, …), so it tells
    an attacker nothing and only joins, for the LPs, the cells of one arrondissement to all the
    others. Only for an exact sum (``total_coef`` 1, ``tol`` 0) and a parent whose members are
    exactly the leaves below it, each reached once.
    """

    column: str
    groups: HierarchyLike
    total_coef: float = 1.0
    tol: float = 0.0
    indicators: frozenset[str] | None = None
    kind: str | None = None
    implied_by: HierarchyLike | None = None


@dataclass(frozen=True, eq=False)
class LinkedTable:
    """Cells and the additive relations between them.

    ``cells`` is indexed by the unique cell id and has ``value`` (float, NaN = no value) and
    ``weight`` (cost of suppressing the cell), plus any key columns it was built from. A cell
    without a value is *masked at the source* (sensitive, protected like a primary cell) when it
    has a ``lower`` bound — the range ``[lower, upper]`` the source gave (``upper`` NaN: none) —
    and *unknown* (not covered by the source: not sensitive) when ``lower`` is NaN. Without a
    ``lower`` column every cell without a value is masked at the source, with range ``[0, ∞)``.
    A cell whose optional ``withheld`` column is true has a value the publisher knows but never
    publishes (a month of a yearly average outside the published window): *unknown* to every
    reader, never sensitive, and its true value keeps the relations complete for the protection.
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
    def masked(self) -> np.ndarray:
        """Cells masked at the source: no value, but a range (sensitive, see the class doc)."""
        missing = np.isnan(self.values)
        if "lower" not in self.cells.columns:
            return missing
        lower = self.cells["lower"].to_numpy(dtype=np.float64, na_value=np.nan)
        return missing & ~np.isnan(lower)

    @property
    def withheld(self) -> np.ndarray:
        """Cells with a value that is never published (see the class doc)."""
        if "withheld" not in self.cells.columns:
            return np.zeros(self.n_cells, dtype=bool)
        return self.cells["withheld"].to_numpy(dtype=bool, na_value=False)

    @property
    def unknown(self) -> np.ndarray:
        """Cells no reader knows that are not sensitive: without a value and not masked at the
        source, or withheld."""
        return (np.isnan(self.values) & ~self.masked) | self.withheld

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """What anybody knows of each cell before the publication: ``[lower, upper]`` given by the
        source for a masked cell, ``[0, ∞)`` for every other cell."""
        n = self.n_cells
        lower, upper = np.zeros(n), np.full(n, np.inf)
        masked = self.masked
        if "lower" in self.cells.columns:
            lower[masked] = self.cells["lower"].to_numpy(dtype=np.float64, na_value=0.0)[masked]
        if "upper" in self.cells.columns:
            up = self.cells["upper"].to_numpy(dtype=np.float64, na_value=np.inf)
            upper[masked] = up[masked]
        return lower, upper

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

    @functools.cached_property
    def _by_cell(self) -> sp.csc_matrix:
        """The matrix by columns (for :meth:`select`: the relations of some cells)."""
        return self.matrix.tocsc()

    def select(self, positions: np.ndarray) -> LinkedTable:
        """The cells at ``positions`` (sorted) and every relation among them, as a table of its
        own — for a union of whole connected components (no relation may reach a cell left out:
        :class:`ValueError`). ``relations["row"]`` holds each relation's row in this table."""
        positions = np.asarray(positions, dtype=np.int64)
        by_cell = self._by_cell
        starts, ends = by_cell.indptr[positions], by_cell.indptr[positions + 1]
        lengths = ends - starts
        terms = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        inside = np.bincount(by_cell.indices[terms], minlength=self.n_relations)
        rows = np.flatnonzero(inside)
        if not np.array_equal(inside[rows], np.diff(self.matrix.indptr)[rows]):
            raise ValueError("a relation reaches a cell outside the selection")
        new_position = np.full(self.n_cells, -1, dtype=np.int64)
        new_position[positions] = np.arange(len(positions))
        relations = self.relations.iloc[rows].reset_index(drop=True)
        total = relations["total"].to_numpy()
        relations["total"] = np.where(total >= 0, new_position[np.maximum(total, 0)], -1)
        relations["row"] = rows
        matrix = self.matrix[rows][:, positions].tocsr()
        return LinkedTable(self.cells.iloc[positions], matrix, self.tol[rows], relations)

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
    for col in ("lower", "upper"):
        if col in out.columns:
            try:
                out[col] = pd.to_numeric(out[col], errors="raise").astype("Float64")
            except (TypeError, ValueError) as exc:
                raise DisclosureError(f"cell {col} bounds must be numbers or empty: {exc}") from exc
    both = "lower" in out.columns and "upper" in out.columns
    if both and ((out["upper"] < out["lower"]) | (out["lower"] < 0)).fillna(False).any():
        raise DisclosureError("a masked cell's range must satisfy 0 ≤ lower ≤ upper")
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


def _among(spec: GroupRelations, specs: list[GroupRelations]) -> bool:
    """Whether ``spec.implied_by`` is the hierarchy of another of ``specs``: exact sums along
    the same column, for every indicator ``spec`` has."""
    pairs = _pairs(spec.implied_by).sort_values(["parent", "child"]).reset_index(drop=True)
    for other in specs:
        if other is spec or other.column != spec.column or other.total_coef != 1.0:
            continue
        if other.tol != 0.0 or not (
            other.indicators is None
            or (spec.indicators is not None and spec.indicators <= other.indicators)
        ):
            continue
        mine = _pairs(other.groups).sort_values(["parent", "child"]).reset_index(drop=True)
        if mine.equals(pairs):
            return True
    return False


def _implied(
    spec: GroupRelations,
    values: pd.Index,
    gkey: np.ndarray,
    ccode: np.ndarray,
    total_rows: np.ndarray,
) -> np.ndarray:
    """Per total row of ``spec`` (``total_rows``; per row its key over the other columns,
    ``gkey``, and the code of its value of the column in ``values``, ``ccode``): whether its
    relation is the sum of ``spec.implied_by``'s there — the parent's members are the leaves
    below it in that hierarchy, each reached once, and every node in between is present."""
    tree: dict[str, list[str]] = {}
    for parent, child in _pairs(spec.implied_by).itertuples(index=False):
        tree.setdefault(parent, []).append(child)
    members = {p: set(c) for p, c in _pairs(spec.groups).groupby("parent")["child"]}
    between: dict[int, np.ndarray] = {}
    for parent, leaves in members.items():
        inner, reached, stack = [], [], list(tree.get(parent, []))
        while stack:
            node = stack.pop()
            reached.append(node)
            if node in tree:
                inner.append(node)
                stack.extend(tree[node])
        leaf = [n for n in reached if n not in tree]
        if len(set(reached)) == len(reached) and set(leaf) == leaves and inner:
            between[int(values.get_indexer([parent])[0])] = values.get_indexer(inner)
    implied = np.zeros(len(total_rows), dtype=bool)
    between = {c: inner for c, inner in between.items() if (inner >= 0).all()}  # else: absent
    if not between:
        return implied
    n_names = len(values)
    nodes = np.unique(np.concatenate(list(between.values())))
    mine = np.flatnonzero(np.isin(ccode, nodes))
    have = np.unique(gkey[mine] * n_names + ccode[mine])  # the nodes' cells, by key
    codes = ccode[total_rows]
    for code, inner in between.items():
        rows = np.flatnonzero(codes == code)
        if not rows.size or not have.size:
            continue
        wanted = (gkey[total_rows[rows]] * n_names)[:, None] + inner[None, :]
        at = np.minimum(np.searchsorted(have, wanted), len(have) - 1)
        implied[rows] = (have[at] == wanted).all(axis=1)
    return implied


def _pairs(groups: HierarchyLike) -> pd.DataFrame:
    if isinstance(groups, pd.DataFrame):
        frame = groups[["parent", "child"]].astype(str)
    else:
        items = [(str(p), str(c)) for p, children in groups.items() for c in children]
        frame = pd.DataFrame(items, columns=["parent", "child"])
    return frame.drop_duplicates().reset_index(drop=True)


def _dense_key(
    columns: Sequence[np.ndarray], sizes: Sequence[int], *, dense: bool = True
) -> np.ndarray:
    """One int64 code per distinct combination of integer code columns, in the order of the
    combinations: dense (0, 1, …), or with ``dense=False`` the mixed-radix number itself when
    it fits (no sort: for grouping, not for arithmetic)."""
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
        return np.unique(key, return_inverse=True)[1].astype(np.int64) if dense else key
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


def _canonical_keys(
    cells: pd.DataFrame,
) -> tuple[pd.DataFrame, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Key columns as strings, deduplicated by key (one count = one cell), sorted by key — and
    per key column the code of each cell (its rank among the column's values) and the values.
    The cells are sorted on one integer per key, made of the codes (no sort of strings)."""
    missing = [c for c in KEY_COLUMNS if c not in cells.columns]
    if missing:
        raise DisclosureError(f"the cell table lacks key column(s) {', '.join(missing)}")
    extra = [c for c in ("weight", "lower", "upper", "withheld") if c in cells]
    frame = _cell_frame(cells[[*KEY_COLUMNS, "value", *extra]])
    for c in KEY_COLUMNS:
        frame[c] = frame[c].astype(str)
    if "withheld" in frame:  # a count published anywhere is published: that copy is kept
        frame["withheld"] = frame["withheld"].fillna(False).astype(bool)
        frame = frame.sort_values("withheld", kind="stable")
    codes: dict[str, np.ndarray] = {}
    names: dict[str, np.ndarray] = {}
    for c in KEY_COLUMNS:
        code, uniques = pd.factorize(frame[c], sort=True)
        codes[c] = code.astype(np.int64)
        names[c] = np.asarray(uniques, dtype=object)
    key = _dense_key([codes[c] for c in KEY_COLUMNS], [len(names[c]) for c in KEY_COLUMNS])
    order = np.argsort(key, kind="stable")  # by key; the copies of one key in their order
    key = key[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    value = frame["value"].to_numpy(dtype=np.float64, na_value=np.nan)[order]
    same = np.maximum.accumulate(np.where(first, np.arange(len(key)), 0))  # its key's first
    other = (value != value[same]) & ~(np.isnan(value) & np.isnan(value[same]))
    if other.any():
        row = frame.iloc[order[np.flatnonzero(other)[0]]]
        text = ", ".join(f"{c}={row[c]}" for c in KEY_COLUMNS)
        raise DisclosureError(f"one cell, two values: {text}")
    keep = order[first]
    frame = frame.iloc[keep].reset_index(drop=True)
    return frame, {c: code[keep] for c, code in codes.items()}, names


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
    frame, codes, names = _canonical_keys(cells)
    sizes = {c: len(names[c]) for c in KEY_COLUMNS}
    out = _RelationCollector()

    ind = codes["indicator"]
    for d in DIMENSIONS:
        is_tot = (names[d] == TOTAL)[codes[d]]
        if not is_tot.any() or is_tot.all():
            continue
        others = [c for c in KEY_COLUMNS if c != d]
        gkey = _dense_key([codes[c] for c in others], [sizes[c] for c in others], dense=False)
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
    keys = _KeysWithout(codes, sizes)
    for spec in specs:
        if spec.implied_by is not None and not _among(spec, specs):
            spec = replace(spec, implied_by=None)  # not a hierarchy of this table: keep them all
        _group_relations(out, codes, names, keys, spec)

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


class _KeysWithout:
    """The dense key of every cell over the key columns but one (:func:`_dense_key`), computed
    once per column left out: the geography's relations and each yearly average of months
    group along the same column."""

    def __init__(self, codes: dict[str, np.ndarray], sizes: dict[str, int]):
        self._codes, self._sizes = codes, sizes
        self._keys: dict[str, np.ndarray] = {}

    def __call__(self, column: str) -> np.ndarray:
        if column not in self._keys:
            others = [k for k in KEY_COLUMNS if k != column]
            self._keys[column] = _dense_key(
                [self._codes[k] for k in others], [self._sizes[k] for k in others]
            )
        return self._keys[column]


def _group_relations(
    out: _RelationCollector,
    codes: dict[str, np.ndarray],
    names: dict[str, np.ndarray],
    keys: _KeysWithout,
    spec: GroupRelations,
) -> None:
    """Vectorised ``parent = Σ children`` along ``spec.column`` for all other key combinations,
    on the integer codes of the key columns (``names``: the value of each code)."""
    c = spec.column
    if c not in KEY_COLUMNS:
        raise DisclosureError(f"group relations on {c!r}, which is not a key column")
    pairs = _pairs(spec.groups)
    if pairs.empty or len(codes[c]) == 0:
        return
    values = pd.Index(pd.unique(pd.concat([pd.Series(names[c]), pairs["parent"], pairs["child"]])))
    ccode = values.get_indexer(names[c]).astype(np.int64)[codes[c]]
    pc = values.get_indexer(pairs["parent"]).astype(np.int64)
    cc = values.get_indexer(pairs["child"]).astype(np.int64)
    n_names = len(values)
    n_children = np.bincount(pc, minlength=n_names)
    eligible = np.ones(len(ccode), dtype=bool)
    if spec.indicators is not None:
        wanted = np.isin(names["indicator"], list(spec.indicators))
        eligible = wanted[codes["indicator"]]
    # members: each eligible row whose value of `column` is a child, once per parent (the
    # parents of a child in the order of the pairs)
    by_child = np.argsort(cc, kind="stable")
    first = np.searchsorted(cc[by_child], np.arange(n_names + 1))
    rows = np.flatnonzero(eligible & (np.diff(first)[ccode] > 0))
    if not rows.size:
        return
    n_parents = np.diff(first)[ccode[rows]]
    m_rows = np.repeat(rows, n_parents)
    starts = np.repeat(first[ccode[rows]] - np.cumsum(n_parents) + n_parents, n_parents)
    m_parent = pc[by_child[starts + np.arange(len(m_rows))]]
    gkey = keys(c)
    mk = gkey[m_rows] * n_names + m_parent
    uniq, inv, cnt = np.unique(mk, return_inverse=True, return_counts=True)
    g_parent = np.zeros(len(uniq), dtype=np.int64)
    g_parent[inv] = m_parent
    complete = cnt == n_children[g_parent]
    t_rows = np.flatnonzero(eligible & (n_children[ccode] > 0))
    tk = gkey[t_rows] * n_names + ccode[t_rows]
    if spec.implied_by is not None and spec.total_coef == 1.0 and spec.tol == 0.0:
        implied = _implied(spec, values, gkey, ccode, t_rows)
        t_rows, tk = t_rows[~implied], tk[~implied]
    _link_totals(
        out, t_rows, tk, uniq, complete, m_rows, inv, spec.total_coef, spec.tol, spec.kind or c
    )
