"""The linear programs of the disclosure control: one persistent HiGHS model, re-solved with another
objective, bound or extra row.

The LPs use scipy's bundled HiGHS bindings (``scipy.optimize._highspy``, scipy ≥ 1.15) to keep a
model between solves and warm-start from the previous basis; without them every LP is a
``scipy.optimize.linprog(method="highs")``. Used by :mod:`ksz_reports.disclosure.attacker` (the
attacker's intervals) and :mod:`ksz_reports.disclosure.protection` (the complement LPs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ksz_reports.core.errors import DisclosureError

try:  # scipy's bundled HiGHS bindings: a persistent model that warm-starts (no extra dependency)
    from scipy.optimize._highspy import _core as _hcore
except Exception:  # pragma: no cover - depends on the scipy build
    _hcore = None


#: HiGHS's default ``simplex_scale_strategy`` (what an unscaled model falls back to).
_DEFAULT_SCALING = 2


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
        matrix: sp.spmatrix | tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]],
        col_lower: np.ndarray,
        col_upper: np.ndarray,
        row_lower: np.ndarray,
        row_upper: np.ndarray,
        *,
        primal: bool = False,
        scaled: bool = True,
        cost: np.ndarray | None = None,
        backend: str | None = None,
    ):
        if isinstance(matrix, tuple):  # CSC arrays (indptr, indices, data, shape): no copy
            indptr, indices, data, shape = matrix
        else:
            csc = sp.csc_matrix(matrix, dtype=np.float64)
            indptr, indices, data, shape = csc.indptr, csc.indices, csc.data, csc.shape
        self.n = shape[1]
        self.solves = 0
        self._cost = np.zeros(self.n) if cost is None else np.array(cost, dtype=np.float64)
        self._maximize = False
        self._scaled = scaled
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
            if not scaled:  # small LPs of unit coefficients: scaling costs more than it helps
                h.setOptionValue("simplex_scale_strategy", 0)
            status = h.passModel(
                self.n,
                shape[0],
                int(indptr[-1]),
                int(_hcore.MatrixFormat.kColwise),
                int(_hcore.ObjSense.kMinimize),
                0.0,
                self._cost,
                self._col_lower,
                _inf_to_highs(self._col_upper),
                _inf_to_highs(np.asarray(row_lower, dtype=np.float64)),
                _inf_to_highs(np.asarray(row_upper, dtype=np.float64)),
                np.asarray(indptr, dtype=np.int32),
                np.asarray(indices, dtype=np.int32),
                np.asarray(data, dtype=np.float64),
                np.zeros(self.n, dtype=np.int32),
            )
            if status != _hcore.HighsStatus.kOk:
                raise DisclosureError(f"HiGHS refused the LP model ({status})")
            self._h = h
        else:
            self._matrix = sp.csc_matrix((data, indices, indptr), shape=shape).tocsr()
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
                float(_inf_to_highs(lower)),
                float(_inf_to_highs(upper)),
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
        known = (ms.kOptimal, ms.kInfeasible, ms.kUnbounded)
        if status not in known:
            # HiGHS gave up from the warm-started basis ("unknown", numerical trouble): solve
            # again from scratch (scaled), then with presolve
            if not self._scaled:
                h.setOptionValue("simplex_scale_strategy", _DEFAULT_SCALING)
            h.clearSolver()
            h.run()
            status = h.getModelStatus()
            if status not in known:
                h.setOptionValue("presolve", "on")
                h.clearSolver()
                h.run()
                status = h.getModelStatus()
                h.setOptionValue("presolve", "off")
            if not self._scaled:
                h.setOptionValue("simplex_scale_strategy", 0)
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


def _inf_to_highs(a: np.ndarray | float) -> np.ndarray:
    """HiGHS wants its own infinity (1e30); numpy's inf is mapped onto it (arrays or one bound)."""
    inf = _hcore.kHighsInf if _hcore is not None else np.inf
    return np.clip(a, -inf, inf)  # beyond ±1e30 is infinite to HiGHS anyway
